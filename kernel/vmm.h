/*
 * The kernel's VM services that arch/x86's exit handlers call. Exit handlers decode what the
 * hardware reports; the policy (which device answers a port, what guest memory does on a fault,
 * when a VM stops) lives behind these functions.
 *
 * The handler contract (also stated above the exit table in arch/x86/exit_table.c): every exit
 * handler returns one of
 *   EXIT_RESUME  re-enter the guest (RIP advanced by the handler when the instruction completed),
 *   EXIT_PARK    the vCPU waits (vcpu->state set to why); the scheduler runs something else,
 *   EXIT_STOP    the VM is stopped (vcpu->vm->stop_reason set, state dumped to the log).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

enum exit_action { EXIT_RESUME, EXIT_PARK, EXIT_STOP };

/* Port I/O of size 1, 2 or 4. For reads, *value is filled (all ones for unclaimed ports). */
enum exit_action vmm_port_io(struct vcpu *v, uint16_t port, unsigned size, bool is_write,
                             uint32_t *value);

/*
 * An EPT violation. access: SLAT_R/W/X bits of the attempted access. RAM is mapped on first
 * touch. Outside RAM, reads see all ones and writes are discarded: vmm maps a page of 0xff at gpa
 * for one instruction (the shared read-only one for reads and fetches, the VM's own scratch page
 * for writes) and sets *single_step; the arch runs the guest for exactly one instruction (monitor
 * trap flag) and then calls vmm_hole_write_done(), which unmaps the page (and refills the scratch
 * page). No instruction decoder is needed, no mapping outside RAM persists, and no guest can see
 * another's data.
 */
enum exit_action vmm_ept_violation(struct vcpu *v, uint64_t gpa, unsigned access,
                                   bool *single_step);
void vmm_hole_write_done(struct vcpu *v);

/* The local APIC's MSRs: IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0) and the x2APIC range
 * 0x800-0x8ff. Returns false when the access must raise #GP (as the SDM says for a reserved
 * register, a reserved bit, or an x2APIC MSR while the APIC is not in x2APIC mode). */
bool vmm_lapic_msr(struct vcpu *v, uint32_t msr, bool is_write, uint64_t *value);

/* Interrupt injection, asked by the arch at each VM entry: the vector the vCPU's interrupt
 * controllers (its local APIC, and the 8259s through LINT0 on vCPU 0) would deliver now, or -1;
 * and the INTA cycle that takes it (moves it in service). */
int vmm_irq_peek(struct vcpu *v);
int vmm_irq_acknowledge(struct vcpu *v);

/* Stops the VM with a reason (printf-style), logged and shown by `vm list`. */
enum exit_action vmm_stop(struct vcpu *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts an exit for `vm stats` (called by the arch for every exit). */
void vmm_count_exit(struct vcpu *v, unsigned reason);
