// unit-sources: net/page_store.c net/peer_csum.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/page_store.h"
#include "net/peer_csum.h"

#define PS PAGE_STORE_PAGE_SIZE

/* The test allocator: counts live pages and can be told to fail; remembers the last page so a
 * test can damage a stored copy. */
struct talloc {
    long live_pages, allocs, live_index;
    long fail_after; /* page allocations left before failing; -1: never */
    void *last;
};

static void *t_alloc_page(void *ctx)
{
    struct talloc *t = ctx;
    if (t->fail_after == 0)
        return NULL;
    if (t->fail_after > 0)
        t->fail_after--;
    void *p = aligned_alloc(4096, 4096);
    assert_non_null(p);
    memset(p, 0xa5, 4096); /* stale contents: put must overwrite all of it */
    t->live_pages++;
    t->allocs++;
    t->last = p;
    return p;
}

static void t_free_page(void *ctx, void *p)
{
    struct talloc *t = ctx;
    assert_non_null(p);
    t->live_pages--;
    free(p);
}

static void *t_alloc_index(void *ctx, size_t bytes)
{
    struct talloc *t = ctx;
    void *p = malloc(bytes);
    memset(p, 0x5a, bytes); /* init must clear it */
    t->live_index++;
    return p;
}

static void *t_alloc_index_fail(void *ctx, size_t bytes)
{
    return NULL;
}

static void t_free_index(void *ctx, void *p)
{
    struct talloc *t = ctx;
    t->live_index--;
    free(p);
}

static const struct page_store_ops ops = {t_alloc_page, t_free_page, t_alloc_index, t_free_index,
                                          NULL};

static uint64_t hash_constant(uint64_t owner, uint32_t vm, uint64_t gfn)
{
    return 7;
}

static uint64_t hash_gfn_high(uint64_t owner, uint32_t vm, uint64_t gfn)
{
    return gfn >> 8;
}

/* Sequential gfns land in sequential home slots: long clusters under churn. */
static uint64_t hash_gfn(uint64_t owner, uint32_t vm, uint64_t gfn)
{
    return gfn;
}

/* A page whose contents depend on the whole key and version. */
static void fill(uint8_t *p, uint64_t owner, uint32_t vm, uint64_t gfn, uint32_t version)
{
    uint64_t x = owner * 31 + vm * 7 + gfn * 13 + version + 1;
    for (unsigned i = 0; i < PS; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(x >> 56);
    }
}

static civic_err put(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                     uint32_t version)
{
    uint8_t p[PS];
    fill(p, owner, vm, gfn, version);
    return page_store_put(s, owner, vm, gfn, version, p, peer_csum(p, PS));
}

/* Asserts that the key is stored at version with the contents put() gave it. */
static void expect_page(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                        uint32_t version)
{
    uint8_t want[PS], got[PS];
    uint32_t crc = 0;
    fill(want, owner, vm, gfn, version);
    assert_int_equal(page_store_get(s, owner, vm, gfn, version, got, &crc), CIVIC_OK);
    assert_memory_equal(got, want, PS);
    assert_int_equal(crc, peer_csum(want, PS));
}

static void expect_absent(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                          uint32_t version)
{
    uint8_t got[PS];
    uint32_t crc = 0x1234;
    memset(got, 0x77, PS);
    assert_int_equal(page_store_get(s, owner, vm, gfn, version, got, &crc), CIVIC_ENOENT);
    assert_int_equal(crc, 0x1234);
    assert_int_equal(got[0], 0x77); /* untouched */
    assert_int_equal(got[PS - 1], 0x77);
}

