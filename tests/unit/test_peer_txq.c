// unit-sources: net/peer_txq.c net/peer_stats.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/peer_stats.h"
#include "net/peer_txq.h"

/* Drains q completely into out, peek by peek; returns the byte count. */
static size_t drain(struct peer_txq *q, uint8_t *out)
{
    size_t total = 0, n;
    const uint8_t *p;
    while ((p = peer_txq_peek(q, &n)), n) {
        memcpy(out + total, p, n);
        total += n;
        peer_txq_consume(q, n);
    }
    return total;
}

static void test_push_all_or_nothing(void **state)
{
    uint8_t store[8], out[8];
    struct peer_txq q;
    peer_txq_init(&q, store, sizeof store);
    assert_int_equal(peer_txq_space(&q), 8);
    assert_int_equal(peer_txq_push(&q, "abcde", 5), CIVIC_OK);
    assert_int_equal(peer_txq_push(&q, "wxyz", 4), CIVIC_ERANGE);
    assert_int_equal(peer_txq_len(&q), 5); /* the refused push left nothing */
    assert_int_equal(peer_txq_push(&q, "xyz", 3), CIVIC_OK);
    assert_int_equal(peer_txq_space(&q), 0);
    assert_int_equal(peer_txq_push(&q, "", 0), CIVIC_OK);
    assert_int_equal(drain(&q, out), 8);
    assert_memory_equal(out, "abcdexyz", 8);
}

static void test_wraps(void **state)
{
    uint8_t store[8], out[8];
    struct peer_txq q;
    size_t n;
    peer_txq_init(&q, store, sizeof store);
    assert_int_equal(peer_txq_push(&q, "123456", 6), CIVIC_OK);
    peer_txq_consume(&q, 4);
    assert_int_equal(peer_txq_push(&q, "ABCDEF", 6), CIVIC_OK); /* 2 at the end, 4 wrap */
    const uint8_t *p = peer_txq_peek(&q, &n);
    assert_int_equal(n, 4); /* "56AB" contiguous up to the end of the ring */
    assert_memory_equal(p, "56AB", 4);
    peer_txq_consume(&q, 3);
    p = peer_txq_peek(&q, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(p, "B", 1);
    assert_int_equal(drain(&q, out), 5);
    assert_memory_equal(out, "BCDEF", 5);
    assert_int_equal(q.head, 0); /* empty rings restart at 0: the longest contiguous runs */
}

static void test_consume_clamps(void **state)
{
    uint8_t store[4];
    struct peer_txq q;
    size_t n;
    peer_txq_init(&q, store, sizeof store);
    assert_int_equal(peer_txq_push(&q, "ab", 2), CIVIC_OK);
    peer_txq_consume(&q, 100);
    assert_int_equal(peer_txq_len(&q), 0);
    peer_txq_peek(&q, &n);
    assert_int_equal(n, 0);
}

/* A long random run against a plain model: every byte comes out once, in order. */
static void test_random_against_model(void **state)
{
    enum { CAP = 97, TOTAL = 100000 };
    uint8_t store[CAP], chunk[CAP];
    struct peer_txq q;
    uint32_t seed = 12345, in = 0, out = 0;
    peer_txq_init(&q, store, CAP);
    while (out < TOTAL) {
        seed = seed * 1103515245u + 12345u;
        size_t want = (seed >> 8) % CAP;
        if (in < TOTAL && want <= peer_txq_space(&q)) {
            for (size_t i = 0; i < want; i++)
                chunk[i] = (uint8_t)(in + i);
            assert_int_equal(peer_txq_push(&q, chunk, want), CIVIC_OK);
            in += (uint32_t)want;
        }
        size_t n;
        const uint8_t *p = peer_txq_peek(&q, &n);
        size_t take = n ? (seed >> 16) % (n + 1) : 0;
        for (size_t i = 0; i < take; i++)
            assert_int_equal(p[i], (uint8_t)(out + i));
        peer_txq_consume(&q, take);
        out += (uint32_t)take;
        assert_int_equal(peer_txq_len(&q), in - out);
    }
}

static void test_percentiles(void **state)
{
    uint64_t s[200];
    struct peer_lat_summary r;
    for (int i = 0; i < 200; i++)
        s[i] = (uint64_t)(199 - i) * 10 + 5; /* 5, 15, ..., 1995 in reverse */
    peer_lat_summarize(s, 200, &r);
    assert_int_equal(r.min, 5);
    assert_int_equal(r.max, 1995);
    assert_int_equal(r.median, 995);  /* the 100th smallest */
    assert_int_equal(r.p99, 1975);    /* the 198th smallest */
    for (int i = 1; i < 200; i++)
        assert_true(s[i - 1] <= s[i]);
}

static void test_percentile_edges(void **state)
{
    uint64_t one[1] = {42}, three[3] = {9, 1, 5};
    struct peer_lat_summary r;
    peer_lat_summarize(NULL, 0, &r);
    assert_int_equal(r.min + r.median + r.p99 + r.max, 0);
    peer_lat_summarize(one, 1, &r);
    assert_int_equal(r.min, 42);
    assert_int_equal(r.p99, 42);
    peer_lat_summarize(three, 3, &r);
    assert_int_equal(r.median, 5); /* ceil(1.5) = 2nd */
    assert_int_equal(r.p99, 9);
    assert_int_equal(peer_lat_percentile(three, 3, 0), 1);   /* clamped to p1 */
    assert_int_equal(peer_lat_percentile(three, 3, 250), 9); /* clamped to p100 */
}

static void test_sort_large(void **state)
{
    enum { N = 5000 };
    uint64_t *s = malloc(N * sizeof *s);
    uint32_t seed = 7;
    struct peer_lat_summary r;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        s[i] = seed % 1000;
    }
    peer_lat_summarize(s, N, &r);
    for (int i = 1; i < N; i++)
        assert_true(s[i - 1] <= s[i]);
    assert_int_equal(r.p99, s[4949]);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_all_or_nothing), cmocka_unit_test(test_wraps),
        cmocka_unit_test(test_consume_clamps),      cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_percentiles),         cmocka_unit_test(test_percentile_edges),
        cmocka_unit_test(test_sort_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
