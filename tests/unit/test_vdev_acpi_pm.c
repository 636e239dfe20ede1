// unit-sources: kernel/vdev_acpi_pm.c kernel/string.c
/* ACPI PM registers: the PM timer at known times (exact counts, 24-bit wrap, years of uptime),
 * access widths, PM1 status write-1-to-clear and TMR_STS, enable, control with SCI_EN and the
 * S5 request, unclaimed ports, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi_tables.h"
#include "kernel/vdev_acpi_pm.h"

#define SEC 1000000000ull

static uint32_t rd(struct vdev_acpi_pm *pm, uint16_t port, unsigned size, uint64_t now)
{
    uint32_t v = 0xdeadbeef;
    enum vdev_acpi_pm_event ev = VDEV_ACPI_PM_POWEROFF;
    assert_true(vdev_acpi_pm_io(pm, port, size, false, &v, now, &ev));
    assert_int_equal(ev, VDEV_ACPI_PM_NONE);
    return v;
}

static enum vdev_acpi_pm_event wr(struct vdev_acpi_pm *pm, uint16_t port, unsigned size, uint32_t v,
                                  uint64_t now)
{
    enum vdev_acpi_pm_event ev = 99;
    assert_true(vdev_acpi_pm_io(pm, port, size, true, &v, now, &ev));
    return ev;
}

static void test_timer_exact_counts(void **state)
{
    struct vdev_acpi_pm pm;
    vdev_acpi_pm_reset(&pm, 0);
    assert_int_equal(rd(&pm, 0x608, 4, 0), 0);
    assert_int_equal(rd(&pm, 0x608, 4, 279), 0); /* 0.9987 ticks */
    assert_int_equal(rd(&pm, 0x608, 4, 280), 1); /* 1.0023 ticks */
    assert_int_equal(rd(&pm, 0x608, 4, SEC), 3579545);
    assert_int_equal(rd(&pm, 0x608, 4, 2 * SEC), 7159090);
    /* 2^24 ticks is 4.687 s: at 5 s the count has wrapped. */
    assert_int_equal(rd(&pm, 0x608, 4, 5 * SEC), 17897725 - (1u << 24));
    assert_int_equal(rd(&pm, 0x608, 4, 4700000000ull), 0xb635);
    /* Ten years and a bit, and the end of the 64-bit clock: still exact (no overflow). */
    assert_int_equal(rd(&pm, 0x608, 4, 315360000123456789ull), 0xce893f);
    assert_int_equal(rd(&pm, 0x608, 4, UINT64_MAX), 0xa5bec0);
    assert_int_equal(rd(&pm, 0x608, 4, 9460800000999999999ull), 0xa06898);
    /* The count starts at reset. */
    vdev_acpi_pm_reset(&pm, 7 * SEC);
    assert_int_equal(rd(&pm, 0x608, 4, 7 * SEC), 0);
    assert_int_equal(rd(&pm, 0x608, 4, 8 * SEC), 3579545);
}

static void test_timer_access_widths(void **state)
{
    struct vdev_acpi_pm pm;
    vdev_acpi_pm_reset(&pm, 0);
    /* Count 0x369e99 at 1 s. */
    assert_int_equal(rd(&pm, 0x608, 1, SEC), 0x99);
    assert_int_equal(rd(&pm, 0x609, 1, SEC), 0x9e);
    assert_int_equal(rd(&pm, 0x60a, 1, SEC), 0x36);
    assert_int_equal(rd(&pm, 0x60b, 1, SEC), 0x00);
    assert_int_equal(rd(&pm, 0x608, 2, SEC), 0x9e99);
    assert_int_equal(rd(&pm, 0x609, 2, SEC), 0x369e);
    assert_int_equal(rd(&pm, 0x60a, 2, SEC), 0x0036);
    /* Read-only: writes change nothing. */
    assert_int_equal(wr(&pm, 0x608, 4, 0, SEC), VDEV_ACPI_PM_NONE);
    assert_int_equal(wr(&pm, 0x60a, 1, 0xff, SEC), VDEV_ACPI_PM_NONE);
    assert_int_equal(rd(&pm, 0x608, 4, SEC), 0x369e99);
    /* 0x606-0x607 hold nothing; a dword at 0x604 is control plus those zeros. */
    assert_int_equal(rd(&pm, 0x606, 2, SEC), 0);
    assert_int_equal(rd(&pm, 0x604, 4, SEC), ACPI_PM1_CNT_SCI_EN);
    /* A dword at 0x606 spans the gap and the timer's low half. */
    assert_int_equal(rd(&pm, 0x606, 4, SEC), 0x9e990000);
}