static void test_round_trip(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 8, &ops, &t), CIVIC_OK);
    assert_int_equal(t.live_index, 1);
    assert_int_equal(t.live_pages, 0); /* lazily allocated: an empty store holds no pages */
    assert_int_equal(s.mask + 1, 16);  /* load <= 1/2 */
    assert_int_equal(put(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 9), CIVIC_OK);
    assert_int_equal(t.live_pages, 1);
    assert_int_equal(page_store_used(&s), 1);
    assert_int_equal(page_store_capacity(&s), 8);
    assert_int_equal(page_store_owner_pages(&s, 0x1111222233334444ull), 1);
    expect_page(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 9);
    expect_absent(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 8); /* another version */
    expect_absent(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 10);
    expect_absent(&s, 0x1111222233334444ull, 4, 0xfffffffffull, 9); /* another VM */
    expect_absent(&s, 0x1111222233334444ull, 3, 0xffffffffeull, 9); /* another frame */
    assert_int_equal(page_store_free(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 8),
                     CIVIC_ENOENT);
    assert_int_equal(page_store_free(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 9), CIVIC_OK);
    assert_int_equal(page_store_free(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 9),
                     CIVIC_ENOENT);
    assert_int_equal(page_store_used(&s), 0);
    assert_int_equal(t.live_pages, 0);
    assert_int_equal(page_store_owner_pages(&s, 0x1111222233334444ull), 0);
    expect_absent(&s, 0x1111222233334444ull, 3, 0xfffffffffull, 9);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
    assert_int_equal(t.live_index, 0);
}

static void test_version_replace_and_refusal(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 2, &ops, &t), CIVIC_OK);
    assert_int_equal(put(&s, 5, 1, 100, 1), CIVIC_OK);
    assert_int_equal(put(&s, 5, 1, 100, 2), CIVIC_OK);
    assert_int_equal(t.allocs, 1); /* the newer version reused the slot */
    assert_int_equal(page_store_used(&s), 1);
    expect_page(&s, 5, 1, 100, 2);
    expect_absent(&s, 5, 1, 100, 1);
    assert_int_equal(put(&s, 5, 1, 100, 1), CIVIC_ERANGE); /* older than stored */
    expect_page(&s, 5, 1, 100, 2);                         /* and nothing changed */
    assert_int_equal(put(&s, 5, 1, 100, 2), CIVIC_OK);     /* a resend of the same version */
    expect_page(&s, 5, 1, 100, 2);
    /* Versions wrap: 0 follows 0xffffffff; 0x7fffffff ahead is newer, 0x80000000 is not. */
    assert_int_equal(put(&s, 5, 1, 200, 0xffffffffu), CIVIC_OK);
    assert_int_equal(put(&s, 5, 1, 200, 0), CIVIC_OK);
    expect_page(&s, 5, 1, 200, 0);
    assert_int_equal(put(&s, 5, 1, 200, 0xffffffffu), CIVIC_ERANGE);
    assert_int_equal(put(&s, 5, 1, 200, 0x80000000u), CIVIC_ERANGE);
    assert_int_equal(put(&s, 5, 1, 200, 0x7fffffffu), CIVIC_OK);
    expect_page(&s, 5, 1, 200, 0x7fffffffu);
    assert_int_equal(t.allocs, 2);
    assert_int_equal(page_store_used(&s), 2);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

static void test_full_refuses_and_free_makes_room(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 4, &ops, &t), CIVIC_OK);
    for (uint64_t g = 0; g < 4; g++)
        assert_int_equal(put(&s, 1, 1, g, 1), CIVIC_OK);
    assert_int_equal(put(&s, 1, 1, 4, 1), CIVIC_ENOMEM);
    assert_int_equal(put(&s, 2, 1, 0, 1), CIVIC_ENOMEM); /* a new owner too */
    assert_int_equal(page_store_owner_pages(&s, 2), 0);
    assert_int_equal(t.allocs, 4);
    assert_int_equal(page_store_used(&s), 4);
    expect_absent(&s, 1, 1, 4, 1);
    /* Replacing a stored key needs no new slot: allowed while full. */
    assert_int_equal(put(&s, 1, 1, 2, 7), CIVIC_OK);
    expect_page(&s, 1, 1, 2, 7);
    assert_int_equal(page_store_free(&s, 1, 1, 0, 1), CIVIC_OK);
    assert_int_equal(put(&s, 2, 1, 0, 1), CIVIC_OK);
    assert_int_equal(put(&s, 1, 1, 4, 1), CIVIC_ENOMEM);
    assert_int_equal(page_store_used(&s), 4);
    for (uint64_t g = 1; g < 4; g++)
        expect_page(&s, 1, 1, g, g == 2 ? 7 : 1);
    expect_page(&s, 2, 1, 0, 1);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

