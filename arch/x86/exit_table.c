/*
 * The exit table: every basic exit reason of the SDM (Vol. 3D, Appendix C) maps to a handler
 * chosen on purpose. Pure, so the unit test proves there is no hole.
 */
#include "arch/x86/exit.h"
#include "arch/x86/exit_reason.h"

/*
 * The handler contract (kernel/vmm.h). A handler gets the vCPU, whose VMCS is current, and the
 * exit reason and qualification, and returns
 *   EXIT_RESUME  re-enter the guest. The handler advanced RIP if the instruction completed, or
 *                queued an exception with vcpu_inject_exception() (then RIP is not advanced, as
 *                for a fault). To end the slice instead it sets arch_vcpu.yield and still
 *                returns EXIT_RESUME (external interrupt, preemption timer).
 *   EXIT_PARK    the vCPU waits; vcpu->state says why (HLT: RIP already past the HLT).
 *   EXIT_STOP    the VM is stopped through vmm_stop(); for exits that cannot happen or that
 *                civic does not support, with the guest state dumped first (vcpu_stop_dump).
 * A handler never advances RIP for an instruction it did not carry out.
 *
 * Three kinds of slot: handled; reflected to the guest as the hardware the guest believes it
 * runs on would (#UD for VMX instructions, whose CPUID bit the guest does not see; #GP where the
 * SDM says so); and "cannot happen with our controls" (exit_unexpected: stop and dump).
 */
