// unit-sources: mm/lat_stats.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mm/lat_stats.h"

static struct lat_stats l;
static uint64_t scratch[LAT_STATS_WINDOW];

static void empty_is_all_zero(void **state)
{
    (void)state;
    struct lat_summary s;
    lat_stats_init(&l);
    lat_stats_summary(&l, scratch, &s);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.min, 0);
    assert_int_equal(s.median, 0);
    assert_int_equal(s.p99, 0);
}

static void one_sample(void **state)
{
    (void)state;
    struct lat_summary s;
    lat_stats_init(&l);
    lat_stats_add(&l, 42);
    lat_stats_summary(&l, scratch, &s);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.min, 42);
    assert_int_equal(s.max, 42);
    assert_int_equal(s.median, 42);
    assert_int_equal(s.p99, 42);
}

/* 1..100 in a scrambled order: the nearest-rank median is 50 and the p99 is 99. */
static void percentiles_nearest_rank(void **state)
{
    (void)state;
    struct lat_summary s;
    lat_stats_init(&l);
    for (uint64_t i = 0; i < 100; i++)
        lat_stats_add(&l, (i * 37) % 100 + 1);
    lat_stats_summary(&l, scratch, &s);
    assert_int_equal(s.min, 1);
    assert_int_equal(s.max, 100);
    assert_int_equal(s.mean, 50); /* 5050 / 100 */
    assert_int_equal(s.median, 50);
    assert_int_equal(s.p99, 99);
}

/* Past the window, percentiles cover the last samples only; min and max cover all. */
static void window_keeps_the_latest(void **state)
{
    (void)state;
    struct lat_summary s;
    lat_stats_init(&l);
    lat_stats_add(&l, 1);
    for (uint64_t i = 0; i < LAT_STATS_WINDOW; i++)
        lat_stats_add(&l, 1000 + i);
    lat_stats_summary(&l, scratch, &s);
    assert_int_equal(s.count, LAT_STATS_WINDOW + 1);
    assert_int_equal(s.min, 1);
    assert_int_equal(s.max, 1000 + LAT_STATS_WINDOW - 1);
    assert_int_equal(s.median, 1000 + LAT_STATS_WINDOW / 2 - 1);
    assert_int_equal(s.p99, 1000 + (LAT_STATS_WINDOW * 99 + 99) / 100 - 1);
}

static void duplicates_and_outlier(void **state)
{
    (void)state;
    struct lat_summary s;
    lat_stats_init(&l);
    for (int i = 0; i < 99; i++)
        lat_stats_add(&l, 7);
    lat_stats_add(&l, 1000000);
    lat_stats_summary(&l, scratch, &s);
    assert_int_equal(s.median, 7);
    assert_int_equal(s.p99, 7);
    assert_int_equal(s.max, 1000000);
    lat_stats_add(&l, 1000000); /* 2 of 101 now: p99 rank 100 */
    lat_stats_summary(&l, scratch, &s);
    assert_int_equal(s.p99, 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_is_all_zero),
        cmocka_unit_test(one_sample),
        cmocka_unit_test(percentiles_nearest_rank),
        cmocka_unit_test(window_keeps_the_latest),
        cmocka_unit_test(duplicates_and_outlier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
