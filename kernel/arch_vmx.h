/*
 * The arch contract for running guests (VMX on x86). kernel/ creates VMs and vCPUs and schedules
 * them; arch/x86 owns the VMCS, the world switch and the exit table, and calls back into the
 * kernel's VM services (kernel/vmm.h) for device I/O and guest memory.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

struct vcpu;

/* How a guest starts (multiboot: protected mode; flat images: real or protected mode). */
enum vcpu_boot_mode { VCPU_BOOT_REAL_MODE, VCPU_BOOT_PROTECTED_32 };

struct vcpu_boot_state {
    enum vcpu_boot_mode mode;
    /* Protected mode: flat 4 GiB code/data segments, paging off, CR0 = PE|ET, EFLAGS = 0x2,
     * A20 on, interrupts off (as the Multiboot specifications require). Real mode: CS =
     * cs_selector (base = selector << 4), other segments 0, IP = eip. */
    uint16_t cs_selector;
    uint32_t eip;
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp;
};

/* What happened in arch_vcpu_run(). */
enum vcpu_run_result {
    VCPU_RUN_YIELD,   /* the slice ended or the host has work (an interrupt): run again later */
    VCPU_RUN_PARKED,  /* the vCPU waits (HLT); vcpu->state says why */
    VCPU_RUN_STOPPED, /* the VM stopped (exit port, triple fault, a fatal exit): see vm */
};

/* VMXON on this CPU (idempotent). CIVIC_ENOTSUP with a logged reason when VMX is unusable. */
civic_err arch_vmx_enable(void);
bool arch_vmx_enabled(void);

/* Per-vCPU hardware state (VMCS, saved registers, FPU area), allocated and owned by arch.
 * ept_pointer: the EPTP value from slat_root_pointer(); vpid: 1..65535, unique per vCPU. */
civic_err arch_vcpu_create(struct vcpu *v, const struct vcpu_boot_state *boot, uint64_t ept_pointer,
                           uint16_t vpid);
void arch_vcpu_destroy(struct vcpu *v);

/* Enters the guest and handles exits through the exit table until the slice (microseconds,
 * enforced with the VMX preemption timer) ends, a host interrupt arrives, or a handler parks the
 * vCPU or stops the VM. Interrupts are enabled on return. */
enum vcpu_run_result arch_vcpu_run(struct vcpu *v, uint64_t slice_us);

/* The vCPU's interrupt controllers have an interrupt for it (vmm_irq_peek() >= 0): a vCPU
 * halted with RFLAGS.IF = 1 becomes runnable (with IF = 0 it stays halted, as on hardware). The
 * vector is taken with vmm_irq_acknowledge() at a VM entry where the guest can take it (IF, no
 * STI/MOV-SS blocking), through interrupt-window exiting. */
void arch_vcpu_interrupt_pending(struct vcpu *v);

/* Ends the vCPU's current slice after the exit being handled (a timer was reprogrammed: the
 * scheduler bounds the next slice by it). */
void arch_vcpu_end_slice(struct vcpu *v);

/* Puts the vCPU back into a boot state, as INIT followed by a STARTUP IPI or a VM reset do:
 * registers, segments, control registers, EFER, the FPU/SSE/AVX state (to its INIT values) and
 * any pending event; the VMCS, EPT pointer and VPID stay. */
civic_err arch_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *boot);

/* Time stamp counter as the guest sees it (host TSC plus the vCPU's offset), its rate, and the
 * VM's TSC held still while the VM did not run (a pause): the offset drops by ns worth of
 * ticks, so the guest's TSC stays monotonic and does not jump. */
uint64_t arch_vcpu_guest_tsc(struct vcpu *v);
uint64_t arch_tsc_hz(void);
void arch_vcpu_tsc_skip(struct vcpu *v, uint64_t ns);

/* Prints the guest's registers (general, segment, control, RIP/RFLAGS) to the console, or into
 * the kernel log (to_log) when a VM stops. */
void arch_vcpu_dump(struct vcpu *v, bool to_log);

/* Number of basic exit reasons (SDM Vol. 3D, Appendix C) and their names, for `vm stats`. */
#define ARCH_EXIT_REASONS 80
const char *arch_exit_reason_name(unsigned reason);
