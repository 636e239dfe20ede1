/*
 * The local APIC, in xAPIC mode (MMIO at the IA32_APIC_BASE address) or x2APIC mode (MSR
 * 0x800 + offset / 16). Register offsets from Intel SDM Vol. 3 table 10-1; x2APIC from 10.12.1.2
 * (table 10-6). lapic_read / lapic_write take the xAPIC offset in either mode, so a test runs the
 * same code in both. Not for concurrent use of different modes on different CPUs.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310 /* xAPIC only; x2APIC's ICR is one 64-bit MSR */
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380 /* initial count */
#define LAPIC_TIMER_CCR 0x390 /* current count */
#define LAPIC_TIMER_DCR 0x3e0 /* divide configuration */

#define LAPIC_SVR_ENABLE (1u << 8)
/* LVT entries (SDM Vol. 3 10.5.1, figure 10-8). */
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_DELIVERY_PENDING (1u << 12)
#define LAPIC_LVT_DM_NMI (4u << 8)
#define LAPIC_LVT_DM_EXTINT (7u << 8)
#define LAPIC_TIMER_ONESHOT (0u << 17)
#define LAPIC_TIMER_PERIODIC (1u << 17)
#define LAPIC_TIMER_TSC_DEADLINE (2u << 17)
/* Divide configuration (SDM Vol. 3 figure 10-10): bits 3, 1:0. */
#define LAPIC_DCR_DIV1 0xb
#define LAPIC_DCR_DIV16 0x3
/* ICR (SDM Vol. 3 10.6.1, figure 10-12). */
#define LAPIC_ICR_DM_INIT (5u << 8)
#define LAPIC_ICR_DM_STARTUP (6u << 8)
#define LAPIC_ICR_BUSY (1u << 12) /* delivery status, xAPIC only */
#define LAPIC_ICR_ASSERT (1u << 14)
#define LAPIC_ICR_LEVEL (1u << 15)

#define LAPIC_DEFAULT_BASE 0xfee00000u

/* Accesses go to MMIO at base (xAPIC; paging off or identity mapped) or to the x2APIC MSRs. The
 * caller switches the APIC itself (IA32_APIC_BASE); these only select how registers are reached. */
void lapic_use_xapic(uint32_t base);
void lapic_use_x2apic(void);
bool lapic_is_x2apic(void);

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
void lapic_eoi(void);
/* The APIC ID: bits 31:24 of the ID register in xAPIC mode, all 32 bits in x2APIC mode. */
uint32_t lapic_id(void);
/* Sends an IPI (low = ICR bits 31:0) to dest; in xAPIC mode waits for the previous one to go. */
void lapic_send_ipi(uint32_t dest, uint32_t low);
