// unit-sources: mm/heap.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm/heap.h"

/* A page source over aligned_alloc that checks the heap's use of it. Freed pages are kept
 * (quarantined) until the test ends so that double-free checks read valid memory. */
#define MAX_PAGES 8192
struct test_src {
    struct {
        void *p;
        unsigned order;
        bool freed;
    } pages[MAX_PAGES];
    unsigned n;
    unsigned live_pages; /* in 4 KiB units */
    bool fail;
};

static struct test_src *src;
static struct heap heap;

static void *src_alloc(void *ctx, unsigned order)
{
    struct test_src *s = ctx;
    if (s->fail)
        return NULL;
    if (s->n == MAX_PAGES) {
        /* Quarantine full: really release what the heap gave back. */
        unsigned k = 0;
        for (unsigned i = 0; i < s->n; i++) {
            if (s->pages[i].freed)
                free(s->pages[i].p);
            else
                s->pages[k++] = s->pages[i];
        }
        s->n = k;
    }
    assert_true(s->n < MAX_PAGES);
    void *p = aligned_alloc(4096, (size_t)4096 << order);
    assert_non_null(p);
    memset(p, 0xee, (size_t)4096 << order); /* garbage, as fresh frames would hold */
    s->pages[s->n].p = p;
    s->pages[s->n].order = order;
    s->pages[s->n].freed = false;
    s->n++;
    s->live_pages += 1u << order;
    return p;
}

static void src_free(void *ctx, void *p, unsigned order)
{
    struct test_src *s = ctx;
    for (unsigned i = 0; i < s->n; i++) {
        if (s->pages[i].p == p) {
            assert_false(s->pages[i].freed);
            assert_int_equal(s->pages[i].order, order);
            s->pages[i].freed = true;
            s->live_pages -= 1u << order;
            return;
        }
    }
    fail_msg("heap freed pages it never got: %p", p);
}

static int setup(void **state)
{
    src = calloc(1, sizeof(*src));
    assert_non_null(src);
    struct heap_page_source ps = {.alloc_pages = src_alloc, .free_pages = src_free, .ctx = src};
    heap_init(&heap, &ps);
    return 0;
}

static int teardown(void **state)
{
    for (unsigned i = 0; i < src->n; i++)
        free(src->pages[i].p);
    free(src);
    src = NULL;
    return 0;
}

static struct heap_stats stats(void)
{
    struct heap_stats st;
    heap_get_stats(&heap, &st);
    /* The heap's idea of what it holds matches what the source handed out. */
    assert_int_equal(st.bytes_reserved, (uint64_t)src->live_pages * 4096);
    return st;
}

static void fill(void *p, size_t n, uint32_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void check(const void *p, size_t n, uint32_t seed)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != (uint8_t)(seed * 31 + i * 7 + (i >> 8)))
            fail_msg("pattern broken at %zu of %zu (seed %u)", i, n, seed);
    }
}

static void test_free_null(void **state)
{
    assert_int_equal(heap_free(&heap, NULL), CIVIC_OK);
    struct heap_stats st = stats();
    assert_int_equal(st.bad_frees, 0);
    assert_int_equal(st.live_allocations, 0);
    assert_int_equal(st.bytes_reserved, 0);
}

static void test_many_sizes(void **state)
{
    static void *p[4200];
    uint64_t want = 0;
    unsigned n = 0;
    for (size_t size = 0; size <= 4100; size++) {
        p[n] = heap_alloc(&heap, size);
        assert_non_null(p[n]);
        assert_int_equal((uintptr_t)p[n] & 15, 0);
        fill(p[n], size, (uint32_t)size);
        want += size;
        n++;
    }
    struct heap_stats st = stats();
    assert_int_equal(st.bytes_requested, want);
    assert_int_equal(st.live_allocations, n);
    assert_int_equal(st.total_allocations, n);
    assert_int_equal(st.failed_allocations, 0);
    for (unsigned i = 0; i < n; i++) {
        check(p[i], i, i);
        assert_int_equal(heap_free(&heap, p[i]), CIVIC_OK);
    }
    st = stats();
    assert_int_equal(st.bytes_requested, 0);
    assert_int_equal(st.live_allocations, 0);
    assert_int_equal(st.total_allocations, n);
    assert_int_equal(st.bad_frees, 0);
    /* At most one cached empty slab per class, nothing else. */
    assert_true(st.bytes_reserved <= HEAP_SIZE_CLASSES * 4096);
}

