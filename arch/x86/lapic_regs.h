/*
 * Local APIC registers (Intel SDM Vol. 3A, chapter 11: Table 11-1 for the xAPIC MMIO offsets,
 * 11.12.1.2 / Table 11-6 for x2APIC, where register at offset X is MSR 0x800 + (X >> 4)).
 */
#pragma once

#include "arch/x86/msr.h"

#define LAPIC_MMIO_SIZE 0x1000

/* xAPIC MMIO offsets. */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_PPR 0x0a0
#define LAPIC_EOI 0x0b0
#define LAPIC_LDR 0x0d0
#define LAPIC_DFR 0x0e0 /* xAPIC only */
#define LAPIC_SVR 0x0f0
#define LAPIC_ISR0 0x100
#define LAPIC_TMR0 0x180
#define LAPIC_IRR0 0x200
#define LAPIC_ESR 0x280
#define LAPIC_LVT_CMCI 0x2f0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310 /* xAPIC only: x2APIC's ICR is one 64-bit MSR */
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL_COUNT 0x380
#define LAPIC_TIMER_CURRENT_COUNT 0x390
#define LAPIC_TIMER_DIVIDE_CONFIG 0x3e0

/* The x2APIC MSR for an xAPIC offset. */
#define X2APIC_MSR(offset) (IA32_X2APIC_BASE + ((offset) >> 4))
#define IA32_X2APIC_APICID X2APIC_MSR(LAPIC_ID)
#define IA32_X2APIC_EOI X2APIC_MSR(LAPIC_EOI)
#define IA32_X2APIC_SIVR X2APIC_MSR(LAPIC_SVR)
#define IA32_X2APIC_ICR X2APIC_MSR(LAPIC_ICR_LOW)
#define IA32_X2APIC_SELF_IPI 0x83f

/* xAPIC ID register: the ID is in bits 31-24 (x2APIC: the whole 32 bits). */
#define LAPIC_XAPIC_ID_SHIFT 24

/* Spurious-interrupt vector register (SDM Vol. 3A, Figure 11-23). */
#define LAPIC_SVR_ENABLE (1u << 8)

/* LVT entry bits (SDM Vol. 3A, Figure 11-8). */
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_DELIVERY_NMI (4u << 8)
#define LAPIC_LVT_TIMER_ONESHOT (0u << 17)
#define LAPIC_LVT_TIMER_PERIODIC (1u << 17)
#define LAPIC_LVT_TIMER_TSC_DEADLINE (2u << 17)

/* Divide configuration register (SDM Vol. 3A, Figure 11-10): bits 3, 1, 0. */
#define LAPIC_DIVIDE_BY_16 0x3u

/* CPUID.01H feature bits for the APIC. */
#define CPUID_01_EDX_APIC (1u << 9)
#define CPUID_01_ECX_X2APIC (1u << 21)
