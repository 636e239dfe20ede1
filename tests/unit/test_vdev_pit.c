// unit-sources: kernel/vdev_pit.c kernel/string.c
/* The guest 8254 and port 0x61: periodic IRQ 0 edges, square wave on OUT2, one-shot, latch
 * and read-back, gate 2, timer deadlines, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_pit.h"

#define MS 1000000ull
#define S 1000000000ull

/* The first nanosecond of input clock t (t * 1e9 / 1193182 rounded up). */
static uint64_t at(uint64_t t)
{
    return (t * S + VDEV_PIT_HZ - 1) / VDEV_PIT_HZ;
}

static void out(struct vdev_pit *p, uint16_t port, uint8_t v, uint64_t now)
{
    assert_true(vdev_pit_io(p, port, true, &v, now));
}

static uint8_t in(struct vdev_pit *p, uint16_t port, uint64_t now)
{
    uint8_t v = 0x5a;
    assert_true(vdev_pit_io(p, port, false, &v, now));
    return v;
}

static void program(struct vdev_pit *p, unsigned ch, unsigned mode, uint16_t n, uint64_t now)
{
    out(p, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1), now);
    out(p, (uint16_t)(0x40 + ch), (uint8_t)n, now);
    out(p, (uint16_t)(0x40 + ch), (uint8_t)(n >> 8), now);
}

static uint16_t read_lohi(struct vdev_pit *p, unsigned ch, uint64_t now)
{
    uint8_t lo = in(p, (uint16_t)(0x40 + ch), now);
    return (uint16_t)(lo | in(p, (uint16_t)(0x40 + ch), now) << 8);
}

static void test_mode2_100hz(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    assert_int_equal(vdev_pit_next_event_ns(&p, 0), VDEV_PIT_NO_EVENT);
    program(&p, 0, 2, 11931, 0);
    uint64_t total = 0;
    for (uint64_t t = MS; t <= S; t += MS)
        total += vdev_pit_irq0_edges(&p, t);
    assert_int_equal(total, 100);
    assert_int_equal(vdev_pit_irq0_edges(&p, S), 0);
    /* The deadline is the first nanosecond of the edge's clock. */
    vdev_pit_reset(&p, 0);
    program(&p, 0, 2, 11931, 0);
    uint64_t next = vdev_pit_next_event_ns(&p, 0);
    assert_int_equal(next, at(11931));
    assert_int_equal(vdev_pit_irq0_edges(&p, next - 1), 0);
    assert_int_equal(vdev_pit_next_event_ns(&p, next - 1), next);
    assert_int_equal(vdev_pit_irq0_edges(&p, next), 1);
    assert_int_equal(vdev_pit_next_event_ns(&p, next), at(2 * 11931));
    /* Edges not yet collected make the deadline "now". */
    assert_int_equal(vdev_pit_next_event_ns(&p, at(3 * 11931)), at(3 * 11931));
    assert_int_equal(vdev_pit_irq0_edges(&p, at(5 * 11931)), 4);
}

static void test_linux_latch_value(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 5 * S);
    program(&p, 0, 2, 11932, 5 * S); /* Linux's LATCH: a period of 10.0001 ms */
    assert_int_equal(vdev_pit_irq0_edges(&p, 6 * S), 99);
    assert_int_equal(vdev_pit_irq0_edges(&p, 5 * S + at(100 * 11932)), 1);
    /* Time going backwards counts nothing. */
    assert_int_equal(vdev_pit_irq0_edges(&p, 5 * S), 0);
}

static void test_mode3_out2_through_port61(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    assert_int_equal(in(&p, 0x61, 0) & 0x23, 0x00); /* reset: mode 0, no count: OUT2 low */
    out(&p, 0x61, 0x03, 0);
    program(&p, 2, 3, 1000, 0);
    assert_int_equal(in(&p, 0x61, at(0)) & 0x23, 0x23);
    assert_int_equal(in(&p, 0x61, at(499)) & 0x20, 0x20);
    assert_int_equal(in(&p, 0x61, at(500)) & 0x20, 0x00);
    assert_int_equal(in(&p, 0x61, at(999)) & 0x20, 0x00);
    assert_int_equal(in(&p, 0x61, at(1000)) & 0x20, 0x20);
    assert_int_equal(in(&p, 0x61, at(1700)) & 0x20, 0x00);
    /* Count decrements by two in each half. */
    assert_int_equal(read_lohi(&p, 2, at(100)), 800);
    assert_int_equal(read_lohi(&p, 2, at(600)), 800);
    /* Channel 2 never produces IRQ 0. */
    assert_int_equal(vdev_pit_irq0_edges(&p, at(5000)), 0);
    /* Gate low forces OUT high in mode 3; raising it restarts the square wave. */
    out(&p, 0x61, 0x02, at(1700));
    assert_int_equal(in(&p, 0x61, at(1800)) & 0x21, 0x20);
    out(&p, 0x61, 0x03, at(2000));
    assert_int_equal(in(&p, 0x61, at(2499)) & 0x20, 0x20);
    assert_int_equal(in(&p, 0x61, at(2500)) & 0x20, 0x00);
}

