// unit-sources: kernel/format.c
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/format.h"

/*
 * Both formatters get the format through these wrappers, so combinations the compiler would
 * flag at a literal (valid C, but unusual) can still be compared.
 */
static int host_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static int k_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- comparison against the host's snprintf ---- */

static unsigned mismatches;
static unsigned compared;

static void report(const char *fmt, const char *value, const char *want, int want_n,
                   const char *got, int got_n)
{
    if (mismatches++ < 25)
        print_message("mismatch: fmt \"%s\" value %s: host \"%s\" (%d), kernel \"%s\" (%d)\n", fmt,
                      value, want, want_n, got, got_n);
}

#define COMPARE(fmt, vstr, ...)                                                                    \
    do {                                                                                           \
        char want_[512], got_[512];                                                                \
        memset(want_, 0x5a, sizeof(want_));                                                        \
        memset(got_, 0x5a, sizeof(got_));                                                          \
        int wn_ = host_fmt(want_, sizeof(want_), fmt, __VA_ARGS__);                                \
        int gn_ = k_fmt(got_, sizeof(got_), fmt, __VA_ARGS__);                                     \
        compared++;                                                                                \
        if (wn_ != gn_ || memcmp(want_, got_, (size_t)wn_ + 1) != 0)                               \
            report(fmt, vstr, want_, wn_, got_, gn_);                                              \
    } while (0)

static int reset(void **state)
{
    mismatches = 0;
    compared = 0;
    return 0;
}

static void assert_no_mismatch(unsigned min_compared)
{
    assert_true(compared >= min_compared);
    if (mismatches)
        fail_msg("%u of %u formats differ from the host snprintf", mismatches, compared);
}

static const char *const widths[] = {"", "1", "6", "25"};
static const char *const precisions[] = {"", ".0", ".1", ".4", ".22"};

/* Calls fn for every format "%<flags><width><precision><length><conv>" with flags drawn from
 * the allowed set. */
static void for_each_format(const char *allowed_flags, const char *length, char conv,
                            void (*fn)(const char *fmt))
{
    size_t nf = strlen(allowed_flags);
    for (unsigned mask = 0; mask < (1u << nf); mask++) {
        char flags[8];
        size_t k = 0;
        for (size_t i = 0; i < nf; i++)
            if (mask & (1u << i))
                flags[k++] = allowed_flags[i];
        flags[k] = 0;
        for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++)
            for (size_t pi = 0; pi < sizeof(precisions) / sizeof(precisions[0]); pi++) {
                char fmt[32];
                snprintf(fmt, sizeof(fmt), "[%%%s%s%s%s%c]", flags, widths[wi], precisions[pi],
                         length, conv);
                fn(fmt);
            }
    }
}

/*
 * "%#.0o" of 0 makes kernel/format.c read buf[-1] (UBSan ends the run), so the sweeps leave that
 * one case to test_alt_octal_zero_precision_zero, which runs last.
 */
static bool kernel_ub_case(const char *fmt, bool zero)
{
    size_t n = strlen(fmt);
    return zero && strchr(fmt, '#') && strstr(fmt, ".0") && n >= 2 && fmt[n - 2] == 'o';
}

static const int int_values[] = {0, 1, -1, 7, -42, 12345, INT_MAX, INT_MIN};
static const unsigned uint_values[] = {0, 1, 7, 8, 255, 0xdeadbeefu, UINT_MAX};

