/*
 * The host's wall clock: read once from the PC's CMOS RTC (MC146818 registers: seconds 0x00,
 * minutes 0x02, hours 0x04, day 0x07, month 0x08, year 0x09, century 0x32, status A 0x0a with UIP
 * bit 7, status B 0x0b with DM bit 2 and 24/12 bit 1), then advanced with the TSC. Guests' RTCs
 * start from it.
 */
#include "arch/x86/io.h"
#include "arch/x86/irq.h"
#include "arch/x86/time.h"
#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/vdev_rtc.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NMI_DISABLE 0x80

static int64_t boot_epoch;
static uint64_t boot_ns;

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, CMOS_NMI_DISABLE | reg);
    return inb(CMOS_DATA);
}

static uint8_t from_bcd(uint8_t v) { return (uint8_t)((v >> 4) * 10 + (v & 0x0f)); }

struct cmos_time {
    uint8_t sec, min, hour, day, month, year, century;
};

static void read_raw(struct cmos_time *t)
{
    t->sec = cmos_read(0x00);
    t->min = cmos_read(0x02);
    t->hour = cmos_read(0x04);
    t->day = cmos_read(0x07);
    t->month = cmos_read(0x08);
    t->year = cmos_read(0x09);
    t->century = cmos_read(0x32);
}

static bool same(const struct cmos_time *a, const struct cmos_time *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
           a->month == b->month && a->year == b->year && a->century == b->century;
}

void wallclock_init(void)
{
    irq_state_t f = irq_save();
    struct cmos_time a, b;
    /* Read until two reads outside an update agree (bounded: a missing RTC reads 0xff). */
    bool stable = false;
    for (int tries = 0; tries < 1000 && !stable; tries++) {
        for (int spin = 0; spin < 100000 && (cmos_read(0x0a) & 0x80); spin++)
            __asm__ volatile("pause");
        read_raw(&a);
        read_raw(&b);
        stable = same(&a, &b);
    }
    uint8_t status_b = cmos_read(0x0b);
    irq_restore(f);

    bool pm = (a.hour & 0x80) && !(status_b & 0x02);
    a.hour &= 0x7f;
    if (!(status_b & 0x04)) {
        a.sec = from_bcd(a.sec);
        a.min = from_bcd(a.min);
        a.hour = from_bcd(a.hour);
        a.day = from_bcd(a.day);
        a.month = from_bcd(a.month);
        a.year = from_bcd(a.year);
        a.century = from_bcd(a.century);
    }
    if (!(status_b & 0x02)) /* 12-hour mode: 12 AM is 0, 12 PM is 12 */
        a.hour = (uint8_t)(a.hour % 12 + (pm ? 12 : 0));
    unsigned century = (a.century >= 19 && a.century <= 30) ? a.century : 20;
    struct vdev_rtc_tm tm = { .year = (int32_t)(century * 100 + a.year), .month = a.month,
                              .day = a.day, .hour = a.hour, .minute = a.min, .second = a.sec };
    if (!stable || tm.month < 1 || tm.month > 12 || tm.day < 1 || tm.day > 31 || tm.hour > 23 ||
        tm.minute > 59 || tm.second > 59) {
        log_warn("time: no usable CMOS clock; guests' clocks start at 2000-01-01");
        tm = (struct vdev_rtc_tm){ .year = 2000, .month = 1, .day = 1 };
    }
    boot_epoch = vdev_rtc_tm_to_epoch(&tm);
    boot_ns = arch_time_ns();
    log_info("time: wall clock %04d-%02u-%02u %02u:%02u:%02u UTC (from the CMOS RTC)", tm.year,
             tm.month, tm.day, tm.hour, tm.minute, tm.second);
}

int64_t arch_wallclock_seconds(void)
{
    return boot_epoch + (int64_t)((arch_time_ns() - boot_ns) / 1000000000u);
}
