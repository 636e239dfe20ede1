// unit-sources: mm/readahead.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mm/readahead.h"

static uint64_t first, count;

static void fault(struct readahead *ra, uint64_t gfn, uint64_t frames)
{
    first = count = 0xdead;
    readahead_on_fault(ra, gfn, frames, &first, &count);
}

static void expect_range(uint64_t f, uint64_t c)
{
    assert_int_equal(first, f);
    assert_int_equal(count, c);
}

static void test_init(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 8);
    assert_int_equal(ra.window, 1);
    assert_int_equal(ra.max_window, 8);
    readahead_init(&ra, 0);
    assert_int_equal(ra.max_window, READAHEAD_MAX_WINDOW);
    readahead_init(&ra, 1000);
    assert_int_equal(ra.max_window, READAHEAD_MAX_WINDOW);
    readahead_init(&ra, 1);
    assert_int_equal(ra.max_window, 1);
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.faults, 0);
    assert_int_equal(st.window, 1);
}

static void test_first_fault(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    fault(&ra, 100, 1000);
    expect_range(101, 1);
    assert_int_equal(ra.window, 1); /* a lone fault says nothing yet */
}

static void test_stream_grows(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    fault(&ra, 100, 1000);
    expect_range(101, 1);
    fault(&ra, 102, 1000); /* just past [101, 102): a stream */
    expect_range(103, 2);
    fault(&ra, 105, 1000);
    expect_range(106, 4);
    fault(&ra, 110, 1000);
    expect_range(111, 8);
    fault(&ra, 119, 1000);
    expect_range(120, 16);
    fault(&ra, 136, 1000);
    expect_range(137, 32);
    fault(&ra, 169, 1000);
    expect_range(170, 32); /* capped */
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.faults, 7);
    assert_int_equal(st.streams, 6);
    assert_int_equal(st.requested, 1 + 2 + 4 + 8 + 16 + 32 + 32);
    assert_int_equal(st.window, 32);
}

static void test_not_a_stream(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    fault(&ra, 100, 1000);
    fault(&ra, 101, 1000); /* inside the read-ahead range: not the next page past it */
    expect_range(102, 1);
    fault(&ra, 500, 1000);
    expect_range(501, 1);
    fault(&ra, 100, 1000); /* the same page again */
    expect_range(101, 1);
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.streams, 0);
    assert_int_equal(st.window, 1);
}

static void test_descending_stream(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    fault(&ra, 100, 1000);
    expect_range(101, 1);
    fault(&ra, 99, 1000); /* below the previous fault: reads downwards */
    expect_range(97, 2);
    fault(&ra, 96, 1000);
    expect_range(92, 4);
    fault(&ra, 91, 1000);
    expect_range(83, 8);
    fault(&ra, 200, 1000); /* a jump: upwards again, window kept */
    expect_range(201, 8);
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.streams, 3);
}

static void test_bounds_low(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    ra.window = 8;
    fault(&ra, 0, 100);
    expect_range(1, 8);
    /* descending towards 0: the range is clipped at frame 0 */
    readahead_init(&ra, 0);
    ra.window = 8;
    fault(&ra, 10, 100);
    fault(&ra, 9, 100); /* window 16 */
    expect_range(0, 9);
    fault(&ra, 0, 100); /* nothing below 0 to continue into: not a stream */
    expect_range(1, 16);
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.streams, 1);
    assert_int_equal(ra.next_down, READAHEAD_NONE);
}

static void test_bounds_high(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    ra.window = 8;
    fault(&ra, 95, 100);
    expect_range(96, 4);
    fault(&ra, 99, 100); /* the last frame: nothing above */
    expect_range(100, 0);
    fault(&ra, 100, 100); /* not a frame at all */
    expect_range(100, 0);
    fault(&ra, UINT64_MAX, 100);
    expect_range(UINT64_MAX, 0);
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.faults, 2);
    assert_int_equal(st.requested, 4);
    /* a one-frame VM */
    readahead_init(&ra, 0);
    fault(&ra, 0, 1);
    expect_range(1, 0);
}

