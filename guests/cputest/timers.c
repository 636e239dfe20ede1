/*
 * pit, lapic, tscdeadline, x2apic: timer interrupts counted against the CMOS clock. Between two
 * RTC seconds edges two seconds apart we count PIT channel 0 interrupts (100 Hz through the
 * 8259) and local APIC timer interrupts (periodic, divide by 16, initial count 62500: 1000 Hz
 * with QEMU's 1 GHz APIC clock). Then the APIC timer's one-shot mode, TSC-deadline mode and
 * x2APIC mode when CPUID reports them.
 */
#include "cputest.h"
#include "cpuid.h"
#include "lapic.h"
#include "msr.h"

#define VEC_PERIODIC 0x30
#define VEC_ONESHOT 0x31
#define VEC_DEADLINE 0x32
#define VEC_X2APIC 0x33
#define LAPIC_COUNT 62500u
#define WINDOW_S 2
#define PIT_EXPECT (PIT_TICK_HZ * WINDOW_S)
#define PIT_TOLERANCE_PCT 15
/* Bus kHz from the interrupts in the window: count * divide * initial count / window / 1000. */
#define BUS_KHZ_PER_TICK (16u * LAPIC_COUNT / WINDOW_S / 1000u)
#define BUS_KHZ_MIN 10000u    /* 10 MHz */
#define BUS_KHZ_MAX 10000000u /* 10 GHz */

static volatile uint32_t fired[4];
static volatile uint64_t fired_tsc;

static void on_lapic(unsigned vector)
{
    if (vector == VEC_DEADLINE && fired[2] == 0)
        fired_tsc = rdtsc();
    fired[vector - VEC_PERIODIC]++;
    lapic_eoi();
}

static bool have(uint32_t edx_bit, uint32_t ecx_bit)
{
    uint32_t r[4];
    cpuid(CPUID_LEAF_FEATURES, 0, r);
    return (r[3] & edx_bit) == edx_bit && (r[2] & ecx_bit) == ecx_bit;
}

/* The shared two-second window. */
static struct {
    bool done, edges_ok;
    uint32_t pit, lapic;
    uint64_t tsc;
} win;

static void measure(void)
{
    if (win.done)
        return;
    win.done = true;
    timers_start();
    bool apic = have(CPUID_1_EDX_APIC, 0);
    for (unsigned v = VEC_PERIODIC; v <= VEC_X2APIC; v++)
        irq_set_handler(v, on_lapic);
    if (apic) {
        lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV16);
        lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VEC_PERIODIC);
        lapic_write(LAPIC_TIMER_ICR, LAPIC_COUNT);
    }
    win.edges_ok = rtc_wait_edge();
    uint32_t p0 = pit_ticks, l0 = fired[0];
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < WINDOW_S && win.edges_ok; i++)
        win.edges_ok = rtc_wait_edge();
    win.pit = pit_ticks - p0;
    win.lapic = fired[0] - l0;
    win.tsc = rdtsc() - t0;
    if (apic) {
        lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
        lapic_write(LAPIC_TIMER_ICR, 0);
    }
}

/* Cycles per PIT tick (10 ms), from the window. */
static uint64_t tsc_per_tick(void)
{
    measure();
    return udiv64(win.tsc, PIT_EXPECT);
}

void check_pit(void)
{
    measure();
    if (!require(win.edges_ok, "the RTC seconds did not change within 3 s of PIT ticks"))
        return;
    uint32_t lo = PIT_EXPECT * (100 - PIT_TOLERANCE_PCT) / 100;
    uint32_t hi = PIT_EXPECT * (100 + PIT_TOLERANCE_PCT) / 100;
    require(win.pit >= lo && win.pit <= hi, "%u PIT interrupts in %u RTC seconds, expected %u..%u",
            win.pit, WINDOW_S, lo, hi);
    summary("%u PIT interrupts at 100 Hz in %u RTC seconds (%u..%u), tsc=%llu kHz", win.pit,
            WINDOW_S, lo, hi, (unsigned long long)udiv64(win.tsc, WINDOW_S * 1000));
}