static void test_put_refuses_bad_crc(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    uint8_t p[PS];
    assert_int_equal(page_store_init(&s, 4, &ops, &t), CIVIC_OK);
    fill(p, 1, 1, 1, 1);
    uint32_t crc = peer_csum(p, PS);
    assert_int_equal(page_store_put(&s, 1, 1, 1, 1, p, crc ^ 1), CIVIC_ECORRUPT);
    assert_int_equal(t.allocs, 0);
    assert_int_equal(page_store_used(&s), 0);
    assert_int_equal(page_store_owner_pages(&s, 1), 0);
    expect_absent(&s, 1, 1, 1, 1);
    assert_int_equal(page_store_put(&s, 1, 1, 1, 1, p, crc), CIVIC_OK);
    /* A damaged newer version must not replace the good copy. */
    uint8_t q[PS];
    fill(q, 1, 1, 1, 2);
    uint32_t qcrc = peer_csum(q, PS);
    q[100] ^= 0x10;
    assert_int_equal(page_store_put(&s, 1, 1, 1, 2, q, qcrc), CIVIC_ECORRUPT);
    expect_page(&s, 1, 1, 1, 1);
    expect_absent(&s, 1, 1, 1, 2);
    /* Capacity 0 and a bad CRC: the CRC is what is reported. */
    page_store_fini(&s);
    assert_int_equal(page_store_put(&s, 1, 1, 1, 1, p, crc ^ 1), CIVIC_ECORRUPT);
    assert_int_equal(page_store_put(&s, 1, 1, 1, 1, p, crc), CIVIC_ENOMEM);
}

static void test_get_detects_corruption(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 4, &ops, &t), CIVIC_OK);
    assert_int_equal(put(&s, 9, 2, 77, 3), CIVIC_OK);
    assert_int_equal(put(&s, 9, 2, 78, 3), CIVIC_OK);
    uint8_t *slot = t.last; /* gfn 78's copy */
    slot[4095] ^= 0x01;
    uint8_t got[PS], want[PS];
    uint32_t crc = 0;
    fill(want, 9, 2, 78, 3);
    assert_int_equal(page_store_get(&s, 9, 2, 78, 3, got, &crc), CIVIC_ECORRUPT);
    assert_int_equal(crc, peer_csum(want, PS)); /* the CRC recorded at put */
    expect_page(&s, 9, 2, 77, 3);               /* its neighbour is fine */
    assert_int_equal(page_store_used(&s), 2);   /* the bad entry stays until freed */
    slot[4095] ^= 0x01;
    expect_page(&s, 9, 2, 78, 3);
    slot[0] ^= 0x80;
    assert_int_equal(page_store_get(&s, 9, 2, 78, 3, got, &crc), CIVIC_ECORRUPT);
    assert_int_equal(page_store_free(&s, 9, 2, 78, 3), CIVIC_OK);
    /* A fresh put of the key gets a clean slot. */
    assert_int_equal(put(&s, 9, 2, 78, 4), CIVIC_OK);
    expect_page(&s, 9, 2, 78, 4);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

static void test_owner_isolation(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    const uint64_t a = 0xaaaa, b = 0xbbbb;
    assert_int_equal(page_store_init(&s, 16, &ops, &t), CIVIC_OK);
    assert_int_equal(put(&s, a, 1, 10, 1), CIVIC_OK);
    assert_int_equal(put(&s, b, 1, 10, 1), CIVIC_OK); /* same VM, frame, version: separate */
    assert_int_equal(put(&s, a, 1, 11, 1), CIVIC_OK);
    expect_page(&s, a, 1, 10, 1);
    expect_page(&s, b, 1, 10, 1);
    expect_absent(&s, b, 1, 11, 1);      /* b cannot read a's page */
    expect_absent(&s, 0xcccc, 1, 10, 1); /* nor can an owner with no pages */
    assert_int_equal(page_store_free(&s, b, 1, 11, 1), CIVIC_ENOENT);
    assert_int_equal(page_store_free(&s, 0xcccc, 1, 10, 1), CIVIC_ENOENT);
    assert_int_equal(page_store_free_vm(&s, b, 1), 1); /* only b's own page */
    assert_int_equal(page_store_free_owner(&s, b), 0);
    expect_page(&s, a, 1, 10, 1);
    expect_page(&s, a, 1, 11, 1);
    expect_absent(&s, b, 1, 10, 1);
    /* b storing the key a holds, at an older version, is not refused: it is b's own key. */
    assert_int_equal(put(&s, a, 1, 10, 5), CIVIC_OK);
    assert_int_equal(put(&s, b, 1, 10, 2), CIVIC_OK);
    expect_page(&s, a, 1, 10, 5);
    expect_page(&s, b, 1, 10, 2);
    assert_int_equal(page_store_owner_pages(&s, a), 2);
    assert_int_equal(page_store_owner_pages(&s, b), 1);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
}

