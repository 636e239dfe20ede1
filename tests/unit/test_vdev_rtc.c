// unit-sources: kernel/vdev_rtc.c kernel/string.c
/* The guest MC146818 RTC and CMOS: calendar conversion, BCD/binary and 12/24-hour formats,
 * the running clock, setting the time, UIP, register C, periodic/update/alarm interrupts,
 * memory-size bytes, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_rtc.h"

#define MS 1000000ull
#define S 1000000000ull
#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)
#define T_2000_02_29 951782400ll

static uint8_t rd(struct vdev_rtc *r, uint8_t reg, uint64_t now)
{
    uint8_t v = reg;
    assert_true(vdev_rtc_io(r, 0x70, true, &v, now));
    v = 0x5a;
    assert_true(vdev_rtc_io(r, 0x71, false, &v, now));
    return v;
}

static void wr(struct vdev_rtc *r, uint8_t reg, uint8_t val, uint64_t now)
{
    uint8_t v = reg;
    assert_true(vdev_rtc_io(r, 0x70, true, &v, now));
    v = val;
    assert_true(vdev_rtc_io(r, 0x71, true, &v, now));
}

static void check_tm(int64_t epoch, int y, int mo, int d, int h, int mi, int s, int wday)
{
    struct vdev_rtc_tm tm;
    vdev_rtc_epoch_to_tm(epoch, &tm);
    assert_int_equal(tm.year, y);
    assert_int_equal(tm.month, mo);
    assert_int_equal(tm.day, d);
    assert_int_equal(tm.hour, h);
    assert_int_equal(tm.minute, mi);
    assert_int_equal(tm.second, s);
    assert_int_equal(tm.wday, wday);
    assert_int_equal(vdev_rtc_tm_to_epoch(&tm), epoch);
}

static void test_calendar(void **state)
{
    (void)state;
    check_tm(0, 1970, 1, 1, 0, 0, 0, 5);             /* Thursday */
    check_tm(-1, 1969, 12, 31, 23, 59, 59, 4);       /* Wednesday */
    check_tm(T_2000_02_29, 2000, 2, 29, 0, 0, 0, 3); /* Tuesday, leap by 400 */
    check_tm(T_2000_02_29 + 86400, 2000, 3, 1, 0, 0, 0, 4);
    check_tm(4102444800ll, 2100, 1, 1, 0, 0, 0, 6); /* Friday */
    check_tm(4107542400ll, 2100, 3, 1, 0, 0, 0, 2); /* 2100 is not leap: no Feb 29 */
    check_tm(4107542400ll - 1, 2100, 2, 28, 23, 59, 59, 1);
    check_tm(2147483647ll, 2038, 1, 19, 3, 14, 7, 3); /* Tuesday */
    check_tm(2147483648ll, 2038, 1, 19, 3, 14, 8, 3);
    check_tm(253402300799ll, 9999, 12, 31, 23, 59, 59, 6);
}

static void test_bcd_and_binary(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, T_2000_02_29 + 13 * 3600 + 45 * 60 + 7, 256 * MIB);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, 0), 0x26);
    assert_int_equal(rd(&r, VDEV_RTC_REG_B, 0), 0x02);
    assert_int_equal(rd(&r, VDEV_RTC_REG_D, 0), 0x80);
    const uint8_t regs[] = {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32};
    const uint8_t bcd[] = {0x07, 0x45, 0x13, 0x03, 0x29, 0x02, 0x00, 0x20};
    const uint8_t bin[] = {7, 45, 13, 3, 29, 2, 0, 20};
    for (unsigned i = 0; i < sizeof regs; i++)
        assert_int_equal(rd(&r, regs[i], 0), bcd[i]);
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_24H | VDEV_RTC_B_DM, 0);
    for (unsigned i = 0; i < sizeof regs; i++)
        assert_int_equal(rd(&r, regs[i], 0), bin[i]);
    /* D is read-only with VRT set. */
    wr(&r, VDEV_RTC_REG_D, 0x00, 0);
    assert_int_equal(rd(&r, VDEV_RTC_REG_D, 0), 0x80);
}

static void test_12_hour(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, T_2000_02_29, 256 * MIB);                /* midnight */
    wr(&r, VDEV_RTC_REG_B, 0x00, 0);                               /* BCD, 12-hour */
    assert_int_equal(rd(&r, VDEV_RTC_HOURS, 0), 0x12);             /* 12 AM */
    assert_int_equal(rd(&r, VDEV_RTC_HOURS, 3600 * S), 0x01);      /* 1 AM */
    assert_int_equal(rd(&r, VDEV_RTC_HOURS, 12 * 3600 * S), 0x92); /* 12 PM */
    assert_int_equal(rd(&r, VDEV_RTC_HOURS, 13 * 3600 * S), 0x81); /* 1 PM */
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_DM, 0);                      /* binary, 12-hour */
    assert_int_equal(rd(&r, VDEV_RTC_HOURS, 23 * 3600 * S), 0x8b);
    assert_int_equal(rd(&r, VDEV_RTC_HOURS, 11 * 3600 * S), 0x0b);
}

