// unit-sources: kernel/vdev_lapic.c kernel/vdev_lapic_timer.c kernel/string.c
/* The guest local APIC's timer (SDM Vol. 3A, 11.5.4): one-shot count-down and firing once,
 * periodic rearm and catch-up after a gap, all eight divide encodings, divider changes while
 * counting, mode changes disarming, TSC-deadline arm/fire/disarm and its conversion to ns,
 * next_event_ns, both register interfaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/lapic_regs.h"
#include "kernel/vdev_lapic.h"

#define NONE VDEV_LAPIC_NO_EVENT

static struct vdev_lapic_effects fx;

static uint32_t rd(struct vdev_lapic *l, unsigned off, uint64_t now)
{
    return vdev_lapic_read(l, off, now, 0);
}

static void wr(struct vdev_lapic *l, unsigned off, uint32_t v, uint64_t now)
{
    vdev_lapic_write(l, off, v, now, 0, &fx);
}

static uint32_t irr_word(struct vdev_lapic *l, unsigned vector)
{
    return l->irr[vector / 32] & (1u << (vector % 32));
}

static void bsp(struct vdev_lapic *l)
{
    vdev_lapic_reset(l, 0, true, 2000000000);
}

static void test_oneshot(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 0, 0), NONE);
    wr(&l, LAPIC_LVT_TIMER, 0x30, 0);
    assert_true(fx.timer_changed);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0x3, 0); /* divide by 16 */
    assert_true(fx.timer_changed);
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 1000, 1000);
    assert_true(fx.timer_changed);
    assert_int_equal(rd(&l, LAPIC_TIMER_INITIAL_COUNT, 1000), 1000);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 1000), 1000);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 1015), 1000); /* not a full count yet */
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 1016), 999);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 1160), 990);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 16999), 1);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 2000, 0), 17000);
    vdev_lapic_tick(&l, 16999, 0);
    assert_int_equal(irr_word(&l, 0x30), 0);
    /* Not yet ticked, but the count has reached 0. */
    assert_int_equal(vdev_lapic_next_event_ns(&l, 17005, 0), 17005);
    vdev_lapic_tick(&l, 17005, 0);
    assert_int_not_equal(irr_word(&l, 0x30), 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 17005, 0), NONE);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 17005), 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 900000), 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_INITIAL_COUNT, 900000), 1000);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x30);
    wr(&l, LAPIC_EOI, 0, 900000);
    vdev_lapic_tick(&l, 5000000, 0); /* fires once */
    assert_int_equal(vdev_lapic_pending(&l), -1);
    /* Rewriting the initial count restarts it; 0 stops it. */
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 10, 6000000);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 6000000, 0), 6000160);
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 20, 6000100);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 6000100, 0), 6000420);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 6000132), 18);
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 0, 6000200);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 6000200), 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 6000200, 0), NONE);
    vdev_lapic_tick(&l, 7000000, 0);
    assert_int_equal(vdev_lapic_pending(&l), -1);
}

static void test_oneshot_masked(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0x10030, 0);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0xb, 0); /* divide by 1 */
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 100, 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 0, 0), NONE);  /* masked: nothing to wake */
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 40), 60); /* but it counts */
    vdev_lapic_tick(&l, 100, 0);
    assert_int_equal(irr_word(&l, 0x30), 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 100), 0);
    wr(&l, LAPIC_LVT_TIMER, 0x30, 150); /* unmasking later raises nothing: it has expired */
    vdev_lapic_tick(&l, 200, 0);
    assert_int_equal(irr_word(&l, 0x30), 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 200, 0), NONE);
}

static void test_periodic(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0x20031, 0);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0xb, 0);
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 100, 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 0), 100);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 50), 50);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 99), 1);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 99, 0), 100);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 100), 100); /* reloaded (the read ticks) */
    assert_int_not_equal(irr_word(&l, 0x31), 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 100, 0), 200);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x31);
    wr(&l, LAPIC_EOI, 0, 120);
    vdev_lapic_tick(&l, 150, 0);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    vdev_lapic_tick(&l, 200, 0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x31);
    wr(&l, LAPIC_EOI, 0, 200);
    /* A long pause (ten periods and a bit): one interrupt, next deadline in the future, phase
     * kept. */
    vdev_lapic_tick(&l, 1237, 0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x31);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 1237, 0), 1300);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 1237), 63);
    vdev_lapic_tick(&l, 1299, 0);
    assert_int_equal(irr_word(&l, 0x31), 0);
    /* Two expiries before the guest acknowledges the first: one IRR bit. */
    vdev_lapic_tick(&l, 1300, 0);
    vdev_lapic_tick(&l, 1400, 0);
    assert_int_equal(l.irr[1], 1u << 17);
    /* A different vector in the same mode does not disarm. */
    wr(&l, LAPIC_LVT_TIMER, 0x20032, 1450);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 1450), 50);
    vdev_lapic_tick(&l, 1500, 0);
    assert_int_not_equal(irr_word(&l, 0x32), 0);
}

