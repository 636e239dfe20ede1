// unit-sources: kernel/vdev_kbc.c kernel/string.c
/* i8042 subset: idle status, 0xfe reset, 0xd1 output port, port 0x92 A20 and fast reset,
 * port 0x80, foreign ports and sizes, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_kbc.h"

/* Returns whether the write requested a reset. */
static bool out(struct vdev_kbc *k, uint16_t port, uint8_t v)
{
    uint32_t x = v;
    bool reset = true;
    assert_true(vdev_kbc_io(k, port, 1, true, &x, &reset));
    return reset;
}

static uint32_t in(struct vdev_kbc *k, uint16_t port, unsigned size)
{
    uint32_t v = 0x5a5a5a5a;
    bool reset = true;
    assert_true(vdev_kbc_io(k, port, size, false, &v, &reset));
    assert_false(reset);
    return v;
}

static void test_status_and_data(void **state)
{
    struct vdev_kbc k;
    vdev_kbc_reset(&k);
    assert_int_equal(in(&k, 0x64, 1), 0x04); /* OBF 0, IBF 0, SYS 1 */
    assert_int_equal(in(&k, 0x60, 1), 0);
    assert_false(out(&k, 0x64, 0xaa)); /* self-test etc.: ignored */
    assert_false(out(&k, 0x60, 0xf4)); /* a byte for a keyboard that is not there */
    assert_int_equal(in(&k, 0x64, 1), 0x04);
    (void)state;
}

static void test_pulse_reset(void **state)
{
    struct vdev_kbc k;
    vdev_kbc_reset(&k);
    assert_true(out(&k, 0x64, 0xfe));
    assert_false(out(&k, 0x64, 0xfd)); /* other pulse patterns do not reset */
    assert_false(out(&k, 0x64, 0xff));
    assert_true(out(&k, 0x64, 0xfe));
    (void)state;
}

static void test_output_port(void **state)
{
    struct vdev_kbc k;
    vdev_kbc_reset(&k);
    out(&k, 0x92, 0x00); /* isolate the i8042 gate */
    assert_false(out(&k, 0x64, 0xd1));
    assert_false(out(&k, 0x60, 0xdd)); /* A20 off, reset deasserted */
    assert_false(vdev_kbc_a20(&k));
    assert_false(out(&k, 0x60, 0xdc)); /* no pending command: ignored */
    assert_false(out(&k, 0x64, 0xd1));
    assert_false(out(&k, 0x60, 0xdf));
    assert_true(vdev_kbc_a20(&k));
    assert_false(out(&k, 0x64, 0xd1));
    assert_true(out(&k, 0x60, 0xde)); /* bit 0 low: reset */
    (void)state;
}

static void test_port92(void **state)
{
    struct vdev_kbc k;
    vdev_kbc_reset(&k);
    assert_int_equal(in(&k, 0x92, 1), 0x02);
    assert_false(out(&k, 0x92, 0x00));
    assert_int_equal(in(&k, 0x92, 1), 0x00);
    out(&k, 0x64, 0xd1);
    out(&k, 0x60, 0xdd);
    assert_false(vdev_kbc_a20(&k));
    assert_false(out(&k, 0x92, 0x02));
    assert_int_equal(in(&k, 0x92, 1), 0x02);
    assert_true(vdev_kbc_a20(&k));
    assert_true(out(&k, 0x92, 0x03));
    assert_int_equal(in(&k, 0x92, 1), 0x02);
    (void)state;
}

static void test_port80_and_foreign(void **state)
{
    struct vdev_kbc k;
    vdev_kbc_reset(&k);
    assert_false(out(&k, 0x80, 0x42));
    assert_int_equal(in(&k, 0x80, 1), 0xff);
    assert_int_equal(in(&k, 0x80, 2), 0xffff);
    assert_int_equal(in(&k, 0x80, 4), 0xffffffff);
    uint32_t v = 0;
    bool reset;
    assert_false(vdev_kbc_io(&k, 0x61, 1, false, &v, &reset));
    assert_false(vdev_kbc_io(&k, 0x65, 1, false, &v, &reset));
    assert_false(vdev_kbc_io(&k, 0x60, 2, false, &v, &reset));
    v = 0xfe;
    assert_false(vdev_kbc_io(&k, 0x64, 4, true, &v, &reset));
    assert_false(reset);
    assert_false(vdev_kbc_io(&k, 0x80, 3, false, &v, &reset));
    (void)state;
}

static void test_reset_control(void **state)
{
    struct vdev_kbc k;
    vdev_kbc_reset(&k);
    assert_int_equal(in(&k, 0xcf9, 1), 0);
    assert_false(out(&k, 0xcf9, 0x02)); /* SRST alone selects the reset kind: no reset yet */
    assert_int_equal(in(&k, 0xcf9, 1), 0x02);
    assert_true(out(&k, 0xcf9, 0x06));        /* the FADT's RESET_VALUE */
    assert_int_equal(in(&k, 0xcf9, 1), 0x02); /* RCPU is not stored */
    assert_true(out(&k, 0xcf9, 0x0e));
    assert_int_equal(in(&k, 0xcf9, 1), 0x0a);
    uint32_t v = 0x06;
    bool reset;
    assert_false(vdev_kbc_io(&k, 0xcf9, 2, true, &v, &reset)); /* byte register only */
    assert_false(reset);
    (void)state;
}

static void test_save_restore(void **state)
{
    struct vdev_kbc k, q;
    struct vdev_kbc_state s, bad;
    vdev_kbc_reset(&k);
    out(&k, 0x92, 0x00);
    out(&k, 0x64, 0xd1); /* pending across the save */
    vdev_kbc_save(&k, &s);
    vdev_kbc_reset(&q);
    assert_int_equal(vdev_kbc_restore(&q, &s), 0);
    assert_int_equal(in(&q, 0x92, 1), 0);
    assert_false(out(&q, 0x60, 0xdd));
    assert_false(vdev_kbc_a20(&q));

    vdev_kbc_reset(&q);
    bad = s;
    bad.version = 2;
    assert_int_equal(vdev_kbc_restore(&q, &bad), -1);
    bad = s;
    bad.kbc.port92 = 0x03;
    assert_int_equal(vdev_kbc_restore(&q, &bad), -1);
    bad = s;
    bad.kbc.output_port = 0x01;
    assert_int_equal(vdev_kbc_restore(&q, &bad), -1);
    bad = s;
    bad.kbc.pending_cmd = 0xfe;
    assert_int_equal(vdev_kbc_restore(&q, &bad), -1);
    bad = s;
    bad.kbc.reset_control = RC_RESET_CPU; /* never stored */
    assert_int_equal(vdev_kbc_restore(&q, &bad), -1);
    assert_int_equal(in(&q, 0x92, 1), 0x02); /* unchanged */
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_data),    cmocka_unit_test(test_pulse_reset),
        cmocka_unit_test(test_output_port),        cmocka_unit_test(test_port92),
        cmocka_unit_test(test_port80_and_foreign), cmocka_unit_test(test_reset_control),
        cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
