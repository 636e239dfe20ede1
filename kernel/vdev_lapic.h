/*
 * The guest's local APIC, one per vCPU (Intel SDM Vol. 3A, chapter 11): xAPIC registers by MMIO
 * offset, x2APIC registers by MSR, IA32_APIC_BASE and IA32_TSC_DEADLINE, interrupt acceptance,
 * priority, INTA and EOI, IPIs from the ICR, and the timer. A pure model: the caller routes MMIO
 * and MSR accesses here, delivers the IPIs it is handed (including those to this APIC), passes
 * time in (`now_ns`, any monotonic nanosecond clock, and the guest's TSC), injects the vector
 * vdev_lapic_pending() names, and wakes a halted vCPU by vdev_lapic_next_event_ns(). State in
 * one struct with save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* The timer counts a 1 GHz bus clock through the divider: one count is `divisor` ns. */
#define VDEV_LAPIC_BUS_HZ 1000000000ull
/* Guest physical-address width checked by vdev_lapic_set_base() (CPUID.80000008H:EAX[7:0]). */
#define VDEV_LAPIC_MAXPHYADDR 39
/* Version register: version 14H, 6 LVT entries (max index 5, no CMCI), no EOI suppression. */
#define VDEV_LAPIC_VERSION 0x00050014u
#define VDEV_LAPIC_NO_EVENT UINT64_MAX

/* LVT entries, in MMIO order from 0x320. */
enum {
    VDEV_LAPIC_LVT_TIMER,
    VDEV_LAPIC_LVT_THERMAL,
    VDEV_LAPIC_LVT_PERF,
    VDEV_LAPIC_LVT_LINT0,
    VDEV_LAPIC_LVT_LINT1,
    VDEV_LAPIC_LVT_ERROR,
    VDEV_LAPIC_LVT_COUNT
};

struct vdev_lapic {
    uint64_t apic_base;      /* IA32_APIC_BASE */
    uint64_t tsc_hz;         /* guest TSC rate, for TSC-deadline to ns */
    uint64_t tsc_deadline;   /* IA32_TSC_DEADLINE, 0 = disarmed */
    uint64_t timer_start_ns; /* start of the current count-down period */
    uint32_t x2apic_id;      /* the hardware-assigned 32-bit ID */
    uint32_t xapic_id;       /* xAPIC ID register bits 31-24 (writable), 0..255 */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;         /* as read: the errors latched by the last ESR write (11.5.3) */
    uint32_t esr_pending; /* errors detected since that write */
    uint32_t icr_low, icr_high;
    uint32_t lvt[VDEV_LAPIC_LVT_COUNT];
    uint32_t timer_initial;
    uint32_t timer_dcr;
    uint32_t isr[8], tmr[8], irr[8]; /* 256 bits each, vector v at [v / 32] bit v % 32 */
    uint8_t timer_armed;             /* one-shot/periodic counting (0 or 1) */
    uint8_t pad[7];
};

struct vdev_lapic_ipi {
    bool valid;
    uint8_t vector;
    uint8_t delivery_mode; /* 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 6 STARTUP */
    bool level_assert;
    bool trigger_level;
    uint8_t shorthand; /* 0 none, 1 self, 2 all incl self, 3 all excl self */
    bool logical;
    uint32_t dest; /* xAPIC: 8 bits from ICR high 31-24; x2APIC: 32 bits */
};

/* What a register write asks of the caller. Every write call fills it in completely. */
struct vdev_lapic_effects {
    struct vdev_lapic_ipi ipi; /* an IPI to route (INIT de-assert included, valid too) */
    int eoi_vector;            /* a level-triggered vector EOIed: tell the IOAPICs; else -1 */
    bool timer_changed;        /* the timer was (re)programmed: re-read next_event_ns */
};

/* The timer's relative times: saved as ns elapsed in the current period, so the restore on
 * another host (another clock) rebases it on its own now_ns. IA32_TSC_DEADLINE is kept in guest
 * TSC units: keeping the guest TSC continuous across migration is the caller's job. */
struct vdev_lapic_state {
    uint32_t version;
    uint32_t pad;
    uint64_t timer_elapsed_ns;
    struct vdev_lapic lapic; /* timer_start_ns zero */
};

/* Power-on plus what a PC BIOS does on the BSP (SVR 1FFH, LINT0 ExtINT, LINT1 NMI: virtual
 * wire mode); an AP keeps the power-on values (11.4.7.1). xAPIC mode, base FEE00000H.
 * tsc_hz must not be 0. */
void vdev_lapic_reset(struct vdev_lapic *l, uint32_t apic_id, bool bsp, uint64_t tsc_hz);
/* The INIT signal (11.4.7.3): registers as at power-on, APIC_BASE, mode and ID kept. */
void vdev_lapic_init_signal(struct vdev_lapic *l);