static void test_objects_distinct(void **state)
{
    /* Objects of one class never overlap, and the slab packs many of them in a page. */
    enum { N = 1000 };
    static uint8_t *p[N];
    for (unsigned i = 0; i < N; i++) {
        p[i] = heap_alloc(&heap, 16);
        assert_non_null(p[i]);
        memset(p[i], (int)(i & 0xff), 16);
    }
    for (unsigned i = 0; i < N; i++)
        for (unsigned j = 0; j < 16; j++)
            assert_int_equal(p[i][j], i & 0xff);
    struct heap_stats st = stats();
    assert_true(st.bytes_reserved <= 6 * 4096); /* >= ~200 objects per page */
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(heap_free(&heap, p[i]), CIVIC_OK);
}

static void test_zalloc(void **state)
{
    uint8_t *a = heap_alloc(&heap, 200);
    assert_non_null(a);
    memset(a, 0x5a, 200);
    assert_int_equal(heap_free(&heap, a), CIVIC_OK);
    for (size_t size = 1; size < 9000; size = size * 3 + 1) {
        uint8_t *z = heap_zalloc(&heap, size);
        assert_non_null(z);
        for (size_t i = 0; i < size; i++)
            assert_int_equal(z[i], 0);
        assert_int_equal(heap_free(&heap, z), CIVIC_OK);
    }
    src->fail = true;
    assert_null(heap_zalloc(&heap, 5000));
}

static void test_double_free(void **state)
{
    void *a = heap_alloc(&heap, 24);
    void *b = heap_alloc(&heap, 24);
    void *big = heap_alloc(&heap, 10000);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(big);
    assert_int_equal(heap_free(&heap, a), CIVIC_OK);
    struct heap_stats before = stats();
    assert_int_equal(heap_free(&heap, a), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, big), CIVIC_OK);
    assert_int_equal(heap_free(&heap, big), CIVIC_EINVAL);
    struct heap_stats st = stats();
    assert_int_equal(st.bad_frees, 2);
    assert_int_equal(st.live_allocations, 1);
    assert_int_equal(st.bytes_requested, 24);
    assert_int_equal(st.bytes_reserved, before.bytes_reserved - 4 * 4096);
    /* The slab still works: the freed slot comes back once, b stays intact. */
    memset(b, 0x77, 24);
    void *c = heap_alloc(&heap, 24);
    void *d = heap_alloc(&heap, 24);
    assert_ptr_not_equal(c, b);
    assert_ptr_not_equal(d, b);
    assert_ptr_not_equal(c, d);
    for (int i = 0; i < 24; i++)
        assert_int_equal(((uint8_t *)b)[i], 0x77);
    /* Freeing the last object of a slab whose cache slot is taken returns the page. */
    assert_int_equal(heap_free(&heap, b), CIVIC_OK);
    assert_int_equal(heap_free(&heap, c), CIVIC_OK);
    assert_int_equal(heap_free(&heap, d), CIVIC_OK);
    assert_int_equal(heap_free(&heap, d), CIVIC_EINVAL);
    st = stats();
    assert_int_equal(st.bad_frees, 3);
    assert_int_equal(st.live_allocations, 0);
}

static void test_interior_pointers(void **state)
{
    uint8_t *a = heap_alloc(&heap, 100);
    uint8_t *big = heap_alloc(&heap, 3 * 4096);
    assert_non_null(a);
    assert_non_null(big);
    memset(big, 0, 3 * 4096);
    struct heap_stats before = stats();
    assert_int_equal(heap_free(&heap, a + 1), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, a + 16), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, a + 64), CIVIC_EINVAL);
    uint8_t *page = (uint8_t *)((uintptr_t)a & ~(uintptr_t)4095);
    assert_int_equal(heap_free(&heap, page), CIVIC_EINVAL);      /* the slab header */
    assert_int_equal(heap_free(&heap, page + 16), CIVIC_EINVAL); /* inside the header */
    assert_int_equal(heap_free(&heap, big + 16), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, big - 16), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, big + 4096), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, big + 2 * 4096 + 8), CIVIC_EINVAL);
    struct heap_stats st = stats();
    assert_int_equal(st.bad_frees, 9);
    assert_int_equal(st.live_allocations, before.live_allocations);
    assert_int_equal(st.bytes_requested, before.bytes_requested);
    assert_int_equal(heap_free(&heap, a), CIVIC_OK);
    assert_int_equal(heap_free(&heap, big), CIVIC_OK);
    st = stats();
    assert_int_equal(st.live_allocations, 0);
    assert_int_equal(st.bytes_requested, 0);
}