static void test_clock_advances(void **state)
{
    (void)state;
    struct vdev_rtc r;
    uint64_t t0 = 7 * S + 123;
    vdev_rtc_reset(&r, t0, 4102444800ll - 2, 256 * MIB); /* 2099-12-31 23:59:58 */
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, t0), 0x58);
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, t0 + S - 1), 0x58);
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, t0 + S), 0x59);
    /* Across the century. */
    uint64_t t = t0 + 2 * S;
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, t), 0x00);
    assert_int_equal(rd(&r, VDEV_RTC_YEAR, t), 0x00);
    assert_int_equal(rd(&r, VDEV_RTC_CENTURY, t), 0x21);
    assert_int_equal(rd(&r, VDEV_RTC_MONTH, t), 0x01);
    assert_int_equal(rd(&r, VDEV_RTC_DAY_OF_MONTH, t), 0x01);
    assert_int_equal(rd(&r, VDEV_RTC_DAY_OF_WEEK, t), 0x06);
    assert_int_equal(rd(&r, VDEV_RTC_MINUTES, t0 + 62 * S), 0x01);
    assert_int_equal(vdev_rtc_epoch_seconds(&r, t0 + 62 * S), 4102444800ll + 60);
}

static void test_guest_sets_time(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, 0, 256 * MIB);
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_SET | VDEV_RTC_B_24H | VDEV_RTC_B_UIE, S / 3);
    assert_int_equal(rd(&r, VDEV_RTC_REG_B, S / 3), VDEV_RTC_B_SET | VDEV_RTC_B_24H);
    wr(&r, VDEV_RTC_SECONDS, 0x00, S);
    wr(&r, VDEV_RTC_MINUTES, 0x30, S);
    wr(&r, VDEV_RTC_HOURS, 0x08, S);
    wr(&r, VDEV_RTC_DAY_OF_MONTH, 0x15, S);
    wr(&r, VDEV_RTC_MONTH, 0x06, S);
    wr(&r, VDEV_RTC_YEAR, 0x24, S);
    wr(&r, VDEV_RTC_CENTURY, 0x20, S);
    /* Frozen while SET, and no UIP. */
    assert_int_equal(rd(&r, VDEV_RTC_MINUTES, 9 * S), 0x30);
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, 9 * S), 0x00);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, 10 * S - 1000) & VDEV_RTC_A_UIP, 0);
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_24H, 10 * S);
    struct vdev_rtc_tm tm = {.year = 2024, .month = 6, .day = 15, .hour = 8, .minute = 30};
    int64_t set = vdev_rtc_tm_to_epoch(&tm);
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, 10 * S + S - 1), 0x00);
    assert_int_equal(rd(&r, VDEV_RTC_SECONDS, 12 * S + S / 2), 0x02);
    assert_int_equal(rd(&r, VDEV_RTC_DAY_OF_WEEK, 12 * S), 0x07); /* a Saturday */
    assert_int_equal(vdev_rtc_epoch_seconds(&r, 10 * S + 3600 * S), set + 3600);
    /* A write while running shifts the clock, keeping the phase. */
    wr(&r, VDEV_RTC_HOURS, 0x09, 20 * S + S / 2);
    assert_int_equal(vdev_rtc_epoch_seconds(&r, 20 * S + S / 2), set + 3600 + 10);
    assert_int_equal(vdev_rtc_epoch_seconds(&r, 21 * S - 1), set + 3600 + 10);
    assert_int_equal(vdev_rtc_epoch_seconds(&r, 21 * S), set + 3600 + 11);
}

static void test_uip_window(void **state)
{
    (void)state;
    struct vdev_rtc r;
    uint64_t t0 = 5 * S;
    vdev_rtc_reset(&r, t0, 1000, 256 * MIB);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0), 0x26);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0 + S - 244001), 0x26);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0 + S - 244000), 0xa6);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0 + S - 1), 0xa6);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0 + S), 0x26);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0 + 3 * S - 100000), 0xa6);
    /* UIP is read-only. */
    wr(&r, VDEV_RTC_REG_A, 0xaf, t0 + 3 * S);
    assert_int_equal(rd(&r, VDEV_RTC_REG_A, t0 + 3 * S), 0x2f);
}

