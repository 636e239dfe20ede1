// unit-sources: kernel/vdev_uart.c kernel/vdev_debug_exit.c
/* The guest's UART and the exit port: register behaviour a polling guest relies on, and
 * save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_debug_exit.h"
#include "kernel/vdev_uart.h"

static char sent[64];
static size_t nsent;

static void tx(void *ctx, uint8_t b)
{
    (void)ctx;
    if (nsent < sizeof sent)
        sent[nsent++] = (char)b;
}

static void test_transmit_and_lsr(void **state)
{
    struct vdev_uart u;
    vdev_uart_reset(&u);
    nsent = 0;
    assert_int_equal(vdev_uart_read(&u, 5) & 0x60, 0x60); /* THR and transmitter empty */
    vdev_uart_write(&u, 0, 'h', tx, NULL);
    vdev_uart_write(&u, 0, 'i', tx, NULL);
    assert_int_equal(nsent, 2);
    assert_memory_equal(sent, "hi", 2);
    assert_int_equal(vdev_uart_read(&u, 5) & 0x01, 0); /* no data ready */
}

static void test_divisor_latch_does_not_transmit(void **state)
{
    struct vdev_uart u;
    vdev_uart_reset(&u);
    nsent = 0;
    vdev_uart_write(&u, 3, 0x80, tx, NULL); /* DLAB */
    vdev_uart_write(&u, 0, 0x01, tx, NULL);
    vdev_uart_write(&u, 1, 0x00, tx, NULL);
    assert_int_equal(nsent, 0);
    assert_int_equal(vdev_uart_read(&u, 0), 0x01);
    vdev_uart_write(&u, 3, 0x03, tx, NULL);
    assert_int_equal(vdev_uart_read(&u, 3), 0x03);
    vdev_uart_write(&u, 0, 'x', tx, NULL);
    assert_int_equal(nsent, 1);
}

static void test_receive_fifo(void **state)
{
    struct vdev_uart u;
    vdev_uart_reset(&u);
    for (int i = 0; i < VDEV_UART_RX_FIFO; i++)
        assert_true(vdev_uart_receive(&u, (uint8_t)('a' + i)));
    assert_false(vdev_uart_receive(&u, 'z')); /* full: refused, not dropped silently */
    assert_int_equal(vdev_uart_read(&u, 5) & 0x01, 0x01);
    for (int i = 0; i < VDEV_UART_RX_FIFO; i++)
        assert_int_equal(vdev_uart_read(&u, 0), 'a' + i);
    assert_int_equal(vdev_uart_read(&u, 5) & 0x01, 0);
    assert_int_equal(vdev_uart_read(&u, 0), 0); /* empty read */
}

static void test_loopback_and_scratch(void **state)
{
    struct vdev_uart u;
    vdev_uart_reset(&u);
    nsent = 0;
    vdev_uart_write(&u, 7, 0x5a, tx, NULL);
    assert_int_equal(vdev_uart_read(&u, 7), 0x5a);
    vdev_uart_write(&u, 4, 0x10 | 0x03, tx, NULL); /* loopback, DTR, RTS */
    vdev_uart_write(&u, 0, 'L', tx, NULL);
    assert_int_equal(nsent, 0);
    assert_int_equal(vdev_uart_read(&u, 0), 'L');
    assert_int_equal(vdev_uart_read(&u, 6) & 0x30, 0x30); /* CTS, DSR follow RTS, DTR */
}

static void test_uart_save_restore(void **state)
{
    struct vdev_uart u, v;
    vdev_uart_reset(&u);
    vdev_uart_write(&u, 7, 0x42, tx, NULL);
    vdev_uart_receive(&u, 'q');
    struct vdev_uart_state s;
    vdev_uart_save(&u, &s);
    vdev_uart_reset(&v);
    assert_int_equal(vdev_uart_restore(&v, &s), 0);
    assert_int_equal(vdev_uart_read(&v, 7), 0x42);
    assert_int_equal(vdev_uart_read(&v, 0), 'q');
    s.version = 99;
    assert_int_equal(vdev_uart_restore(&v, &s), -1);
    s.version = 1;
    s.uart.rx_count = 200; /* impossible state from a peer */
    assert_int_equal(vdev_uart_restore(&v, &s), -1);
}

static void test_debug_exit(void **state)
{
    struct vdev_debug_exit d = { 0 };
    uint32_t code = 0;
    assert_true(vdev_debug_exit_write(&d, 0, &code));
    assert_int_equal(code, 1);
    assert_true(vdev_debug_exit_write(&d, 0x21, &code));
    assert_int_equal(code, 0x43);
    struct vdev_debug_exit_state s;
    vdev_debug_exit_save(&d, &s);
    struct vdev_debug_exit e = { 0 };
    assert_int_equal(vdev_debug_exit_restore(&e, &s), 0);
    assert_int_equal(e.value, 0x21);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transmit_and_lsr),
        cmocka_unit_test(test_divisor_latch_does_not_transmit),
        cmocka_unit_test(test_receive_fifo),
        cmocka_unit_test(test_loopback_and_scratch),
        cmocka_unit_test(test_uart_save_restore),
        cmocka_unit_test(test_debug_exit),
    };
    return cmocka_run_group_tests_name("vdev", tests, NULL, NULL);
}
