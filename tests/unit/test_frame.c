// unit-sources: mm/frame.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/types.h"
#include "mm/frame.h"

#define PA(pfn) ((phys_addr_t)(pfn) << PAGE_SHIFT)

static struct frame_allocator fa;
static void *meta;

static void setup_fa(uint64_t base_pfn, uint64_t nframes)
{
    free(meta);
    meta = malloc(frame_meta_bytes(nframes));
    assert_non_null(meta);
    assert_int_equal(frame_allocator_init(&fa, meta, base_pfn, nframes), CIVIC_OK);
}

static int teardown(void **state)
{
    free(meta);
    meta = NULL;
    return 0;
}

static struct frame_stats stats(void)
{
    struct frame_stats st;
    memset(&st, 0xa5, sizeof(st));
    frame_get_stats(&fa, &st);
    return st;
}

static void assert_stats_equal(const struct frame_stats *a, const struct frame_stats *b)
{
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->free, b->free);
    assert_int_equal(a->used, b->used);
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
        assert_int_equal(a->free_blocks[o], b->free_blocks[o]);
}

static uint32_t rng = 1;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void test_meta_bytes(void **state)
{
    assert_int_equal(frame_meta_bytes(0), 0);
    assert_true(frame_meta_bytes(1) <= 12);
    assert_int_equal(frame_meta_bytes(1000), 1000 * frame_meta_bytes(1));
}

static void test_init_errors(void **state)
{
    uint64_t buf[4];
    assert_int_equal(frame_allocator_init(&fa, NULL, 0, 10), CIVIC_EINVAL);
    assert_int_equal(frame_allocator_init(&fa, buf, 0, 0), CIVIC_EINVAL);
    assert_int_equal(frame_allocator_init(&fa, buf, 0, 0x100000000ull), CIVIC_EINVAL);
    assert_int_equal(frame_allocator_init(&fa, buf, UINT64_MAX - 1, 2), CIVIC_ERANGE);
}

static void test_empty_allocator(void **state)
{
    setup_fa(0, 64);
    phys_addr_t a = 0x1234;
    assert_int_equal(frame_alloc(&fa, 0, &a), CIVIC_ENOMEM);
    assert_int_equal(a, 0x1234);
    assert_int_equal(frame_alloc(&fa, FRAME_MAX_ORDER + 1, &a), CIVIC_EINVAL);
    struct frame_stats st = stats();
    assert_int_equal(st.total, 0);
    assert_int_equal(st.free, 0);
    assert_int_equal(st.used, 0);
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
        assert_int_equal(st.free_blocks[o], 0);
}

static void test_add_splits_maximal(void **state)
{
    setup_fa(0, 4096);
    /* pfn 3 | 4-7 | 8-15 | 16-31 | 32-35 | 36 */
    assert_int_equal(frame_add_free_range(&fa, PA(3), PA(37)), CIVIC_OK);
    struct frame_stats st = stats();
    assert_int_equal(st.total, 34);
    assert_int_equal(st.free, 34);
    assert_int_equal(st.used, 0);
    const uint64_t want[FRAME_MAX_ORDER + 1] = {2, 0, 2, 1, 1, 0, 0, 0, 0, 0, 0};
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
        assert_int_equal(st.free_blocks[o], want[o]);
    /* Filling the gaps merges everything up to max-order blocks. */
    assert_int_equal(frame_add_free_range(&fa, PA(0), PA(3)), CIVIC_OK);
    assert_int_equal(frame_add_free_range(&fa, PA(37), PA(4096)), CIVIC_OK);
    st = stats();
    assert_int_equal(st.total, 4096);
    assert_int_equal(st.free_blocks[FRAME_MAX_ORDER], 4);
    for (unsigned o = 0; o < FRAME_MAX_ORDER; o++)
        assert_int_equal(st.free_blocks[o], 0);
}

static void test_add_single_frames_coalesce(void **state)
{
    setup_fa(1024, 2048);
    uint32_t order[2048];
    for (uint32_t i = 0; i < 2048; i++)
        order[i] = i;
    for (uint32_t i = 2047; i > 0; i--) {
        uint32_t j = rnd() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t i = 0; i < 2048; i++)
        assert_int_equal(frame_add_free_range(&fa, PA(1024 + order[i]), PA(1025 + order[i])),
                         CIVIC_OK);
    struct frame_stats st = stats();
    assert_int_equal(st.free, 2048);
    assert_int_equal(st.free_blocks[FRAME_MAX_ORDER], 2);
    for (unsigned o = 0; o < FRAME_MAX_ORDER; o++)
        assert_int_equal(st.free_blocks[o], 0);
}

