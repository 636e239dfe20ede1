// unit-sources: drivers/e1000/e1000_ring.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/e1000/e1000_ring.h"

static void test_next_and_prev_wrap(void **state)
{
    assert_int_equal(e1000_ring_next(0, 8), 1);
    assert_int_equal(e1000_ring_next(7, 8), 0);
    assert_int_equal(e1000_ring_prev(0, 8), 7);
    assert_int_equal(e1000_ring_prev(5, 8), 4);
    /* Sizes need not be powers of two (RDLEN is a multiple of 128 bytes: 8 descriptors). */
    assert_int_equal(e1000_ring_next(23, 24), 0);
    assert_int_equal(e1000_ring_prev(0, 24), 23);
}

static void test_advance(void **state)
{
    assert_int_equal(e1000_ring_advance(6, 3, 8), 1);
    assert_int_equal(e1000_ring_advance(0, 8, 8), 0);
    assert_int_equal(e1000_ring_advance(5, 17, 8), 6);
    assert_int_equal(e1000_ring_advance(0xfffffff0u, 0x20, 0xffffffffu), 0x11);
}

static void test_used_and_free(void **state)
{
    assert_int_equal(e1000_ring_used(3, 3, 8), 0);
    assert_int_equal(e1000_ring_free(3, 3, 8), 7); /* one slot always stays empty */
    assert_int_equal(e1000_ring_used(2, 6, 8), 4);
    assert_int_equal(e1000_ring_free(2, 6, 8), 3);
    assert_int_equal(e1000_ring_used(6, 2, 8), 4); /* wrapped */
    assert_int_equal(e1000_ring_used(3, 2, 8), 7);
    assert_int_equal(e1000_ring_free(3, 2, 8), 0); /* full */
    assert_int_equal(e1000_ring_free(0, 7, 8), 0);
}

static void test_fill_and_drain_cycle(void **state)
{
    uint32_t head = 5, tail = 5, size = 16;
    unsigned filled = 0;
    while (e1000_ring_free(head, tail, size)) {
        tail = e1000_ring_next(tail, size);
        filled++;
    }
    assert_int_equal(filled, 15);
    assert_int_equal(tail, e1000_ring_prev(head, size));
    while (e1000_ring_used(head, tail, size))
        head = e1000_ring_next(head, size);
    assert_int_equal(head, tail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_and_prev_wrap),
        cmocka_unit_test(test_advance),
        cmocka_unit_test(test_used_and_free),
        cmocka_unit_test(test_fill_and_drain_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
