/* cputest: shared declarations between the check modules (see cputest.c for the contract). */
#pragma once
#include "guest.h"

struct cputest_opts {
    uint64_t seed;    /* fpu pattern */
    uint64_t spin_ms; /* fpu busy time */
    uint64_t cpus;    /* expected logical processors, 0 = unchecked */
    bool expect_qemu; /* tolerate QEMU TCG's lax MSRs */
    char hv[16];      /* required hypervisor signature, "" = none */
};
extern struct cputest_opts opt;

/* Within a check: an information line "cputest: <check>: ...". */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "cputest: <check>: FAIL ..." and fails the check when cond is false; returns cond. */
bool require(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text after "ok" on the check's result line. */
void summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the check as skipped (the feature is absent): "cputest: <check>: skipped (...)". */
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t udiv64(uint64_t n, uint32_t d);

/* The checks, in the order they run. */
void check_modes(void);
void check_cpuid(void);
void check_tsc(void);
void check_msr(void);
void check_ud(void);
void check_pf(void);
void check_fpu(void);
void check_pit(void);
void check_lapic(void);
void check_tscdeadline(void);
void check_x2apic(void);

/* pc.c: the 8259s, PIT channel 0 at 100 Hz counting into pit_ticks, the CMOS clock. */
#define PIT_TICK_HZ 100
extern volatile uint32_t pit_ticks;
void timers_start(void); /* idempotent; leaves interrupts enabled */
void timers_wait_ticks(uint32_t n);
/* Waits until the RTC seconds change (UIP protocol); false if not within about 3 s of PIT. */
bool rtc_wait_edge(void);
