/* CPU identification and the features civic cares about (CPUID, Intel SDM Vol. 2A). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/vmx_caps.h"

struct cpu_info {
    char vendor[13];
    char brand[49];
    uint32_t family, model, stepping;
    bool nx, pdpe1gb, x2apic, tsc_deadline, invariant_tsc, hypervisor, xsave;
    struct vmx_caps vmx;
};

/* Reads CPUID and, when VMX is reported, the IA32_FEATURE_CONTROL and IA32_VMX_* MSRs. */
void cpu_detect(void);
const struct cpu_info *cpu_get(void);

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}