static void test_free_owner_and_vm_counts(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 100, &ops, &t), CIVIC_OK);
    for (uint64_t o = 1; o <= 3; o++) {
        for (uint32_t vm = 0; vm < 3; vm++) {
            for (uint64_t g = 0; g < 10; g++)
                assert_int_equal(put(&s, o, vm, g, 1), CIVIC_OK);
        }
    }
    assert_int_equal(page_store_used(&s), 90);
    assert_int_equal(page_store_free_vm(&s, 1, 1), 10);
    assert_int_equal(page_store_free_vm(&s, 1, 1), 0);
    assert_int_equal(page_store_free_vm(&s, 1, 7), 0);
    assert_int_equal(page_store_owner_pages(&s, 1), 20);
    assert_int_equal(page_store_free_owner(&s, 2), 30);
    assert_int_equal(page_store_free_owner(&s, 2), 0);
    assert_int_equal(page_store_free_owner(&s, 99), 0);
    assert_int_equal(page_store_owner_pages(&s, 2), 0);
    assert_int_equal(page_store_used(&s), 50);
    assert_int_equal(t.live_pages, 50);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    for (uint64_t g = 0; g < 10; g++) {
        expect_page(&s, 1, 0, g, 1);
        expect_absent(&s, 1, 1, g, 1);
        expect_page(&s, 1, 2, g, 1);
        expect_absent(&s, 2, 0, g, 1);
        for (uint32_t vm = 0; vm < 3; vm++)
            expect_page(&s, 3, vm, g, 1);
    }
    assert_int_equal(page_store_free_owner(&s, 1), 20);
    assert_int_equal(page_store_free_owner(&s, 3), 30);
    assert_int_equal(page_store_used(&s), 0);
    assert_int_equal(t.live_pages, 0);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
}

struct seen {
    int n;
    uint64_t owner[PAGE_STORE_MAX_OWNERS + 1];
    uint32_t pages[PAGE_STORE_MAX_OWNERS + 1];
};

static void collect(void *ctx, uint64_t owner, uint32_t pages)
{
    struct seen *sn = ctx;
    assert_true(sn->n <= (int)PAGE_STORE_MAX_OWNERS);
    sn->owner[sn->n] = owner;
    sn->pages[sn->n++] = pages;
}

static void test_stats_and_owner_iterator(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    struct seen sn = {0};
    assert_int_equal(page_store_init(&s, 10, &ops, &t), CIVIC_OK);
    page_store_owners(&s, collect, &sn);
    assert_int_equal(sn.n, 0);
    assert_int_equal(put(&s, 0x100, 0, 1, 1), CIVIC_OK);
    assert_int_equal(put(&s, 0x200, 0, 1, 1), CIVIC_OK);
    assert_int_equal(put(&s, 0x200, 0, 2, 1), CIVIC_OK);
    assert_int_equal(put(&s, 0x300, 0, 1, 1), CIVIC_OK);
    assert_int_equal(page_store_free(&s, 0x100, 0, 1, 1), CIVIC_OK);
    page_store_owners(&s, collect, &sn);
    assert_int_equal(sn.n, 2); /* 0x100 has nothing left */
    assert_int_equal(sn.owner[0], 0x200);
    assert_int_equal(sn.pages[0], 2);
    assert_int_equal(sn.owner[1], 0x300);
    assert_int_equal(sn.pages[1], 1);
    assert_int_equal(page_store_used(&s), 3);
    assert_int_equal(page_store_capacity(&s), 10);
    /* 0x100's owner slot is free again and taken by the next new owner. */
    assert_int_equal(put(&s, 0x400, 0, 1, 1), CIVIC_OK);
    sn.n = 0;
    page_store_owners(&s, collect, &sn);
    assert_int_equal(sn.n, 3);
    assert_int_equal(sn.owner[0], 0x400);
    assert_int_equal(sn.pages[0], 1);
    page_store_fini(&s);
}

