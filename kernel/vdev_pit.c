/*
 * Guest 8254 PIT, per the Intel 8254 data sheet (control word, counter latch and read-back
 * commands, status byte, modes), clocked at 1193182 Hz from the caller's nanosecond time.
 *
 * Modelled: modes 0 (interrupt on terminal count), 2 (rate generator), 3 (square wave) and
 * 4 (software strobe) as functions of elapsed input clocks; lobyte/hibyte/lohi access with
 * the lohi flip-flops; counter latch; read-back of status and count; gate 2 from port 0x61
 * (low: mode 0/4 suspend counting, mode 2/3 force OUT high; a rising gate restarts 2/3).
 * Channel 1 is the same counter with its gate tied high and its OUT unconnected.
 * Simplifications: a count is loaded at the write, not on the next clock; a new count written
 * while mode 2/3 is counting takes effect at once instead of at the end of the period; modes
 * 1 and 5 (hardware-triggered) are stored but never triggered: OUT stays high, the count
 * holds; BCD is stored and reported in the status but counting is binary; mode 3 with an odd
 * count reads back an approximate count (OUT timing is exact).
 */
#include "kernel/vdev_pit.h"

#include "kernel/string.h"

/* 8254 data sheet: control word fields. */
#define CW_SC_SHIFT 6
#define CW_SC_READ_BACK 3
#define CW_RW_SHIFT 4
#define CW_RW_LATCH 0
#define CW_M_SHIFT 1
#define CW_BCD 0x01
#define RB_NOT_COUNT 0x20
#define RB_NOT_STATUS 0x10
#define STATUS_OUTPUT 0x80
#define STATUS_NULL_COUNT 0x40
enum { RW_LSB = 1, RW_MSB = 2, RW_LSB_MSB = 3 };
/* PC/AT port 0x61 (system control port B). */
#define P61_GATE2 0x01
#define P61_WRITABLE 0x0f
#define P61_REFRESH 0x10
#define P61_OUT2 0x20
#define REFRESH_HALF_PERIOD_NS 15085 /* DRAM refresh request toggle, read by delay loops */
#define NS_PER_S 1000000000ull
#define PIT_STATE_VERSION 1

static uint64_t ns_to_tick(uint64_t ns)
{
    return ns / NS_PER_S * VDEV_PIT_HZ + ns % NS_PER_S * VDEV_PIT_HZ / NS_PER_S;
}

/* The first nanosecond at which ns_to_tick() reaches tick. */
static uint64_t tick_to_ns(uint64_t tick)
{
    uint64_t rem = tick % VDEV_PIT_HZ;
    return tick / VDEV_PIT_HZ * NS_PER_S + (rem * NS_PER_S + VDEV_PIT_HZ - 1) / VDEV_PIT_HZ;
}

/* Input clocks counted since the count was loaded. */
static uint64_t elapsed(const struct vdev_pit_channel *c, uint64_t tick)
{
    if (!c->gate)
        return c->frozen;
    int64_t e = (int64_t)(tick - c->start_tick);
    return e < 0 ? 0 : (uint64_t)e;
}

static uint16_t count_at(const struct vdev_pit_channel *c, uint64_t tick)
{
    uint64_t n = c->reload, e = elapsed(c, tick);
    if (!c->counting)
        return (uint16_t)n;
    switch (c->mode) {
    case 0:
    case 4: return (uint16_t)(n - e);
    case 2: return (uint16_t)(n - e % n);
    case 3: {
        uint64_t h = e % n, high = (n + 1) / 2;
        return (uint16_t)((n & ~1ull) - 2 * (h < high ? h : h - high));
    }
    default: return (uint16_t)n; /* modes 1, 5: never triggered */
    }
}

static bool out_at(const struct vdev_pit_channel *c, uint64_t tick)
{
    if (!c->counting)
        return c->mode != 0;
    uint64_t n = c->reload, e = elapsed(c, tick);
    switch (c->mode) {
    case 0: return e >= n;
    case 2: return !c->gate || n < 2 || e % n != n - 1;
    case 3: return !c->gate || e % n < (n + 1) / 2;
    case 4: return e != n;
    default: return true;
    }
}

/* Rising edges of OUT in (from, to], both ticks. */
static uint64_t edges_between(const struct vdev_pit_channel *c, uint64_t from, uint64_t to)
{
    if (!c->counting || !c->gate || (int64_t)(to - from) <= 0)
        return 0;
    uint64_t a = (int64_t)(from - c->start_tick) < 0 ? 0 : from - c->start_tick;
    uint64_t b = (int64_t)(to - c->start_tick) < 0 ? 0 : to - c->start_tick;
    uint64_t n = c->reload;
    switch (c->mode) {
    case 0: return a < n && n <= b;
    case 4: return a < n + 1 && n + 1 <= b;
    case 2:
    case 3: return n < 2 ? 0 : b / n - a / n;
    default: return 0;
    }
}