static void test_add_errors(void **state)
{
    setup_fa(100, 100);
    assert_int_equal(frame_add_free_range(&fa, PA(120), PA(140)), CIVIC_OK);
    struct frame_stats before = stats();
    assert_int_equal(frame_add_free_range(&fa, PA(110) + 1, PA(115)), CIVIC_EINVAL);
    assert_int_equal(frame_add_free_range(&fa, PA(110), PA(115) - 8), CIVIC_EINVAL);
    assert_int_equal(frame_add_free_range(&fa, PA(115), PA(110)), CIVIC_EINVAL);
    assert_int_equal(frame_add_free_range(&fa, PA(99), PA(110)), CIVIC_ERANGE);
    assert_int_equal(frame_add_free_range(&fa, PA(190), PA(201)), CIVIC_ERANGE);
    /* Overlap with what is already free: refused as a whole. */
    assert_int_equal(frame_add_free_range(&fa, PA(110), PA(121)), CIVIC_EEXIST);
    assert_int_equal(frame_add_free_range(&fa, PA(125), PA(126)), CIVIC_EEXIST);
    assert_int_equal(frame_add_free_range(&fa, PA(130), PA(130)), CIVIC_OK); /* empty */
    struct frame_stats after = stats();
    assert_stats_equal(&before, &after);
    /* Overlap with an allocated frame is refused too. */
    phys_addr_t a;
    assert_int_equal(frame_alloc(&fa, 0, &a), CIVIC_OK);
    assert_int_equal(frame_add_free_range(&fa, a, a + PAGE_SIZE), CIVIC_EEXIST);
    assert_int_equal(frame_free(&fa, a, 0), CIVIC_OK);
    after = stats();
    assert_stats_equal(&before, &after);
}

static void test_alignment_each_order(void **state)
{
    /* An odd base: blocks must be aligned physically, not relative to the span. */
    setup_fa(0x101, 8000);
    assert_int_equal(frame_add_free_range(&fa, PA(0x101), PA(0x101 + 8000)), CIVIC_OK);
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
        phys_addr_t a;
        assert_int_equal(frame_alloc(&fa, o, &a), CIVIC_OK);
        assert_int_equal(a & ((PAGE_SIZE << o) - 1), 0);
        assert_true(a >= PA(0x101));
        assert_true(a + (PAGE_SIZE << o) <= PA(0x101 + 8000));
    }
    struct frame_stats st = stats();
    assert_int_equal(st.used, (1u << (FRAME_MAX_ORDER + 1)) - 1);
}

static void test_exhaustion_with_holes(void **state)
{
    enum { BASE = 0x300, N = 3000 };
    setup_fa(BASE, N);
    /* Reserved holes in the middle of the span and at its edges. */
    assert_int_equal(frame_add_free_range(&fa, PA(BASE + 5), PA(BASE + 1000)), CIVIC_OK);
    assert_int_equal(frame_add_free_range(&fa, PA(BASE + 1001), PA(BASE + 1500)), CIVIC_OK);
    assert_int_equal(frame_add_free_range(&fa, PA(BASE + 1700), PA(BASE + N - 3)), CIVIC_OK);
    const uint64_t total = 995 + 499 + (N - 3 - 1700);
    struct frame_stats start = stats();
    assert_int_equal(start.total, total);

    static uint8_t seen[N];
    memset(seen, 0, sizeof(seen));
    static phys_addr_t got[N];
    uint64_t n = 0;
    phys_addr_t a;
    while (frame_alloc(&fa, 0, &a) == CIVIC_OK) {
        uint64_t pfn = a >> PAGE_SHIFT;
        assert_true(pfn >= BASE && pfn < BASE + N);
        uint64_t i = pfn - BASE;
        assert_false(i < 5 || i == 1000 || (i >= 1500 && i < 1700) || i >= N - 3);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        got[n++] = a;
        assert_true(n <= total);
    }
    assert_int_equal(n, total);
    assert_int_equal(frame_alloc(&fa, 0, &a), CIVIC_ENOMEM);
    assert_int_equal(frame_alloc(&fa, 3, &a), CIVIC_ENOMEM);
    struct frame_stats st = stats();
    assert_int_equal(st.free, 0);
    assert_int_equal(st.used, total);
    /* Holes cannot be freed into the allocator. */
    assert_int_equal(frame_free(&fa, PA(BASE + 1000), 0), CIVIC_EINVAL);
    assert_int_equal(frame_free(&fa, PA(BASE + 1600), 0), CIVIC_EINVAL);
    assert_int_equal(frame_free(&fa, PA(BASE), 0), CIVIC_EINVAL);
    assert_int_equal(frame_alloc(&fa, 0, &a), CIVIC_ENOMEM);

    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(frame_free(&fa, got[(i * 7919) % n], 0), CIVIC_OK);
    st = stats();
    assert_stats_equal(&st, &start);
}

