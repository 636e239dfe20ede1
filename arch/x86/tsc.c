/*
 * The TSC as civic's clock. Its frequency is measured against PIT channel 2 (mode 0, gated by
 * port 0x61), the one reference every PC and emulator has; CPUID leaves 0x15/0x16, where
 * present, are only a cross-check because hypervisors and older CPUs leave them empty or wrong.
 */
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/irq.h"
#include "arch/x86/pit.h"
#include "arch/x86/time.h"
#include "arch/x86/tsc.h"
#include "arch/x86/tsc_math.h"
#include "kernel/arch.h"
#include "kernel/log.h"

#define CALIBRATION_US 10000
#define CALIBRATION_RUNS 5
/* Polls of port 0x61 before giving up on OUT2: ~1 us each on hardware, far more than 10 ms. */
#define OUT2_POLL_LIMIT 10000000u

static uint64_t hz;
static uint64_t ns_mult;
static uint64_t tsc_base;

/* One measurement: TSC cycles while channel 2 counts `count` PIT cycles; 0 if OUT2 misbehaves. */
static uint64_t measure_once(uint32_t count)
{
    uint8_t b = inb(PC_PORT_B);
    b &= (uint8_t) ~(PORT_B_TIMER2_GATE | PORT_B_SPEAKER_DATA);
    outb(PC_PORT_B, b); /* gate low: channel 2 holds; speaker off */

    outb(PIT_MODE_CMD, PIT_SC_CHANNEL2 | PIT_RW_LSB_MSB | PIT_MODE0 | PIT_BINARY);
    outb(PIT_CH2_DATA, (uint8_t)count);
    outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
    /* Mode 0 drives OUT low once programmed; high already means no PIT answers here. */
    if (inb(PC_PORT_B) & PORT_B_OUT2)
        return 0;

    outb(PC_PORT_B, b | PORT_B_TIMER2_GATE);
    uint64_t start = rdtsc();
    for (uint32_t i = 0; i < OUT2_POLL_LIMIT; i++) {
        if (inb(PC_PORT_B) & PORT_B_OUT2) {
            uint64_t end = rdtsc();
            outb(PC_PORT_B, b);
            return end - start;
        }
    }
    outb(PC_PORT_B, b);
    return 0;
}

/* The frequency CPUID reports (leaf 0x15 crystal ratio, else leaf 0x16 base MHz), or 0. */
static uint64_t cpuid_tsc_hz(void)
{
    uint32_t max, b, c, d;
    cpuid(0, 0, &max, &b, &c, &d);
    if (max >= 0x15) {
        uint32_t den, num, crystal;
        cpuid(0x15, 0, &den, &num, &crystal, &d);
        if (den && num && crystal)
            return (uint64_t)crystal * num / den;
    }
    if (max >= 0x16) {
        uint32_t mhz;
        cpuid(0x16, 0, &mhz, &b, &c, &d);
        if (mhz)
            return (uint64_t)(mhz & 0xffff) * 1000000u;
    }
    return 0;
}

civic_err tsc_calibrate(void)
{
    uint32_t count = pit_count_for_us(CALIBRATION_US);
    uint64_t runs[CALIBRATION_RUNS];

    irq_state_t s = irq_save(); /* an interrupt inside the window would stretch it */
    for (unsigned i = 0; i < CALIBRATION_RUNS; i++) {
        runs[i] = measure_once(count);
        if (runs[i] == 0) {
            irq_restore(s);
            log_err("time: PIT channel 2 never signalled the end of its count; no PIT?");
            return trace_error(CIVIC_EIO);
        }
    }
    irq_restore(s);

    uint64_t f = rate_from_pit(median_u64(runs, CALIBRATION_RUNS), count);
    if (f == 0)
        return trace_error(CIVIC_EIO);
    uint64_t spread = runs[CALIBRATION_RUNS - 1] - runs[0]; /* sorted by median_u64 */

    tsc_base = rdtsc();
    ns_mult = tsc_ns_mult(f);
    hz = f;
    log_info("time: TSC %llu.%03llu MHz (PIT, median of %u runs of %u us, spread %llu cycles)",
             (unsigned long long)(f / 1000000u), (unsigned long long)(f / 1000u % 1000u),
             CALIBRATION_RUNS, CALIBRATION_US, (unsigned long long)spread);

    uint64_t reported = cpuid_tsc_hz();
    if (reported) {
        uint64_t diff = reported > f ? reported - f : f - reported;
        if (diff > f / 100)
            log_info("time: CPUID reports %llu Hz for the TSC; the PIT measurement is used",
                     (unsigned long long)reported);
    }
    return CIVIC_OK;
}

uint64_t tsc_hz(void)
{
    return hz;
}

uint64_t arch_time_ns(void)
{
    if (ns_mult == 0)
        return 0;
    return tsc_cycles_to_ns(rdtsc() - tsc_base, ns_mult);
}