static void test_foreign_pointers(void **state)
{
    uint8_t *foreign = aligned_alloc(4096, 4096);
    assert_non_null(foreign);
    memset(foreign, 0, 4096);
    assert_int_equal(heap_free(&heap, foreign + 64), CIVIC_EINVAL);
    /* A byte-for-byte copy of a real slab header does not validate. */
    uint8_t *a = heap_alloc(&heap, 32);
    assert_non_null(a);
    uint8_t *page = (uint8_t *)((uintptr_t)a & ~(uintptr_t)4095);
    memcpy(foreign, page, 4096);
    assert_int_equal(heap_free(&heap, foreign + (a - page)), CIVIC_EINVAL);
    /* Nor does a pointer from another heap. */
    struct heap other;
    struct heap_page_source ps = {.alloc_pages = src_alloc, .free_pages = src_free, .ctx = src};
    heap_init(&other, &ps);
    void *o = heap_alloc(&other, 32);
    void *ob = heap_alloc(&other, 8192);
    assert_int_equal(heap_free(&heap, o), CIVIC_EINVAL);
    assert_int_equal(heap_free(&heap, ob), CIVIC_EINVAL);
    assert_int_equal(heap_free(&other, o), CIVIC_OK);
    assert_int_equal(heap_free(&other, ob), CIVIC_OK);
    struct heap_stats st;
    heap_get_stats(&heap, &st);
    assert_int_equal(st.bad_frees, 4);
    assert_int_equal(st.live_allocations, 1);
    assert_int_equal(heap_free(&heap, a), CIVIC_OK);
    free(foreign);
}

static void test_large(void **state)
{
    static const struct {
        size_t size;
        unsigned pages;
    } cases[] = {
        {2049, 1}, {4096 - 32, 1}, {4096 - 31, 2}, {8192, 4}, {100000, 32}, {1 << 20, 512},
    };
    void *p[6];
    uint64_t reserved = 0, requested = 0;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p[i] = heap_alloc(&heap, cases[i].size);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] & 15, 0);
        fill(p[i], cases[i].size, i);
        reserved += cases[i].pages * 4096ull;
        requested += cases[i].size;
        struct heap_stats st = stats();
        assert_int_equal(st.bytes_reserved, reserved);
        assert_int_equal(st.bytes_requested, requested);
    }
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check(p[i], cases[i].size, i);
        assert_int_equal(heap_free(&heap, p[i]), CIVIC_OK);
    }
    struct heap_stats st = stats();
    assert_int_equal(st.bytes_reserved, 0); /* large pages go straight back */
    assert_int_equal(st.bytes_requested, 0);
    /* Absurd sizes fail cleanly. */
    assert_null(heap_alloc(&heap, SIZE_MAX));
    assert_null(heap_alloc(&heap, SIZE_MAX - 4096));
    st = stats();
    assert_int_equal(st.failed_allocations, 2);
}

static void test_source_failure(void **state)
{
    void *a = heap_alloc(&heap, 64);
    assert_non_null(a);
    src->fail = true;
    /* The partial slab still serves its class. */
    void *b = heap_alloc(&heap, 64);
    assert_non_null(b);
    assert_null(heap_alloc(&heap, 16));
    assert_null(heap_alloc(&heap, 2048));
    assert_null(heap_alloc(&heap, 5000));
    struct heap_stats st = stats();
    assert_int_equal(st.failed_allocations, 3);
    assert_int_equal(st.live_allocations, 2);
    assert_int_equal(st.total_allocations, 2);
    assert_int_equal(st.bytes_requested, 128);
    src->fail = false;
    void *c = heap_alloc(&heap, 16);
    assert_non_null(c);
    assert_int_equal(heap_free(&heap, a), CIVIC_OK);
    assert_int_equal(heap_free(&heap, b), CIVIC_OK);
    assert_int_equal(heap_free(&heap, c), CIVIC_OK);
    st = stats();
    assert_int_equal(st.live_allocations, 0);
    assert_int_equal(st.bad_frees, 0);
}

