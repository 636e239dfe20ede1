/*
 * Guest CMOS RAM and real-time clock, per the Motorola MC146818 data sheet (register map,
 * status registers A-D, update cycle, periodic/alarm/update-ended interrupts) and the PC/AT
 * CMOS layout for the memory-size bytes.
 *
 * The clock is base_sec + whole seconds elapsed since base_ns; the time registers are
 * computed on read, in BCD or binary and 12- or 24-hour form per register B. While SET is 1
 * they are plain storage holding the frozen time the guest may rewrite; clearing SET restarts
 * the clock from them with the next update one second later. Interrupt flags are brought up
 * to date lazily (on every access) from seen_ns to now_ns.
 * Simplifications: the divider bits (A 6:4) are stored but the oscillator always runs;
 * daylight saving (DSE) and the square-wave output are stored and ignored; the update cycle
 * is instantaneous, UIP being high only for the 244 us before it; alarms are checked once
 * per update against the registers, so "don't care" bytes (0xc0-0xff) work as specified.
 */
#include "kernel/vdev_rtc.h"

#include "kernel/string.h"

#define NS_PER_S 1000000000ull
#define RTC_HZ 32768ull         /* MC146818 time base the periodic rates divide */
#define UIP_WINDOW_NS 244000ull /* data sheet: UIP rises 244 us before the update */
#define SECS_PER_DAY 86400
#define RTC_STATE_VERSION 1
#define A_WRITABLE 0x7f
#define C_FLAGS (VDEV_RTC_C_IRQF | VDEV_RTC_C_PF | VDEV_RTC_C_AF | VDEV_RTC_C_UF)
#define BASE_MEM_KIB 640
#define MIB (1024ull * 1024)
/* Bounds restore accepts for base_sec: far beyond years 0..9999, far from overflow. */
#define BASE_SEC_LIMIT (1ll << 40)

/* ---- calendar (proleptic Gregorian) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y - 1] (negative for years before 1). */
static int64_t leaps_before(int64_t y)
{
    return floor_div(y - 1, 4) - floor_div(y - 1, 100) + floor_div(y - 1, 400);
}

/* Days from 1970-01-01 to January 1st of year y. */
static int64_t days_before_year(int64_t y)
{
    return 365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
}

static const uint16_t days_before_month[12] = {0,   31,  59,  90,  120, 151,
                                               181, 212, 243, 273, 304, 334};

static int64_t month_start(int64_t y, unsigned m /* 1..12 */)
{
    return days_before_month[m - 1] + (m > 2 && is_leap(y));
}

void vdev_rtc_epoch_to_tm(int64_t epoch_seconds, struct vdev_rtc_tm *tm)
{
    int64_t days = floor_div(epoch_seconds, SECS_PER_DAY);
    int64_t sod = epoch_seconds - days * SECS_PER_DAY;
    /* 146097 days per 400 years: the estimate is off by at most one year either way. */
    int64_t y = 1970 + floor_div(days * 400, 146097);
    while (days_before_year(y) > days)
        y--;
    while (days_before_year(y + 1) <= days)
        y++;
    int64_t doy = days - days_before_year(y);
    unsigned m = 12;
    while (m > 1 && month_start(y, m) > doy)
        m--;
    tm->year = (int32_t)y;
    tm->month = (uint8_t)m;
    tm->day = (uint8_t)(doy - month_start(y, m) + 1);
    tm->hour = (uint8_t)(sod / 3600);
    tm->minute = (uint8_t)(sod / 60 % 60);
    tm->second = (uint8_t)(sod % 60);
    /* 1970-01-01 was a Thursday, day 5 when Sunday is 1. */
    tm->wday = (uint8_t)(days - floor_div(days + 4, 7) * 7 + 4 + 1);
}

int64_t vdev_rtc_tm_to_epoch(const struct vdev_rtc_tm *tm)
{
    int64_t days = days_before_year(tm->year) + month_start(tm->year, tm->month) + tm->day - 1;
    return days * SECS_PER_DAY + tm->hour * 3600 + tm->minute * 60 + tm->second;
}

/* ---- register encoding ---- */