static void test_owner_table_full(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 64, &ops, &t), CIVIC_OK);
    for (uint64_t o = 0; o < PAGE_STORE_MAX_OWNERS; o++)
        assert_int_equal(put(&s, o, 0, 0, 1), CIVIC_OK);
    assert_int_equal(put(&s, 1000, 0, 0, 1), CIVIC_ENOMEM);
    assert_int_equal(put(&s, 3, 0, 1, 1), CIVIC_OK); /* known owners still store */
    assert_int_equal(page_store_free_owner(&s, 5), 1);
    assert_int_equal(put(&s, 1000, 0, 0, 1), CIVIC_OK);
    expect_page(&s, 1000, 0, 0, 1);
    expect_absent(&s, 5, 0, 0, 1);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
}

static void test_allocator_failure(void **state)
{
    struct talloc t = {.fail_after = 1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 8, &ops, &t), CIVIC_OK);
    assert_int_equal(put(&s, 1, 0, 0, 1), CIVIC_OK);
    assert_int_equal(put(&s, 2, 0, 0, 1), CIVIC_ENOMEM);
    assert_int_equal(page_store_used(&s), 1);
    assert_int_equal(page_store_owner_pages(&s, 2), 0);
    struct seen sn = {0};
    page_store_owners(&s, collect, &sn);
    assert_int_equal(sn.n, 1);                       /* the failed owner did not stay registered */
    assert_int_equal(put(&s, 1, 0, 0, 2), CIVIC_OK); /* a replace needs no allocation */
    t.fail_after = -1;
    assert_int_equal(put(&s, 2, 0, 0, 1), CIVIC_OK);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

static void test_capacity_zero_and_init_errors(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    assert_int_equal(page_store_init(&s, 0, &ops, &t), CIVIC_OK);
    assert_int_equal(t.live_index, 0);
    assert_int_equal(page_store_capacity(&s), 0);
    assert_int_equal(put(&s, 1, 0, 0, 1), CIVIC_ENOMEM);
    expect_absent(&s, 1, 0, 0, 1);
    assert_int_equal(page_store_free(&s, 1, 0, 0, 1), CIVIC_ENOENT);
    assert_int_equal(page_store_free_owner(&s, 1), 0);
    assert_int_equal(page_store_free_vm(&s, 1, 0), 0);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    assert_int_equal(t.allocs, 0);
    page_store_fini(&s);

    assert_int_equal(page_store_init(&s, PAGE_STORE_MAX_PAGES + 1, &ops, &t), CIVIC_ERANGE);
    assert_int_equal(page_store_capacity(&s), 0);
    assert_int_equal(t.live_index, 0);
    const struct page_store_ops bad = {t_alloc_page, t_free_page, t_alloc_index_fail, t_free_index,
                                       NULL};
    assert_int_equal(page_store_init(&s, 4, &bad, &t), CIVIC_ENOMEM);
    assert_int_equal(page_store_capacity(&s), 0);
    assert_int_equal(put(&s, 1, 0, 0, 1), CIVIC_ENOMEM);
    page_store_fini(&s);

    /* Capacity 1: a two-slot table. */
    assert_int_equal(page_store_init(&s, 1, &ops, &t), CIVIC_OK);
    assert_int_equal(s.mask, 1);
    assert_int_equal(put(&s, 1, 0, 0, 1), CIVIC_OK);
    assert_int_equal(put(&s, 1, 0, 1, 1), CIVIC_ENOMEM);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
    assert_int_equal(t.live_index, 0);
}

