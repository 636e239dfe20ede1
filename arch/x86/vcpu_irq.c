/*
 * External interrupts for a vCPU: the kernel's interrupt controllers (vmm_irq_peek) say which
 * vector is pending; it is acknowledged (vmm_irq_acknowledge, the INTA cycle) and injected as a
 * VM-entry event only when the guest can take it, and interrupt-window exiting tells when it can
 * (SDM Vol. 3C, 26.7.5 and 27.6). Acknowledging no earlier keeps the APIC's ISR/IRR and the
 * PIC's state what the guest would see on hardware.
 */
#include "arch/x86/irq.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmx.h"
#include "kernel/arch_vmx.h"

#define RFLAGS_IF (1ull << 9) /* Vol. 1, 3.4.3.3 */

void arch_vcpu_interrupt_pending(struct vcpu *v)
{
    struct arch_vcpu *av = v->arch;
    if (!av)
        return;
    /* The monitor loop may run exit handlers (HLT) on this vCPU from an interrupt-free context:
     * keep the halt state consistent with them. A guest halted with IF = 0 stays halted, as on
     * hardware (only NMI, SMI, INIT end it). */
    irq_state_t f = irq_save();
    if (v->state == VCPU_HALTED && av->halted_with_if)
        v->state = VCPU_RUNNABLE;
    irq_restore(f);
}

void arch_vcpu_end_slice(struct vcpu *v)
{
    if (v->arch)
        v->arch->yield = true;
}

bool vcpu_irq_hlt_wakes(struct vcpu *v)
{
    struct arch_vcpu *av = v->arch;
    av->halted_with_if = (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) != 0;
    return av->halted_with_if && vmm_irq_peek(v) >= 0;
}

/* Whether an external interrupt can be injected now (Vol. 3C, 26.3.1.5 entry checks and 26.7.5:
 * IF set, no STI or MOV-SS shadow, active or HLT activity state). */
static bool guest_can_take(void)
{
    if (!(vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF))
        return false;
    uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS))
        return false;
    uint32_t act = vmcs_read32(VMCS_GUEST_ACTIVITY_STATE);
    return act == ACTIVITY_STATE_ACTIVE || act == ACTIVITY_STATE_HLT;
}

static void set_window_exiting(struct arch_vcpu *av, bool on)
{
    uint64_t want = on ? av->proc_controls | PROC_INTERRUPT_WINDOW_EXITING
                       : av->proc_controls & ~(uint64_t)PROC_INTERRUPT_WINDOW_EXITING;
    if (want == av->proc_controls)
        return;
    av->proc_controls = want;
    vmcs_write(VMCS_PROC_BASED_CONTROLS, want);
}

void vcpu_irq_before_entry(struct vcpu *v)
{
    struct arch_vcpu *av = v->arch;
    /* A hole access being single-stepped runs exactly one instruction, with no event between:
     * the next entry after the step delivers. */
    if (av->step_pending) {
        set_window_exiting(av, false);
        /* A TF step of an event's delivery (exit_ept.c) ends on a timer exit right after it. */
        if (av->step_with_tf && av->event.valid)
            vmcs_write(VMCS_PREEMPTION_TIMER_VALUE, 0);
        return;
    }
    if (vmm_irq_peek(v) < 0) {
        set_window_exiting(av, false);
        return;
    }
    if (!av->event.valid && guest_can_take()) {
        int vector = vmm_irq_acknowledge(v);
        if (vector >= 0) {
            av->event.valid = true;
            av->event.info = INTR_INFO_VALID |
                             (INTR_TYPE_EXTERNAL_INTERRUPT << INTR_INFO_TYPE_SHIFT) |
                             ((uint32_t)vector & INTR_INFO_VECTOR_MASK);
            av->event.error_code = 0;
            av->event.instruction_length = 0;
        }
    }
    /* Anything still pending (this one blocked, or the next after it) waits for the window: the
     * exit comes once the guest can take an interrupt, after any event injected now. */
    set_window_exiting(av, vmm_irq_peek(v) >= 0);
}