static void test_empty_slabs_returned(void **state)
{
    enum { N = 300 };
    static void *p[N];
    for (unsigned i = 0; i < N; i++)
        assert_non_null(p[i] = heap_alloc(&heap, 64)); /* several pages */
    struct heap_stats st = stats();
    assert_true(st.bytes_reserved >= 4 * 4096);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(heap_free(&heap, p[i]), CIVIC_OK);
    st = stats();
    assert_int_equal(st.bytes_reserved, 4096); /* one kept for the class */
    /* 2048-byte objects: one per slab. */
    void *x = heap_alloc(&heap, 2048), *y = heap_alloc(&heap, 2048);
    assert_non_null(x);
    assert_non_null(y);
    st = stats();
    assert_int_equal(st.bytes_reserved, 3 * 4096);
    assert_int_equal(heap_free(&heap, x), CIVIC_OK);
    assert_int_equal(heap_free(&heap, y), CIVIC_OK);
    st = stats();
    assert_int_equal(st.bytes_reserved, 2 * 4096);
    /* The cached slab is reused without asking the source. */
    src->fail = true;
    assert_non_null(x = heap_alloc(&heap, 2048));
    assert_non_null(y = heap_alloc(&heap, 40));
    assert_int_equal(heap_free(&heap, x), CIVIC_OK);
    assert_int_equal(heap_free(&heap, y), CIVIC_OK);
}

static void test_use_after_free_link_damage(void **state)
{
    /* A write into a free object smashes its free-list link; the heap must not hand out a live
     * object because of it. */
    uint8_t *p[8];
    for (int i = 0; i < 8; i++)
        assert_non_null(p[i] = heap_alloc(&heap, 32));
    assert_int_equal(heap_free(&heap, p[3]), CIVIC_OK);
    assert_int_equal(heap_free(&heap, p[5]), CIVIC_OK);
    memset(p[5], 0, 32); /* link now says "object 0", which is live */
    for (int i = 0; i < 8; i++)
        if (i != 3 && i != 5)
            memset(p[i], 0x40 + i, 32);
    uint8_t *q[16];
    for (int i = 0; i < 16; i++) {
        q[i] = heap_alloc(&heap, 32);
        assert_non_null(q[i]);
        for (int j = 0; j < 8; j++)
            if (j != 3 && j != 5)
                assert_ptr_not_equal(q[i], p[j]);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(q[i], q[j]);
    }
}

static void test_random_stress(void **state)
{
    enum { SLOTS = 1500, STEPS = 60000 };
    static struct {
        uint8_t *p;
        size_t size;
        uint32_t seed;
    } live[SLOTS];
    memset(live, 0, sizeof(live));
    uint32_t r = 0x1234567;
    uint64_t requested = 0, nlive = 0, total = 0;
    for (uint32_t step = 0; step < STEPS; step++) {
        r ^= r << 13;
        r ^= r >> 17;
        r ^= r << 5;
        unsigned k = r % SLOTS;
        if (live[k].p) {
            check(live[k].p, live[k].size, live[k].seed);
            assert_int_equal(heap_free(&heap, live[k].p), CIVIC_OK);
            requested -= live[k].size;
            nlive--;
            live[k].p = NULL;
        } else {
            size_t size = (r >> 12) % 100 < 95 ? (r >> 4) % 2049 : (r >> 4) % 40000;
            live[k].p = heap_alloc(&heap, size);
            assert_non_null(live[k].p);
            assert_int_equal((uintptr_t)live[k].p & 15, 0);
            live[k].size = size;
            live[k].seed = step;
            fill(live[k].p, size, step);
            requested += size;
            nlive++;
            total++;
        }
        if (step % 5000 == 0) {
            struct heap_stats st = stats();
            assert_int_equal(st.bytes_requested, requested);
            assert_int_equal(st.live_allocations, nlive);
            assert_int_equal(st.total_allocations, total);
            assert_int_equal(st.bad_frees, 0);
        }
    }
    for (unsigned k = 0; k < SLOTS; k++) {
        if (live[k].p) {
            check(live[k].p, live[k].size, live[k].seed);
            assert_int_equal(heap_free(&heap, live[k].p), CIVIC_OK);
        }
    }
    struct heap_stats st = stats();
    assert_int_equal(st.bytes_requested, 0);
    assert_int_equal(st.live_allocations, 0);
    assert_true(st.bytes_reserved <= HEAP_SIZE_CLASSES * 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_free_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objects_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zalloc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interior_pointers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_pointers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_slabs_returned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_use_after_free_link_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_stress, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
