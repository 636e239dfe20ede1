/*
 * CPUID leaves and feature bits the guests test (Intel SDM Vol. 2A, CPUID, tables 3-8 to 3-11;
 * leaf 0xB: 3-8 "Extended Topology Enumeration Leaf"). Leaves 0x40000000.. are the hypervisor
 * range: 0x40000000 EBX:ECX:EDX is the vendor signature, EAX the largest hypervisor leaf;
 * 0x40000010 is the timing leaf (EAX = TSC kHz, EBX = local APIC bus kHz) as VMware defined it.
 */
#pragma once

#define CPUID_LEAF_VENDOR 0x00000000
#define CPUID_LEAF_FEATURES 0x00000001
#define CPUID_LEAF_TOPOLOGY 0x0000000b
#define CPUID_LEAF_XSAVE 0x0000000d
#define CPUID_LEAF_HV 0x40000000
#define CPUID_LEAF_HV_TIMING 0x40000010
#define CPUID_LEAF_EXT_MAX 0x80000000
#define CPUID_LEAF_EXT_FEATURES 0x80000001

/* Leaf 1 EDX */
#define CPUID_1_EDX_FPU (1u << 0)
#define CPUID_1_EDX_PSE (1u << 3)
#define CPUID_1_EDX_TSC (1u << 4)
#define CPUID_1_EDX_MSR (1u << 5)
#define CPUID_1_EDX_PAE (1u << 6)
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_1_EDX_SEP (1u << 11)
#define CPUID_1_EDX_PAT (1u << 16)
#define CPUID_1_EDX_FXSR (1u << 24)
#define CPUID_1_EDX_SSE (1u << 25)
#define CPUID_1_EDX_SSE2 (1u << 26)
#define CPUID_1_EDX_HTT (1u << 28)
/* Leaf 1 ECX */
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_AVX (1u << 28)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
/* Leaf 1 EBX: bits 23:16 the maximum number of addressable logical processor IDs (valid with
 * HTT), bits 31:24 the initial APIC ID. */
#define CPUID_1_EBX_LOGICAL(ebx) (((ebx) >> 16) & 0xff)
#define CPUID_1_EBX_APIC_ID(ebx) ((ebx) >> 24)
/* Leaf 0xB: ECX bits 15:8 the level type (0 invalid, 1 SMT, 2 core), EBX bits 15:0 the logical
 * processors at this level. */
#define CPUID_B_LEVEL_TYPE(ecx) (((ecx) >> 8) & 0xff)
#define CPUID_B_LOGICAL(ebx) ((ebx)&0xffff)
/* Leaf 0x80000001 EDX */
#define CPUID_EXT_EDX_SYSCALL (1u << 11)
#define CPUID_EXT_EDX_NX (1u << 20)
#define CPUID_EXT_EDX_LM (1u << 29)
