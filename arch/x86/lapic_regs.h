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

/* Further registers and fields, for the guest's LAPIC model (kernel/vdev_lapic.c). */
#define LAPIC_DEFAULT_BASE 0xfee00000ull /* IA32_APIC_BASE address after reset (11.4.4) */
#define LAPIC_APR 0x090
#define LAPIC_REG_STRIDE 0x10 /* registers are 16-byte aligned (Table 11-1) */
#define LAPIC_LAST_REG 0x3f0

/* Version register (SDM Vol. 3A, Figure 11-7). */
#define LAPIC_VERSION_MAX_LVT_SHIFT 16
#define LAPIC_VERSION_EOI_SUPPRESS (1u << 24)

/* Task/processor priority (Figure 11-18, 11-19): class in bits 7-4, sub-class in 3-0. */
#define LAPIC_PRIORITY_MASK 0xffu
#define LAPIC_PRIORITY_CLASS_MASK 0xf0u

/* Logical destination and destination format registers (Figures 11-13, 11-14). */
#define LAPIC_LDR_SHIFT 24
#define LAPIC_DFR_MODEL_MASK 0xf0000000u
#define LAPIC_DFR_MODEL_FLAT 0xf0000000u
#define LAPIC_DFR_MODEL_CLUSTER 0x00000000u
#define LAPIC_DFR_RESERVED_ONES 0x0fffffffu

/* Spurious-interrupt vector register (Figure 11-23). */
#define LAPIC_SVR_VECTOR_MASK 0xffu
#define LAPIC_SVR_FOCUS_DISABLE (1u << 9)
#define LAPIC_SVR_EOI_BROADCAST_SUPPRESS (1u << 12)

/* LVT entry fields (Figure 11-8). */
#define LAPIC_LVT_VECTOR_MASK 0xffu
#define LAPIC_LVT_DELIVERY_MODE_MASK (7u << 8)
#define LAPIC_LVT_DELIVERY_FIXED (0u << 8)
#define LAPIC_LVT_DELIVERY_SMI (2u << 8)
#define LAPIC_LVT_DELIVERY_INIT (5u << 8)
#define LAPIC_LVT_DELIVERY_EXTINT (7u << 8)
#define LAPIC_LVT_DELIVERY_STATUS (1u << 12)
#define LAPIC_LVT_PIN_POLARITY (1u << 13)
#define LAPIC_LVT_REMOTE_IRR (1u << 14)
#define LAPIC_LVT_TRIGGER_LEVEL (1u << 15)
#define LAPIC_LVT_TIMER_MODE_MASK (3u << 17)

/* Error status register (Figure 11-9). */
#define LAPIC_ESR_SEND_CHECKSUM (1u << 0)
#define LAPIC_ESR_RECEIVE_CHECKSUM (1u << 1)
#define LAPIC_ESR_SEND_ACCEPT (1u << 2)
#define LAPIC_ESR_RECEIVE_ACCEPT (1u << 3)
#define LAPIC_ESR_REDIRECTABLE_IPI (1u << 4)
#define LAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define LAPIC_ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)
#define LAPIC_ESR_ILLEGAL_REGISTER (1u << 7)

/* Interrupt command register (Figure 11-12; x2APIC: Figure 11-28, destination in 63-32). */
#define LAPIC_ICR_VECTOR_MASK 0xffu
#define LAPIC_ICR_DELIVERY_MODE_SHIFT 8
#define LAPIC_ICR_DELIVERY_MODE_MASK (7u << 8)
#define LAPIC_ICR_DM_FIXED 0u
#define LAPIC_ICR_DM_LOWEST 1u
#define LAPIC_ICR_DM_SMI 2u
#define LAPIC_ICR_DM_NMI 4u
#define LAPIC_ICR_DM_INIT 5u
#define LAPIC_ICR_DM_STARTUP 6u
#define LAPIC_ICR_DEST_LOGICAL (1u << 11)
#define LAPIC_ICR_DELIVERY_STATUS (1u << 12) /* xAPIC only */
#define LAPIC_ICR_LEVEL_ASSERT (1u << 14)
#define LAPIC_ICR_TRIGGER_LEVEL (1u << 15)
#define LAPIC_ICR_SHORTHAND_SHIFT 18
#define LAPIC_ICR_SHORTHAND_MASK (3u << 18)
#define LAPIC_ICR_SHORTHAND_NONE 0u
#define LAPIC_ICR_SHORTHAND_SELF 1u
#define LAPIC_ICR_SHORTHAND_ALL 2u
#define LAPIC_ICR_SHORTHAND_OTHERS 3u
#define LAPIC_ICR_XAPIC_DEST_SHIFT 24 /* in ICR high */
#define X2APIC_ICR_DEST_SHIFT 32

/* Divide configuration register (Figure 11-10): bits 3, 1, 0 encode the divisor. */
#define LAPIC_DIVIDE_MASK 0xbu

/* x2APIC logical ID (11.12.10.2): cluster in 31-16, one bit of 15-0 per member. */
#define X2APIC_LDR_CLUSTER_SHIFT 16
#define X2APIC_LDR_MEMBER_MASK 0xffffu
#define X2APIC_BROADCAST 0xffffffffu
#define XAPIC_BROADCAST 0xffu
