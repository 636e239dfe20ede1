/* Exit handlers with little to decode: the generic slots of the exit table, interrupts and
 * timers, HLT, triple fault, VM-entry failures, the monitor trap flag and XSETBV. */
#include "arch/x86/exit.h"
#include "arch/x86/exit_reason.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmx.h"
#include "arch/x86/xsave.h"
#include "kernel/arch_vmx.h"
#include "kernel/log.h"

/* The guest's current privilege level: SS.DPL (Vol. 3C, 25.4.1), 0 in real mode. */
static unsigned guest_cpl(void)
{
    if (!(vmcs_read(VMCS_GUEST_CR0) & CR0_PE))
        return 0;
    return (vmcs_read32(VMCS_GUEST_SS_AR) >> AR_DPL_SHIFT) & 3;
}

enum exit_action exit_unexpected(struct vcpu *v, const struct exit_info *e)
{
    return vcpu_stop_dump(v, "unexpected VM exit: %s (reason %u, qualification %#llx)",
                          arch_exit_reason_name(e->reason), e->reason,
                          (unsigned long long)e->qualification);
}

enum exit_action exit_inject_ud(struct vcpu *v, const struct exit_info *e)
{
    return vcpu_inject_ud(v);
}

enum exit_action exit_inject_gp(struct vcpu *v, const struct exit_info *e)
{
    return vcpu_inject_gp0(v);
}

enum exit_action exit_skip(struct vcpu *v, const struct exit_info *e)
{
    vcpu_advance_rip();
    return EXIT_RESUME;
}

enum exit_action exit_exception_or_nmi(struct vcpu *v, const struct exit_info *e)
{
    uint32_t info = vmcs_read32(VMCS_EXIT_INTR_INFO);
    unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    if ((info & INTR_INFO_VALID) && type == INTR_TYPE_NMI) {
        /* An NMI for the host (NMI exiting): nothing in civic uses NMIs yet. */
        log_warn("vmx: NMI while a guest ran");
        return EXIT_RESUME;
    }
    /* Only a TF single step (exit_ept.c) sets the exception bitmap. Its #DB ends the step. */
    struct arch_vcpu *av = v->arch;
    if ((info & INTR_INFO_VALID) && av->step_pending && av->step_with_tf) {
        unsigned vector = info & INTR_INFO_VECTOR_MASK;
        if (vector == 1 && type == INTR_TYPE_HARDWARE_EXCEPTION) {
            vcpu_single_step_done(v);
            return EXIT_RESUME;
        }
        /* The stepped instruction faulted (or trapped): end the step, which restores the guest's
         * TF, and deliver the exception as the guest would have got it (Vol. 3C, "Exception
         * Bitmap", "Event Injection"; a #PF exit leaves CR2 alone, the address is in the
         * qualification). */
        vcpu_single_step_done(v);
        /* An IRET that unblocked NMIs faulted: NMIs are blocked again (Vol. 3C, 28.2.3). */
        if ((info & INTR_INFO_NMI_UNBLOCKING_DUE_TO_IRET) && vector != 8)
            vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) |
                                                        INTERRUPTIBILITY_BLOCKING_BY_NMI);
        if (vector == 14 && type == INTR_TYPE_HARDWARE_EXCEPTION)
            av->regs.cr2 = e->qualification;
        av->event.valid = true;
        av->event.info = info & ~INTR_INFO_NMI_UNBLOCKING_DUE_TO_IRET;
        av->event.error_code =
            (info & INTR_INFO_DELIVER_ERROR_CODE) ? vmcs_read32(VMCS_EXIT_INTR_ERROR_CODE) : 0;
        av->event.instruction_length = type == INTR_TYPE_HARDWARE_EXCEPTION
                                           ? 0
                                           : vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH);
        return EXIT_RESUME;
    }
    return vcpu_stop_dump(v, "unexpected exception exit (interruption info %#x)", info);
}

enum exit_action exit_external_interrupt(struct vcpu *v, const struct exit_info *e)
{
    /* Not acknowledged on exit: the interrupt stays pending and arch_vcpu_run() takes it through
     * the host IDT when it enables interrupts on return. */
    v->arch->yield = true;
    return EXIT_RESUME;
}

