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
 * touch. Outside RAM, reads see all ones (a shared read-only page of 0xff is mapped there) and
 * writes are discarded: for a write, vmm maps the VM's scratch page (filled with 0xff) writable at
 * gpa and sets *single_step; the arch then runs the guest for exactly one instruction (monitor
 * trap flag) and calls vmm_hole_write_done(), which takes the scratch page away again and refills
 * it. Neither needs an instruction decoder, and no guest can see another's data.
 */
enum exit_action vmm_ept_violation(struct vcpu *v, uint64_t gpa, unsigned access,
                                   bool *single_step);
void vmm_hole_write_done(struct vcpu *v);

/* Stops the VM with a reason (printf-style), logged and shown by `vm list`. */
enum exit_action vmm_stop(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts an exit for `vm stats` (called by the arch for every exit). */
void vmm_count_exit(struct vcpu *v, unsigned reason);