static void test_reg_c_read_clears(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, 0, 256 * MIB);
    /* PF is set at the rate even without PIE, but raises no interrupt. */
    assert_false(vdev_rtc_irq8_pending(&r, MS));
    assert_int_equal(rd(&r, VDEV_RTC_REG_C, MS), VDEV_RTC_C_PF);
    assert_int_equal(rd(&r, VDEV_RTC_REG_C, MS), 0);
    assert_int_equal(vdev_rtc_next_event_ns(&r, MS), VDEV_RTC_NO_EVENT);
    /* Update-ended interrupt. */
    wr(&r, VDEV_RTC_REG_A, 0x20, MS); /* no periodic rate */
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_24H | VDEV_RTC_B_UIE, MS);
    assert_int_equal(vdev_rtc_next_event_ns(&r, MS), S);
    assert_false(vdev_rtc_irq8_pending(&r, S - 1));
    assert_true(vdev_rtc_irq8_pending(&r, S));
    assert_false(vdev_rtc_irq8_pending(&r, S + 10));
    /* The line stays up until C is read: the next update raises nothing. */
    assert_int_equal(vdev_rtc_next_event_ns(&r, S + 10), VDEV_RTC_NO_EVENT);
    assert_false(vdev_rtc_irq8_pending(&r, 2 * S));
    assert_int_equal(rd(&r, VDEV_RTC_REG_C, 2 * S), VDEV_RTC_C_IRQF | VDEV_RTC_C_UF);
    assert_int_equal(rd(&r, VDEV_RTC_REG_C, 2 * S), 0);
    assert_true(vdev_rtc_irq8_pending(&r, 3 * S));
}

static void test_alarm(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, 10 * 3600 + 20 * 60 + 30, 256 * MIB); /* 10:20:30 */
    wr(&r, VDEV_RTC_REG_A, 0x20, 0);
    wr(&r, VDEV_RTC_SECONDS_ALARM, 0x32, 0);
    wr(&r, VDEV_RTC_MINUTES_ALARM, 0x20, 0);
    wr(&r, VDEV_RTC_HOURS_ALARM, 0x10, 0);
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_24H | VDEV_RTC_B_AIE, 0);
    assert_false(vdev_rtc_irq8_pending(&r, S));
    assert_int_equal(rd(&r, VDEV_RTC_REG_C, S), VDEV_RTC_C_UF);
    assert_true(vdev_rtc_irq8_pending(&r, 2 * S));
    assert_int_equal(rd(&r, VDEV_RTC_REG_C, 2 * S),
                     VDEV_RTC_C_IRQF | VDEV_RTC_C_AF | VDEV_RTC_C_UF);
    /* Hours "don't care", minutes/seconds 20:32 recur an hour later, seen in one jump. */
    wr(&r, VDEV_RTC_HOURS_ALARM, 0xff, 2 * S);
    assert_false(vdev_rtc_irq8_pending(&r, 3600 * S));
    assert_true(vdev_rtc_irq8_pending(&r, 3602 * S));
    /* An alarm that never matches (hour 0x25). */
    rd(&r, VDEV_RTC_REG_C, 3602 * S);
    wr(&r, VDEV_RTC_HOURS_ALARM, 0x25, 3602 * S);
    assert_false(vdev_rtc_irq8_pending(&r, 5 * 86400 * S));
}

static void test_periodic_1024hz(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, 0, 256 * MIB);
    wr(&r, VDEV_RTC_REG_A, 0x26, 0);
    wr(&r, VDEV_RTC_REG_B, VDEV_RTC_B_24H | VDEV_RTC_B_PIE, 0);
    unsigned count = 0;
    for (uint64_t t = 0; t <= S; t += 50000) {
        if (vdev_rtc_irq8_pending(&r, t)) {
            count++;
            /* UF joins PF at the update, with UIE off it raises nothing. */
            assert_int_equal(rd(&r, VDEV_RTC_REG_C, t) & ~VDEV_RTC_C_UF,
                             VDEV_RTC_C_IRQF | VDEV_RTC_C_PF);
        }
    }
    assert_int_equal(count, 1024);
    /* Driven by the deadlines instead: same count over the next second. */
    count = 0;
    uint64_t t = S;
    for (;;) {
        t = vdev_rtc_next_event_ns(&r, t);
        if (t > 2 * S)
            break;
        assert_false(vdev_rtc_irq8_pending(&r, t - 1));
        assert_true(vdev_rtc_irq8_pending(&r, t));
        rd(&r, VDEV_RTC_REG_C, t);
        count++;
    }
    assert_int_equal(count, 1024);
    /* 2 Hz at rate 15. */
    wr(&r, VDEV_RTC_REG_A, 0x2f, 2 * S);
    assert_int_equal(vdev_rtc_next_event_ns(&r, 2 * S), 2 * S + S / 2);
}

