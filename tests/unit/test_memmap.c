// unit-sources: mm/memmap.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mm/memmap.h"

static struct memmap m;

static int setup(void **state)
{
    memmap_init(&m);
    return 0;
}

static void expect_ranges(const uint64_t *pairs, size_t n)
{
    assert_int_equal(m.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(m.r[i].start, pairs[2 * i]);
        assert_int_equal(m.r[i].end, pairs[2 * i + 1]);
    }
}

static void test_empty(void **state)
{
    assert_int_equal(m.n, 0);
    assert_int_equal(memmap_total(&m), 0);
    assert_int_equal(memmap_max_end(&m), 0);
    assert_int_equal(memmap_add(&m, 100, 100), CIVIC_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(memmap_add(&m, 100, 99), CIVIC_EINVAL);
    assert_int_equal(m.n, 0);
}

static void test_add_sorted(void **state)
{
    assert_int_equal(memmap_add(&m, 300, 400), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 100, 200), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 500, 600), CIVIC_OK);
    const uint64_t want[] = {100, 200, 300, 400, 500, 600};
    expect_ranges(want, 3);
    assert_int_equal(memmap_total(&m), 300);
    assert_int_equal(memmap_max_end(&m), 600);
}

static void test_add_merge_adjacent(void **state)
{
    assert_int_equal(memmap_add(&m, 100, 200), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 300, 400), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 200, 300), CIVIC_OK); /* touches both */
    const uint64_t want[] = {100, 400};
    expect_ranges(want, 1);
    assert_int_equal(memmap_add(&m, 400, 450), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 50, 100), CIVIC_OK);
    const uint64_t want2[] = {50, 450};
    expect_ranges(want2, 1);
}

static void test_add_merge_overlap_many(void **state)
{
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(memmap_add(&m, i * 100, i * 100 + 10), CIVIC_OK);
    assert_int_equal(m.n, 10);
    assert_int_equal(memmap_add(&m, 205, 705), CIVIC_OK); /* swallows 300..600, clips 200, 700 */
    const uint64_t want[] = {0, 10, 100, 110, 200, 710, 800, 810, 900, 910};
    expect_ranges(want, 5);
    assert_int_equal(memmap_total(&m), 10 * 4 + 510);
    /* Contained range changes nothing. */
    assert_int_equal(memmap_add(&m, 300, 400), CIVIC_OK);
    expect_ranges(want, 5);
    /* Superset of everything. */
    assert_int_equal(memmap_add(&m, 0, 1000), CIVIC_OK);
    const uint64_t want2[] = {0, 1000};
    expect_ranges(want2, 1);
}

static void test_add_full(void **state)
{
    for (uint64_t i = 0; i < MEMMAP_MAX; i++)
        assert_int_equal(memmap_add(&m, i * 10, i * 10 + 5), CIVIC_OK);
    assert_int_equal(m.n, MEMMAP_MAX);
    assert_int_equal(memmap_add(&m, 100000, 100005), CIVIC_ERANGE);
    assert_int_equal(m.n, MEMMAP_MAX);
    /* Merging still works when full. */
    assert_int_equal(memmap_add(&m, 5, 10), CIVIC_OK);
    assert_int_equal(m.n, MEMMAP_MAX - 1);
    assert_int_equal(m.r[0].end, 15);
    assert_int_equal(memmap_max_end(&m), (MEMMAP_MAX - 1) * 10 + 5);
}

static void test_subtract(void **state)
{
    assert_int_equal(memmap_add(&m, 100, 200), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 300, 400), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 500, 600), CIVIC_OK);
    /* Clip the end of one and the start of the next; remove the middle one entirely. */
    assert_int_equal(memmap_subtract(&m, 150, 550), CIVIC_OK);
    const uint64_t want[] = {100, 150, 550, 600};
    expect_ranges(want, 2);
    /* Disjoint / empty / reversed subtractions change nothing. */
    assert_int_equal(memmap_subtract(&m, 0, 100), CIVIC_OK);
    assert_int_equal(memmap_subtract(&m, 150, 550), CIVIC_OK);
    assert_int_equal(memmap_subtract(&m, 580, 560), CIVIC_OK);
    assert_int_equal(memmap_subtract(&m, 600, 1000), CIVIC_OK);
    expect_ranges(want, 2);
    /* Exact removal. */
    assert_int_equal(memmap_subtract(&m, 100, 150), CIVIC_OK);
    const uint64_t want2[] = {550, 600};
    expect_ranges(want2, 1);
}