static void test_status_and_enable(void **state)
{
    struct vdev_acpi_pm pm;
    vdev_acpi_pm_reset(&pm, 0);
    assert_int_equal(rd(&pm, 0x600, 4, 0), 0);
    /* Enable: only the PIIX4's bits stick. */
    assert_int_equal(wr(&pm, 0x602, 2, 0xffff, 0), VDEV_ACPI_PM_NONE);
    assert_int_equal(rd(&pm, 0x602, 2, 0), 0x0521);
    assert_int_equal(wr(&pm, 0x603, 1, 0x00, 0), VDEV_ACPI_PM_NONE); /* high byte alone */
    assert_int_equal(rd(&pm, 0x602, 2, 0), 0x0021);
    wr(&pm, 0x602, 2, 0, 0);
    assert_false(vdev_acpi_pm_sci(&pm, 0));

    /* Power button: status bit 8, SCI only once enabled, write-1-to-clear. */
    vdev_acpi_pm_power_button(&pm);
    assert_int_equal(rd(&pm, 0x600, 2, 0), ACPI_PM1_STS_PWRBTN);
    assert_int_equal(rd(&pm, 0x601, 1, 0), 0x01);
    assert_false(vdev_acpi_pm_sci(&pm, 0));
    wr(&pm, 0x602, 2, ACPI_PM1_EN_PWRBTN, 0);
    assert_true(vdev_acpi_pm_sci(&pm, 0));
    assert_int_equal(rd(&pm, 0x600, 4, 0), ACPI_PM1_STS_PWRBTN | ACPI_PM1_EN_PWRBTN << 16);
    wr(&pm, 0x600, 2, 0x0000, 0); /* writing 0 clears nothing */
    wr(&pm, 0x600, 2, 0xfeff, 0); /* nor do ones elsewhere */
    assert_int_equal(rd(&pm, 0x600, 2, 0), ACPI_PM1_STS_PWRBTN);
    wr(&pm, 0x601, 1, 0x01, 0);
    assert_int_equal(rd(&pm, 0x600, 2, 0), 0);
    assert_false(vdev_acpi_pm_sci(&pm, 0));

    /* TMR_STS: set when bit 23 of the count toggles (2^23 ticks = 2.34 s). */
    assert_int_equal(rd(&pm, 0x600, 2, 2 * SEC), 0);
    assert_int_equal(rd(&pm, 0x600, 2, 2500000000ull), ACPI_PM1_STS_TMR);
    wr(&pm, 0x602, 2, ACPI_PM1_EN_TMR, 0);
    assert_true(vdev_acpi_pm_sci(&pm, 2500000000ull));
    assert_false(vdev_acpi_pm_sci(&pm, 2 * SEC));
    wr(&pm, 0x600, 2, ACPI_PM1_STS_TMR, 2500000000ull);
    assert_int_equal(rd(&pm, 0x600, 2, 2500000000ull), 0);
    assert_int_equal(rd(&pm, 0x600, 2, 4 * SEC), 0);
    assert_false(vdev_acpi_pm_sci(&pm, 4 * SEC));
    /* The wrap at 4.687 s toggles bit 23 back: set again. */
    assert_int_equal(rd(&pm, 0x600, 2, 4700000000ull), ACPI_PM1_STS_TMR);
    /* Clearing with a dword write to the whole event block works too. */
    wr(&pm, 0x600, 4, ACPI_PM1_STS_TMR | (uint32_t)ACPI_PM1_EN_TMR << 16, 4700000000ull);
    assert_int_equal(rd(&pm, 0x600, 4, 4700000000ull), (uint32_t)ACPI_PM1_EN_TMR << 16);
}