static void check_mem(struct vdev_rtc *r, uint16_t ext, uint16_t m16, uint32_t m4g)
{
    assert_int_equal(rd(r, 0x15, 0) | rd(r, 0x16, 0) << 8, 640);
    assert_int_equal(rd(r, 0x17, 0) | rd(r, 0x18, 0) << 8, ext);
    assert_int_equal(rd(r, 0x30, 0) | rd(r, 0x31, 0) << 8, ext);
    assert_int_equal(rd(r, 0x34, 0) | rd(r, 0x35, 0) << 8, m16);
    assert_int_equal(rd(r, 0x5b, 0) | rd(r, 0x5c, 0) << 8 | rd(r, 0x5d, 0) << 16, m4g);
}

static void test_memory_bytes(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, 0, 8 * MIB);
    check_mem(&r, 7 * 1024, 0, 0);
    vdev_rtc_reset(&r, 0, 0, 256 * MIB);
    check_mem(&r, 0xffff, 0x0f00, 0);
    vdev_rtc_reset(&r, 0, 0, 6 * GIB); /* 3 GiB below 4 GiB, 3 GiB above */
    check_mem(&r, 0xffff, 0xbf00, 0xc000);
}

static void test_nvram_and_ports(void **state)
{
    (void)state;
    struct vdev_rtc r;
    vdev_rtc_reset(&r, 0, 0, 256 * MIB);
    uint8_t v = 0x80 | 0x40; /* NMI masked, index 0x40 */
    assert_true(vdev_rtc_io(&r, 0x70, true, &v, 0));
    assert_int_equal(r.nmi_masked, 1);
    v = 0xab;
    assert_true(vdev_rtc_io(&r, 0x71, true, &v, 0));
    assert_int_equal(rd(&r, 0x40, 0), 0xab);
    assert_int_equal(rd(&r, 0x7f, 0), 0x00);
    assert_int_equal(r.nmi_masked, 0);
    v = 0x11;
    assert_false(vdev_rtc_io(&r, 0x72, true, &v, 0));
    assert_false(vdev_rtc_io(&r, 0x60, false, &v, 0));
    assert_int_equal(v, 0x11);
}

static void test_save_restore(void **state)
{
    (void)state;
    struct vdev_rtc a, b;
    vdev_rtc_reset(&a, 0, T_2000_02_29, 6 * GIB);
    wr(&a, 0x50, 0x77, 0);
    wr(&a, VDEV_RTC_REG_B, VDEV_RTC_B_24H | VDEV_RTC_B_PIE, 0);
    struct vdev_rtc_state st;
    vdev_rtc_save(&a, &st, 3 * S + 300 * MS);
    vdev_rtc_reset(&b, 0, 0, 0);
    uint64_t off = 100 * S; /* the destination's clock is elsewhere */
    assert_int_equal(vdev_rtc_restore(&b, &st, off + 3 * S + 300 * MS), 0);
    assert_int_equal(rd(&b, VDEV_RTC_SECONDS, off + 4 * S - 1), 0x03);
    assert_int_equal(rd(&b, VDEV_RTC_SECONDS, off + 4 * S), 0x04);
    assert_int_equal(rd(&b, 0x50, off), 0x77);
    assert_int_equal(rd(&b, 0x5c, off), 0xc0);
    assert_int_equal(vdev_rtc_next_event_ns(&b, off + 4 * S),
                     vdev_rtc_next_event_ns(&a, 4 * S) + off);

    /* Hostile states are refused and change nothing. */
    struct vdev_rtc before = b;
    struct vdev_rtc_state bad;
    bad = st, bad.version = 2;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.index = 0x80;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.cmos[VDEV_RTC_REG_D] = 0;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.cmos[VDEV_RTC_REG_C] = 0x01;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.cmos[VDEV_RTC_REG_A] = 0xa6;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.seen_ns = st.saved_ns + 1;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.base_ns = bad.rtc.seen_ns + 1;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.base_sec = INT64_MAX - 5;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.irq_raised = 2;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    bad = st, bad.rtc.cmos[VDEV_RTC_REG_B] = VDEV_RTC_B_SET | VDEV_RTC_B_UIE;
    assert_int_equal(vdev_rtc_restore(&b, &bad, off), -1);
    assert_memory_equal(&b, &before, sizeof b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),          cmocka_unit_test(test_bcd_and_binary),
        cmocka_unit_test(test_12_hour),           cmocka_unit_test(test_clock_advances),
        cmocka_unit_test(test_guest_sets_time),   cmocka_unit_test(test_uip_window),
        cmocka_unit_test(test_reg_c_read_clears), cmocka_unit_test(test_alarm),
        cmocka_unit_test(test_periodic_1024hz),   cmocka_unit_test(test_memory_bytes),
        cmocka_unit_test(test_nvram_and_ports),   cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