/* Expected interrupts in the window from CPUID leaf 0x40000010 EBX (APIC bus kHz), or 0. */
static uint32_t expected_from_cpuid(uint32_t *bus_khz)
{
    uint32_t r[4];
    *bus_khz = 0;
    if (!have(0, CPUID_1_ECX_HYPERVISOR))
        return 0;
    cpuid(CPUID_LEAF_HV, 0, r);
    if (r[0] < CPUID_LEAF_HV_TIMING)
        return 0;
    cpuid(CPUID_LEAF_HV_TIMING, 0, r);
    *bus_khz = r[1];
    return r[1] / BUS_KHZ_PER_TICK;
}

static void oneshot(void)
{
    fired[1] = 0;
    lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_ONESHOT | VEC_ONESHOT);
    lapic_write(LAPIC_TIMER_ICR, LAPIC_COUNT);
    uint32_t ccr = lapic_read(LAPIC_TIMER_CCR);
    /* 0 is possible too: a vCPU preempted for longer than the period (another VM ran) finds its
     * timer expired, as time goes on while it waits. Firing once is checked below. */
    require(ccr <= LAPIC_COUNT, "one-shot: current count %u right after arming %u", ccr,
            LAPIC_COUNT);
    /* Wait for it (at most 1 s), then for three more would-be periods: it must fire once. */
    uint32_t period_ticks = win.lapic ? PIT_EXPECT / win.lapic + 1 : PIT_TICK_HZ;
    uint32_t t0 = pit_ticks;
    while (fired[1] == 0 && pit_ticks - t0 < PIT_TICK_HZ)
        __asm__ volatile("sti; hlt" ::: "memory");
    timers_wait_ticks(3 * period_ticks + 2);
    ccr = lapic_read(LAPIC_TIMER_CCR);
    require(fired[1] == 1, "one-shot fired %u times", fired[1]);
    require(ccr == 0, "one-shot: current count %u after it fired", ccr);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
}

void check_lapic(void)
{
    if (!have(CPUID_1_EDX_APIC, 0)) {
        skip("no local APIC");
        return;
    }
    measure();
    if (!require(win.edges_ok, "the RTC seconds did not change within 3 s of PIT ticks"))
        return;
    uint32_t bus_khz = win.lapic * BUS_KHZ_PER_TICK, cpuid_khz;
    note("%u timer interrupts in %u RTC seconds (divide 16, count %u): bus about %u kHz", win.lapic,
         WINDOW_S, LAPIC_COUNT, bus_khz);
    require(bus_khz >= BUS_KHZ_MIN && bus_khz <= BUS_KHZ_MAX,
            "implausible APIC bus frequency %u kHz (%u interrupts)", bus_khz, win.lapic);
    uint32_t want = expected_from_cpuid(&cpuid_khz);
    if (want)
        require(win.lapic >= want * 85 / 100 && win.lapic <= want * 115 / 100,
                "%u interrupts, expected %u from CPUID 0x40000010 bus=%u kHz", win.lapic, want,
                cpuid_khz);
    oneshot();
    summary("periodic %u Hz (bus %u kHz%s), one-shot fired once", win.lapic / WINDOW_S, bus_khz,
            want ? ", matches CPUID 0x40000010" : "");
}