static uint8_t enc(const struct vdev_rtc *rtc, unsigned v)
{
    v %= 100;
    if (rtc->cmos[VDEV_RTC_REG_B] & VDEV_RTC_B_DM)
        return (uint8_t)v;
    return (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec(const struct vdev_rtc *rtc, uint8_t r)
{
    if (rtc->cmos[VDEV_RTC_REG_B] & VDEV_RTC_B_DM)
        return r;
    return (r >> 4) * 10u + (r & 0xf);
}

static uint8_t enc_hour(const struct vdev_rtc *rtc, unsigned h)
{
    if (rtc->cmos[VDEV_RTC_REG_B] & VDEV_RTC_B_24H)
        return enc(rtc, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(enc(rtc, h12) | (h >= 12 ? VDEV_RTC_HOUR_PM : 0));
}

static unsigned dec_hour(const struct vdev_rtc *rtc, uint8_t r)
{
    if (rtc->cmos[VDEV_RTC_REG_B] & VDEV_RTC_B_24H)
        return dec(rtc, r);
    unsigned h = dec(rtc, r & (uint8_t)~VDEV_RTC_HOUR_PM) % 12;
    return (r & VDEV_RTC_HOUR_PM) ? h + 12 : h;
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void store_time(struct vdev_rtc *rtc, int64_t epoch)
{
    struct vdev_rtc_tm tm;
    vdev_rtc_epoch_to_tm(epoch, &tm);
    uint8_t *c = rtc->cmos;
    c[VDEV_RTC_SECONDS] = enc(rtc, tm.second);
    c[VDEV_RTC_MINUTES] = enc(rtc, tm.minute);
    c[VDEV_RTC_HOURS] = enc_hour(rtc, tm.hour);
    c[VDEV_RTC_DAY_OF_WEEK] = enc(rtc, tm.wday);
    c[VDEV_RTC_DAY_OF_MONTH] = enc(rtc, tm.day);
    c[VDEV_RTC_MONTH] = enc(rtc, tm.month);
    c[VDEV_RTC_YEAR] = enc(rtc, (unsigned)tm.year % 100);
    c[VDEV_RTC_CENTURY] = enc(rtc, (unsigned)tm.year / 100);
}

/* The time the registers hold; out-of-range values written by the guest are clamped. */
static int64_t load_time(const struct vdev_rtc *rtc)
{
    const uint8_t *c = rtc->cmos;
    struct vdev_rtc_tm tm = {
        .year = (int32_t)(clamp(dec(rtc, c[VDEV_RTC_CENTURY]), 0, 99) * 100 +
                          clamp(dec(rtc, c[VDEV_RTC_YEAR]), 0, 99)),
        .month = (uint8_t)clamp(dec(rtc, c[VDEV_RTC_MONTH]), 1, 12),
        .day = (uint8_t)clamp(dec(rtc, c[VDEV_RTC_DAY_OF_MONTH]), 1, 31),
        .hour = (uint8_t)clamp(dec_hour(rtc, c[VDEV_RTC_HOURS]), 0, 23),
        .minute = (uint8_t)clamp(dec(rtc, c[VDEV_RTC_MINUTES]), 0, 59),
        .second = (uint8_t)clamp(dec(rtc, c[VDEV_RTC_SECONDS]), 0, 59),
    };
    return vdev_rtc_tm_to_epoch(&tm);
}

static bool is_time_reg(uint8_t i)
{
    return (i <= VDEV_RTC_YEAR && i != VDEV_RTC_SECONDS_ALARM && i != VDEV_RTC_MINUTES_ALARM &&
            i != VDEV_RTC_HOURS_ALARM) ||
           i == VDEV_RTC_CENTURY;
}

static bool frozen(const struct vdev_rtc *rtc)
{
    return rtc->cmos[VDEV_RTC_REG_B] & VDEV_RTC_B_SET;
}

/* ---- time base ---- */

static uint64_t since(uint64_t now_ns, uint64_t then_ns)
{
    int64_t d = (int64_t)(now_ns - then_ns);
    return d < 0 ? 0 : (uint64_t)d;
}

int64_t vdev_rtc_epoch_seconds(const struct vdev_rtc *rtc, uint64_t now_ns)
{
    if (frozen(rtc))
        return load_time(rtc);
    return rtc->base_sec + (int64_t)(since(now_ns, rtc->base_ns) / NS_PER_S);
}

static uint64_t ns_to_tick(uint64_t ns)
{
    return ns / NS_PER_S * RTC_HZ + ns % NS_PER_S * RTC_HZ / NS_PER_S;
}

/* The first nanosecond at which ns_to_tick() reaches tick. */
static uint64_t tick_to_ns(uint64_t tick)
{
    return tick / RTC_HZ * NS_PER_S + (tick % RTC_HZ * NS_PER_S + RTC_HZ - 1) / RTC_HZ;
}

/* Periodic interrupt period in 32768 Hz ticks, 0 for none (data sheet rate table). */
static uint64_t period_ticks(const struct vdev_rtc *rtc)
{
    unsigned rs = rtc->cmos[VDEV_RTC_REG_A] & VDEV_RTC_A_RS_MASK;
    if (rs == 0)
        return 0;
    return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1); /* rates 1, 2 repeat 8, 9 */
}

static bool alarm_byte_matches(uint8_t alarm, uint8_t value)
{
    return (alarm & VDEV_RTC_ALARM_DONT_CARE) == VDEV_RTC_ALARM_DONT_CARE || alarm == value;
}

static bool alarm_matches(const struct vdev_rtc *rtc, int64_t epoch)
{
    int64_t sod = epoch - floor_div(epoch, SECS_PER_DAY) * SECS_PER_DAY;
    const uint8_t *c = rtc->cmos;
    return alarm_byte_matches(c[VDEV_RTC_SECONDS_ALARM], enc(rtc, (unsigned)(sod % 60))) &&
           alarm_byte_matches(c[VDEV_RTC_MINUTES_ALARM], enc(rtc, (unsigned)(sod / 60 % 60))) &&
           alarm_byte_matches(c[VDEV_RTC_HOURS_ALARM], enc_hour(rtc, (unsigned)(sod / 3600)));
}

/* IRQF is the OR of each flag with its enable; the IRQ line rises with it. */
static void update_irqf(struct vdev_rtc *rtc)
{
    uint8_t b = rtc->cmos[VDEV_RTC_REG_B], *c = &rtc->cmos[VDEV_RTC_REG_C];
    bool irqf = ((*c & VDEV_RTC_C_PF) && (b & VDEV_RTC_B_PIE)) ||
                ((*c & VDEV_RTC_C_AF) && (b & VDEV_RTC_B_AIE)) ||
                ((*c & VDEV_RTC_C_UF) && (b & VDEV_RTC_B_UIE));
    if (irqf && !(*c & VDEV_RTC_C_IRQF))
        rtc->irq_raised = 1;
    *c = (uint8_t)((*c & ~VDEV_RTC_C_IRQF) | (irqf ? VDEV_RTC_C_IRQF : 0));
}

/* Record in register C the periodic, update and alarm events of (seen_ns, now_ns]. */
static void advance(struct vdev_rtc *rtc, uint64_t now_ns)
{
    if ((int64_t)(now_ns - rtc->seen_ns) > 0) {
        uint8_t flags = 0;
        uint64_t p = period_ticks(rtc);
        if (p && ns_to_tick(now_ns) / p != ns_to_tick(rtc->seen_ns) / p)
            flags |= VDEV_RTC_C_PF;
        if (!frozen(rtc)) {
            uint64_t k0 = since(rtc->seen_ns, rtc->base_ns) / NS_PER_S;
            uint64_t k1 = since(now_ns, rtc->base_ns) / NS_PER_S;
            if (k1 > k0)
                flags |= VDEV_RTC_C_UF;
            /* Every time of day comes round within a day of updates. */
            uint64_t first = k1 - k0 > SECS_PER_DAY ? k1 - SECS_PER_DAY + 1 : k0 + 1;
            for (uint64_t k = first; k <= k1; k++) {
                if (alarm_matches(rtc, rtc->base_sec + (int64_t)k)) {
                    flags |= VDEV_RTC_C_AF;
                    break;
                }
            }
        }
        rtc->cmos[VDEV_RTC_REG_C] |= flags;
        rtc->seen_ns = now_ns;
    }
    update_irqf(rtc);
}

/* ---- public ---- */

void vdev_rtc_reset(struct vdev_rtc *rtc, uint64_t now_ns, int64_t epoch_seconds_at_now,
                    uint64_t ram_bytes)
{
    memset(rtc, 0, sizeof *rtc);
    uint8_t *c = rtc->cmos;
    /* Values firmware leaves: 32.768 kHz divider, 1024 Hz rate, 24-hour BCD. */
    c[VDEV_RTC_REG_A] = 0x26;
    c[VDEV_RTC_REG_B] = VDEV_RTC_B_24H;
    c[VDEV_RTC_REG_D] = VDEV_RTC_D_VRT;
    c[VDEV_RTC_BASE_MEM_LO] = (uint8_t)BASE_MEM_KIB;
    c[VDEV_RTC_BASE_MEM_HI] = (uint8_t)(BASE_MEM_KIB >> 8);
    uint64_t low = ram_bytes < VDEV_RTC_LOW_RAM_LIMIT ? ram_bytes : VDEV_RTC_LOW_RAM_LIMIT;
    uint64_t ext = low > MIB ? (low - MIB) / 1024 : 0;
    ext = ext > 0xffff ? 0xffff : ext;
    c[VDEV_RTC_EXT_MEM_LO] = c[VDEV_RTC_EXT_MEM2_LO] = (uint8_t)ext;
    c[VDEV_RTC_EXT_MEM_HI] = c[VDEV_RTC_EXT_MEM2_HI] = (uint8_t)(ext >> 8);
    uint64_t m16 = low > 16 * MIB ? (low - 16 * MIB) / 65536 : 0;
    m16 = m16 > 0xffff ? 0xffff : m16;
    c[VDEV_RTC_MEM_16M_LO] = (uint8_t)m16;
    c[VDEV_RTC_MEM_16M_HI] = (uint8_t)(m16 >> 8);
    uint64_t m4g = (ram_bytes - low) / 65536;
    m4g = m4g > 0xffffff ? 0xffffff : m4g;
    c[VDEV_RTC_MEM_4G_0] = (uint8_t)m4g;
    c[VDEV_RTC_MEM_4G_1] = (uint8_t)(m4g >> 8);
    c[VDEV_RTC_MEM_4G_2] = (uint8_t)(m4g >> 16);
    /* The registers cover years 0..9999 only. */
    int64_t lo = days_before_year(0) * SECS_PER_DAY;
    int64_t hi = days_before_year(10000) * SECS_PER_DAY - 1;
    rtc->base_sec = epoch_seconds_at_now < lo   ? lo
                    : epoch_seconds_at_now > hi ? hi
                                                : epoch_seconds_at_now;
    rtc->base_ns = rtc->seen_ns = now_ns;
    store_time(rtc, rtc->base_sec); /* so the century byte reads right as plain NVRAM too */
}

static uint8_t read_reg(struct vdev_rtc *rtc, uint8_t i, uint64_t now_ns)
{
    uint8_t *c = rtc->cmos;
    switch (i) {
    case VDEV_RTC_REG_A: {
        bool uip =
            !frozen(rtc) && since(now_ns, rtc->base_ns) % NS_PER_S >= NS_PER_S - UIP_WINDOW_NS;
        return (uint8_t)((c[i] & A_WRITABLE) | (uip ? VDEV_RTC_A_UIP : 0));
    }
    case VDEV_RTC_REG_C: {
        uint8_t v = c[i];
        c[i] = 0; /* reading clears every flag and drops the IRQ line */
        return v;
    }
    default:
        if (is_time_reg(i) && !frozen(rtc))
            store_time(rtc, vdev_rtc_epoch_seconds(rtc, now_ns));
        return c[i];
    }
}

static void write_reg(struct vdev_rtc *rtc, uint8_t i, uint8_t v, uint64_t now_ns)
{
    uint8_t *c = rtc->cmos;
    switch (i) {
    case VDEV_RTC_REG_A: c[i] = v & A_WRITABLE; break;
    case VDEV_RTC_REG_B: {
        uint8_t old = c[i];
        if (v & VDEV_RTC_B_SET)
            v &= (uint8_t)~VDEV_RTC_B_UIE; /* data sheet: SET clears UIE */
        int64_t now_sec = vdev_rtc_epoch_seconds(rtc, now_ns);
        c[i] = v;
        if (!(old & VDEV_RTC_B_SET) && (v & VDEV_RTC_B_SET)) {
            store_time(rtc, now_sec); /* freeze, in the new format */
        } else if ((old & VDEV_RTC_B_SET) && !(v & VDEV_RTC_B_SET)) {
            rtc->base_sec = load_time(rtc);
            rtc->base_ns = now_ns; /* == seen_ns: advance() ran */
        }
        break;
    }
    case VDEV_RTC_REG_C:
    case VDEV_RTC_REG_D: break; /* read-only */
    default:
        if (is_time_reg(i) && !frozen(rtc)) {
            /* A running clock takes the write and keeps its sub-second phase. */
            int64_t before = vdev_rtc_epoch_seconds(rtc, now_ns);
            store_time(rtc, before);
            c[i] = v;
            rtc->base_sec += load_time(rtc) - before;
        } else {
            c[i] = v;
        }
    }
}

bool vdev_rtc_io(struct vdev_rtc *rtc, uint16_t port, bool is_write, uint8_t *value,
                 uint64_t now_ns)
{
    if (port == VDEV_RTC_INDEX_PORT) {
        if (is_write) {
            rtc->index = *value & 0x7f;
            rtc->nmi_masked = *value >> 7;
        } else {
            *value = 0xff; /* write-only on a PC */
        }
        return true;
    }
    if (port != VDEV_RTC_DATA_PORT)
        return false;
    advance(rtc, now_ns);
    if (is_write)
        write_reg(rtc, rtc->index, *value, now_ns);
    else
        *value = read_reg(rtc, rtc->index, now_ns);
    update_irqf(rtc);
    return true;
}

bool vdev_rtc_irq8_pending(struct vdev_rtc *rtc, uint64_t now_ns)
{
    advance(rtc, now_ns);
    bool raised = rtc->irq_raised;
    rtc->irq_raised = 0;
    return raised;
}

uint64_t vdev_rtc_next_event_ns(const struct vdev_rtc *rtc, uint64_t now_ns)
{
    if (rtc->irq_raised)
        return now_ns;
    uint8_t b = rtc->cmos[VDEV_RTC_REG_B];
    if (rtc->cmos[VDEV_RTC_REG_C] & VDEV_RTC_C_IRQF)
        return VDEV_RTC_NO_EVENT; /* the line stays up until register C is read */
    uint64_t best = VDEV_RTC_NO_EVENT, p = period_ticks(rtc);
    if ((b & VDEV_RTC_B_PIE) && p)
        best = tick_to_ns((ns_to_tick(rtc->seen_ns) / p + 1) * p);
    if ((b & (VDEV_RTC_B_UIE | VDEV_RTC_B_AIE)) && !frozen(rtc)) {
        /* The next update; an alarm is checked there, and the caller re-arms after it. */
        uint64_t k = since(rtc->seen_ns, rtc->base_ns) / NS_PER_S + 1;
        uint64_t upd = rtc->base_ns + k * NS_PER_S;
        best = upd < best ? upd : best;
    }
    if (best != VDEV_RTC_NO_EVENT && (int64_t)(best - now_ns) < 0)
        return now_ns;
    return best;
}

void vdev_rtc_save(const struct vdev_rtc *rtc, struct vdev_rtc_state *out, uint64_t now_ns)
{
    memset(out, 0, sizeof *out);
    out->version = RTC_STATE_VERSION;
    out->saved_ns = now_ns;
    out->rtc = *rtc;
}

int vdev_rtc_restore(struct vdev_rtc *rtc, const struct vdev_rtc_state *in, uint64_t now_ns)
{
    const struct vdev_rtc *r = &in->rtc;
    const uint8_t *c = r->cmos;
    if (in->version != RTC_STATE_VERSION || r->index >= VDEV_RTC_NVRAM_SIZE || r->nmi_masked > 1 ||
        r->irq_raised > 1 || c[VDEV_RTC_REG_D] != VDEV_RTC_D_VRT ||
        (c[VDEV_RTC_REG_C] & ~C_FLAGS) || (c[VDEV_RTC_REG_A] & ~A_WRITABLE) ||
        ((c[VDEV_RTC_REG_B] & VDEV_RTC_B_SET) && (c[VDEV_RTC_REG_B] & VDEV_RTC_B_UIE)))
        return -1;
    /* Nothing may have happened after the save; the clock must stay far from overflow. */
    if ((int64_t)(in->saved_ns - r->seen_ns) < 0 || (int64_t)(r->seen_ns - r->base_ns) < 0 ||
        r->base_sec < -BASE_SEC_LIMIT || r->base_sec > BASE_SEC_LIMIT)
        return -1;
    *rtc = *r;
    /* Rebase onto this host's clock, keeping the sub-second phase of the updates. */
    rtc->base_ns += now_ns - in->saved_ns;
    rtc->seen_ns += now_ns - in->saved_ns;
    return 0;
}