static void test_subtract_split(void **state)
{
    assert_int_equal(memmap_add(&m, 0, 1000), CIVIC_OK);
    assert_int_equal(memmap_subtract(&m, 100, 200), CIVIC_OK);
    assert_int_equal(memmap_subtract(&m, 500, 600), CIVIC_OK);
    const uint64_t want[] = {0, 100, 200, 500, 600, 1000};
    expect_ranges(want, 3);
    assert_int_equal(memmap_total(&m), 800);
    /* Adding the hole back re-merges. */
    assert_int_equal(memmap_add(&m, 100, 200), CIVIC_OK);
    const uint64_t want2[] = {0, 500, 600, 1000};
    expect_ranges(want2, 2);
}

static void test_subtract_split_full(void **state)
{
    for (uint64_t i = 0; i < MEMMAP_MAX; i++)
        assert_int_equal(memmap_add(&m, i * 10, i * 10 + 5), CIVIC_OK);
    assert_int_equal(memmap_subtract(&m, 1, 2), CIVIC_ERANGE);
    assert_int_equal(m.n, MEMMAP_MAX);
    assert_int_equal(m.r[0].start, 0);
    assert_int_equal(m.r[0].end, 5);
    /* Clipping never needs room. */
    assert_int_equal(memmap_subtract(&m, 0, 1), CIVIC_OK);
    assert_int_equal(m.r[0].start, 1);
}

static void test_align_inward(void **state)
{
    assert_int_equal(memmap_add(&m, 0x1001, 0x5fff), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 0x7000, 0x8000), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 0x9010, 0x9ff0), CIVIC_OK); /* vanishes */
    assert_int_equal(memmap_add(&m, 0xa800, 0xc400), CIVIC_OK);
    memmap_align_inward(&m, 0x1000);
    const uint64_t want[] = {0x2000, 0x5000, 0x7000, 0x8000, 0xb000, 0xc000};
    expect_ranges(want, 3);
    assert_int_equal(memmap_total(&m), 0x5000);
    assert_int_equal(memmap_max_end(&m), 0xc000);
}

static void test_align_top_of_space(void **state)
{
    assert_int_equal(memmap_add(&m, UINT64_MAX - 10, UINT64_MAX), CIVIC_OK);
    memmap_align_inward(&m, 0x1000);
    assert_int_equal(m.n, 0);
}

static void test_total_large(void **state)
{
    assert_int_equal(memmap_add(&m, 0x100000, 0x8000000), CIVIC_OK);
    assert_int_equal(memmap_add(&m, 0x100000000ull, 0x200000000ull), CIVIC_OK);
    assert_int_equal(memmap_total(&m), 0x8000000 - 0x100000 + 0x100000000ull);
    assert_int_equal(memmap_max_end(&m), 0x200000000ull);
}

/* Cross-check against a byte bitmap over a small universe. */
static void test_random_vs_bitmap(void **state)
{
    enum { U = 512 };
    uint8_t bits[U] = {0};
    uint32_t seed = 12345;
    for (int step = 0; step < 4000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t a = (seed >> 8) % U;
        seed = seed * 1103515245u + 12345u;
        uint64_t b = (seed >> 8) % U;
        if (a > b) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        if (seed & 0x80000000u) {
            assert_int_equal(memmap_add(&m, a, b), CIVIC_OK);
            for (uint64_t x = a; x < b; x++)
                bits[x] = 1;
        } else {
            assert_int_equal(memmap_subtract(&m, a, b), CIVIC_OK);
            for (uint64_t x = a; x < b; x++)
                bits[x] = 0;
        }
        /* Rebuild the expected ranges from the bitmap and compare. */
        size_t k = 0;
        uint64_t total = 0;
        for (uint64_t x = 0; x < U;) {
            if (!bits[x]) {
                x++;
                continue;
            }
            uint64_t s = x;
            while (x < U && bits[x])
                x++;
            assert_true(k < m.n);
            assert_int_equal(m.r[k].start, s);
            assert_int_equal(m.r[k].end, x);
            total += x - s;
            k++;
        }
        assert_int_equal(k, m.n);
        assert_int_equal(memmap_total(&m), total);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, setup),
        cmocka_unit_test_setup(test_add_sorted, setup),
        cmocka_unit_test_setup(test_add_merge_adjacent, setup),
        cmocka_unit_test_setup(test_add_merge_overlap_many, setup),
        cmocka_unit_test_setup(test_add_full, setup),
        cmocka_unit_test_setup(test_subtract, setup),
        cmocka_unit_test_setup(test_subtract_split, setup),
        cmocka_unit_test_setup(test_subtract_split_full, setup),
        cmocka_unit_test_setup(test_align_inward, setup),
        cmocka_unit_test_setup(test_align_top_of_space, setup),
        cmocka_unit_test_setup(test_total_large, setup),
        cmocka_unit_test_setup(test_random_vs_bitmap, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