static const exit_handler_fn exit_handlers[EXIT_REASON_COUNT] = {
    [EXIT_REASON_EXCEPTION_OR_NMI] = exit_exception_or_nmi, /* NMIs; exception bitmap is 0 */
    [EXIT_REASON_EXTERNAL_INTERRUPT] = exit_external_interrupt,
    [EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
    [EXIT_REASON_INIT_SIGNAL] = exit_init_signal,
    [EXIT_REASON_STARTUP_IPI] = exit_startup_ipi,
    [EXIT_REASON_IO_SMI] = exit_unexpected,
    [EXIT_REASON_OTHER_SMI] = exit_unexpected,
    [EXIT_REASON_INTERRUPT_WINDOW] = exit_interrupt_window,
    [EXIT_REASON_NMI_WINDOW] = exit_unexpected, /* NMI-window exiting is never set */
    [EXIT_REASON_TASK_SWITCH] = exit_task_switch,
    [EXIT_REASON_CPUID] = exit_cpuid,
    [EXIT_REASON_GETSEC] = exit_inject_ud, /* CR4.SMXE can never be set: #UD */
    [EXIT_REASON_HLT] = exit_hlt,
    [EXIT_REASON_INVD] = exit_skip, /* caches are coherent: nothing to do */
    [EXIT_REASON_INVLPG] = exit_unexpected,
    [EXIT_REASON_RDPMC] = exit_inject_gp, /* no PMU in CPUID: every counter index is invalid */
    [EXIT_REASON_RDTSC] = exit_unexpected,
    [EXIT_REASON_RSM] = exit_unexpected, /* #UD outside SMM comes before the exit */
    [EXIT_REASON_VMCALL] = exit_inject_ud,
    [EXIT_REASON_VMCLEAR] = exit_inject_ud,
    [EXIT_REASON_VMLAUNCH] = exit_inject_ud,
    [EXIT_REASON_VMPTRLD] = exit_inject_ud,
    [EXIT_REASON_VMPTRST] = exit_inject_ud,
    [EXIT_REASON_VMREAD] = exit_inject_ud,
    [EXIT_REASON_VMRESUME] = exit_inject_ud,
    [EXIT_REASON_VMWRITE] = exit_inject_ud,
    [EXIT_REASON_VMXOFF] = exit_inject_ud,
    [EXIT_REASON_VMXON] = exit_inject_ud,
    [EXIT_REASON_CONTROL_REGISTER_ACCESS] = exit_cr_access,
    [EXIT_REASON_MOV_DR] = exit_unexpected, /* DRs are switched, not trapped */
    [EXIT_REASON_IO_INSTRUCTION] = exit_io,
    [EXIT_REASON_RDMSR] = exit_rdmsr,
    [EXIT_REASON_WRMSR] = exit_wrmsr,
    [EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE] = exit_entry_failure,
    [EXIT_REASON_ENTRY_FAILURE_MSR_LOADING] = exit_entry_failure,
    [EXIT_REASON_35] = exit_unexpected,
    [EXIT_REASON_MWAIT] = exit_inject_ud,   /* CPUID hides MONITOR/MWAIT */
    [EXIT_REASON_MONITOR_TRAP_FLAG] = exit_monitor_trap_flag,
    [EXIT_REASON_38] = exit_unexpected,
    [EXIT_REASON_MONITOR] = exit_inject_ud, /* CPUID hides MONITOR/MWAIT */
    [EXIT_REASON_PAUSE] = exit_unexpected,
    [EXIT_REASON_ENTRY_FAILURE_MACHINE_CHECK] = exit_entry_failure,
    [EXIT_REASON_42] = exit_unexpected,
    [EXIT_REASON_TPR_BELOW_THRESHOLD] = exit_unexpected, /* no TPR shadow */
    [EXIT_REASON_APIC_ACCESS] = exit_unexpected,
    [EXIT_REASON_VIRTUALIZED_EOI] = exit_unexpected,
    [EXIT_REASON_GDTR_IDTR_ACCESS] = exit_unexpected,
    [EXIT_REASON_LDTR_TR_ACCESS] = exit_unexpected,
    [EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
    [EXIT_REASON_EPT_MISCONFIGURATION] = exit_ept_misconfiguration,
    [EXIT_REASON_INVEPT] = exit_inject_ud,
    [EXIT_REASON_RDTSCP] = exit_unexpected, /* RDTSC exiting is off: RDTSCP runs natively */
    [EXIT_REASON_PREEMPTION_TIMER_EXPIRED] = exit_preemption_timer,
    [EXIT_REASON_INVVPID] = exit_inject_ud,
    [EXIT_REASON_WBINVD] = exit_skip,
    [EXIT_REASON_XSETBV] = exit_xsetbv,
    [EXIT_REASON_APIC_WRITE] = exit_unexpected,
    [EXIT_REASON_RDRAND] = exit_unexpected, /* RDRAND/RDSEED run natively */
    [EXIT_REASON_INVPCID] = exit_unexpected,
    [EXIT_REASON_VMFUNC] = exit_inject_ud,
    [EXIT_REASON_ENCLS] = exit_unexpected,
    [EXIT_REASON_RDSEED] = exit_unexpected,
    [EXIT_REASON_PML_FULL] = exit_unexpected, /* PML not enabled yet */
    [EXIT_REASON_XSAVES] = exit_unexpected,
    [EXIT_REASON_XRSTORS] = exit_unexpected,
    [EXIT_REASON_PCONFIG] = exit_unexpected,
    [EXIT_REASON_SPP_EVENT] = exit_unexpected,
    [EXIT_REASON_UMWAIT] = exit_unexpected,
    [EXIT_REASON_TPAUSE] = exit_unexpected,
    [EXIT_REASON_LOADIWKEY] = exit_unexpected,
    [EXIT_REASON_ENCLV] = exit_unexpected,
    [EXIT_REASON_71] = exit_unexpected,
    [EXIT_REASON_ENQCMD_PASID_TRANSLATION_FAILURE] = exit_unexpected,
    [EXIT_REASON_ENQCMDS_PASID_TRANSLATION_FAILURE] = exit_unexpected,
    [EXIT_REASON_BUS_LOCK] = exit_unexpected,
    [EXIT_REASON_INSTRUCTION_TIMEOUT] = exit_unexpected,
    [EXIT_REASON_SEAMCALL] = exit_unexpected,
    [EXIT_REASON_TDCALL] = exit_unexpected,
    [EXIT_REASON_RDMSRLIST] = exit_unexpected,
    [EXIT_REASON_WRMSRLIST] = exit_unexpected,
};

exit_handler_fn exit_handler_for(unsigned reason)
{
    return reason < EXIT_REASON_COUNT ? exit_handlers[reason] : exit_unexpected;
}

enum exit_action exit_dispatch(struct vcpu *v, const struct exit_info *e)
{
    exit_handler_fn fn = exit_handler_for(e->reason);
    return fn ? fn(v, e) : exit_unexpected(v, e);
}