static void int_fmt(const char *fmt)
{
    for (size_t i = 0; i < sizeof(int_values) / sizeof(int_values[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%d", int_values[i]);
        COMPARE(fmt, v, int_values[i]);
    }
}

static void uint_fmt(const char *fmt)
{
    for (size_t i = 0; i < sizeof(uint_values) / sizeof(uint_values[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%u", uint_values[i]);
        if (kernel_ub_case(fmt, uint_values[i] == 0))
            continue;
        COMPARE(fmt, v, uint_values[i]);
    }
}

static const long long ll_values[] = {0,      -1,           300,       65537,
                                      -65537, 4294967296ll, LLONG_MAX, LLONG_MIN};

static void ll_fmt(const char *fmt)
{
    for (size_t i = 0; i < sizeof(ll_values) / sizeof(ll_values[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", ll_values[i]);
        if (kernel_ub_case(fmt, ll_values[i] == 0))
            continue;
        COMPARE(fmt, v, ll_values[i]);
    }
}

static void l_fmt(const char *fmt)
{
    for (size_t i = 0; i < sizeof(ll_values) / sizeof(ll_values[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", ll_values[i]);
        COMPARE(fmt, v, (long)ll_values[i]);
    }
}

static void size_fmt(const char *fmt)
{
    for (size_t i = 0; i < sizeof(ll_values) / sizeof(ll_values[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", ll_values[i]);
        COMPARE(fmt, v, (size_t)ll_values[i]);
    }
}

static void intmax_fmt(const char *fmt)
{
    for (size_t i = 0; i < sizeof(ll_values) / sizeof(ll_values[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", ll_values[i]);
        COMPARE(fmt, v, (intmax_t)ll_values[i]);
    }
}

/* hh and h take an int argument and convert it to the short type. */
static void short_fmt(const char *fmt)
{
    static const int v_[] = {0,   5,       -5,    127,   128,   200,       -129,
                             255, 256 + 7, 32767, 32768, 65535, 65536 + 3, -32769};
    for (size_t i = 0; i < sizeof(v_) / sizeof(v_[0]); i++) {
        char v[32];
        snprintf(v, sizeof(v), "%d", v_[i]);
        if (kernel_ub_case(fmt, (v_[i] & 0xff) == 0))
            continue;
        COMPARE(fmt, v, v_[i]);
    }
}

static void test_signed_int(void **state)
{
    for_each_format("-+ 0", "", 'd', int_fmt);
    for_each_format("-+ 0", "", 'i', int_fmt);
    assert_no_mismatch(2 * 16 * 20 * 8);
}

static void test_unsigned_int(void **state)
{
    for_each_format("-0", "", 'u', uint_fmt);
    for_each_format("-0#", "", 'x', uint_fmt);
    for_each_format("-0#", "", 'X', uint_fmt);
    for_each_format("-0#", "", 'o', uint_fmt);
    assert_no_mismatch(4 * 20 * 7);
}

static void test_length_modifiers(void **state)
{
    for_each_format("-+ 0", "ll", 'd', ll_fmt);
    for_each_format("-+ 0", "l", 'i', l_fmt);
    for_each_format("-+ 0", "j", 'd', intmax_fmt);
    for_each_format("-0#", "ll", 'x', ll_fmt);
    for_each_format("-0#", "ll", 'o', ll_fmt);
    for_each_format("-0", "l", 'u', l_fmt);
    for_each_format("-0", "z", 'u', size_fmt);
    for_each_format("-0#", "z", 'x', size_fmt);
    for_each_format("-0", "t", 'd', size_fmt);
    for_each_format("-+ 0", "hh", 'd', short_fmt);
    for_each_format("-+ 0", "h", 'd', short_fmt);
    for_each_format("-0#", "hh", 'x', short_fmt);
    for_each_format("-0", "hh", 'u', short_fmt);
    for_each_format("-0#", "h", 'X', short_fmt);
    for_each_format("-0#", "h", 'o', short_fmt);
    assert_no_mismatch(10000);
}

static void str_fmt(const char *fmt)
{
    static const char *const v_[] = {"", "a", "hello", "a longer string than most widths"};
    for (size_t i = 0; i < sizeof(v_) / sizeof(v_[0]); i++)
        COMPARE(fmt, v_[i], v_[i]);
}

static void char_fmt(const char *fmt)
{
    static const int v_[] = {'a', 'Z', ' ', 0xe9};
    for (size_t i = 0; i < sizeof(v_) / sizeof(v_[0]); i++)
        COMPARE(fmt, "char", v_[i]);
}

static void test_strings_and_chars(void **state)
{
    for_each_format("-", "", 's', str_fmt);
    /* precision with %c is undefined in C: widths only */
    static const char *const cfmts[] = {"[%c]", "[%1c]", "[%5c]", "[%-5c]", "[%-1c]"};
    for (size_t i = 0; i < sizeof(cfmts) / sizeof(cfmts[0]); i++)
        char_fmt(cfmts[i]);
    assert_no_mismatch(2 * 20 * 4);
}

static void test_char_nul_counts(void **state)
{
    char buf[16];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(ksnprintf(buf, sizeof(buf), "a%cb", 0), 3);
    assert_memory_equal(buf, "a\0b", 4);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%3c|%-3c|", 0, 0), 8);
    assert_memory_equal(buf, "  \0|\0  |", 9);
}

static void test_plus_space_on_unsigned_have_no_effect(void **state)
{
    /* C 7.21.6.1: '+' and ' ' concern signed conversions only. */
    COMPARE("[%+u]", "5", 5u);
    COMPARE("[% u]", "5", 5u);
    COMPARE("[%+x]", "255", 255u);
    COMPARE("[% o]", "8", 8u);
    COMPARE("[%+5u]", "5", 5u);
    assert_no_mismatch(5);
}

static void test_literal_and_percent(void **state)
{
    char buf[64];
    assert_int_equal(ksnprintf(buf, sizeof(buf), "plain text"), 10);
    assert_string_equal(buf, "plain text");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "100%% sure %d%%", 5), 12);
    assert_string_equal(buf, "100% sure 5%");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%s", ""), 0);
    assert_string_equal(buf, "");
}

static void test_extremes(void **state)
{
    char buf[64];
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%lld", (long long)INT64_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%ld", LONG_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%jd", INTMAX_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%d", INT_MIN), 11);
    assert_string_equal(buf, "-2147483648");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%llu", (unsigned long long)UINT64_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%llo", (unsigned long long)UINT64_MAX), 22);
    assert_string_equal(buf, "1777777777777777777777");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%#llX", (unsigned long long)UINT64_MAX), 18);
    assert_string_equal(buf, "0XFFFFFFFFFFFFFFFF");
    assert_int_equal(k_fmt(buf, sizeof(buf), "%hhd", 128), 4); /* int 128 as signed char */
    assert_string_equal(buf, "-128");
}

static void test_pointer(void **state)
{
    char want[64], got[64];
    void *ptrs[] = {(void *)0x1, (void *)0xdeadbeef, (void *)0xffffffff80001000ull};
    for (size_t i = 0; i < 3; i++) {
        /* glibc's %p: 0x and lowercase hex, as the kernel's */
        snprintf(want, sizeof(want), "%p", ptrs[i]);
        assert_int_equal(ksnprintf(got, sizeof(got), "%p", ptrs[i]), strlen(want));
        assert_string_equal(got, want);
        snprintf(want, sizeof(want), "[%20p]", ptrs[i]);
        ksnprintf(got, sizeof(got), "[%20p]", ptrs[i]);
        assert_string_equal(got, want);
        snprintf(want, sizeof(want), "[%-20p]", ptrs[i]);
        ksnprintf(got, sizeof(got), "[%-20p]", ptrs[i]);
        assert_string_equal(got, want);
    }
    assert_int_equal(ksnprintf(got, sizeof(got), "%p", (void *)0xffffffff80001000ull), 18);
    assert_string_equal(got, "0xffffffff80001000");
}

static void test_pointer_null(void **state)
{
    /* Implementation-defined in C; a pointer should read as one, with its 0x like any other. */
    char got[64];
    ksnprintf(got, sizeof(got), "%p", NULL);
    assert_string_equal(got, "0x0");
}

static void test_null_string(void **state)
{
    char buf[64];
    /* through k_fmt: gcc rejects a literal NULL for %s at compile time */
    assert_int_equal(k_fmt(buf, sizeof(buf), "%s", (char *)NULL), 6);
    assert_string_equal(buf, "(null)");
    assert_int_equal(k_fmt(buf, sizeof(buf), "[%8s]", (char *)NULL), 10);
    assert_string_equal(buf, "[  (null)]");
    assert_int_equal(k_fmt(buf, sizeof(buf), "[%-8s]", (char *)NULL), 10);
    assert_string_equal(buf, "[(null)  ]");
}

/* C: with a precision, %s reads at most that many bytes; the array need not be terminated. */
static void test_string_precision_reads_no_further(void **state)
{
    char *s = malloc(3);
    memcpy(s, "abc", 3); /* no NUL: ASan reports any read of s[3] */
    char buf[16];
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%.3s", s), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(ksnprintf(buf, sizeof(buf), "%.2s", s), 2);
    assert_string_equal(buf, "ab");
    free(s);
}

static void test_unknown_conversions_literal(void **state)
{
    char buf[64];
    assert_int_equal(k_fmt(buf, sizeof(buf), "a%yb"), 4);
    assert_string_equal(buf, "a%yb");
    assert_int_equal(k_fmt(buf, sizeof(buf), "[%-08.3y]"), 9);
    assert_string_equal(buf, "[%-08.3y]");
    assert_int_equal(k_fmt(buf, sizeof(buf), "%lq"), 3);
    assert_string_equal(buf, "%lq");
    assert_int_equal(k_fmt(buf, sizeof(buf), "%n"), 2); /* never writes through a pointer */
    assert_string_equal(buf, "%n");
    assert_int_equal(k_fmt(buf, sizeof(buf), "end%"), 4);
    assert_string_equal(buf, "end%");
    assert_int_equal(k_fmt(buf, sizeof(buf), "end%5"), 5);
    assert_string_equal(buf, "end%5");
    assert_int_equal(k_fmt(buf, sizeof(buf), "%y then %d", 7), 9);
    assert_string_equal(buf, "%y then 7");
}

static void test_star_width_precision(void **state)
{
    COMPARE("[%*d]", "5,42", 5, 42);
    COMPARE("[%-*d]", "5,42", 5, 42);
    COMPARE("[%*d]", "-5,42", -5, 42); /* negative width: '-' flag and the absolute value */
    COMPARE("[%0*d]", "-5,42", -5, 42);
    COMPARE("[%*s]", "-7,ab", -7, "ab");
    COMPARE("[%.*d]", "4,42", 4, 42);
    COMPARE("[%.*d]", "-4,42", -4, 42); /* negative precision: as if omitted */
    COMPARE("[%08.*d]", "-1,42", -1, 42);
    COMPARE("[%08.*d]", "3,42", 3, 42);
    COMPARE("[%*.*x]", "10,6,0xbeef", 10, 6, 0xbeefu);
    COMPARE("[%-*.*s]", "8,3,hello", 8, 3, "hello");
    COMPARE("[%.*s]", "0,hello", 0, "hello");
    COMPARE("[%*d|%*d]", "3,1,-3,2", 3, 1, -3, 2);
    assert_no_mismatch(13);
}

/* C: '#' with o raises the precision only as far as needed for a leading 0; 0 with precision 0
 * and '#' is "0". */
static void test_alt_octal_zero_precision_zero(void **state)
{
    COMPARE("[%#.0o]", "0", 0u);
    COMPARE("[%#5.0o]", "0", 0u);
    COMPARE("[%#.0llo]", "0", 0ull);
    assert_no_mismatch(3);
}

/* ---- ksnprintf truncation ---- */

static void test_truncation(void **state)
{
    char buf[16];

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 0, "hello %d", 12345), 11);
    assert_int_equal(buf[0], '#'); /* size 0: nothing written */
    assert_int_equal(ksnprintf(NULL, 0, "hello %d", 12345), 11);

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 1, "hello"), 5);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], '#');

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 6, "hello"), 5); /* exact fit */
    assert_string_equal(buf, "hello");
    assert_int_equal(buf[6], '#');

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 5, "hello"), 5); /* one short */
    assert_string_equal(buf, "hell");
    assert_int_equal(buf[5], '#');

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 8, "%20s|", "x"), 21);
    assert_string_equal(buf, "       ");
    assert_int_equal(buf[8], '#');

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ksnprintf(buf, 4, "%c%c%c%c%c", 'a', 'b', 'c', 'd', 'e'), 5);
    assert_string_equal(buf, "abc");
}

