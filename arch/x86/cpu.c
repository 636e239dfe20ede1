/*
 * CPU identification (CPUID, Intel SDM Vol. 2A) and the VMX capability MSRs (Vol. 3D,
 * Appendix A). The VMX MSRs fault on a CPU without VMX, so each is read only when CPUID or an
 * earlier MSR says it exists.
 */
#include "arch/x86/cpu.h"

#include "arch/x86/msr.h"
#include "kernel/log.h"
#include "kernel/string.h"

/* CPUID.01H:ECX (Vol. 2A, Table 3-10). */
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
/* CPUID.80000001H:EDX. */
#define CPUID_80000001_EDX_NX (1u << 20)
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)
/* CPUID.80000007H:EDX. */
#define CPUID_80000007_EDX_INVARIANT_TSC (1u << 8)

/* IA32_VMX_BASIC bit 55: the TRUE_ control MSRs exist. */
#define VMX_BASIC_TRUE_CTLS (1ull << 55)
/* Allowed-1 bits (high half) of the control MSRs read below. */
#define PROCBASED_ACTIVATE_SECONDARY (1ull << (32 + 31))
#define PROCBASED2_EPT (1ull << (32 + 1))
#define PROCBASED2_VPID (1ull << (32 + 5))

static struct cpu_info info;

const struct cpu_info *cpu_get(void)
{
    return &info;
}

static void read_brand(uint32_t max_ext)
{
    if (max_ext < 0x80000004) {
        info.brand[0] = '\0';
        return;
    }
    uint32_t r[12];
    for (uint32_t i = 0; i < 3; i++)
        cpuid(0x80000002 + i, 0, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
    char raw[49];
    memcpy(raw, r, 48);
    raw[48] = '\0';
    /* Intel right-justifies the string with leading spaces. */
    const char *s = raw;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    memcpy(info.brand, s, n);
    info.brand[n] = '\0';
}

static void read_vmx_msrs(struct vmx_msr_values *v)
{
    v->feature_control = rdmsr(IA32_FEATURE_CONTROL);
    v->basic = rdmsr(IA32_VMX_BASIC);
    bool true_ctls = (v->basic & VMX_BASIC_TRUE_CTLS) != 0;
    v->pinbased = rdmsr(true_ctls ? IA32_VMX_TRUE_PINBASED_CTLS : IA32_VMX_PINBASED_CTLS);
    v->procbased = rdmsr(true_ctls ? IA32_VMX_TRUE_PROCBASED_CTLS : IA32_VMX_PROCBASED_CTLS);
    v->exit_ctls = rdmsr(true_ctls ? IA32_VMX_TRUE_EXIT_CTLS : IA32_VMX_EXIT_CTLS);
    v->entry_ctls = rdmsr(true_ctls ? IA32_VMX_TRUE_ENTRY_CTLS : IA32_VMX_ENTRY_CTLS);
    v->misc = rdmsr(IA32_VMX_MISC);
    /* Bit 31 of the primary allowed-1 settings is the same in the TRUE_ MSR (A.3.2). */
    if (v->procbased & PROCBASED_ACTIVATE_SECONDARY)
        v->procbased2 = rdmsr(IA32_VMX_PROCBASED_CTLS2);
    if (v->procbased2 & (PROCBASED2_EPT | PROCBASED2_VPID))
        v->ept_vpid_cap = rdmsr(IA32_VMX_EPT_VPID_CAP);
}

static void log_summary(void)
{
    const struct vmx_caps *v = &info.vmx;
    log_info("cpu: %s \"%s\" family %u model %u stepping %u%s%s%s%s%s%s%s", info.vendor, info.brand,
             info.family, info.model, info.stepping, info.nx ? " nx" : "",
             info.pdpe1gb ? " 1g-pages" : "", info.x2apic ? " x2apic" : "",
             info.tsc_deadline ? " tsc-deadline" : "", info.invariant_tsc ? " invariant-tsc" : "",
             info.xsave ? " xsave" : "", info.hypervisor ? " hypervisor" : "");
    if (v->usable)
        log_info("cpu: VMX usable: revision %u, EPT%s%s%s, VPID, unrestricted guest%s, "
                 "preemption timer every 2^%u TSC cycles",
                 v->revision_id, v->ept_2m ? " 2M" : "", v->ept_1g ? " 1G" : "",
                 v->ept_ad ? " A/D" : "", v->pml ? ", PML" : "", v->preemption_timer_shift);
    else
        log_warn("cpu: VMX not usable: %s", v->missing);
}

void cpu_detect(void)
{
    uint32_t a, b, c, d;
    memset(&info, 0, sizeof(info));

    cpuid(0, 0, &a, &b, &c, &d);
    uint32_t max_leaf = a;
    memcpy(info.vendor, &b, 4);
    memcpy(info.vendor + 4, &d, 4);
    memcpy(info.vendor + 8, &c, 4);
    info.vendor[12] = '\0';

    uint32_t ecx1 = 0;
    if (max_leaf >= 1) {
        cpuid(1, 0, &a, &b, &c, &d);
        ecx1 = c;
        /* Vol. 2A, Figure 3-6: the extended family counts only for family 0Fh; the extended
         * model for families 06h and 0Fh. */
        uint32_t base_family = (a >> 8) & 0xf;
        info.stepping = a & 0xf;
        info.family = base_family;
        info.model = (a >> 4) & 0xf;
        if (base_family == 0xf)
            info.family += (a >> 20) & 0xff;
        if (base_family == 0x6 || base_family == 0xf)
            info.model |= ((a >> 16) & 0xf) << 4;
        info.x2apic = (c & CPUID_1_ECX_X2APIC) != 0;
        info.tsc_deadline = (c & CPUID_1_ECX_TSC_DEADLINE) != 0;
        info.xsave = (c & CPUID_1_ECX_XSAVE) != 0;
        info.hypervisor = (c & CPUID_1_ECX_HYPERVISOR) != 0;
    }

    cpuid(0x80000000, 0, &a, &b, &c, &d);
    uint32_t max_ext = a;
    if (max_ext >= 0x80000001) {
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        info.nx = (d & CPUID_80000001_EDX_NX) != 0;
        info.pdpe1gb = (d & CPUID_80000001_EDX_PAGE1GB) != 0;
    }
    read_brand(max_ext);
    if (max_ext >= 0x80000007) {
        cpuid(0x80000007, 0, &a, &b, &c, &d);
        info.invariant_tsc = (d & CPUID_80000007_EDX_INVARIANT_TSC) != 0;
    }

    struct vmx_msr_values v;
    memset(&v, 0, sizeof(v));
    v.cpuid_vmx = (ecx1 & CPUID_1_ECX_VMX) != 0;
    if (v.cpuid_vmx)
        read_vmx_msrs(&v);
    vmx_caps_decode(&v, &info.vmx);
    log_summary();
}
