/*
 * The smp guest's private pieces: xAPIC registers (Intel SDM Vol. 3A 10.4-10.6, table 10-1),
 * PIT channel 2 as a polled one-shot delay (Intel 8254 data sheet; port 0x61 is the PC/AT system
 * control port B), the ACPI MADT walk, and the interface between the trampoline and C.
 */
#pragma once
#include "guest.h"

#define SMP_MAX_CPUS 32
#define SMP_AP_STACK_SIZE 8192 /* smp_trampoline.S shifts by 13 */

/* ---- MSRs and the xAPIC (Intel SDM Vol. 3A 10.4.4, table 10-1, 10.6.1) ---- */
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_APIC_BASE_BSP (1u << 8)
#define MSR_APIC_BASE_EN (1u << 11)
#define MSR_APIC_BASE_ADDR 0xfffff000u
#define CPUID1_EDX_APIC (1u << 9)

#define XAPIC_ID 0x020
#define XAPIC_VERSION 0x030
#define XAPIC_SVR 0x0f0
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define XAPIC_ID_SHIFT 24

#define XAPIC_SVR_APIC_ENABLE (1u << 8)
#define XAPIC_SVR_SPURIOUS_VECTOR 0xffu
#define XAPIC_ICR_DELIVERY_INIT (5u << 8)
#define XAPIC_ICR_DELIVERY_STARTUP (6u << 8)
#define XAPIC_ICR_SEND_PENDING (1u << 12) /* delivery status */
#define XAPIC_ICR_LEVEL_ASSERT (1u << 14)
#define XAPIC_ICR_DEST_SHIFT 24

static inline uint32_t xapic_read(uint32_t base, uint32_t reg)
{
    return *(volatile uint32_t *)(uintptr_t)(base + reg);
}
static inline void xapic_write(uint32_t base, uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(base + reg) = v;
}

static inline uint64_t smp_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void smp_wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- PIT channel 2, polled (smp_pit.c) ---- */
#define PIT_HZ 1193182u
#define PIT_MAX_US 50000u /* one shot of at most 50 ms: the count fits 16 bits */

/* Starts a one-shot of us microseconds (1..PIT_MAX_US); smp_pit_expired() tells when it ran out. */
void smp_pit_start(unsigned us);
bool smp_pit_expired(void);
void smp_delay_us(unsigned us);
/* Polls done(arg) until it is true or ms milliseconds of PIT time pass; returns done's answer. */
bool smp_wait_ms(unsigned ms, bool (*done)(void *), void *arg);

/* ---- ACPI MADT (smp_madt.c) ---- */
struct smp_cpu_list {
    unsigned n;
    uint8_t apic_id[SMP_MAX_CPUS];
};

enum madt_result {
    MADT_FOUND,     /* list filled from the Processor Local APIC entries */
    MADT_NO_TABLES, /* no RSDP, or no "APIC" table */
    MADT_BAD,       /* a table exists but is malformed (message printed) */
};
enum madt_result smp_madt_cpus(struct smp_cpu_list *out);

/* ---- trampoline (smp_trampoline.S) ---- */
extern const uint8_t smp_trampoline_start[], smp_trampoline_end[];
extern const uint8_t smp_trampoline_gdt[], smp_trampoline_gdt_base[];
/* Taken by each AP with lock xadd; the BSP sets it to 1 (the BSP is cpu 0). */
extern volatile uint32_t smp_ap_next;
/* The BSP's IDTR, loaded by each AP so that an exception there is reported, not a triple fault. */
extern uint8_t smp_idt_desc[6];
extern uint8_t smp_ap_stacks[];
/* Called on each AP's own stack with its cpu number; never returns. */
void smp_ap_main(uint32_t cpu) __attribute__((noreturn));
