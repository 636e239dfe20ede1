/*
 * arch_vcpu_reset(): INIT followed by a STARTUP IPI, or a VM reset (kernel/arch_vmx.h). The
 * vCPU gets the boot state's registers and segments, the INIT values of everything else
 * (SDM Vol. 3A, Table 9-1), and loses any pending event and interrupt shadow; its VMCS controls,
 * EPT pointer and VPID stay, and so does its TSC (INIT does not reset the TSC, and the vCPUs of a
 * VM must stay in step).
 *
 * Where INIT and reset differ, the reset values are used: the FPU/SSE/AVX registers, MTRRs and
 * PAT return to their power-on values (INIT would keep them), which no guest starting a
 * processor with INIT-SIPI-SIPI depends on.
 */
#include "arch/x86/irq.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmx.h"
#include "kernel/arch_vmx.h"
#include "kernel/string.h"

civic_err arch_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *boot)
{
    struct arch_vcpu *av = v->arch;
    if (!av)
        return trace_error(CIVIC_ENOENT);
    irq_state_t f = irq_save();
    /* A STARTUP IPI arrives in another vCPU's exit handler: its VMCS is current again after. */
    struct arch_vcpu *prev = vcpu_current_vmcs();
    civic_err e = vcpu_make_current(av);
    if (e != CIVIC_OK) {
        irq_restore(f);
        return e;
    }
    /* A hole step in progress ends first: it unmaps the page it borrowed. */
    if (av->step_pending)
        vcpu_single_step_done(v);
    vcpu_forget_cpu_state(av);
    vcpu_reset_cpu_state(av);
    memset(&av->regs, 0, sizeof av->regs);
    memset(&av->event, 0, sizeof av->event);
    av->halted_with_if = false;
    av->proc_controls &= ~(uint64_t)(PROC_INTERRUPT_WINDOW_EXITING | PROC_MONITOR_TRAP_FLAG);
    vmcs_write(VMCS_PROC_BASED_CONTROLS, av->proc_controls);
    vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
    vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
    vmcs_guest_state_init(av, boot);
    if (prev && prev != av)
        e = vcpu_make_current(prev);
    irq_restore(f);
    return e;
}