static void test_control_and_s5(void **state)
{
    struct vdev_acpi_pm pm;
    vdev_acpi_pm_reset(&pm, 0);
    /* SCI_EN always reads 1 (no SMI_CMD: always in ACPI mode), even after writing 0. */
    assert_int_equal(rd(&pm, 0x604, 2, 0), ACPI_PM1_CNT_SCI_EN);
    assert_int_equal(wr(&pm, 0x604, 2, 0, 0), VDEV_ACPI_PM_NONE);
    assert_int_equal(rd(&pm, 0x604, 2, 0), ACPI_PM1_CNT_SCI_EN);
    /* SLP_TYP without SLP_EN: stored, no event. */
    assert_int_equal(wr(&pm, 0x604, 2, 5u << 10, 0), VDEV_ACPI_PM_NONE);
    assert_int_equal(rd(&pm, 0x604, 2, 0), (5u << 10) | ACPI_PM1_CNT_SCI_EN);
    /* Other sleep types with SLP_EN are ignored. */
    for (uint32_t typ = 0; typ < 8; typ++) {
        if (typ == 5)
            continue;
        assert_int_equal(wr(&pm, 0x604, 2, typ << 10 | ACPI_PM1_CNT_SLP_EN, 0), VDEV_ACPI_PM_NONE);
        /* SLP_EN is write-only. */
        assert_int_equal(rd(&pm, 0x604, 2, 0), typ << 10 | ACPI_PM1_CNT_SCI_EN);
    }
    /* S5: SLP_TYP 5 with SLP_EN, as a word (what Linux does). */
    assert_int_equal(wr(&pm, 0x604, 2, 5u << 10 | ACPI_PM1_CNT_SLP_EN | ACPI_PM1_CNT_SCI_EN, 0),
                     VDEV_ACPI_PM_POWEROFF);
    assert_int_equal(rd(&pm, 0x604, 2, 0), 5u << 10 | ACPI_PM1_CNT_SCI_EN);
    /* The high byte alone carries both fields. */
    vdev_acpi_pm_reset(&pm, 0);
    assert_int_equal(wr(&pm, 0x605, 1, 0x34, 0), VDEV_ACPI_PM_POWEROFF);
    /* SLP_TYP written first, then SLP_EN with it (the order some OSes use). */
    vdev_acpi_pm_reset(&pm, 0);
    assert_int_equal(wr(&pm, 0x605, 1, 0x14, 0), VDEV_ACPI_PM_NONE);
    assert_int_equal(wr(&pm, 0x605, 1, 0x34, 0), VDEV_ACPI_PM_POWEROFF);
    /* A dword at 0x604 (gap ignored), and a dword at 0x602 covering enable and control. */
    vdev_acpi_pm_reset(&pm, 0);
    assert_int_equal(wr(&pm, 0x604, 4, 0xffff3400, 0), VDEV_ACPI_PM_POWEROFF);
    vdev_acpi_pm_reset(&pm, 0);
    assert_int_equal(wr(&pm, 0x602, 4, 0x34000100, 0), VDEV_ACPI_PM_POWEROFF);
    assert_int_equal(rd(&pm, 0x602, 2, 0), ACPI_PM1_EN_PWRBTN);
    /* A write to the low byte only leaves SLP_EN unwritten. */
    vdev_acpi_pm_reset(&pm, 0);
    wr(&pm, 0x604, 2, 5u << 10, 0);
    assert_int_equal(wr(&pm, 0x604, 1, 0xff, 0), VDEV_ACPI_PM_NONE);
    assert_int_equal(rd(&pm, 0x604, 2, 0), 5u << 10 | ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SCI_EN);
}