static void test_bad_frees(void **state)
{
    setup_fa(0, 1024);
    assert_int_equal(frame_add_free_range(&fa, PA(0), PA(512)), CIVIC_OK);
    phys_addr_t a, b;
    assert_int_equal(frame_alloc(&fa, 2, &a), CIVIC_OK);
    assert_int_equal(frame_alloc(&fa, 0, &b), CIVIC_OK);
    struct frame_stats before = stats();

    assert_int_equal(frame_free(&fa, a, 1), CIVIC_EINVAL); /* wrong order, smaller */
    assert_int_equal(frame_free(&fa, a, 3), CIVIC_EINVAL); /* wrong order, larger */
    assert_int_equal(frame_free(&fa, a, FRAME_MAX_ORDER + 1), CIVIC_EINVAL);
    assert_int_equal(frame_free(&fa, a + 1, 2), CIVIC_EINVAL);         /* unaligned */
    assert_int_equal(frame_free(&fa, a + PAGE_SIZE, 0), CIVIC_EINVAL); /* tail of a block */
    assert_int_equal(frame_free(&fa, a + 2 * PAGE_SIZE, 1), CIVIC_EINVAL);
    assert_int_equal(frame_free(&fa, PA(600), 0), CIVIC_EINVAL);  /* never added */
    assert_int_equal(frame_free(&fa, PA(1024), 0), CIVIC_EINVAL); /* past the span */
    assert_int_equal(frame_free(&fa, PA(300), 0), CIVIC_EINVAL);  /* free, not allocated */
    assert_int_equal(frame_free(&fa, PA(256), 8), CIVIC_EINVAL);  /* free block head */
    struct frame_stats after = stats();
    assert_stats_equal(&before, &after);

    assert_int_equal(frame_free(&fa, b, 0), CIVIC_OK);
    assert_int_equal(frame_free(&fa, b, 0), CIVIC_EINVAL); /* double free */
    assert_int_equal(frame_free(&fa, a, 2), CIVIC_OK);
    assert_int_equal(frame_free(&fa, a, 2), CIVIC_EINVAL);
    after = stats();
    assert_int_equal(after.free, 512);
    assert_int_equal(after.free_blocks[9], 1);
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
        if (o != 9)
            assert_int_equal(after.free_blocks[o], 0);
}

static void test_fragmentation(void **state)
{
    setup_fa(0, 4);
    assert_int_equal(frame_add_free_range(&fa, PA(0), PA(4)), CIVIC_OK);
    phys_addr_t a[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(frame_alloc(&fa, 0, &a[i]), CIVIC_OK);
    /* Free two frames that are not buddies: no order-1 block. */
    for (int i = 0; i < 4; i++) {
        if ((a[i] >> PAGE_SHIFT) == 0 || (a[i] >> PAGE_SHIFT) == 2)
            assert_int_equal(frame_free(&fa, a[i], 0), CIVIC_OK);
    }
    phys_addr_t x;
    assert_int_equal(frame_alloc(&fa, 1, &x), CIVIC_ENOMEM);
    struct frame_stats st = stats();
    assert_int_equal(st.free_blocks[0], 2);
    assert_int_equal(st.free, 2);
    /* Frame 1 back: 0 and 1 merge, order 1 now possible. */
    assert_int_equal(frame_free(&fa, PA(1), 0), CIVIC_OK);
    assert_int_equal(frame_alloc(&fa, 1, &x), CIVIC_OK);
    assert_int_equal(x, PA(0));
}

static void test_coalesce_to_max(void **state)
{
    setup_fa(0, 2048);
    assert_int_equal(frame_add_free_range(&fa, PA(0), PA(2048)), CIVIC_OK);
    struct frame_stats start = stats();
    assert_int_equal(start.free_blocks[FRAME_MAX_ORDER], 2);
    static phys_addr_t got[2048];
    /* Mixed orders, freed in a scrambled order. */
    unsigned n = 0;
    for (unsigned i = 0; i < 128; i++)
        assert_int_equal(frame_alloc(&fa, 3, &got[n++]), CIVIC_OK);
    for (unsigned i = 0; i < 2048 - 128 * 8; i++)
        assert_int_equal(frame_alloc(&fa, 0, &got[n++]), CIVIC_OK);
    phys_addr_t x;
    assert_int_equal(frame_alloc(&fa, 0, &x), CIVIC_ENOMEM);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = (i * 101) % n;
        assert_int_equal(frame_free(&fa, got[k], k < 128 ? 3 : 0), CIVIC_OK);
    }
    struct frame_stats st = stats();
    assert_stats_equal(&st, &start);
}