void check_tscdeadline(void)
{
    if (!have(CPUID_1_EDX_APIC, CPUID_1_ECX_TSC_DEADLINE)) {
        skip("CPUID.1:ECX.TSC_DEADLINE clear");
        return;
    }
    uint64_t tick = tsc_per_tick();
    if (!require(tick > 0, "no TSC rate (RTC window failed)"))
        return;
    timers_start();
    fired[2] = 0;
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE | VEC_DEADLINE);
    uint64_t deadline = rdtsc() + tick; /* 10 ms */
    wrmsr(IA32_TSC_DEADLINE, deadline);
    uint32_t t0 = pit_ticks;
    while (fired[2] == 0 && pit_ticks - t0 < PIT_TICK_HZ)
        __asm__ volatile("sti; hlt" ::: "memory");
    timers_wait_ticks(3);
    require(fired[2] == 1, "armed 10 ms ahead: fired %u times", fired[2]);
    require(fired[2] == 0 || fired_tsc >= deadline, "fired %llu cycles early",
            (unsigned long long)(deadline - fired_tsc));
    uint64_t msr = rdmsr(IA32_TSC_DEADLINE);
    require(msr == 0, "IA32_TSC_DEADLINE=%llx after firing, expected 0", (unsigned long long)msr);

    fired[2] = 0; /* disarmed by writing 0 */
    wrmsr(IA32_TSC_DEADLINE, rdtsc() + tick);
    wrmsr(IA32_TSC_DEADLINE, 0);
    timers_wait_ticks(3);
    require(fired[2] == 0, "fired %u times after being disarmed", fired[2]);

    fired[2] = 0; /* a deadline in the past fires at once */
    wrmsr(IA32_TSC_DEADLINE, 1);
    timers_wait_ticks(2);
    require(fired[2] == 1, "deadline in the past: fired %u times", fired[2]);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
    summary("fired once at +10 ms, not early, MSR cleared; disarm and past deadline work");
}

void check_x2apic(void)
{
    if (!have(CPUID_1_EDX_APIC, CPUID_1_ECX_X2APIC)) {
        skip("CPUID.1:ECX.x2APIC clear");
        return;
    }
    timers_start();
    measure();
    uint32_t xid = lapic_id(), xver = lapic_read(LAPIC_VERSION);
    uint64_t base = rdmsr(IA32_APIC_BASE);
    __asm__ volatile("cli");
    wrmsr(IA32_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    lapic_use_x2apic();
    uint32_t id = lapic_id(), ver = lapic_read(LAPIC_VERSION);
    require(id == xid, "x2APIC ID %u, xAPIC ID was %u", id, xid);
    require(ver == xver, "x2APIC version %08x, xAPIC's was %08x", ver, xver);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_DM_EXTINT);
    fired[3] = 0;
    lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VEC_X2APIC);
    lapic_write(LAPIC_TIMER_ICR, LAPIC_COUNT);
    timers_wait_ticks(PIT_TICK_HZ / 5); /* 200 ms */
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_TIMER_ICR, 0);
    uint32_t n = fired[3], want = win.lapic / (WINDOW_S * 5);
    require(n > 0, "no x2APIC timer interrupt in 200 ms");
    if (want > 4)
        require(n >= want * 7 / 10 && n <= want * 13 / 10,
                "%u x2APIC timer interrupts in 200 ms, expected about %u", n, want);

    /* Leaving x2APIC mode goes through disabled (SDM Vol. 3 10.12.5, figure 10-27). */
    __asm__ volatile("cli");
    wrmsr(IA32_APIC_BASE, base & ~(uint64_t)(APIC_BASE_EN | APIC_BASE_EXTD));
    wrmsr(IA32_APIC_BASE, (base & ~(uint64_t)APIC_BASE_EXTD) | APIC_BASE_EN);
    lapic_use_xapic((uint32_t)base);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_DM_EXTINT);
    /* Informational: the state diagram allows disabled -> xAPIC, but some CPU models (Bochs 2.7)
     * keep a globally disabled APIC off until reset. x2apic runs last for that reason. */
    uint32_t back = lapic_id();
    if (back != xid)
        note("after leaving x2APIC mode the xAPIC ID reads %u (was %u): APIC stays disabled", back,
             xid);
    summary("id=%u, %u timer interrupts in 200 ms through MSRs, left x2APIC mode", id, n);
}
