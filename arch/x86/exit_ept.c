/* EPT violations and misconfigurations (Intel SDM Vol. 3C, 29.3.3 and Table 28-7), and the
 * single step vmm asks for after mapping a page of the all-ones hole. */
#include "arch/x86/exit.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmcs.h"
#include "arch/x86/vmx.h"
#include "kernel/arch_slat.h"

#define RFLAGS_TF (1ull << 8)
/* During a TF step every exception exits: a stepped instruction that faults delivers its
 * exception instead of the #DB (and would push our TF), so the step ends there and the fault is
 * reflected (exit_exception_or_nmi). Outside a step the bitmap is 0 (vmcs_setup.c). */
#define EXCEPTION_ALL 0xffffffffu

/*
 * Runs exactly one guest instruction. With the monitor trap flag the step is invisible to the
 * guest (Vol. 3C, 26.5.2). Without it (Bochs's Skylake model) RFLAGS.TF is set and the #DB it
 * raises after the instruction exits (exception bitmap); the guest could notice TF only if that
 * one instruction is PUSHF. A fault of the instruction exits too and is reflected with the
 * guest's TF (exit_misc.c); a stepped event delivery uses no TF (below).
 */
static void single_step_start(struct arch_vcpu *av)
{
    av->step_pending = true;
    if (vmx_has_monitor_trap_flag()) {
        av->step_with_tf = false;
        av->proc_controls |= PROC_MONITOR_TRAP_FLAG;
        vmcs_write(VMCS_PROC_BASED_CONTROLS, av->proc_controls);
        return;
    }
    uint64_t rflags = vmcs_read(VMCS_GUEST_RFLAGS);
    av->step_with_tf = true;
    vmcs_write(VMCS_EXCEPTION_BITMAP, EXCEPTION_ALL);
    if (vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) {
        /* The access was the delivery of an event, re-injected at the next entry: it would push
         * our TF and clear it, so no #DB would come. No TF then; vcpu_irq_before_entry() sets
         * the preemption timer to 0, which exits once the delivery is done (Vol. 3C,
         * "VMX-Preemption Timer"); exit_preemption_timer() ends the step (delivery cleared TF). */
        av->step_saved_tf = false;
        return;
    }
    av->step_saved_tf = (rflags & RFLAGS_TF) != 0;
    vmcs_write(VMCS_GUEST_RFLAGS, rflags | RFLAGS_TF);
}

void vcpu_single_step_done(struct vcpu *v)
{
    struct arch_vcpu *av = v->arch;
    if (av->step_with_tf) {
        uint64_t rflags = vmcs_read(VMCS_GUEST_RFLAGS) & ~RFLAGS_TF;
        vmcs_write(VMCS_GUEST_RFLAGS, rflags | (av->step_saved_tf ? RFLAGS_TF : 0));
        vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
    } else {
        av->proc_controls &= ~PROC_MONITOR_TRAP_FLAG;
        vmcs_write(VMCS_PROC_BASED_CONTROLS, av->proc_controls);
    }
    av->step_pending = false;
    av->step_with_tf = false;
    vmm_hole_write_done(v);
}

enum exit_action exit_ept_violation(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint64_t q = e->qualification;
    uint64_t gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
    unsigned access = ((q & QUAL_EPT_READ) ? SLAT_R : 0) | ((q & QUAL_EPT_WRITE) ? SLAT_W : 0) |
                      ((q & QUAL_EPT_FETCH) ? SLAT_X : 0);

    /* An IRET that unblocked NMIs faulted: NMIs are blocked again (Vol. 3C, 28.2.3). */
    if ((q & QUAL_EPT_NMI_UNBLOCKING_DUE_TO_IRET) &&
        !(vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) |
                                                    INTERRUPTIBILITY_BLOCKING_BY_NMI);

    bool single_step = false;
    enum exit_action act = vmm_ept_violation(v, gpa, access, &single_step);
    if (act == EXIT_RESUME && single_step)
        single_step_start(av);
    return act;
}

enum exit_action exit_ept_misconfiguration(struct vcpu *v, const struct exit_info *e)
{
    return vcpu_stop_dump(v, "EPT misconfiguration at guest-physical %#llx (a civic bug)",
                          (unsigned long long)vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS));
}