/* Truncation against the host for every size from 0 to past the end. */
static void test_truncation_every_size(void **state)
{
    const char *fmt = "%-6s|%+05d|%#x|%c";
    char full[64];
    int n = host_fmt(full, sizeof(full), fmt, "ab", 42, 255u, 'q');
    for (size_t size = 0; size <= (size_t)n + 2; size++) {
        char want[64], got[64];
        memset(want, '#', sizeof(want));
        memset(got, '#', sizeof(got));
        assert_int_equal(host_fmt(want, size, fmt, "ab", 42, 255u, 'q'), n);
        assert_int_equal(k_fmt(got, size, fmt, "ab", 42, 255u, 'q'), n);
        assert_memory_equal(got, want, sizeof(want));
    }
}

static int emit_count;
static void count_emit(void *ctx, char c)
{
    (void)c;
    (*(int *)ctx)++;
}

static int call_kvformat(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(count_emit, &emit_count, fmt, ap);
    va_end(ap);
    return n;
}

static void test_kvformat_counts_emits(void **state)
{
    emit_count = 0;
    assert_int_equal(call_kvformat("%5d|%s|%c", -3, "abc", 0), 11);
    assert_int_equal(emit_count, 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_signed_int, reset),
        cmocka_unit_test_setup(test_unsigned_int, reset),
        cmocka_unit_test_setup(test_length_modifiers, reset),
        cmocka_unit_test_setup(test_strings_and_chars, reset),
        cmocka_unit_test_setup(test_char_nul_counts, reset),
        cmocka_unit_test_setup(test_plus_space_on_unsigned_have_no_effect, reset),
        cmocka_unit_test_setup(test_literal_and_percent, reset),
        cmocka_unit_test_setup(test_extremes, reset),
        cmocka_unit_test_setup(test_pointer, reset),
        cmocka_unit_test_setup(test_pointer_null, reset),
        cmocka_unit_test_setup(test_null_string, reset),
        cmocka_unit_test_setup(test_unknown_conversions_literal, reset),
        cmocka_unit_test_setup(test_star_width_precision, reset),
        cmocka_unit_test_setup(test_truncation, reset),
        cmocka_unit_test_setup(test_truncation_every_size, reset),
        cmocka_unit_test_setup(test_kvformat_counts_emits, reset),
        /* last: these two find out-of-bounds reads, and a sanitizer report ends the process */
        cmocka_unit_test_setup(test_alt_octal_zero_precision_zero, reset),
        cmocka_unit_test_setup(test_string_precision_reads_no_further, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
