/*
 * Decodes the VMX capability MSRs (Intel SDM Vol. 3D, Appendix A). The control MSRs report in
 * their high 32 bits which controls may be 1 (A.3-A.5); IA32_VMX_EPT_VPID_CAP is A.10.
 */
#include "arch/x86/vmx_caps.h"

#include "kernel/string.h"

/* IA32_FEATURE_CONTROL (SDM Vol. 3C, 24.7). */
#define FC_LOCK (1ull << 0)
#define FC_VMXON_OUTSIDE_SMX (1ull << 2)

/* IA32_VMX_BASIC (A.1). */
#define BASIC_REVISION_MASK 0x7fffffffull
#define BASIC_TRUE_CTLS (1ull << 55)

/* Pin-based VM-execution controls (SDM Vol. 3C, Table 25-5). */
#define PIN_PREEMPTION_TIMER (1u << 6)
/* Primary processor-based controls (Table 25-6). */
#define PROC_ACTIVATE_SECONDARY (1u << 31)
/* Secondary processor-based controls (Table 25-7). */
#define PROC2_EPT (1u << 1)
#define PROC2_VPID (1u << 5)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_PML (1u << 17)

/* IA32_VMX_MISC (A.6): the preemption timer counts down every 2^X TSC cycles. */
#define MISC_PREEMPTION_RATE_MASK 0x1fu

/* IA32_VMX_EPT_VPID_CAP (A.10). */
#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_AD (1ull << 21)
#define VPID_CAP_INVVPID (1ull << 32)

static uint32_t allowed1(uint64_t ctls)
{
    return (uint32_t)(ctls >> 32);
}

/* The first requirement that fails, in the order a reader would check them. */
static const char *first_missing(const struct vmx_caps *c)
{
    if (!c->cpuid_vmx)
        return "CPU has no VMX (CPUID.1:ECX.VMX=0)";
    if (!c->enabled_by_firmware)
        return "VMX disabled by firmware (IA32_FEATURE_CONTROL locked without VMXON outside SMX)";
    if (!c->secondary_ctls)
        return "no EPT (the CPU has no secondary processor-based VM-execution controls)";
    if (!c->ept)
        return "no EPT";
    if (!c->ept_4level)
        return "EPT has no 4-level page walk";
    if (!c->ept_wb)
        return "EPT has no write-back memory type";
    if (!c->unrestricted_guest)
        return "no unrestricted guest";
    if (!c->vpid)
        return "no VPID";
    if (!c->preemption_timer)
        return "no VMX preemption timer";
    return NULL;
}

void vmx_caps_decode(const struct vmx_msr_values *in, struct vmx_caps *out)
{
    memset(out, 0, sizeof(*out));
    out->cpuid_vmx = in->cpuid_vmx;
    if (out->cpuid_vmx) {
        out->feature_control_locked = (in->feature_control & FC_LOCK) != 0;
        /* Unlocked: civic sets the enable bit and the lock itself before VMXON. */
        out->enabled_by_firmware =
            !out->feature_control_locked || (in->feature_control & FC_VMXON_OUTSIDE_SMX);
        out->revision_id = (uint32_t)(in->basic & BASIC_REVISION_MASK);
        out->true_ctls = (in->basic & BASIC_TRUE_CTLS) != 0;

        out->preemption_timer = (allowed1(in->pinbased) & PIN_PREEMPTION_TIMER) != 0;
        if (out->preemption_timer)
            out->preemption_timer_shift = (unsigned)(in->misc & MISC_PREEMPTION_RATE_MASK);

        out->secondary_ctls = (allowed1(in->procbased) & PROC_ACTIVATE_SECONDARY) != 0;
        uint32_t sec = out->secondary_ctls ? allowed1(in->procbased2) : 0;
        out->ept = (sec & PROC2_EPT) != 0;
        out->vpid = (sec & PROC2_VPID) != 0;
        out->unrestricted_guest = (sec & PROC2_UNRESTRICTED_GUEST) != 0;

        uint64_t cap = (out->ept || out->vpid) ? in->ept_vpid_cap : 0;
        if (out->ept) {
            out->ept_4level = (cap & EPT_CAP_WALK_4) != 0;
            out->ept_wb = (cap & EPT_CAP_WB) != 0;
            out->ept_2m = (cap & EPT_CAP_2M) != 0;
            out->ept_1g = (cap & EPT_CAP_1G) != 0;
            out->ept_ad = (cap & EPT_CAP_AD) != 0;
            out->invept = (cap & EPT_CAP_INVEPT) != 0;
        }
        if (out->vpid)
            out->invvpid = (cap & VPID_CAP_INVVPID) != 0;
        /* PML logs guest-physical addresses on EPT dirty-flag updates, so needs EPT A/D. */
        out->pml = (sec & PROC2_PML) && out->ept_ad;
    }
    out->missing = first_missing(out);
    out->usable = out->missing == NULL;
}