/* Counts OUT0's edges up to tick before anything changes channel 0. */
static void account_irq0(struct vdev_pit *pit, uint64_t tick)
{
    if ((int64_t)(tick - pit->irq0_seen_tick) <= 0)
        return;
    pit->irq0_pending += edges_between(&pit->ch[0], pit->irq0_seen_tick, tick);
    pit->irq0_seen_tick = tick;
}

static void load_count(struct vdev_pit_channel *c, uint32_t n, uint64_t tick)
{
    c->reload = n ? n : 65536;
    c->counting = 1;
    c->frozen = 0;
    c->start_tick = tick;
}

static void set_gate(struct vdev_pit_channel *c, bool gate, uint64_t tick)
{
    if (gate == (bool)c->gate)
        return;
    if (!gate) {
        c->frozen = elapsed(c, tick);
    } else if (c->mode == 0 || c->mode == 4) {
        c->start_tick = tick - c->frozen; /* resume */
    } else {
        c->start_tick = tick; /* a rising gate reloads the count */
        c->frozen = 0;
    }
    c->gate = gate;
}

static void latch_count(struct vdev_pit_channel *c, uint64_t tick)
{
    if (c->count_latched)
        return; /* the first latch holds until read */
    c->latched_count = count_at(c, tick);
    c->count_latched = c->rw == RW_LSB_MSB ? 2 : 1;
}

static void latch_status(struct vdev_pit_channel *c, uint64_t tick)
{
    if (c->status_latched)
        return;
    c->status =
        (uint8_t)((out_at(c, tick) ? STATUS_OUTPUT : 0) | (c->counting ? 0 : STATUS_NULL_COUNT) |
                  (c->rw << CW_RW_SHIFT) | (c->mode << CW_M_SHIFT) | c->bcd);
    c->status_latched = 1;
}

static void write_control(struct vdev_pit *pit, uint8_t v, uint64_t tick)
{
    unsigned sc = v >> CW_SC_SHIFT;
    if (sc == CW_SC_READ_BACK) {
        for (unsigned i = 0; i < VDEV_PIT_CHANNELS; i++) {
            if (!(v & (2u << i)))
                continue;
            if (!(v & RB_NOT_STATUS))
                latch_status(&pit->ch[i], tick);
            if (!(v & RB_NOT_COUNT))
                latch_count(&pit->ch[i], tick);
        }
        return;
    }
    struct vdev_pit_channel *c = &pit->ch[sc];
    unsigned rw = (v >> CW_RW_SHIFT) & 3;
    if (rw == CW_RW_LATCH) {
        latch_count(c, tick);
        return;
    }
    unsigned mode = (v >> CW_M_SHIFT) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6 and 7 are 2 and 3 */
    c->rw = (uint8_t)rw;
    c->bcd = v & CW_BCD;
    c->counting = 0; /* OUT takes the mode's initial level until a count arrives */
    c->read_hi = c->write_hi = 0;
}

static uint8_t read_counter(struct vdev_pit_channel *c, uint64_t tick)
{
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    uint16_t v;
    bool hi;
    if (c->count_latched) {
        v = c->latched_count;
        hi = c->rw == RW_MSB || (c->rw == RW_LSB_MSB && c->count_latched == 1);
        c->count_latched--;
    } else {
        v = count_at(c, tick);
        hi = c->rw == RW_MSB || (c->rw == RW_LSB_MSB && c->read_hi);
        if (c->rw == RW_LSB_MSB)
            c->read_hi ^= 1;
    }
    return (uint8_t)(hi ? v >> 8 : v);
}

static void write_counter(struct vdev_pit_channel *c, uint8_t v, uint64_t tick)
{
    switch (c->rw) {
    case RW_LSB: load_count(c, v, tick); break;
    case RW_MSB: load_count(c, (uint32_t)v << 8, tick); break;
    default:
        if (!c->write_hi) {
            c->write_lo = v;
            c->write_hi = 1;
            if (c->mode == 0)
                c->counting = 0; /* the first byte stops counting and drops OUT */
        } else {
            load_count(c, c->write_lo | (uint32_t)v << 8, tick);
            c->write_hi = 0;
        }
        break;
    }
}