static void test_unclaimed(void **state)
{
    struct vdev_acpi_pm pm;
    vdev_acpi_pm_reset(&pm, 0);
    struct vdev_acpi_pm before = pm;
    const struct {
        uint16_t port;
        unsigned size;
    } cases[] = {{0x5ff, 1}, {0x5fe, 4}, {0x60c, 1}, {0x60b, 2},  {0x60a, 4},  {0x609, 4},
                 {0x600, 3}, {0x600, 8}, {0x600, 0}, {0xffff, 4}, {0x0000, 2}, {0xb004, 2}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int w = 0; w < 2; w++) {
            uint32_t v = 0x3400;
            enum vdev_acpi_pm_event ev = VDEV_ACPI_PM_POWEROFF;
            assert_false(vdev_acpi_pm_io(&pm, cases[i].port, cases[i].size, w, &v, SEC, &ev));
            assert_int_equal(ev, VDEV_ACPI_PM_NONE);
            assert_int_equal(v, 0x3400);
        }
    }
    assert_memory_equal(&before, &pm, sizeof pm);
}

static void test_save_restore(void **state)
{
    struct vdev_acpi_pm pm, q;
    struct vdev_acpi_pm_state st;
    vdev_acpi_pm_reset(&pm, 0);
    wr(&pm, 0x602, 2, ACPI_PM1_EN_PWRBTN | ACPI_PM1_EN_TMR, 0);
    wr(&pm, 0x604, 2, 3u << 10, 0);
    vdev_acpi_pm_power_button(&pm);
    wr(&pm, 0x600, 2, ACPI_PM1_STS_TMR, 2500000000ull);
    vdev_acpi_pm_save(&pm, &st, 3 * SEC);
    assert_int_equal(st.saved_count, 3 * 3579545);

    /* The destination's clock reads 100 s: the guest's count continues from the save. */
    vdev_acpi_pm_reset(&q, 0);
    assert_int_equal(vdev_acpi_pm_restore(&q, &st, 100 * SEC), 0);
    assert_int_equal(rd(&q, 0x608, 4, 100 * SEC), 3 * 3579545);
    assert_int_equal(rd(&q, 0x608, 4, 101 * SEC), 4 * 3579545);
    assert_int_equal(rd(&q, 0x600, 4, 100 * SEC),
                     ACPI_PM1_STS_PWRBTN | (ACPI_PM1_EN_PWRBTN | ACPI_PM1_EN_TMR) << 16);
    assert_int_equal(rd(&q, 0x604, 2, 100 * SEC), 3u << 10 | ACPI_PM1_CNT_SCI_EN);
    /* TMR_STS still follows the guest's count: set again at its wrap (4.687 s of guest time). */
    assert_int_equal(rd(&q, 0x600, 2, 101 * SEC) & ACPI_PM1_STS_TMR, 0);
    assert_int_equal(rd(&q, 0x600, 2, 102 * SEC) & ACPI_PM1_STS_TMR, ACPI_PM1_STS_TMR);

    struct vdev_acpi_pm before = q;
    struct vdev_acpi_pm_state bad = st;
    bad.version = 2;
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.reserved = 1;
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pm.reserved = 1;
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pm.sts |= ACPI_PM1_STS_TMR; /* computed, never stored */
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pm.en |= ACPI_PM1_EN_SLPBTN;
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pm.cnt |= ACPI_PM1_CNT_SLP_EN; /* write-only */
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pm.cnt |= ACPI_PM1_CNT_SCI_EN; /* constant, not stored */
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pm.tmr_cleared = bad.saved_count + 1; /* cleared after the save */
    assert_int_equal(vdev_acpi_pm_restore(&q, &bad, 0), -1);
    assert_memory_equal(&before, &q, sizeof q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_exact_counts), cmocka_unit_test(test_timer_access_widths),
        cmocka_unit_test(test_status_and_enable),  cmocka_unit_test(test_control_and_s5),
        cmocka_unit_test(test_unclaimed),          cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