static void test_never_contains_fault(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    uint64_t frames = 50;
    uint64_t seq[] = {10, 12, 15, 14, 13, 0, 1, 49, 48, 47, 25, 26, 28, 33};
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        fault(&ra, seq[i], frames);
        assert_true(count <= ra.window);
        assert_true(first + count <= frames);
        assert_false(seq[i] >= first && seq[i] < first + count);
        readahead_hit(&ra);
    }
}

static void test_hits_grow(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 16);
    readahead_hit(&ra); /* 1 of 1 */
    assert_int_equal(ra.window, 2);
    readahead_hit(&ra); /* 1 of 2 */
    assert_int_equal(ra.window, 4);
    readahead_hit(&ra);
    assert_int_equal(ra.window, 4);
    readahead_hit(&ra); /* 2 of 4 */
    assert_int_equal(ra.window, 8);
    for (int i = 0; i < 3; i++)
        readahead_hit(&ra);
    assert_int_equal(ra.window, 8);
    readahead_hit(&ra);
    assert_int_equal(ra.window, 16);
    for (int i = 0; i < 20; i++)
        readahead_hit(&ra);
    assert_int_equal(ra.window, 16); /* capped at this VM's maximum */
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.hits, 28);
    assert_int_equal(st.wasted, 0);
}

static void test_waste_shrinks(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    ra.window = 32;
    readahead_wasted(&ra, 15);
    assert_int_equal(ra.window, 32);
    readahead_wasted(&ra, 1); /* 16 of 32 */
    assert_int_equal(ra.window, 16);
    readahead_wasted(&ra, 0); /* nothing */
    assert_int_equal(ra.window, 16);
    readahead_wasted(&ra, 100); /* one halving per report */
    assert_int_equal(ra.window, 8);
    readahead_wasted(&ra, 4);
    readahead_wasted(&ra, 2);
    readahead_wasted(&ra, 1);
    assert_int_equal(ra.window, 1);
    readahead_wasted(&ra, 1);
    assert_int_equal(ra.window, 1); /* never below 1 */
    fault(&ra, 10, 100);
    expect_range(11, 1);
    struct readahead_stats st;
    readahead_get_stats(&ra, &st);
    assert_int_equal(st.wasted, 124);
    assert_int_equal(st.window, 1);
}

static void test_counts_reset_on_resize(void **state)
{
    struct readahead ra;
    readahead_init(&ra, 0);
    ra.window = 8;
    readahead_hit(&ra);
    readahead_hit(&ra);
    readahead_hit(&ra);       /* 3 of 8: not yet */
    readahead_wasted(&ra, 4); /* 4 of 8 wasted: halve; the hits no longer count */
    assert_int_equal(ra.window, 4);
    readahead_hit(&ra);
    assert_int_equal(ra.window, 4);
    readahead_hit(&ra); /* 2 of 4 since the change */
    assert_int_equal(ra.window, 8);
    /* a stream resets them too */
    readahead_hit(&ra);
    readahead_hit(&ra);
    readahead_hit(&ra);
    fault(&ra, 10, 100);
    fault(&ra, 19, 100); /* stream: 16 */
    expect_range(20, 16);
    readahead_hit(&ra); /* 1 of 16: the 3 before the stream are gone */
    assert_int_equal(ra.window, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_first_fault),
        cmocka_unit_test(test_stream_grows),
        cmocka_unit_test(test_not_a_stream),
        cmocka_unit_test(test_descending_stream),
        cmocka_unit_test(test_bounds_low),
        cmocka_unit_test(test_bounds_high),
        cmocka_unit_test(test_never_contains_fault),
        cmocka_unit_test(test_hits_grow),
        cmocka_unit_test(test_waste_shrinks),
        cmocka_unit_test(test_counts_reset_on_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
