// unit-sources: arch/x86/msr_model.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/msr_model.h"

static void test_pat(void **state)
{
    assert_true(pat_valid(PAT_POWER_ON));
    assert_true(pat_valid(0));
    assert_true(pat_valid(0x0706050401000706ull)); /* every valid type */
    for (unsigned byte = 0; byte < 8; byte++) {
        uint64_t other = PAT_POWER_ON & ~(0xffull << (8 * byte));
        assert_false(pat_valid(other | (2ull << (8 * byte))));
        assert_false(pat_valid(other | (3ull << (8 * byte))));
        assert_false(pat_valid(other | (8ull << (8 * byte))));
        assert_true(pat_valid(other | (7ull << (8 * byte))));
        assert_false(pat_valid(PAT_POWER_ON | (0x80ull << (8 * byte)))); /* reserved 7:3 */
    }
}

static void test_mtrr_msrs(void **state)
{
    unsigned n = 0;
    for (uint32_t msr = 0; msr < 0x1000; msr++)
        n += mtrr_msr(msr);
    assert_int_equal(n, 1 + 1 + 16 + 11);
    assert_true(mtrr_msr(0xfe));
    assert_true(mtrr_msr(0x2ff));
    assert_true(mtrr_msr(0x200));
    assert_true(mtrr_msr(0x20f));
    assert_false(mtrr_msr(0x210));
    assert_true(mtrr_msr(0x250));
    assert_false(mtrr_msr(0x251));
    assert_true(mtrr_msr(0x258));
    assert_true(mtrr_msr(0x259));
    assert_false(mtrr_msr(0x25a));
    assert_true(mtrr_msr(0x268));
    assert_true(mtrr_msr(0x26f));
    assert_false(mtrr_msr(0x270));
}

static void test_mtrr_cap_and_reset(void **state)
{
    struct mtrr_state m;
    memset(&m, 0, sizeof m);
    uint64_t v = 1;
    assert_true(mtrr_read(&m, IA32_MTRRCAP, &v));
    assert_int_equal(v, 0x508);
    assert_false(mtrr_write(&m, IA32_MTRRCAP, 0x508, 36)); /* read-only */
    assert_true(mtrr_read(&m, IA32_MTRR_DEF_TYPE, &v));
    assert_int_equal(v, 0);
    assert_false(mtrr_read(&m, 0x210, &v));
    assert_false(mtrr_write(&m, 0x210, 0, 36));
}

static void test_mtrr_def_type(void **state)
{
    struct mtrr_state m;
    memset(&m, 0, sizeof m);
    uint64_t v;
    assert_true(mtrr_write(&m, IA32_MTRR_DEF_TYPE, 0xc06, 36)); /* E, FE, WB */
    assert_true(mtrr_read(&m, IA32_MTRR_DEF_TYPE, &v));
    assert_int_equal(v, 0xc06);
    static const uint64_t types_ok[] = {0, 1, 4, 5, 6};
    for (unsigned i = 0; i < 5; i++)
        assert_true(mtrr_write(&m, IA32_MTRR_DEF_TYPE, 0x800 | types_ok[i], 36));
    static const uint64_t bad[] = {0x802, 0x803, 0x807,  0x808,     0x8ff,
                                   0x906, 0xa06, 0x1806, 1ull << 63};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mtrr_write(&m, IA32_MTRR_DEF_TYPE, bad[i], 36));
    assert_true(mtrr_read(&m, IA32_MTRR_DEF_TYPE, &v));
    assert_int_equal(v, 0x806); /* the last valid write */
}

static void test_mtrr_variable(void **state)
{
    struct mtrr_state m;
    memset(&m, 0, sizeof m);
    uint64_t v;
    /* Base 0x80000000 WB, mask 2 GiB valid, with MAXPHYADDR 39. */
    assert_true(mtrr_write(&m, 0x206, 0x80000006ull, 39));
    assert_true(mtrr_write(&m, 0x207, 0x7f80000800ull, 39));
    assert_true(mtrr_read(&m, 0x206, &v));
    assert_int_equal(v, 0x80000006ull);
    assert_true(mtrr_read(&m, 0x207, &v));
    assert_int_equal(v, 0x7f80000800ull);
    assert_true(mtrr_read(&m, 0x200, &v));
    assert_int_equal(v, 0);
    /* Beyond MAXPHYADDR, reserved low bits, bad types. */
    assert_false(mtrr_write(&m, 0x206, 0x8000000006ull, 39));
    assert_true(mtrr_write(&m, 0x206, 0x8000000006ull, 40));
    assert_false(mtrr_write(&m, 0x207, 0x8000000800ull, 39));
    assert_false(mtrr_write(&m, 0x206, 0x80000106ull, 39)); /* bits 11:8 */
    assert_false(mtrr_write(&m, 0x206, 0x80000002ull, 39));
    assert_false(mtrr_write(&m, 0x206, 0x80000007ull, 39));   /* UC- is PAT-only */
    assert_false(mtrr_write(&m, 0x207, 0x7f80000801ull, 39)); /* bits 10:0 */
    assert_false(mtrr_write(&m, 0x207, 0x7f80000400ull, 39));
    /* A bogus MAXPHYADDR is taken as 36. */
    assert_false(mtrr_write(&m, 0x200, 0x1000000000ull, 0));
    assert_true(mtrr_write(&m, 0x200, 0xfff000000ull, 99));
    assert_true(mtrr_read(&m, 0x206, &v));
    assert_int_equal(v, 0x8000000006ull); /* failed writes changed nothing */
}

