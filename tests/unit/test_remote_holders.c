// unit-sources: net/remote_holders.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/remote_holders.h"

static struct holder_table t;

static int setup(void **state)
{
    (void)state;
    holders_init(&t);
    return 0;
}

static void up_numbers_hosts_from_one(void **state)
{
    (void)state;
    assert_int_equal(holders_up(&t, 0xa, 1, 10), 1);
    assert_int_equal(holders_up(&t, 0xb, 2, 11), 2);
    assert_int_equal(holders_find(&t, 0xb), 2);
    assert_int_equal(holders_find(&t, 0xc), 0);
    assert_int_equal(holders_find(&t, 0), 0);
    assert_true(holder_is_up(&t, 1));
    assert_false(holder_is_up(&t, 0));
    assert_false(holder_is_up(&t, 3));
    assert_int_equal(holders_up(&t, 0, 1, 1), 0);  /* no host id */
    assert_int_equal(holders_up(&t, 0xd, 1, 0), 0); /* no connection */
}

/* A host that reconnects keeps its number: the pages it holds are still named by it. */
static void reconnect_keeps_the_number(void **state)
{
    (void)state;
    holders_up(&t, 0xa, 1, 10);
    holders_up(&t, 0xb, 2, 11);
    assert_int_equal(holders_down(&t, 0xa, 10, true), 1);
    assert_false(holder_is_up(&t, 1));
    assert_true(t.h[1].lost);
    assert_int_equal(holders_up(&t, 0xa, 5, 12), 1);
    assert_true(holder_is_up(&t, 1));
    assert_false(t.h[1].lost);
    assert_int_equal(t.h[1].ip, 5);
}

/* The end of an older connection (a duplicate that lost) does not take down the newer one. */
static void stale_down_is_ignored(void **state)
{
    (void)state;
    holders_up(&t, 0xa, 1, 10);
    holders_up(&t, 0xa, 1, 12);
    assert_int_equal(holders_down(&t, 0xa, 10, false), 0);
    assert_true(holder_is_up(&t, 1));
    assert_int_equal(holders_down(&t, 0xe, 12, false), 0); /* unknown host */
    assert_int_equal(holders_down(&t, 0xa, 12, false), 1);
    assert_int_equal(holders_down(&t, 0xa, 12, false), 0); /* already down */
}

static void table_full(void **state)
{
    (void)state;
    for (uint64_t k = 1; k <= HOLDERS_MAX; k++)
        assert_int_equal(holders_up(&t, 0x100 + k, 1, (uint32_t)k), k);
    assert_int_equal(holders_up(&t, 0x999, 1, 99), 0);
}

static bool only_even(void *ctx, uint8_t i)
{
    (void)ctx;
    return i % 2 == 0;
}

static void pick_round_robin_skips_down_full_excluded(void **state)
{
    (void)state;
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 0); /* none */
    holders_up(&t, 0xa, 1, 10);
    holders_up(&t, 0xb, 2, 11);
    holders_up(&t, 0xc, 3, 12);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 1);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 2);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 3);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 1);
    /* Excluding the replica's primary. */
    assert_int_equal(holders_pick(&t, 0, 2, NULL, NULL), 3);
    /* Down. */
    holders_down(&t, 0xa, 10, true);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 2);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 3);
    assert_int_equal(holders_pick(&t, 0, 0, NULL, NULL), 2);
    /* Full: skipped until the backoff passes. */
    holders_full(&t, 3, 1000);
    assert_int_equal(holders_pick(&t, 1000, 0, NULL, NULL), 2);
    assert_int_equal(holders_pick(&t, 1000, 2, NULL, NULL), 0);
    assert_int_equal(holders_pick(&t, 1000 + HOLDER_FULL_BACKOFF_NS, 2, NULL, NULL), 3);
    /* The caller's usability test. */
    assert_int_equal(holders_pick(&t, 1000 + HOLDER_FULL_BACKOFF_NS, 0, only_even, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(up_numbers_hosts_from_one, setup),
        cmocka_unit_test_setup(reconnect_keeps_the_number, setup),
        cmocka_unit_test_setup(stale_down_is_ignored, setup),
        cmocka_unit_test_setup(table_full, setup),
        cmocka_unit_test_setup(pick_round_robin_skips_down_full_excluded, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
