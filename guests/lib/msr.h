/*
 * Model-specific registers (Intel SDM Vol. 4, chapter 2, "Architectural MSRs"; Vol. 3 5.8.8 and
 * 10.4.4 for EFER and IA32_APIC_BASE). rdmsr_safe / wrmsr_safe catch the #GP an MSR access raises
 * (SDM Vol. 2 RDMSR/WRMSR: reserved or unimplemented index, reserved bits set) through the
 * runtime's one-shot trap catch, so idt_init must have run.
 */
#pragma once
#include "guest.h"

#define IA32_TSC 0x010
#define IA32_APIC_BASE 0x01b
#define IA32_SYSENTER_CS 0x174
#define IA32_SYSENTER_ESP 0x175
#define IA32_SYSENTER_EIP 0x176
#define IA32_PAT 0x277
#define IA32_TSC_DEADLINE 0x6e0
#define IA32_X2APIC_BASE 0x800 /* x2APIC register r (xAPIC offset o) is MSR 0x800 + (o >> 4) */
#define IA32_EFER 0xc0000080

/* IA32_APIC_BASE bits (SDM Vol. 3 10.4.4, 10.12.1). */
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_EXTD (1u << 10) /* x2APIC mode */
#define APIC_BASE_EN (1u << 11)
#define APIC_BASE_ADDR_MASK 0xfffff000u

/* IA32_EFER bits (SDM Vol. 3 2.2.1, table 2-1). */
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* The power-on value of IA32_PAT (SDM Vol. 3 11.12.4, table 11-12). */
#define PAT_POWER_ON 0x0007040600070406ull

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The trap vector the access raised (13 for #GP), or -1 when it completed. RDMSR and WRMSR are
 * two bytes (0f 32, 0f 30), which the catch skips. */
static inline int rdmsr_safe(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    trap_expect(2);
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *v = ((uint64_t)hi << 32) | lo;
    return trap_caught();
}

static inline int wrmsr_safe(uint32_t msr, uint64_t v)
{
    trap_expect(2);
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
    return trap_caught();
}