static void test_divide_encodings(void **state)
{
    /* Figure 11-10: bits 3, 1, 0. Upper bits of the register are ignored. */
    const struct {
        uint32_t dcr;
        uint64_t div;
    } cases[] = {{0x0, 2},  {0x1, 4},  {0x2, 8},   {0x3, 16},
                 {0x8, 32}, {0x9, 64}, {0xa, 128}, {0xb, 1}};
    for (unsigned i = 0; i < 8; i++) {
        struct vdev_lapic l;
        bsp(&l);
        wr(&l, LAPIC_LVT_TIMER, 0x40, 0);
        wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, cases[i].dcr | 0xfffffff4u, 0);
        assert_int_equal(rd(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0), cases[i].dcr);
        wr(&l, LAPIC_TIMER_INITIAL_COUNT, 1000, 500);
        uint64_t d = cases[i].div;
        assert_int_equal(vdev_lapic_next_event_ns(&l, 500, 0), 500 + 1000 * d);
        assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 500 + 3 * d - 1), 998);
        assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 500 + 3 * d), 997);
        vdev_lapic_tick(&l, 500 + 1000 * d - 1, 0);
        assert_int_equal(irr_word(&l, 0x40), 0);
        vdev_lapic_tick(&l, 500 + 1000 * d, 0);
        assert_int_not_equal(irr_word(&l, 0x40), 0);
    }
    /* The largest period: 0xffffffff counts by 128. */
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0x40, 0);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0xa, 0);
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 0xffffffff, 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 0, 0), 0xffffffffull * 128);
}

static void test_divide_change_while_counting(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0x40, 0);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0x0, 0); /* by 2 */
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 1000, 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 200), 900);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0xb, 200); /* by 1: the count goes on from 900 */
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 200), 900);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 300), 800);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 300, 0), 1100);
}

static void test_mode_change_disarms(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0x40, 0);
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0xb, 0);
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 1000, 0);
    wr(&l, LAPIC_LVT_TIMER, 0x20040, 10); /* one-shot -> periodic */
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 10), 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_INITIAL_COUNT, 10), 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 10, 0), NONE);
    vdev_lapic_tick(&l, 5000, 0);
    assert_int_equal(irr_word(&l, 0x40), 0);
    /* Masking alone is no mode change: the timer keeps counting. */
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 100, 5000);
    wr(&l, LAPIC_LVT_TIMER, 0x30040, 5010);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 5050), 50);
    /* Software-disabling the APIC masks the timer but does not stop it. */
    wr(&l, LAPIC_LVT_TIMER, 0x20040, 5050);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 5050), 50);
    wr(&l, LAPIC_SVR, 0xff, 5060);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 5060), 40);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 5060, 0), NONE);
}

