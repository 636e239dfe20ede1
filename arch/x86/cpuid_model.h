/*
 * The CPU model a guest sees through CPUID (Intel SDM Vol. 2A, CPUID): the host's values,
 * filtered to what civic virtualizes, plus the topology of the VM, the hypervisor leaves and the
 * XSAVE layout civic switches. Pure (host-tested): exit_cpuid.c executes CPUID on the host and
 * passes the result through cpuid_model().
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Hypervisor leaves: 0x40000000 names the hypervisor, 0x40000010 gives the TSC and local APIC
 * timer frequencies in kHz (the convention VMware and KVM guests read). */
#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_TIMING 0x40000010u
#define CPUID_HV_SIGNATURE "CivicVMMcivc"
#define CPUID_HV_LAPIC_KHZ 1000000u /* the LAPIC model counts at 1 GHz / divide */

/* First XSAVE component with a CPUID.0DH sub-leaf of its own, and the last civic may enable. */
#define CPUID_XSAVE_FIRST_EXT 2
#define CPUID_XSAVE_COMPONENTS 10

/* Host XSAVE layout, CPUID.(0DH, i) for i = 2..9 (Vol. 1, 13.2). */
struct cpuid_xsave_component {
    uint32_t size, offset;
    bool align64; /* ECX bit 1: 64-byte aligned in the compacted format */
};

struct cpuid_model_cfg {
    unsigned vcpu_index;     /* also the initial APIC ID */
    unsigned vcpu_count;     /* N cores of one package, one thread each */
    uint64_t xcr0_supported; /* components civic switches (0: no XSAVE for guests) */
    uint64_t guest_xcr0;
    bool guest_osxsave; /* the guest's CR4.OSXSAVE */
    bool rdtscp;        /* IA32_TSC_AUX is per vCPU and RDTSCP enabled in the VMCS */
    uint32_t tsc_khz;
    const struct cpuid_xsave_component *xsave; /* CPUID_XSAVE_COMPONENTS entries */
};

/* The leaf the host must execute for a guest's `leaf`: like a real Intel CPU, a leaf above the
 * highest basic or extended leaf returns the highest basic leaf (hypervisor leaves are
 * synthesized and returned unchanged). */
uint32_t cpuid_model_leaf(uint32_t leaf, uint32_t host_max_basic, uint32_t host_max_ext);

/* r: in, the host's EAX..EDX for (leaf, sub) (zeros for hypervisor leaves); out, the guest's. */
void cpuid_model(const struct cpuid_model_cfg *cfg, uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* Size of a standard-format XSAVE area holding xcr0's components (at least 576 bytes), and of a
 * compacted one (XSAVEC), from the host layout in cfg. */
uint32_t cpuid_xsave_size(const struct cpuid_model_cfg *cfg, uint64_t xcr0);
uint32_t cpuid_xsave_compacted_size(const struct cpuid_model_cfg *cfg, uint64_t xcr0);

/* CPUID.(07H,0):EDX bits that say which speculation-control MSRs exist (Vol. 2A, Table 3-8). */
#define CPUID_7_EDX_IBRS_IBPB (1u << 26)
#define CPUID_7_EDX_STIBP (1u << 27)
#define CPUID_7_EDX_L1D_FLUSH (1u << 28)
#define CPUID_7_EDX_ARCH_CAPABILITIES (1u << 29)
#define CPUID_7_EDX_SSBD (1u << 31)

#ifndef CIVIC_HOST_TEST
/* The host side (exit_cpuid.c): the host's CPUID.(07H,0):EDX and MAXPHYADDR. */
uint32_t cpuid_host_7_edx(void);
unsigned cpuid_host_phys_bits(void);
#endif