static void test_random_stress(void **state)
{
    enum { BASE = 0x1003, N = 5000, LIVE = 512 };
    setup_fa(BASE, N);
    assert_int_equal(frame_add_free_range(&fa, PA(BASE), PA(BASE + 2000)), CIVIC_OK);
    assert_int_equal(frame_add_free_range(&fa, PA(BASE + 2100), PA(BASE + N)), CIVIC_OK);
    struct frame_stats start = stats();
    static uint8_t shadow[N];
    memset(shadow, 0, sizeof(shadow));
    struct {
        phys_addr_t a;
        unsigned order;
    } live[LIVE];
    unsigned nlive = 0;
    uint64_t used = 0;
    rng = 0xdecafbad;
    for (int step = 0; step < 40000; step++) {
        bool do_alloc = nlive == 0 || (nlive < LIVE && (rnd() % 100) < 55);
        if (do_alloc) {
            unsigned o = rnd() % 100 < 80 ? rnd() % 3 : rnd() % (FRAME_MAX_ORDER + 1);
            phys_addr_t a;
            civic_err e = frame_alloc(&fa, o, &a);
            if (e == CIVIC_ENOMEM)
                continue;
            assert_int_equal(e, CIVIC_OK);
            assert_int_equal(a & ((PAGE_SIZE << o) - 1), 0);
            uint64_t i = (a >> PAGE_SHIFT) - BASE;
            assert_true((a >> PAGE_SHIFT) >= BASE && i + (1u << o) <= N);
            for (uint64_t f = i; f < i + (1u << o); f++) {
                assert_false(f >= 2000 && f < 2100);
                assert_int_equal(shadow[f], 0);
                shadow[f] = 1;
            }
            live[nlive].a = a;
            live[nlive].order = o;
            nlive++;
            used += 1u << o;
        } else {
            unsigned k = rnd() % nlive;
            uint64_t i = (live[k].a >> PAGE_SHIFT) - BASE;
            /* Every so often, try a wrong order first: must be refused. */
            if (live[k].order > 0 && step % 7 == 0)
                assert_int_equal(frame_free(&fa, live[k].a, live[k].order - 1), CIVIC_EINVAL);
            assert_int_equal(frame_free(&fa, live[k].a, live[k].order), CIVIC_OK);
            for (uint64_t f = i; f < i + (1u << live[k].order); f++)
                shadow[f] = 0;
            used -= 1u << live[k].order;
            live[k] = live[--nlive];
        }
        if (step % 1000 == 0) {
            struct frame_stats st = stats();
            assert_int_equal(st.used, used);
            assert_int_equal(st.free, start.total - used);
            uint64_t sum = 0;
            for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
                sum += st.free_blocks[o] << o;
            assert_int_equal(sum, st.free);
        }
    }
    while (nlive) {
        nlive--;
        assert_int_equal(frame_free(&fa, live[nlive].a, live[nlive].order), CIVIC_OK);
    }
    struct frame_stats st = stats();
    assert_stats_equal(&st, &start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_bytes),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test_teardown(test_empty_allocator, teardown),
        cmocka_unit_test_teardown(test_add_splits_maximal, teardown),
        cmocka_unit_test_teardown(test_add_single_frames_coalesce, teardown),
        cmocka_unit_test_teardown(test_add_errors, teardown),
        cmocka_unit_test_teardown(test_alignment_each_order, teardown),
        cmocka_unit_test_teardown(test_exhaustion_with_holes, teardown),
        cmocka_unit_test_teardown(test_bad_frees, teardown),
        cmocka_unit_test_teardown(test_fragmentation, teardown),
        cmocka_unit_test_teardown(test_coalesce_to_max, teardown),
        cmocka_unit_test_teardown(test_random_stress, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