bool vdev_pit_io(struct vdev_pit *pit, uint16_t port, bool is_write, uint8_t *value,
                 uint64_t now_ns)
{
    uint64_t tick = ns_to_tick(now_ns);
    struct vdev_pit_channel *c2 = &pit->ch[2];
    if (port == VDEV_PIT_PORT61) {
        if (is_write) {
            pit->port61 = *value & P61_WRITABLE;
            set_gate(c2, *value & P61_GATE2, tick);
        } else {
            *value = (uint8_t)(pit->port61 | (out_at(c2, tick) ? P61_OUT2 : 0) |
                               ((now_ns / REFRESH_HALF_PERIOD_NS) & 1 ? P61_REFRESH : 0));
        }
        return true;
    }
    if (port < VDEV_PIT_BASE || port >= VDEV_PIT_BASE + VDEV_PIT_PORTS)
        return false;
    account_irq0(pit, tick);
    unsigned reg = port - VDEV_PIT_BASE;
    if (reg == 3) {
        if (is_write)
            write_control(pit, *value, tick);
        else
            *value = 0xff; /* the control word register cannot be read */
    } else if (is_write) {
        write_counter(&pit->ch[reg], *value, tick);
    } else {
        *value = read_counter(&pit->ch[reg], tick);
    }
    return true;
}

uint64_t vdev_pit_irq0_edges(struct vdev_pit *pit, uint64_t now_ns)
{
    account_irq0(pit, ns_to_tick(now_ns));
    uint64_t n = pit->irq0_pending;
    pit->irq0_pending = 0;
    return n;
}

uint64_t vdev_pit_next_event_ns(const struct vdev_pit *pit, uint64_t now_ns)
{
    const struct vdev_pit_channel *c = &pit->ch[0];
    uint64_t tick = ns_to_tick(now_ns);
    if (pit->irq0_pending || edges_between(c, pit->irq0_seen_tick, tick))
        return now_ns;
    if (!c->counting || !c->gate)
        return VDEV_PIT_NO_EVENT;
    uint64_t n = c->reload, e = elapsed(c, tick);
    switch (c->mode) {
    case 0: return e < n ? tick_to_ns(c->start_tick + n) : VDEV_PIT_NO_EVENT;
    case 4: return e < n + 1 ? tick_to_ns(c->start_tick + n + 1) : VDEV_PIT_NO_EVENT;
    case 2:
    case 3: return n < 2 ? VDEV_PIT_NO_EVENT : tick_to_ns(c->start_tick + (e / n + 1) * n);
    default: return VDEV_PIT_NO_EVENT;
    }
}

bool vdev_pit_out(const struct vdev_pit *pit, unsigned channel, uint64_t now_ns)
{
    return channel < VDEV_PIT_CHANNELS && out_at(&pit->ch[channel], ns_to_tick(now_ns));
}

void vdev_pit_reset(struct vdev_pit *pit, uint64_t now_ns)
{
    memset(pit, 0, sizeof *pit);
    for (unsigned i = 0; i < VDEV_PIT_CHANNELS; i++) {
        pit->ch[i].reload = 65536;
        pit->ch[i].rw = RW_LSB_MSB;
        pit->ch[i].gate = i != 2; /* gates 0 and 1 are tied high on a PC */
    }
    pit->irq0_seen_tick = ns_to_tick(now_ns);
}

void vdev_pit_save(const struct vdev_pit *pit, struct vdev_pit_state *out, uint64_t now_ns)
{
    memset(out, 0, sizeof *out);
    out->version = PIT_STATE_VERSION;
    out->saved_tick = ns_to_tick(now_ns);
    out->pit = *pit;
}

static bool channel_valid(const struct vdev_pit_channel *c, uint64_t saved_tick)
{
    const uint8_t flags[] = {c->bcd,     c->counting, c->gate, c->status_latched,
                             c->read_hi, c->write_hi};
    for (unsigned i = 0; i < sizeof flags; i++)
        if (flags[i] > 1)
            return false;
    if (c->mode > 5 || c->rw < RW_LSB || c->rw > RW_LSB_MSB || c->count_latched > 2)
        return false;
    if (c->reload < 1 || c->reload > 65536 || (c->count_latched == 2 && c->rw != RW_LSB_MSB))
        return false;
    /* Counting cannot have started after the save. */
    return !c->gate || (int64_t)(saved_tick - c->start_tick) >= 0;
}

int vdev_pit_restore(struct vdev_pit *pit, const struct vdev_pit_state *in, uint64_t now_ns)
{
    const struct vdev_pit *p = &in->pit;
    if (in->version != PIT_STATE_VERSION || (p->port61 & ~P61_WRITABLE) || !p->ch[0].gate ||
        !p->ch[1].gate || p->ch[2].gate != (p->port61 & P61_GATE2))
        return -1;
    for (unsigned i = 0; i < VDEV_PIT_CHANNELS; i++)
        if (!channel_valid(&p->ch[i], in->saved_tick))
            return -1;
    /* Rebase every absolute tick onto this host's clock. */
    uint64_t delta = ns_to_tick(now_ns) - in->saved_tick;
    *pit = *p;
    for (unsigned i = 0; i < VDEV_PIT_CHANNELS; i++)
        pit->ch[i].start_tick += delta;
    pit->irq0_seen_tick += delta;
    return 0;
}