enum exit_action exit_preemption_timer(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    /* The timer exit after a stepped event delivery (exit_ept.c): delivered when no event is
     * being vectored and TF is clear. Otherwise the step goes on: arch_vcpu_run() does not end
     * the slice while a step is pending. */
    if (av->step_pending && av->step_with_tf &&
        !(vmcs_read(VMCS_GUEST_RFLAGS) & (1ull << 8)) &&
        !(vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        vcpu_single_step_done(v);
    av->yield = true;
    return EXIT_RESUME;
}

enum exit_action exit_triple_fault(struct vcpu *v, const struct exit_info *e)
{
    return vcpu_stop_dump(v, "guest triple-faulted");
}

enum exit_action exit_init_signal(struct vcpu *v, const struct exit_info *e)
{
    /* INIT reaches this CPU, not the guest: civic sends none, so someone reset the machine. */
    return vcpu_stop_dump(v, "INIT signal arrived while the guest ran");
}

enum exit_action exit_startup_ipi(struct vcpu *v, const struct exit_info *e)
{
    /* Only in wait-for-SIPI state, which a single-vCPU guest never enters. */
    return EXIT_RESUME;
}

enum exit_action exit_interrupt_window(struct vcpu *v, const struct exit_info *e)
{
    /* The guest can take an interrupt now: vcpu_irq_before_entry() injects it at the next entry
     * (and sets the control again if more stay pending). */
    v->arch->proc_controls &= ~PROC_INTERRUPT_WINDOW_EXITING;
    vmcs_write(VMCS_PROC_BASED_CONTROLS, v->arch->proc_controls);
    return EXIT_RESUME;
}

enum exit_action exit_task_switch(struct vcpu *v, const struct exit_info *e)
{
    return vcpu_stop_dump(v, "guest task switch (hardware task switching is not emulated)");
}

enum exit_action exit_hlt(struct vcpu *v, const struct exit_info *e)
{
    vcpu_advance_rip();
    /* An interrupt already pending ends the HLT at once (`sti; hlt` with one raised before). */
    if (vcpu_irq_hlt_wakes(v))
        return EXIT_RESUME;
    v->state = VCPU_HALTED; /* arch_vcpu_interrupt_pending() wakes it if IF was set */
    return EXIT_PARK;
}

enum exit_action exit_entry_failure(struct vcpu *v, const struct exit_info *e)
{
    switch (e->reason) {
    case EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE: {
        static const char *const why[] = {"a guest-state check", "", "loading a PDPTE",
                                          "NMI injection", "the VMCS link pointer"};
        const char *w = e->qualification < 5 && e->qualification != 1 ? why[e->qualification]
                                                                       : "a guest-state check";
        return vcpu_stop_dump(v, "VM entry failed: invalid guest state (%s)", w);
    }
    case EXIT_REASON_ENTRY_FAILURE_MSR_LOADING:
        return vcpu_stop_dump(v, "VM entry failed: MSR loading (entry %llu)",
                              (unsigned long long)e->qualification);
    default:
        return vcpu_stop_dump(v, "VM entry failed: machine-check event");
    }
}

enum exit_action exit_monitor_trap_flag(struct vcpu *v, const struct exit_info *e)
{
    if (!v->arch->step_pending || v->arch->step_with_tf)
        return vcpu_stop_dump(v, "monitor trap flag exit without a pending single step");
    vcpu_single_step_done(v);
    return EXIT_RESUME;
}

/* XSETBV (SDM Vol. 2D; Vol. 1, 13.3). The #UD for CR4.OSXSAVE clear and the #GP for CPL > 0
 * come before the VM exit on hardware (Vol. 3C, 26.1.1) and are checked again here; after it,
 * #GP for ECX other than 0 (only XCR0 exists) or a value XCR0 cannot hold. */
enum exit_action exit_xsetbv(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    if (!(vmcs_read(VMCS_GUEST_CR4) & CR4_OSXSAVE) || !xsave_supported())
        return vcpu_inject_ud(v);
    uint64_t value = ((av->regs.rdx & 0xffffffffu) << 32) | (av->regs.rax & 0xffffffffu);
    if (guest_cpl() != 0 || (uint32_t)av->regs.rcx != 0 || !xcr0_valid(value, xsave_supported()))
        return vcpu_inject_gp0(v);
    av->xcr0 = value;
    xsetbv(0, value); /* this vCPU owns the CPU's state while its exits are handled */
    vcpu_advance_rip();
    return EXIT_RESUME;
}
