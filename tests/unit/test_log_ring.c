// unit-sources: kernel/log_ring.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/log_ring.h"

/* ---- collecting what log_ring_for_each emits ---- */

#define MAX_LINES 512

struct lines {
    size_t n;
    char line[MAX_LINES][300];
};

static struct lines got;

static void collect(const char *line, void *ctx)
{
    assert_ptr_equal(ctx, &got);
    assert_true(got.n < MAX_LINES);
    assert_true(strlen(line) < sizeof(got.line[0]));
    strcpy(got.line[got.n++], line);
}

static void iterate(const struct log_ring *r, size_t line_max)
{
    /* The scratch ends exactly at an allocation's end, so ASan sees a write past it (malloc(0)
     * would not do: ASan gives it a usable byte). */
    char *block = malloc(line_max + 8);
    memset(&got, 0, sizeof(got));
    log_ring_for_each(r, block + 8, line_max, collect, &got);
    free(block);
}

static void expect_lines(const char *const *want, size_t n)
{
    assert_int_equal(got.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(got.line[i], want[i]);
}

static void append(struct log_ring *r, const char *s)
{
    log_ring_append(r, s, strlen(s));
}

/* Each test gets a ring whose storage is exactly its size, so ASan catches stray indices. */
static char *storage;
static struct log_ring ring;

static void make_ring(size_t size)
{
    free(storage);
    storage = malloc(size ? size : 1);
    memset(storage, '?', size);
    log_ring_init(&ring, storage, size);
}

static int teardown(void **state)
{
    free(storage);
    storage = NULL;
    return 0;
}

/* ---- tests ---- */

static void test_init_and_empty(void **state)
{
    make_ring(32);
    assert_ptr_equal(ring.buf, storage);
    assert_int_equal(ring.size, 32);
    assert_int_equal(ring.start, 0);
    assert_int_equal(ring.used, 0);
    assert_int_equal(ring.dropped_lines, 0);
    iterate(&ring, 64);
    assert_int_equal(got.n, 0);
}

static void test_append_and_iterate(void **state)
{
    make_ring(64);
    append(&ring, "first");
    append(&ring, "second line");
    append(&ring, "3");
    assert_int_equal(ring.used, 6 + 12 + 2);
    assert_memory_equal(storage, "first\nsecond line\n3\n", 20);
    iterate(&ring, 64);
    const char *want[] = {"first", "second line", "3"};
    expect_lines(want, 3);
    assert_int_equal(ring.dropped_lines, 0);
}

static void test_append_uses_len_not_nul(void **state)
{
    make_ring(64);
    log_ring_append(&ring, "abcdef", 3);
    iterate(&ring, 64);
    const char *want[] = {"abc"};
    expect_lines(want, 1);
    assert_int_equal(ring.used, 4);
}

static void test_empty_line(void **state)
{
    make_ring(16);
    append(&ring, "");
    append(&ring, "x");
    append(&ring, "");
    iterate(&ring, 16);
    const char *want[] = {"", "x", ""};
    expect_lines(want, 3);
    assert_int_equal(ring.used, 4);
}

static void test_embedded_newline_replaced(void **state)
{
    make_ring(64);
    append(&ring, "a\nb\n\nc");
    append(&ring, "\n");
    iterate(&ring, 64);
    const char *want[] = {"a b  c", " "};
    expect_lines(want, 2);
}

static void test_fill_exactly(void **state)
{
    make_ring(16);
    append(&ring, "aaaa");    /* 5 */
    append(&ring, "bbbbbbb"); /* 8 */
    append(&ring, "cc");      /* 3: 16 exactly */
    assert_int_equal(ring.used, 16);
    assert_int_equal(ring.dropped_lines, 0);
    iterate(&ring, 16);
    const char *want[] = {"aaaa", "bbbbbbb", "cc"};
    expect_lines(want, 3);
}

static void test_drops_oldest_whole_lines(void **state)
{
    make_ring(16);
    append(&ring, "aaaa"); /* 0..4 */
    append(&ring, "bbbb"); /* 5..9 */
    append(&ring, "cccc"); /* 10..14: 15 used */
    append(&ring, "dd");   /* needs 3, 1 free: "aaaa" goes */
    assert_int_equal(ring.dropped_lines, 1);
    assert_int_equal(ring.start, 5);
    assert_int_equal(ring.used, 13);
    iterate(&ring, 16);
    const char *want[] = {"bbbb", "cccc", "dd"};
    expect_lines(want, 3);

    append(&ring, "eeeeeeeeee"); /* needs 11, 3 free: "bbbb" and "cccc" go */
    assert_int_equal(ring.dropped_lines, 3);
    iterate(&ring, 16);
    const char *want2[] = {"dd", "eeeeeeeeee"};
    expect_lines(want2, 2);
    assert_int_equal(ring.used, 14);
}

static void test_wrap_around(void **state)
{
    make_ring(10);
    append(&ring, "0123"); /* [0,5) */
    append(&ring, "abc");  /* [5,9) */
    append(&ring, "XYZ");  /* drops "0123", writes 9, 0, 1, 2 */
    assert_int_equal(ring.start, 5);
    assert_int_equal(ring.used, 8);
    assert_true(ring.start + ring.used > ring.size); /* the data really wraps */
    assert_int_equal(storage[9], 'X');
    assert_memory_equal(storage, "YZ\n", 3);
    iterate(&ring, 10);
    const char *want[] = {"abc", "XYZ"};
    expect_lines(want, 2);

    for (unsigned i = 0; i < 25; i++) { /* many laps */
        char s[12];
        snprintf(s, sizeof(s), "%u", i);
        append(&ring, s);
    }
    iterate(&ring, 10);
    const char *want3[] = {"22", "23", "24"};
    expect_lines(want3, 3);
    assert_true(ring.start < ring.size);
    assert_true(ring.used <= ring.size);
}

static void test_line_longer_than_ring(void **state)
{
    make_ring(8);
    append(&ring, "ab");
    append(&ring, "cd");
    append(&ring, "0123456789ABCDEF"); /* cut to 7 bytes + newline */
    assert_int_equal(ring.used, 8);
    assert_int_equal(ring.dropped_lines, 2);
    iterate(&ring, 32);
    const char *want[] = {"0123456"};
    expect_lines(want, 1);

    append(&ring, "z"); /* the long line goes as a whole */
    assert_int_equal(ring.dropped_lines, 3);
    iterate(&ring, 32);
    const char *want2[] = {"z"};
    expect_lines(want2, 1);
}

static void test_line_of_size_minus_one(void **state)
{
    make_ring(8);
    append(&ring, "1234567");
    assert_int_equal(ring.used, 8);
    iterate(&ring, 8); /* 7 characters + NUL fit the scratch exactly */
    const char *want[] = {"1234567"};
    expect_lines(want, 1);
}

static void test_tiny_rings_ignore_appends(void **state)
{
    make_ring(1);
    append(&ring, "abc");
    assert_int_equal(ring.used, 0);
    iterate(&ring, 8);
    assert_int_equal(got.n, 0);
    make_ring(0);
    append(&ring, "abc");
    assert_int_equal(ring.used, 0);
    make_ring(2); /* the smallest that holds anything: one character and its newline */
    append(&ring, "abc");
    iterate(&ring, 8);
    const char *want[] = {"a"};
    expect_lines(want, 1);
}

static void test_scratch_truncation(void **state)
{
    make_ring(64);
    append(&ring, "abcdefghij");
    append(&ring, "xy");
    append(&ring, "klmnop");
    iterate(&ring, 4); /* at most 3 characters per line */
    const char *want[] = {"abc", "xy", "klm"};
    expect_lines(want, 3);
    iterate(&ring, 1);
    const char *want1[] = {"", "", ""};
    expect_lines(want1, 3);
    iterate(&ring, 3); /* "xy" fits exactly */
    const char *want3[] = {"ab", "xy", "kl"};
    expect_lines(want3, 3);
}

/* Random appends against a model: a list of lines that forgets the oldest. */
static void test_against_model(void **state)
{
    static char model[4096][40];
    size_t head = 0, count = 0, bytes = 0, dropped = 0;
    uint32_t seed = 99;
    const size_t size = 97;
    make_ring(size);
    for (int iter = 0; iter < 4000; iter++) {
        seed = seed * 1664525u + 1013904223u;
        size_t len = (seed >> 10) % 39; /* 0..38; lines of 38 + 1 > size/3 */
        char s[40];
        for (size_t i = 0; i < len; i++)
            s[i] = (char)('a' + (seed >> (i % 20)) % 26);
        s[len] = 0;
        log_ring_append(&ring, s, len);

        while (bytes + len + 1 > size) {
            bytes -= strlen(model[head % 4096]) + 1;
            head++;
            count--;
            dropped++;
        }
        strcpy(model[(head + count) % 4096], s);
        count++;
        bytes += len + 1;

        assert_int_equal(ring.used, bytes);
        assert_int_equal(ring.dropped_lines, dropped);
        if (iter % 37 == 0) {
            iterate(&ring, 64);
            assert_int_equal(got.n, count);
            for (size_t i = 0; i < count; i++)
                assert_string_equal(got.line[i], model[(head + i) % 4096]);
        }
    }
    assert_true(dropped > 1000);
}

/* A zero-byte scratch buffer has no room even for the terminator: nothing is emitted and
 * nothing written (ASan checks). */
static void test_scratch_of_zero_bytes(void **state)
{
    make_ring(16);
    append(&ring, "abc");
    iterate(&ring, 0);
    assert_int_equal(got.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_init_and_empty, teardown),
        cmocka_unit_test_teardown(test_append_and_iterate, teardown),
        cmocka_unit_test_teardown(test_append_uses_len_not_nul, teardown),
        cmocka_unit_test_teardown(test_empty_line, teardown),
        cmocka_unit_test_teardown(test_embedded_newline_replaced, teardown),
        cmocka_unit_test_teardown(test_fill_exactly, teardown),
        cmocka_unit_test_teardown(test_drops_oldest_whole_lines, teardown),
        cmocka_unit_test_teardown(test_wrap_around, teardown),
        cmocka_unit_test_teardown(test_line_longer_than_ring, teardown),
        cmocka_unit_test_teardown(test_line_of_size_minus_one, teardown),
        cmocka_unit_test_teardown(test_tiny_rings_ignore_appends, teardown),
        cmocka_unit_test_teardown(test_scratch_truncation, teardown),
        cmocka_unit_test_teardown(test_against_model, teardown),
        /* last: a sanitizer report ends the process */
        cmocka_unit_test_teardown(test_scratch_of_zero_bytes, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