/* IA32_APIC_BASE (11.4.4, 11.12.5). set returns 0 or -1 (#GP, nothing changed) for reserved
 * bits, an address beyond VDEV_LAPIC_MAXPHYADDR and the illegal transitions. The BSP flag is
 * read-only. EN 1 -> 0 puts the registers in their power-on state, keeping the IDs. */
uint64_t vdev_lapic_get_base(const struct vdev_lapic *l);
int vdev_lapic_set_base(struct vdev_lapic *l, uint64_t value);
bool vdev_lapic_hw_enabled(const struct vdev_lapic *l);
bool vdev_lapic_x2apic_mode(const struct vdev_lapic *l);
/* The xAPIC page decodes (EN=1, EXTD=0): the caller routes MMIO at the base only then. */
bool vdev_lapic_mmio_enabled(const struct vdev_lapic *l);
/* The current APIC ID: the xAPIC ID register's, or the x2APIC ID. */
uint32_t vdev_lapic_id(const struct vdev_lapic *l);

/* xAPIC register access by offset within the page (16-byte aligned, 0x000-0x3f0). Reserved
 * offsets read 0, ignore writes and set ESR "illegal register address". Not in xAPIC mode:
 * reads 0, writes ignored. */
uint32_t vdev_lapic_read(struct vdev_lapic *l, unsigned offset, uint64_t now_ns,
                         uint64_t guest_tsc);
void vdev_lapic_write(struct vdev_lapic *l, unsigned offset, uint32_t value, uint64_t now_ns,
                      uint64_t guest_tsc, struct vdev_lapic_effects *out);

/* x2APIC MSRs 0x800-0x8ff (11.12.1.2, 11.12.1.3): 0, or -1 for #GP (nothing changed). */
int vdev_lapic_msr_read(struct vdev_lapic *l, uint32_t msr, uint64_t *val, uint64_t now_ns,
                        uint64_t guest_tsc);
int vdev_lapic_msr_write(struct vdev_lapic *l, uint32_t msr, uint64_t val, uint64_t now_ns,
                         uint64_t guest_tsc, struct vdev_lapic_effects *out);

/* IA32_TSC_DEADLINE (11.5.4.1): outside TSC-deadline mode reads 0 and writes are ignored.
 * After a write the caller re-reads vdev_lapic_next_event_ns(). */
uint64_t vdev_lapic_tsc_deadline_read(const struct vdev_lapic *l);
void vdev_lapic_tsc_deadline_write(struct vdev_lapic *l, uint64_t value);

/* A fixed interrupt (IOAPIC message, IPI, self IPI): sets IRR (and TMR if level, else clears
 * it). Vectors 0-15 set ESR "received illegal vector" and are dropped. False when dropped or the
 * APIC is disabled (hardware or software). */
bool vdev_lapic_accept(struct vdev_lapic *l, uint8_t vector, bool level);
/* The highest IRR vector whose class beats PPR (11.8.3.1), or -1. Call vdev_lapic_tick() first
 * so that timer expiries up to now are in IRR. */
int vdev_lapic_pending(const struct vdev_lapic *l);
/* INTA: moves vdev_lapic_pending()'s vector from IRR to ISR and returns it, or -1. */
int vdev_lapic_acknowledge(struct vdev_lapic *l);
/* The 8259's INTR reaches the CPU: APIC hardware-disabled, or LINT0 unmasked ExtINT. */
bool vdev_lapic_extint_enabled(const struct vdev_lapic *l);
/* This APIC is a destination of (logical, dest) in xAPIC (8-bit) or x2APIC (32-bit) format
 * (11.6.2, 11.12.10). Shorthands are the caller's. False when hardware-disabled. */
bool vdev_lapic_matches(const struct vdev_lapic *l, bool logical, uint32_t dest,
                        bool x2apic_format);

/* Timer (11.5.4): raises the timer interrupt if it expired (a periodic timer that missed several
 * periods raises one and rearms in the future), fires an expired TSC deadline. */
void vdev_lapic_tick(struct vdev_lapic *l, uint64_t now_ns, uint64_t guest_tsc);
/* Absolute ns of the next timer interrupt (<= now_ns if one is due), or VDEV_LAPIC_NO_EVENT
 * (timer stopped or masked). */
uint64_t vdev_lapic_next_event_ns(const struct vdev_lapic *l, uint64_t now_ns, uint64_t guest_tsc);

void vdev_lapic_save(const struct vdev_lapic *l, struct vdev_lapic_state *out, uint64_t now_ns);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_lapic_restore(struct vdev_lapic *l, const struct vdev_lapic_state *in, uint64_t now_ns);