static void test_mtrr_fixed(void **state)
{
    struct mtrr_state m;
    memset(&m, 0, sizeof m);
    uint64_t v;
    static const uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                     0x26b, 0x26c, 0x26d, 0x26e, 0x26f};
    static const uint64_t types[] = {0, 1, 4, 5, 6};
    for (unsigned i = 0; i < 11; i++)
        assert_true(mtrr_write(&m, fixed[i], 0x0606060606060600ull | types[i % 5], 36));
    for (unsigned i = 0; i < 11; i++) {
        assert_true(mtrr_read(&m, fixed[i], &v));
        assert_int_equal(v, 0x0606060606060600ull | types[i % 5]);
    }
    assert_true(mtrr_write(&m, 0x250, 0x0605040100060504ull, 36));
    for (unsigned byte = 0; byte < 8; byte++) {
        assert_false(mtrr_write(&m, 0x259, 2ull << (8 * byte), 36));
        assert_false(mtrr_write(&m, 0x259, 7ull << (8 * byte), 36));
        assert_false(mtrr_write(&m, 0x259, 0x10ull << (8 * byte), 36));
    }
    assert_true(mtrr_read(&m, 0x259, &v));
    assert_int_equal(v, 0x0606060606060604ull); /* fixed[2], unchanged */
}

static void test_misc_enable(void **state)
{
    assert_int_equal(MISC_ENABLE_RESET, 0x1801);
    assert_true(misc_enable_write_ok(0x1801));
    assert_true(misc_enable_write_ok(0x1800)); /* fast strings off */
    assert_false(misc_enable_write_ok(0x1001));
    assert_false(misc_enable_write_ok(0x1803));
    assert_false(misc_enable_write_ok(0x1801 | (1ull << 22)));
    assert_false(misc_enable_write_ok(0x1801 | (1ull << 34)));
}

static void test_tsc_write(void **state)
{
    struct tsc_state t = {0, 0};
    /* Guest reads host + 0; writes 1000 at host 5000: offset -4000, adjust -4000. */
    tsc_write(&t, 5000, 1000);
    assert_int_equal(5000 + t.offset, 1000);
    assert_int_equal(t.offset, (uint64_t)-4000);
    assert_int_equal(t.adjust, (uint64_t)-4000);
    /* Later (host 9000: guest 5000) writes 10000: +5000 to both. */
    tsc_write(&t, 9000, 10000);
    assert_int_equal(9000 + t.offset, 10000);
    assert_int_equal(t.adjust, 1000);
    /* IA32_TSC_ADJUST write moves the TSC by the difference. */
    tsc_adjust_write(&t, 0);
    assert_int_equal(9000 + t.offset, 9000);
    assert_int_equal(t.adjust, 0);
    tsc_adjust_write(&t, (uint64_t)-100);
    assert_int_equal(9000 + t.offset, 8900);
    assert_int_equal(t.adjust, (uint64_t)-100);
}

static void test_ns_to_ticks(void **state)
{
    assert_int_equal(tsc_ns_to_ticks(0, 3000000000ull), 0);
    assert_int_equal(tsc_ns_to_ticks(1000000000ull, 3000000000ull), 3000000000ull);
    assert_int_equal(tsc_ns_to_ticks(1, 3000000000ull), 3);
    assert_int_equal(tsc_ns_to_ticks(20000, 50001000ull), 1000); /* 1000.02 */
    assert_int_equal(tsc_ns_to_ticks(1500000000ull, 50000000ull), 75000000ull);
    assert_int_equal(tsc_ns_to_ticks(999999999ull, 999999999999ull), 999999998999ull);
    assert_int_equal(tsc_ns_to_ticks(3600ull * 1000000000ull, 4000000000ull), 14400000000000ull);
    assert_int_equal(tsc_ns_to_ticks(UINT64_MAX, 4000000000ull), UINT64_MAX); /* saturates */
    assert_int_equal(tsc_ns_to_ticks(123456789, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pat),
        cmocka_unit_test(test_mtrr_msrs),
        cmocka_unit_test(test_mtrr_cap_and_reset),
        cmocka_unit_test(test_mtrr_def_type),
        cmocka_unit_test(test_mtrr_variable),
        cmocka_unit_test(test_mtrr_fixed),
        cmocka_unit_test(test_misc_enable),
        cmocka_unit_test(test_tsc_write),
        cmocka_unit_test(test_ns_to_ticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
