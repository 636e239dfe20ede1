/*
 * Model-specific registers civic uses, named as the Intel SDM Vol. 4 ("Model-Specific Registers",
 * Table 2-2, architectural MSRs) names them, and the RDMSR/WRMSR helpers (SDM Vol. 2B).
 */
#pragma once
#include <stdint.h>

#define IA32_TSC 0x10
#define IA32_PLATFORM_ID 0x17
#define IA32_APIC_BASE 0x1b
#define IA32_FEATURE_CONTROL 0x3a
#define IA32_TSC_ADJUST 0x3b
#define IA32_SPEC_CTRL 0x48 /* CPUID.(07H,0):EDX[26], [27] or [31] */
#define IA32_PRED_CMD 0x49  /* CPUID.(07H,0):EDX[26], write-only */
#define IA32_BIOS_SIGN_ID 0x8b
#define IA32_ARCH_CAPABILITIES 0x10a /* CPUID.(07H,0):EDX[29], read-only */
#define IA32_FLUSH_CMD 0x10b         /* CPUID.(07H,0):EDX[28], write-only */
#define IA32_SYSENTER_CS 0x174
#define IA32_SYSENTER_ESP 0x175
#define IA32_SYSENTER_EIP 0x176
#define IA32_MCG_CAP 0x179
#define IA32_MCG_STATUS 0x17a
#define IA32_MISC_ENABLE 0x1a0
#define IA32_PAT 0x277
#define IA32_DEBUGCTL 0x1d9
#define IA32_PERF_GLOBAL_CTRL 0x38f
#define IA32_TSC_DEADLINE 0x6e0

/* VMX capability reporting (SDM Vol. 3D, Appendix A). */
#define IA32_VMX_BASIC 0x480
#define IA32_VMX_PINBASED_CTLS 0x481
#define IA32_VMX_PROCBASED_CTLS 0x482
#define IA32_VMX_EXIT_CTLS 0x483
#define IA32_VMX_ENTRY_CTLS 0x484
#define IA32_VMX_MISC 0x485
#define IA32_VMX_CR0_FIXED0 0x486
#define IA32_VMX_CR0_FIXED1 0x487
#define IA32_VMX_CR4_FIXED0 0x488
#define IA32_VMX_CR4_FIXED1 0x489
#define IA32_VMX_VMCS_ENUM 0x48a
#define IA32_VMX_PROCBASED_CTLS2 0x48b
#define IA32_VMX_EPT_VPID_CAP 0x48c
#define IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define IA32_VMX_VMFUNC 0x491

/* x2APIC registers: MSR 0x800 + (xAPIC MMIO offset >> 4) (SDM Vol. 3A, 11.12.1.2). The
 * individual registers are in arch/x86/lapic_regs.h. */
#define IA32_X2APIC_BASE 0x800
#define IA32_X2APIC_LAST 0x8ff

#define IA32_EFER 0xc0000080
#define IA32_STAR 0xc0000081
#define IA32_LSTAR 0xc0000082
#define IA32_CSTAR 0xc0000083
#define IA32_FMASK 0xc0000084
#define IA32_FS_BASE 0xc0000100
#define IA32_GS_BASE 0xc0000101
#define IA32_KERNEL_GS_BASE 0xc0000102
#define IA32_TSC_AUX 0xc0000103

/* IA32_APIC_BASE bits (SDM Vol. 3A, 11.4.4). */
#define IA32_APIC_BASE_BSP (1ull << 8)
#define IA32_APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define IA32_APIC_BASE_EN (1ull << 11)   /* APIC global enable */
#define IA32_APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C, 23.7). */
#define IA32_FEATURE_CONTROL_LOCK (1ull << 0)
#define IA32_FEATURE_CONTROL_VMXON_IN_SMX (1ull << 1)
#define IA32_FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)

/* IA32_EFER bits (SDM Vol. 3A, 2.2.1). */
#define IA32_EFER_SCE (1ull << 0)
#define IA32_EFER_LME (1ull << 8)
#define IA32_EFER_LMA (1ull << 10)
#define IA32_EFER_NXE (1ull << 11)

/* IA32_SPEC_CTRL bits (Vol. 4, Table 2-2) and the command bits of IA32_PRED_CMD and
 * IA32_FLUSH_CMD. */
#define IA32_SPEC_CTRL_IBRS (1ull << 0)
#define IA32_SPEC_CTRL_STIBP (1ull << 1)
#define IA32_SPEC_CTRL_SSBD (1ull << 2)
#define IA32_PRED_CMD_IBPB (1ull << 0)
#define IA32_FLUSH_CMD_L1D_FLUSH (1ull << 0)

/* IA32_MISC_ENABLE bits used here. */
#define IA32_MISC_ENABLE_XD_DISABLE (1ull << 34)

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