static void test_tsc_deadline(void **state)
{
    struct vdev_lapic l;
    bsp(&l); /* guest TSC at 2 GHz */
    /* One-shot mode: the MSR reads 0 and ignores writes. */
    vdev_lapic_tsc_deadline_write(&l, 7000);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 0);
    wr(&l, LAPIC_LVT_TIMER, 0x40040, 0);
    assert_int_equal(rd(&l, LAPIC_LVT_TIMER, 0), 0x40040);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 0); /* the earlier write was ignored */
    assert_int_equal(vdev_lapic_next_event_ns(&l, 0, 0), NONE);
    /* Initial count writes are ignored, the current count reads 0. */
    wr(&l, LAPIC_TIMER_INITIAL_COUNT, 100, 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_INITIAL_COUNT, 0), 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT, 50), 0);
    vdev_lapic_tsc_deadline_write(&l, 5000);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 5000);
    /* 2000 cycles at 2 GHz = 1000 ns. */
    assert_int_equal(vdev_lapic_next_event_ns(&l, 1000, 3000), 2000);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 1000, 4999), 1001); /* rounded up */
    assert_int_equal(vdev_lapic_next_event_ns(&l, 1000, 6000), 1000); /* already due */
    vdev_lapic_tick(&l, 1500, 4999);
    assert_int_equal(irr_word(&l, 0x40), 0);
    vdev_lapic_tick(&l, 1501, 5000);
    assert_int_not_equal(irr_word(&l, 0x40), 0);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 0); /* fired: disarmed and cleared */
    assert_int_equal(vdev_lapic_next_event_ns(&l, 1501, 5000), NONE);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x40);
    wr(&l, LAPIC_EOI, 0, 1600);
    vdev_lapic_tick(&l, 99999, 999999);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    /* Zero disarms; a new value moves the deadline either way. */
    vdev_lapic_tsc_deadline_write(&l, 2000000);
    vdev_lapic_tsc_deadline_write(&l, 0);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 0, 1000000), NONE);
    vdev_lapic_tick(&l, 100000, 3000000);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    vdev_lapic_tsc_deadline_write(&l, 5000000);
    vdev_lapic_tsc_deadline_write(&l, 4000000);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 100000, 3000000), 600000);
    /* Leaving TSC-deadline mode disarms: back in it, the MSR is 0 and nothing fires. */
    wr(&l, LAPIC_LVT_TIMER, 0x40, 100000);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 0);
    wr(&l, LAPIC_LVT_TIMER, 0x40040, 100000);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 0);
    vdev_lapic_tick(&l, 200000, 9000000);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    /* A masked deadline is no event for the scheduler, and fires nothing. */
    vdev_lapic_tsc_deadline_write(&l, 9500000);
    wr(&l, LAPIC_LVT_TIMER, 0x50040, 200000);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 200000, 9000000), NONE);
    vdev_lapic_tick(&l, 300000, 9500000);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_int_equal(vdev_lapic_tsc_deadline_read(&l), 0);
}

static void test_tsc_deadline_conversion(void **state)
{
    struct vdev_lapic l;
    vdev_lapic_reset(&l, 0, true, 3000000000ull);
    wr(&l, LAPIC_LVT_TIMER, 0x40040, 0);
    vdev_lapic_tsc_deadline_write(&l, 1);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 10, 0), 11); /* 1/3 ns rounds up */
    vdev_lapic_tsc_deadline_write(&l, 3000000000ull * 7 + 3);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 10, 0), 7000000000ull + 1 + 10);
    vdev_lapic_tsc_deadline_write(&l, UINT64_MAX); /* far beyond any clock */
    assert_int_equal(vdev_lapic_next_event_ns(&l, 10, 0), 6148914691236517205ull + 10);
    assert_int_equal(vdev_lapic_next_event_ns(&l, UINT64_MAX - 5, 0), NONE);
}

static void test_timer_x2apic(void **state)
{
    struct vdev_lapic l;
    uint64_t v;
    bsp(&l);
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00c00), 0);
    assert_int_equal(vdev_lapic_msr_write(&l, 0x832, 0x20050, 0, 0, &fx), 0);
    assert_true(fx.timer_changed);
    assert_int_equal(vdev_lapic_msr_write(&l, 0x83e, 0x1, 0, 0, &fx), 0); /* by 4 */
    assert_int_equal(vdev_lapic_msr_write(&l, 0x838, 50, 0, 0, &fx), 0);
    assert_int_equal(vdev_lapic_msr_read(&l, 0x839, &v, 40, 0), 0);
    assert_int_equal(v, 40);
    assert_int_equal(vdev_lapic_msr_read(&l, 0x838, &v, 40, 0), 0);
    assert_int_equal(v, 50);
    assert_int_equal(vdev_lapic_msr_write(&l, 0x839, 5, 40, 0, &fx), -1);
    assert_int_equal(vdev_lapic_next_event_ns(&l, 40, 0), 200);
    assert_int_equal(vdev_lapic_msr_read(&l, 0x839, &v, 250, 0), 0); /* read ticks */
    assert_int_equal(v, 38);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oneshot),
        cmocka_unit_test(test_oneshot_masked),
        cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_divide_encodings),
        cmocka_unit_test(test_divide_change_while_counting),
        cmocka_unit_test(test_mode_change_disarms),
        cmocka_unit_test(test_tsc_deadline),
        cmocka_unit_test(test_tsc_deadline_conversion),
        cmocka_unit_test(test_timer_x2apic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
