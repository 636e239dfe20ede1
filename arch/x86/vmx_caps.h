/*
 * VMX capabilities decoded from the IA32_VMX_* MSRs (Intel SDM Vol. 3D, Appendix A). The decoder
 * is pure so that it is unit-tested with MSR values of CPUs that have and lack each feature.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Raw inputs. Secondary controls and EPT/VPID capability MSRs are read only when the CPU reports
 * them (the decoder knows which fields are meaningful). */
struct vmx_msr_values {
    bool cpuid_vmx;            /* CPUID.1:ECX.VMX[bit 5] */
    uint64_t feature_control;  /* IA32_FEATURE_CONTROL */
    uint64_t basic;            /* IA32_VMX_BASIC */
    uint64_t pinbased;         /* IA32_VMX_PINBASED_CTLS (or TRUE_ when basic bit 55) */
    uint64_t procbased;        /* IA32_VMX_PROCBASED_CTLS (or TRUE_) */
    uint64_t procbased2;       /* IA32_VMX_PROCBASED_CTLS2, 0 if not available */
    uint64_t exit_ctls;
    uint64_t entry_ctls;
    uint64_t misc;             /* IA32_VMX_MISC */
    uint64_t ept_vpid_cap;     /* IA32_VMX_EPT_VPID_CAP, 0 if not available */
};

struct vmx_caps {
    bool cpuid_vmx;
    bool enabled_by_firmware; /* feature control lets VMXON run outside SMX (or is unlocked) */
    bool feature_control_locked;
    uint32_t revision_id;
    bool true_ctls;
    bool secondary_ctls;
    bool ept, ept_4level, ept_wb, ept_2m, ept_1g, ept_ad, invept;
    bool unrestricted_guest;
    bool vpid, invvpid;
    bool pml;
    bool preemption_timer;
    unsigned preemption_timer_shift; /* timer ticks every 2^shift TSC cycles */
    bool usable; /* everything civic needs is there */
    const char *missing; /* when !usable: what is missing, in words */
};

void vmx_caps_decode(const struct vmx_msr_values *in, struct vmx_caps *out);
