/*
 * The guest LAPIC's timer (Intel SDM Vol. 3A, 11.5.4): one-shot, periodic and TSC-deadline
 * modes. The count is a function of the caller's time: the counter started at timer_start_ns and
 * drops by one every `divisor` ns (a 1 GHz bus clock through the divider), so nothing needs a
 * host timer while the guest only reads it. A periodic timer keeps its phase: after a pause it
 * raises one interrupt and its next expiry is the next period boundary after now.
 */
#include "kernel/vdev_lapic.h"

#include "arch/x86/lapic_regs.h"
#include "kernel/vdev_lapic_int.h"

#define NS_PER_S 1000000000ull

unsigned vdev_lapic_timer_mode(const struct vdev_lapic *l)
{
    return (l->lvt[VDEV_LAPIC_LVT_TIMER] & LAPIC_LVT_TIMER_MODE_MASK) >> 17;
}

/* Figure 11-10: bits 3,1,0 = 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1. */
uint64_t vdev_lapic_timer_divisor(uint32_t dcr)
{
    unsigned code = ((dcr >> 1) & 4u) | (dcr & 3u);
    return 1ull << ((code + 1) & 7);
}

static uint64_t period_ns(const struct vdev_lapic *l)
{
    return (uint64_t)l->timer_initial * vdev_lapic_timer_divisor(l->timer_dcr) *
           (NS_PER_S / VDEV_LAPIC_BUS_HZ);
}

/* Counts done in the current period; for a one-shot, at most the initial count. */
static uint64_t counts_done(const struct vdev_lapic *l, uint64_t now_ns)
{
    uint64_t n = (now_ns - l->timer_start_ns) / vdev_lapic_timer_divisor(l->timer_dcr);
    if (vdev_lapic_timer_mode(l) == LAPIC_TIMER_PERIODIC)
        return n % l->timer_initial;
    return n < l->timer_initial ? n : l->timer_initial;
}

uint32_t vdev_lapic_timer_current(const struct vdev_lapic *l, uint64_t now_ns)
{
    /* TSC-deadline mode: the current count always reads 0 (11.5.4.1); never armed there. */
    if (!l->timer_armed)
        return 0;
    return (uint32_t)(l->timer_initial - counts_done(l, now_ns));
}

/* 11.5.4: a write (re)starts the count-down from the new value; 0 stops the timer. Ignored in
 * TSC-deadline mode. */
void vdev_lapic_timer_write_initial(struct vdev_lapic *l, uint32_t value, uint64_t now_ns)
{
    if (vdev_lapic_timer_mode(l) == LAPIC_TIMER_TSC_DEADLINE)
        return;
    l->timer_initial = value;
    l->timer_start_ns = now_ns;
    l->timer_armed = value != 0;
}

/* The SDM leaves a divider change while counting open; the count keeps its value and goes on
 * at the new rate. */
void vdev_lapic_timer_write_dcr(struct vdev_lapic *l, uint32_t value, uint64_t now_ns)
{
    uint64_t done = l->timer_armed ? counts_done(l, now_ns) : 0;
    l->timer_dcr = value & LAPIC_DIVIDE_MASK;
    if (l->timer_armed)
        l->timer_start_ns = now_ns - done * vdev_lapic_timer_divisor(l->timer_dcr);
}

void vdev_lapic_timer_disarm(struct vdev_lapic *l)
{
    l->timer_armed = 0;
    l->timer_initial = 0;
    l->tsc_deadline = 0;
}

/* 11.5.4.1: the MSR reads 0 and ignores writes outside TSC-deadline mode; 0 disarms. */
uint64_t vdev_lapic_tsc_deadline_read(const struct vdev_lapic *l)
{
    if (vdev_lapic_timer_mode(l) != LAPIC_TIMER_TSC_DEADLINE)
        return 0;
    return l->tsc_deadline;
}

void vdev_lapic_tsc_deadline_write(struct vdev_lapic *l, uint64_t value)
{
    if (vdev_lapic_timer_mode(l) == LAPIC_TIMER_TSC_DEADLINE)
        l->tsc_deadline = value;
}

void vdev_lapic_tick(struct vdev_lapic *l, uint64_t now_ns, uint64_t guest_tsc)
{
    if (vdev_lapic_timer_mode(l) == LAPIC_TIMER_TSC_DEADLINE) {
        /* When the deadline passes the timer fires, disarms and clears the MSR. */
        if (l->tsc_deadline != 0 && guest_tsc >= l->tsc_deadline) {
            l->tsc_deadline = 0;
            vdev_lapic_raise_lvt(l, VDEV_LAPIC_LVT_TIMER);
        }
        return;
    }
    if (!l->timer_armed)
        return;
    uint64_t elapsed = now_ns - l->timer_start_ns, period = period_ns(l);
    if (elapsed < period)
        return;
    if (vdev_lapic_timer_mode(l) == LAPIC_TIMER_PERIODIC)
        l->timer_start_ns += elapsed / period * period;
    else
        l->timer_armed = 0;
    vdev_lapic_raise_lvt(l, VDEV_LAPIC_LVT_TIMER);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? VDEV_LAPIC_NO_EVENT : a + b;
}

/* The first ns at which a guest TSC now at `tsc` (running at hz) reaches `deadline`. */
static uint64_t tsc_to_ns(uint64_t now_ns, uint64_t tsc, uint64_t deadline, uint64_t hz)
{
    if (tsc >= deadline)
        return now_ns;
    uint64_t d = deadline - tsc, q = d / hz, r = d % hz;
    if (q >= UINT64_MAX / NS_PER_S)
        return VDEV_LAPIC_NO_EVENT;
    /* r < hz, and hz is a real TSC rate (< 18 GHz), so r * NS_PER_S fits. */
    return add_sat(now_ns, q * NS_PER_S + (r * NS_PER_S + hz - 1) / hz);
}

uint64_t vdev_lapic_next_event_ns(const struct vdev_lapic *l, uint64_t now_ns, uint64_t guest_tsc)
{
    if (l->lvt[VDEV_LAPIC_LVT_TIMER] & LAPIC_LVT_MASKED)
        return VDEV_LAPIC_NO_EVENT;
    if (vdev_lapic_timer_mode(l) == LAPIC_TIMER_TSC_DEADLINE) {
        if (l->tsc_deadline == 0)
            return VDEV_LAPIC_NO_EVENT;
        return tsc_to_ns(now_ns, guest_tsc, l->tsc_deadline, l->tsc_hz);
    }
    if (!l->timer_armed)
        return VDEV_LAPIC_NO_EVENT;
    uint64_t elapsed = now_ns - l->timer_start_ns, period = period_ns(l);
    return elapsed >= period ? now_ns : add_sat(now_ns, period - elapsed);
}
