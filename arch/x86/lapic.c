/*
 * This CPU's local APIC (Intel SDM Vol. 3A, chapter 11): enabled in x2APIC mode when the CPU
 * has it (MSR access, no mapping needed), in xAPIC mode through an uncached MMIO mapping
 * otherwise. Its timer is the periodic tick, calibrated against the TSC.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/irq.h"
#include "arch/x86/lapic_regs.h"
#include "arch/x86/paging.h"
#include "arch/x86/msr.h"
#include "arch/x86/time.h"
#include "arch/x86/tsc.h"
#include "arch/x86/tsc_math.h"
#include "kernel/log.h"

#define TIMER_CALIBRATION_DIVISOR 100 /* measure over 1/100 s */

static bool present;
static bool x2apic;
static volatile uint32_t *mmio;
static volatile uint64_t ticks;

static uint32_t lapic_read(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(X2APIC_MSR(reg));
    return mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(X2APIC_MSR(reg), v);
    else
        mmio[reg / 4] = v;
}

static void lapic_error_irq(void *ctx)
{
    (void)ctx;
    lapic_write(LAPIC_ESR, 0); /* latch the current errors into ESR (SDM 11.5.3) */
    log_err("lapic: error interrupt, ESR %#x", lapic_read(LAPIC_ESR));
}

static void lapic_timer_irq(void *ctx)
{
    (void)ctx;
    ticks++;
}

void lapic_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(d & CPUID_01_EDX_APIC)) {
        log_err("lapic: this CPU reports no local APIC (CPUID.01H:EDX.APIC = 0)");
        return;
    }
    uint64_t base = rdmsr(IA32_APIC_BASE);
    uint64_t phys = base & IA32_APIC_BASE_ADDR_MASK;
    if (!(base & IA32_APIC_BASE_EN)) {
        base |= IA32_APIC_BASE_EN;
        wrmsr(IA32_APIC_BASE, base);
    }
    if (c & CPUID_01_ECX_X2APIC) {
        /* Disabled -> x2APIC is an invalid transition: xAPIC is enabled first (SDM 11.12.5). */
        wrmsr(IA32_APIC_BASE, base | IA32_APIC_BASE_EXTD);
        x2apic = true;
    } else {
        mmio = paging_map_mmio(phys, LAPIC_MMIO_SIZE);
        if (!mmio) {
            log_err("lapic: cannot map the xAPIC registers at %#llx", (unsigned long long)phys);
            return;
        }
    }
    present = true;

    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_LAPIC_TIMER);
    /* The 8259s are masked for good: LINT0 (ExtINT) stays masked, LINT1 is the NMI line. */
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_DELIVERY_NMI);
    lapic_write(LAPIC_LVT_ERROR, VEC_LAPIC_ERROR);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_ESR, 0);
    irq_set_handler(VEC_LAPIC_ERROR, lapic_error_irq, NULL);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_LAPIC_SPURIOUS);

    log_info("lapic: id %u, version %#x, %s mode", lapic_id(), lapic_read(LAPIC_VERSION) & 0xff,
             x2apic ? "x2APIC" : "xAPIC");
}

uint32_t lapic_id(void)
{
    if (!present)
        return 0;
    if (x2apic)
        return (uint32_t)rdmsr(IA32_X2APIC_APICID);
    return mmio[LAPIC_ID / 4] >> LAPIC_XAPIC_ID_SHIFT;
}

void lapic_eoi(void)
{
    if (x2apic)
        wrmsr(IA32_X2APIC_EOI, 0);
    else if (mmio)
        mmio[LAPIC_EOI / 4] = 0;
}

civic_err lapic_timer_start(unsigned hz)
{
    if (!present)
        return trace_error(CIVIC_ENOTSUP);
    if (hz == 0)
        return trace_error(CIVIC_EINVAL);
    uint64_t tsc_rate = tsc_hz();
    if (tsc_rate == 0) {
        log_err("lapic: the timer is calibrated against the TSC, which is not calibrated");
        return trace_error(CIVIC_ENOTSUP);
    }

    /* Count down from the top for a TSC-timed window, one-shot and masked. */
    irq_state_t s = irq_save();
    lapic_write(LAPIC_TIMER_DIVIDE_CONFIG, LAPIC_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_LVT_TIMER_ONESHOT | VEC_LAPIC_TIMER);
    uint64_t window = tsc_rate / TIMER_CALIBRATION_DIVISOR;
    uint64_t t0 = rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL_COUNT, UINT32_MAX);
    uint64_t t1;
    do {
        t1 = rdtsc();
    } while (t1 - t0 < window);
    uint32_t elapsed = UINT32_MAX - lapic_read(LAPIC_TIMER_CURRENT_COUNT);
    lapic_write(LAPIC_TIMER_INITIAL_COUNT, 0);
    irq_restore(s);

    uint64_t rate = rate_from_tsc(elapsed, t1 - t0, tsc_rate);
    uint64_t initial = rate / hz;
    if (elapsed == 0 || initial == 0 || initial > UINT32_MAX) {
        log_err("lapic: timer counted %u in %llu TSC cycles; cannot tick at %u Hz", elapsed,
                (unsigned long long)(t1 - t0), hz);
        return trace_error(CIVIC_EIO);
    }

    irq_set_handler(VEC_LAPIC_TIMER, lapic_timer_irq, NULL);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | VEC_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_INITIAL_COUNT, (uint32_t)initial);
    log_info("lapic: timer %llu Hz after divide-by-16; tick %u Hz, initial count %llu",
             (unsigned long long)rate, hz, (unsigned long long)initial);
    return CIVIC_OK;
}

uint64_t lapic_ticks(void)
{
    return ticks;
}