static void test_mode0_one_shot(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    program(&p, 0, 0, 100, at(10));
    assert_false(vdev_pit_out(&p, 0, at(10)));
    assert_int_equal(vdev_pit_next_event_ns(&p, at(10)), at(110));
    assert_false(vdev_pit_out(&p, 0, at(109)));
    assert_true(vdev_pit_out(&p, 0, at(110)));
    assert_int_equal(vdev_pit_irq0_edges(&p, at(50)), 0);
    assert_int_equal(vdev_pit_irq0_edges(&p, at(1000)), 1);
    assert_int_equal(vdev_pit_irq0_edges(&p, at(2000)), 0);
    assert_int_equal(vdev_pit_next_event_ns(&p, at(2000)), VDEV_PIT_NO_EVENT);
    assert_int_equal(read_lohi(&p, 0, at(2050)), 65536 - 1940); /* counts on past zero */
    /* Rewriting: the first byte stops counting and drops OUT, the second restarts. */
    out(&p, 0x40, 50, at(2100));
    assert_false(vdev_pit_out(&p, 0, at(2200)));
    out(&p, 0x40, 0, at(2200));
    assert_false(vdev_pit_out(&p, 0, at(2249)));
    assert_true(vdev_pit_out(&p, 0, at(2250)));
    assert_int_equal(vdev_pit_irq0_edges(&p, at(2300)), 1);
}

static void test_latch_and_lohi_order(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    program(&p, 0, 2, 0x1234, 0);
    out(&p, 0x43, 0x00, at(0x100)); /* counter latch */
    out(&p, 0x43, 0x00, at(0x200)); /* ignored: the first latch holds */
    assert_int_equal(in(&p, 0x40, at(0x300)), 0x34);
    assert_int_equal(in(&p, 0x40, at(0x400)), 0x11);
    /* Then live reads, low byte first. */
    assert_int_equal(read_lohi(&p, 0, at(0x500)), 0x1234 - 0x500);
    /* A live read split across time mixes bytes; a latch does not. */
    assert_int_equal(in(&p, 0x40, at(0x1234 + 0x10)), 0x24);
    out(&p, 0x43, 0x00, at(0x1234 + 0x20));
    assert_int_equal(read_lohi(&p, 0, at(0x1234 + 0x30)), 0x1234 - 0x20);
    /* The live flip-flop still waits for its high byte. */
    assert_int_equal(in(&p, 0x40, at(0x1234 + 0x30)), 0x12);
    assert_int_equal(in(&p, 0x40, at(0x1234 + 0x30)), 0x04);
    assert_int_equal(in(&p, 0x43, 0), 0xff);
}

static void test_read_back(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    out(&p, 0x43, 0x34, 0);
    out(&p, 0x43, 0xe2, 0); /* read-back status of channel 0: null count */
    assert_int_equal(in(&p, 0x40, 0), 0x40 | 0x80 | 0x30 | 0x04);
    out(&p, 0x40, 0x00, 0);
    out(&p, 0x40, 0x10, 0);
    out(&p, 0x43, 0xc2, at(0x100)); /* status and count */
    assert_int_equal(in(&p, 0x40, at(0x500)), 0x80 | 0x30 | 0x04);
    assert_int_equal(read_lohi(&p, 0, at(0x600)), 0x1000 - 0x100);
    /* Read-back of channels 0 and 2 count only; lobyte and hibyte access modes. */
    out(&p, 0x43, 0x90, 0); /* channel 2, lobyte, mode 0 */
    out(&p, 0x42, 0x50, 0);
    out(&p, 0x61, 0x01, 0);
    out(&p, 0x43, 0xda, at(0x10));
    assert_int_equal(in(&p, 0x42, at(0x20)), 0x40);
    assert_int_equal(read_lohi(&p, 0, at(0x30)), 0x1000 - 0x10);
    out(&p, 0x43, 0x24, 0); /* channel 0, hibyte, mode 2 */
    out(&p, 0x40, 0x02, 0);
    assert_int_equal(in(&p, 0x40, at(0x80)), 0x01);
    out(&p, 0x43, 0xe2, 0);
    assert_int_equal(in(&p, 0x40, at(0x80)), 0x80 | 0x20 | 0x04);
}