/* White box: a cluster that wraps from the table's end to its start closes up correctly. */
static void test_backward_shift_wraps(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    const struct page_store_ops hops = {t_alloc_page, t_free_page, t_alloc_index, t_free_index,
                                        hash_gfn_high};
    assert_int_equal(page_store_init(&s, 4, &hops, &t), CIVIC_OK);
    assert_int_equal(s.mask, 7);
    assert_int_equal(put(&s, 1, 0, 0x701, 1), CIVIC_OK); /* home 7, at 7 */
    assert_int_equal(put(&s, 1, 0, 0x702, 1), CIVIC_OK); /* home 7, at 0 */
    assert_int_equal(put(&s, 1, 0, 0x001, 1), CIVIC_OK); /* home 0, at 1 */
    assert_int_equal(put(&s, 1, 0, 0x201, 1), CIVIC_OK); /* home 2, at 2: stays */
    assert_int_equal(s.table[7].gfn, 0x701);
    assert_int_equal(s.table[0].gfn, 0x702);
    assert_int_equal(s.table[1].gfn, 0x001);
    assert_int_equal(s.table[2].gfn, 0x201);
    assert_int_equal(page_store_free(&s, 1, 0, 0x701, 1), CIVIC_OK);
    assert_int_equal(s.table[7].gfn, 0x702);
    assert_int_equal(s.table[0].gfn, 0x001);
    assert_null(s.table[1].page);
    assert_int_equal(s.table[2].gfn, 0x201);
    expect_page(&s, 1, 0, 0x702, 1);
    expect_page(&s, 1, 0, 0x001, 1);
    expect_page(&s, 1, 0, 0x201, 1);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    /* free_owner across the wrap: every entry goes whatever shifting happens mid-scan. */
    assert_int_equal(page_store_free_owner(&s, 1), 3);
    for (uint32_t i = 0; i <= s.mask; i++)
        assert_null(s.table[i].page);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

/* Every key has the same home: the whole table is one cluster. */
static void test_all_keys_collide(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    const struct page_store_ops cops = {t_alloc_page, t_free_page, t_alloc_index, t_free_index,
                                        hash_constant};
    enum { N = 300 };
    assert_int_equal(page_store_init(&s, N, &cops, &t), CIVIC_OK);
    for (uint64_t g = 0; g < N; g++)
        assert_int_equal(put(&s, g % 3, 0, g, 1), CIVIC_OK);
    assert_int_equal(put(&s, 0, 0, N, 1), CIVIC_ENOMEM);
    for (uint64_t g = 0; g < N; g += 2)
        assert_int_equal(page_store_free(&s, g % 3, 0, g, 1), CIVIC_OK);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    for (uint64_t g = 0; g < N; g++) {
        if (g % 2)
            expect_page(&s, g % 3, 0, g, 1);
        else
            expect_absent(&s, g % 3, 0, g, 1);
    }
    assert_int_equal(page_store_free_owner(&s, 1), 50);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    assert_int_equal(page_store_used(&s), 100);
    for (uint64_t g = 1; g < N; g += 2) {
        if (g % 3 == 1)
            expect_absent(&s, 1, 0, g, 1);
        else
            expect_page(&s, g % 3, 0, g, 1);
    }
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

/* Thousands of random puts, replaces and frees through a small store, against a model. */
enum { KEYS = 400 };

static uint64_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void churn(uint64_t (*hash)(uint64_t, uint32_t, uint64_t), uint32_t capacity, int ops_n)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    const struct page_store_ops hops = {t_alloc_page, t_free_page, t_alloc_index, t_free_index,
                                        hash};
    uint32_t model[KEYS] = {0}; /* stored version, 0 = absent (versions start at 1) */
    uint32_t used = 0;
    assert_int_equal(page_store_init(&s, capacity, &hops, &t), CIVIC_OK);
    rng_state = 12345;
    for (int n = 0; n < ops_n; n++) {
        uint32_t k = rng() % KEYS;
        uint64_t owner = k % 5, gfn = k / 5 * 3;
        uint32_t vm = k % 2;
        uint32_t op = rng() % 10;
        if (op < 5) {
            uint32_t v = model[k] ? model[k] + rng() % 3 : 1 + rng() % 4;
            civic_err want = model[k] ? CIVIC_OK : used < capacity ? CIVIC_OK : CIVIC_ENOMEM;
            assert_int_equal(put(&s, owner, vm, gfn, v), want);
            if (want == CIVIC_OK) {
                used += !model[k];
                model[k] = v;
            }
        } else if (op < 6 && model[k] > 1) {
            assert_int_equal(put(&s, owner, vm, gfn, model[k] - 1), CIVIC_ERANGE);
        } else if (op < 9) {
            civic_err want = model[k] ? CIVIC_OK : CIVIC_ENOENT;
            assert_int_equal(page_store_free(&s, owner, vm, gfn, model[k] ? model[k] : 1), want);
            used -= !!model[k];
            model[k] = 0;
        } else {
            if (model[k])
                expect_page(&s, owner, vm, gfn, model[k]);
            else
                expect_absent(&s, owner, vm, gfn, 1);
        }
        assert_int_equal(page_store_used(&s), used);
        if (n % 97 == 0)
            assert_int_equal(page_store_check(&s), CIVIC_OK);
        if (n % 1999 == 1998) { /* now and then a peer leaves or a VM ends */
            uint64_t o = rng() % 5;
            uint32_t expect = 0;
            for (uint32_t i = 0; i < KEYS; i++) {
                if (model[i] && i % 5 == o) {
                    expect++;
                    model[i] = 0;
                }
            }
            assert_int_equal(page_store_free_owner(&s, o), expect);
            used -= expect;
            assert_int_equal(page_store_check(&s), CIVIC_OK);
        }
    }
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    for (uint32_t k = 0; k < KEYS; k++) {
        if (model[k])
            expect_page(&s, k % 5, k % 2, k / 5 * 3, model[k]);
        else
            expect_absent(&s, k % 5, k % 2, k / 5 * 3, 1);
    }
    assert_int_equal(t.live_pages, used);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

static void test_churn_default_hash(void **state)
{
    churn(NULL, 64, 20000);
}

static void test_churn_clustering_hash(void **state)
{
    churn(hash_gfn, 48, 20000);
}

static void test_churn_constant_hash(void **state)
{
    churn(hash_constant, 100, 5000);
}

static void test_scale_default_hash(void **state)
{
    struct talloc t = {.fail_after = -1};
    struct page_store s;
    enum { N = 4096 };
    assert_int_equal(page_store_init(&s, N, &ops, &t), CIVIC_OK);
    for (uint64_t g = 0; g < N; g++)
        assert_int_equal(put(&s, 0xc1u, 1, g, 1), CIVIC_OK);
    assert_int_equal(put(&s, 0xc1u, 1, N, 1), CIVIC_ENOMEM);
    assert_int_equal(page_store_check(&s), CIVIC_OK);
    /* Sequential gfns must not pile up: the longest probe stays short. */
    uint32_t longest = 0;
    for (uint32_t i = 0; i <= s.mask; i++) {
        uint32_t run = 0;
        while (s.table[(i + run) & s.mask].page)
            run++;
        longest = run > longest ? run : longest;
    }
    assert_true(longest < 64);
    assert_int_equal(page_store_free_vm(&s, 0xc1u, 1), N);
    assert_int_equal(page_store_used(&s), 0);
    page_store_fini(&s);
    assert_int_equal(t.live_pages, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_version_replace_and_refusal),
        cmocka_unit_test(test_full_refuses_and_free_makes_room),
        cmocka_unit_test(test_put_refuses_bad_crc),
        cmocka_unit_test(test_get_detects_corruption),
        cmocka_unit_test(test_owner_isolation),
        cmocka_unit_test(test_free_owner_and_vm_counts),
        cmocka_unit_test(test_stats_and_owner_iterator),
        cmocka_unit_test(test_owner_table_full),
        cmocka_unit_test(test_allocator_failure),
        cmocka_unit_test(test_capacity_zero_and_init_errors),
        cmocka_unit_test(test_backward_shift_wraps),
        cmocka_unit_test(test_all_keys_collide),
        cmocka_unit_test(test_churn_default_hash),
        cmocka_unit_test(test_churn_clustering_hash),
        cmocka_unit_test(test_churn_constant_hash),
        cmocka_unit_test(test_scale_default_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
