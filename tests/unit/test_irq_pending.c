// unit-sources: arch/x86/irq_pending.c
/* The pending-interrupt set: highest vector first, every word boundary, clear and re-set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/irq_pending.h"

static void empty_set(void **state)
{
    struct irq_pending p;
    memset(&p, 0, sizeof p);
    assert_false(irq_pending_any(&p));
    assert_int_equal(irq_pending_highest(&p), -1);
}

static void highest_first(void **state)
{
    struct irq_pending p = {{0}};
    irq_pending_set(&p, 0x41);
    irq_pending_set(&p, 0x40);
    irq_pending_set(&p, 0x20);
    assert_true(irq_pending_any(&p));
    assert_int_equal(irq_pending_highest(&p), 0x41);
    irq_pending_clear(&p, 0x41);
    assert_int_equal(irq_pending_highest(&p), 0x40);
    irq_pending_clear(&p, 0x40);
    assert_int_equal(irq_pending_highest(&p), 0x20);
    irq_pending_clear(&p, 0x20);
    assert_false(irq_pending_any(&p));
    assert_int_equal(irq_pending_highest(&p), -1);
}

static void word_boundaries(void **state)
{
    static const int vectors[] = {0, 1, 63, 64, 127, 128, 191, 192, 254, 255};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        struct irq_pending p = {{0}};
        irq_pending_set(&p, (uint8_t)vectors[i]);
        assert_int_equal(irq_pending_highest(&p), vectors[i]);
        irq_pending_set(&p, (uint8_t)vectors[i]); /* setting twice is one pending vector */
        irq_pending_clear(&p, (uint8_t)vectors[i]);
        assert_false(irq_pending_any(&p));
    }
}

static void clear_only_that_vector(void **state)
{
    struct irq_pending p = {{0}};
    irq_pending_set(&p, 255);
    irq_pending_set(&p, 32);
    irq_pending_clear(&p, 33); /* not pending: no effect */
    assert_int_equal(irq_pending_highest(&p), 255);
    irq_pending_clear(&p, 255);
    assert_int_equal(irq_pending_highest(&p), 32);
    assert_int_equal(p.bits[0], 1ull << 32);
    assert_int_equal(p.bits[1] | p.bits[2] | p.bits[3], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_set),
        cmocka_unit_test(highest_first),
        cmocka_unit_test(word_boundaries),
        cmocka_unit_test(clear_only_that_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