static void test_gate_low_stops_channel2(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    program(&p, 2, 0, 1000, 0);
    assert_int_equal(read_lohi(&p, 2, 10 * S), 1000);
    assert_int_equal(in(&p, 0x61, 10 * S) & 0x20, 0);
    out(&p, 0x61, 0x01, at(0));
    assert_int_equal(read_lohi(&p, 2, at(500)), 500);
    out(&p, 0x61, 0x00, at(500));
    assert_int_equal(read_lohi(&p, 2, at(5000)), 500);
    assert_int_equal(in(&p, 0x61, at(5000)) & 0x20, 0);
    out(&p, 0x61, 0x01, at(6000));
    assert_int_equal(in(&p, 0x61, at(6499)) & 0x20, 0);
    assert_int_equal(in(&p, 0x61, at(6500)) & 0x21, 0x21);
    /* Mode 6 is mode 2. */
    out(&p, 0x43, 0x9c, 0);
    out(&p, 0x43, 0xe8, 0);
    assert_int_equal(in(&p, 0x42, 0) & 0x0e, 0x04);
}

static void test_foreign_ports_and_refresh(void **state)
{
    struct vdev_pit p;
    vdev_pit_reset(&p, 0);
    uint8_t v = 0;
    assert_false(vdev_pit_io(&p, 0x44, false, &v, 0));
    assert_false(vdev_pit_io(&p, 0x3f, true, &v, 0));
    assert_false(vdev_pit_io(&p, 0x60, false, &v, 0));
    assert_int_equal(in(&p, 0x61, 0) & 0x10, 0);
    assert_int_equal(in(&p, 0x61, 15085) & 0x10, 0x10);
    out(&p, 0x61, 0xff, 0);
    assert_int_equal(in(&p, 0x61, 0) & 0x0f, 0x0f);
}

static void test_save_restore(void **state)
{
    struct vdev_pit p, q;
    struct vdev_pit_state st;
    vdev_pit_reset(&p, 0);
    program(&p, 0, 2, 10000, 100 * S);
    out(&p, 0x61, 0x01, 100 * S);
    program(&p, 2, 3, 3000, 100 * S);
    uint64_t t = 100 * S + at(25000);
    assert_int_equal(vdev_pit_irq0_edges(&p, 100 * S + at(15000)), 1);
    out(&p, 0x43, 0x00, t);
    vdev_pit_save(&p, &st, t);
    /* Restore on a host whose clock reads much less. */
    vdev_pit_reset(&q, 0);
    assert_int_equal(vdev_pit_restore(&q, &st, 3 * S), 0);
    assert_int_equal(in(&q, 0x40, 3 * S), (uint8_t)(10000 - 5000));
    assert_int_equal(in(&q, 0x40, 3 * S), (uint8_t)((10000 - 5000) >> 8));
    assert_int_equal(vdev_pit_irq0_edges(&q, 3 * S), 1); /* the edge at 20000 */
    assert_int_equal(vdev_pit_next_event_ns(&q, 3 * S), 3 * S + at(5000));
    assert_int_equal(read_lohi(&q, 2, 3 * S), read_lohi(&p, 2, t));

    struct vdev_pit before = q;
    struct vdev_pit_state bad = st;
    bad.version = 9;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[0].mode = 6;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[1].rw = 0;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[0].reload = 0;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[0].reload = 65537;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[2].gate = 0; /* disagrees with port 0x61 */
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[0].count_latched = 3;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.ch[0].start_tick = st.saved_tick + 1;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    bad = st;
    bad.pit.port61 = 0x21;
    assert_int_equal(vdev_pit_restore(&q, &bad, 0), -1);
    assert_memory_equal(&before, &q, sizeof q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode2_100hz),
        cmocka_unit_test(test_linux_latch_value),
        cmocka_unit_test(test_mode3_out2_through_port61),
        cmocka_unit_test(test_mode0_one_shot),
        cmocka_unit_test(test_latch_and_lohi_order),
        cmocka_unit_test(test_read_back),
        cmocka_unit_test(test_gate_low_stops_channel2),
        cmocka_unit_test(test_foreign_ports_and_refresh),
        cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
