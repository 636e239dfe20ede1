/*
 * CPUID exits (Intel SDM Vol. 2A, CPUID): the host's values with what civic does not virtualize
 * hidden and the hypervisor bit and leaf 0x40000000 shown, so guests find a plain CPU with a
 * named hypervisor.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/exit.h"
#include "arch/x86/vcpu_arch.h"
#include "kernel/string.h"

/* CPUID.01H:ECX (Table 3-10) */
#define C1_ECX_MONITOR (1u << 3)
#define C1_ECX_DS_CPL (1u << 4)
#define C1_ECX_VMX (1u << 5)
#define C1_ECX_SMX (1u << 6)
#define C1_ECX_EIST (1u << 7)
#define C1_ECX_TM2 (1u << 8)
#define C1_ECX_FMA (1u << 12)
#define C1_ECX_PDCM (1u << 15)
#define C1_ECX_DCA (1u << 18)
#define C1_ECX_X2APIC (1u << 21)
#define C1_ECX_TSC_DEADLINE (1u << 24)
#define C1_ECX_XSAVE (1u << 26)
#define C1_ECX_OSXSAVE (1u << 27)
#define C1_ECX_AVX (1u << 28)
#define C1_ECX_F16C (1u << 29)
#define C1_ECX_HYPERVISOR (1u << 31)
#define C1_ECX_DTES64 (1u << 2)
/* CPUID.01H:EDX (Table 3-11) */
#define C1_EDX_MCE (1u << 7)
#define C1_EDX_APIC (1u << 9)
#define C1_EDX_MTRR (1u << 12)
#define C1_EDX_MCA (1u << 14)
#define C1_EDX_DS (1u << 21)
#define C1_EDX_ACPI (1u << 22)
#define C1_EDX_HTT (1u << 28)
#define C1_EDX_TM (1u << 29)
#define C1_EDX_PBE (1u << 31)
/* CPUID.07H.0:EBX */
#define C7_EBX_TSC_ADJUST (1u << 1)
#define C7_EBX_SGX (1u << 2)
#define C7_EBX_AVX2 (1u << 5)
#define C7_EBX_INVPCID (1u << 10)
#define C7_EBX_PQM (1u << 12)
#define C7_EBX_MPX (1u << 14)
#define C7_EBX_PQE (1u << 15)
#define C7_EBX_AVX512 0xdc230000u /* F, DQ, IFMA, PF, ER, CD, BW, VL */
#define C7_EBX_PT (1u << 25)
/* CPUID.07H.0:ECX: the bits kept (byte/bit manipulation that needs no new state or MSR). */
#define C7_ECX_KEEP ((1u << 2) | (1u << 22)) /* UMIP, RDPID */
/* CPUID.80000001H:EDX */
#define C81_EDX_RDTSCP (1u << 27)

/* Leaf 0x40000000: the hypervisor's vendor signature in EBX, ECX, EDX. */
#define HV_LEAF_BASE 0x40000000u
static const char hv_signature[12] = "CivicVMMcivc";

static void filter(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    enum { A, B, C, D };
    switch (leaf) {
    case 1:
        r[C] &= ~(C1_ECX_MONITOR | C1_ECX_DS_CPL | C1_ECX_VMX | C1_ECX_SMX | C1_ECX_EIST |
                  C1_ECX_TM2 | C1_ECX_FMA | C1_ECX_PDCM | C1_ECX_DCA | C1_ECX_X2APIC |
                  C1_ECX_TSC_DEADLINE | C1_ECX_XSAVE | C1_ECX_OSXSAVE | C1_ECX_AVX | C1_ECX_F16C |
                  C1_ECX_DTES64);
        r[C] |= C1_ECX_HYPERVISOR;
        /* No local APIC or machine-check MSRs yet; one logical processor, APIC ID 0. */
        r[D] &= ~(C1_EDX_MCE | C1_EDX_APIC | C1_EDX_MTRR | C1_EDX_MCA | C1_EDX_DS | C1_EDX_ACPI |
                  C1_EDX_HTT | C1_EDX_TM | C1_EDX_PBE);
        r[B] = (r[B] & 0xffffu) | (1u << 16);
        break;
    case 7:
        if (sub == 0) {
            r[A] = 0; /* no further subleaves */
            r[B] &= ~(C7_EBX_TSC_ADJUST | C7_EBX_SGX | C7_EBX_AVX2 | C7_EBX_INVPCID |
                      C7_EBX_PQM | C7_EBX_MPX | C7_EBX_PQE | C7_EBX_AVX512 | C7_EBX_PT);
            r[C] &= C7_ECX_KEEP;
            r[D] = 0; /* speculation-control and other MSR-backed features */
        } else {
            r[A] = r[B] = r[C] = r[D] = 0;
        }
        break;
    case 5:    /* MONITOR/MWAIT */
    case 6:    /* thermal and power management */
    case 0xa:  /* architectural performance monitoring */
    case 0xb:  /* x2APIC topology */
    case 0xd:  /* XSAVE state */
    case 0xf:  /* resource director technology */
    case 0x10:
    case 0x12: /* SGX */
    case 0x14: /* processor trace */
    case 0x1f:
        r[A] = r[B] = r[C] = r[D] = 0;
        break;
    case 4:
        /* Deterministic cache parameters: one logical processor per cache and per package. */
        r[A] &= 0x3ffu;
        break;
    case 0x80000001:
        r[D] &= ~C81_EDX_RDTSCP;
        r[C] &= ~(1u << 2); /* SVM */
        break;
    default:
        break;
    }
}

enum exit_action exit_cpuid(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint32_t leaf = (uint32_t)av->regs.rax, sub = (uint32_t)av->regs.rcx;
    uint32_t r[4] = {0, 0, 0, 0};
    if (leaf == HV_LEAF_BASE) {
        r[0] = HV_LEAF_BASE; /* the highest hypervisor leaf */
        memcpy(&r[1], hv_signature, 4);
        memcpy(&r[2], hv_signature + 4, 4);
        memcpy(&r[3], hv_signature + 8, 4);
    } else if ((leaf & 0xf0000000u) == HV_LEAF_BASE) {
        /* other hypervisor leaves are empty */
    } else {
        cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
        filter(leaf, sub, r);
    }
    av->regs.rax = r[0];
    av->regs.rbx = r[1];
    av->regs.rcx = r[2];
    av->regs.rdx = r[3];
    vcpu_advance_rip();
    return EXIT_RESUME;
}
