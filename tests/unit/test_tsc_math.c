// unit-sources: arch/x86/tsc_math.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86/pit.h"
#include "arch/x86/tsc_math.h"

static void test_pit_count(void **state)
{
    assert_int_equal(pit_count_for_us(10000), 11932); /* 11931.82 rounds up */
    assert_int_equal(pit_count_for_us(1000), 1193);
    assert_int_equal(pit_count_for_us(0), 0);
    assert_int_equal(pit_count_for_us(54924), 65534); /* the largest interval that fits */
    assert_int_equal(pit_count_for_us(54925), 0);     /* 65535.5 rounds past 16 bits */
    assert_int_equal(pit_count_for_us(UINT32_MAX), 0);
}

static void test_rate_from_pit(void **state)
{
    /* 3 GHz over the 10 ms count: 11932 / PIT_HZ s. */
    uint64_t delta = (uint64_t)3000000000ull * 11932 / PIT_HZ;
    uint64_t hz = rate_from_pit(delta, 11932);
    assert_true(hz > 2999999000ull && hz < 3000001000ull);
    assert_int_equal(rate_from_pit(PIT_HZ, 1), (uint64_t)PIT_HZ * PIT_HZ);
    assert_int_equal(rate_from_pit(500, 0), 0);
    assert_int_equal(rate_from_pit(UINT64_MAX / PIT_HZ + 1, 100), 0);
    assert_int_equal(rate_from_pit(0, 100), 0);
    /* Bochs at ips=50M: 50 MHz. */
    assert_int_equal(rate_from_pit(500000, 11932), 49999246); /* 500000 * PIT_HZ / 11932 */
}

static void test_ns_mult(void **state)
{
    assert_int_equal(tsc_ns_mult(0), 0);
    assert_int_equal(tsc_ns_mult(1000000000ull), 1ull << 32);
    assert_int_equal(tsc_ns_mult(2000000000ull), 1ull << 31);
    uint64_t m = tsc_ns_mult(3000000000ull);
    assert_int_equal(tsc_cycles_to_ns(3000000000ull, m), 1000000000ull);
    assert_int_equal(tsc_cycles_to_ns(0, m), 0);
    /* 1 GHz counter: one cycle is one ns exactly. */
    assert_int_equal(tsc_cycles_to_ns(123456789ull, tsc_ns_mult(1000000000ull)), 123456789ull);
}

static void test_ns_no_overflow_for_years(void **state)
{
    /* Ten years at 5 GHz: 1.6e18 cycles; cycles * mult exceeds 64 bits by far. */
    uint64_t hz = 5000000000ull;
    uint64_t ten_years_s = 10ull * 365 * 24 * 3600;
    uint64_t ns = tsc_cycles_to_ns(hz * ten_years_s, tsc_ns_mult(hz));
    uint64_t want = ten_years_s * 1000000000ull;
    uint64_t diff = ns > want ? ns - want : want - ns;
    assert_true(diff < want / 1000000000ull); /* within 1 ppb */
    /* Monotonic and defined at the top of the range. */
    assert_true(tsc_cycles_to_ns(UINT64_MAX, tsc_ns_mult(hz)) >=
                tsc_cycles_to_ns(UINT64_MAX - 1, tsc_ns_mult(hz)));
}

static void test_rate_from_tsc(void **state)
{
    /* A LAPIC timer at 62.5 MHz counted for 10 ms of a 3 GHz TSC. */
    assert_int_equal(rate_from_tsc(625000, 30000000, 3000000000ull), 62500000);
    /* Bochs: 50 MHz TSC and bus, divide by 16. */
    assert_int_equal(rate_from_tsc(31250, 500000, 50000000), 3125000);
    assert_int_equal(rate_from_tsc(1, 0, 3000000000ull), 0);
    assert_int_equal(rate_from_tsc(0, 5, 3000000000ull), 0);
    /* Products beyond 64 bits still divide exactly. */
    assert_int_equal(rate_from_tsc(UINT64_MAX, UINT64_MAX, 12345), 12345);
    assert_int_equal(rate_from_tsc(1ull << 40, 1ull << 20, 1ull << 40), 1ull << 60);
    /* A quotient that does not fit saturates. */
    assert_int_equal(rate_from_tsc(UINT64_MAX, 1, 2), UINT64_MAX);
}

static void test_median(void **state)
{
    uint64_t a[] = {5, 1, 4, 2, 3};
    assert_int_equal(median_u64(a, 5), 3);
    assert_int_equal(a[0], 1);
    assert_int_equal(a[4], 5);
    uint64_t b[] = {9, 7};
    assert_int_equal(median_u64(b, 2), 7);
    uint64_t c[] = {42};
    assert_int_equal(median_u64(c, 1), 42);
    assert_int_equal(median_u64(NULL, 0), 0);
    uint64_t d[] = {100, 100, 1, 100, UINT64_MAX};
    assert_int_equal(median_u64(d, 5), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pit_count),     cmocka_unit_test(test_rate_from_pit),
        cmocka_unit_test(test_ns_mult),       cmocka_unit_test(test_ns_no_overflow_for_years),
        cmocka_unit_test(test_rate_from_tsc), cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
