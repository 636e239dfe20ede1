// unit-sources: mm/evict_clock.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mm/evict_clock.h"

/* A fake VM: records and the EPT A/D bits of up to MAXF frames. */
#define MAXF 64
struct fake {
    uint8_t state[MAXF];
    uint8_t flags[MAXF];
    bool a[MAXF], d[MAXF];
    bool unmapped[MAXF];
    bool fail[MAXF];    /* test_and_clear_ad returns CIVIC_EIO */
    unsigned tac[MAXF]; /* test_and_clear_ad calls per frame */
    unsigned noted[MAXF];
};

static enum page_state f_state(void *ctx, uint64_t gfn, uint8_t *flags)
{
    struct fake *f = ctx;
    assert_true(gfn < MAXF);
    *flags = f->flags[gfn];
    return (enum page_state)f->state[gfn];
}

static civic_err f_tac(void *ctx, uint64_t gfn, bool *accessed, bool *dirty)
{
    struct fake *f = ctx;
    assert_true(gfn < MAXF);
    f->tac[gfn]++;
    if (f->fail[gfn])
        return CIVIC_EIO;
    if (f->unmapped[gfn])
        return CIVIC_ENOENT;
    *accessed = f->a[gfn];
    *dirty = f->d[gfn];
    f->a[gfn] = f->d[gfn] = false;
    return CIVIC_OK;
}

static void f_note_dirty(void *ctx, uint64_t gfn)
{
    struct fake *f = ctx;
    f->noted[gfn]++;
    f->flags[gfn] |= PAGE_F_DIRTY;
}

static const struct evict_clock_ops ops = {f_state, f_tac, f_note_dirty};

/* n LOCAL frames, all cold and clean. */
static void fake_init(struct fake *f, unsigned n)
{
    memset(f, 0, sizeof(*f));
    for (unsigned i = 0; i < n; i++)
        f->state[i] = PAGE_LOCAL;
}

static size_t sel(struct evict_clock *c, struct fake *f, struct evict_victim *v, size_t want,
                  size_t max_scan, bool *inv)
{
    memset(v, 0xee, sizeof(*v) * (want ? want : 1));
    return evict_clock_select(c, &ops, f, v, want, max_scan, inv);
}

static void test_cold_in_order(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[4];
    bool inv = true;
    fake_init(&f, 8);
    evict_clock_init(&c, 8);
    assert_int_equal(sel(&c, &f, v, 3, 100, &inv), 3);
    assert_int_equal(v[0].gfn, 0);
    assert_int_equal(v[1].gfn, 1);
    assert_int_equal(v[2].gfn, 2);
    assert_false(v[0].dirty || v[1].dirty || v[2].dirty);
    assert_false(inv); /* nothing was set, nothing cleared */
    assert_int_equal(c.hand, 3);
    assert_int_equal(f.tac[3], 0); /* stopped right after the third victim */
}

static void test_second_chance_order(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[4];
    bool inv = false;
    fake_init(&f, 6);
    f.a[0] = f.a[1] = f.a[3] = true;
    evict_clock_init(&c, 6);
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 2);
    assert_int_equal(v[0].gfn, 2);
    assert_int_equal(v[1].gfn, 4);
    assert_true(inv);
    assert_false(f.a[0] || f.a[1] || f.a[3]); /* the spared pages lost their A bit */
    assert_int_equal(c.hand, 5);
    struct evict_clock_stats st;
    evict_clock_get_stats(&c, &st);
    assert_int_equal(st.scanned, 5);
    assert_int_equal(st.second_chances, 3);
    assert_int_equal(st.chosen, 2);
    assert_int_equal(st.dirty_chosen, 0);

    /* Next call: 5 is cold, then the hand wraps to the spared 0 and 1, now cold. */
    assert_int_equal(sel(&c, &f, v, 3, 100, &inv), 3);
    assert_int_equal(v[0].gfn, 5);
    assert_int_equal(v[1].gfn, 0);
    assert_int_equal(v[2].gfn, 1);
    assert_false(inv);
    assert_int_equal(c.hand, 2);
}

static void test_reaccessed_spared_again(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[2];
    bool inv;
    fake_init(&f, 3);
    f.a[0] = f.a[1] = f.a[2] = true;
    evict_clock_init(&c, 3);
    assert_int_equal(sel(&c, &f, v, 1, 100, &inv), 0);
    assert_true(inv);
    f.a[1] = true; /* the guest used page 1 again after the invalidation */
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 2);
    assert_int_equal(v[0].gfn, 0);
    assert_int_equal(v[1].gfn, 2);
    assert_true(inv);
}

static void test_wrap(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[2];
    bool inv;
    fake_init(&f, 5);
    evict_clock_init(&c, 5);
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 2);
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 2);
    assert_int_equal(v[0].gfn, 2);
    assert_int_equal(v[1].gfn, 3);
    /* 4, then around to 0 */
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 2);
    assert_int_equal(v[0].gfn, 4);
    assert_int_equal(v[1].gfn, 0);
    assert_int_equal(c.hand, 1);
}

static void test_skipped_states(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[8];
    bool inv;
    fake_init(&f, 8);
    f.state[0] = PAGE_ZERO;
    f.state[1] = PAGE_REMOTE;
    f.state[2] = PAGE_EVICTING;
    f.flags[3] = PAGE_F_PINNED;
    f.flags[4] = PAGE_F_PINNED | PAGE_F_DIRTY;
    f.a[3] = f.d[3] = true; /* a pinned page's bits are not the clock's business */
    evict_clock_init(&c, 8);
    assert_int_equal(sel(&c, &f, v, 8, 100, &inv), 3);
    assert_int_equal(v[0].gfn, 5);
    assert_int_equal(v[1].gfn, 6);
    assert_int_equal(v[2].gfn, 7);
    assert_false(inv);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(f.tac[i], 0);
    assert_true(f.a[3] && f.d[3]);
    assert_int_equal(f.noted[3], 0);
    struct evict_clock_stats st;
    evict_clock_get_stats(&c, &st);
    assert_int_equal(st.scanned, 8);
}

static void test_unmapped_and_errors(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[4];
    bool inv;
    fake_init(&f, 4);
    f.unmapped[0] = true;      /* LOCAL but never mapped: the guest has not used it */
    f.flags[0] = PAGE_F_DIRTY; /* written by the loader, say */
    f.fail[1] = true;
    evict_clock_init(&c, 4);
    assert_int_equal(sel(&c, &f, v, 4, 100, &inv), 3);
    assert_int_equal(v[0].gfn, 0);
    assert_true(v[0].dirty);
    assert_int_equal(v[1].gfn, 2);
    assert_int_equal(v[2].gfn, 3);
    assert_int_equal(f.tac[1], 1);
    assert_false(inv);
}

static void test_max_scan_bound(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[4];
    bool inv;
    fake_init(&f, 10);
    for (unsigned i = 0; i < 10; i++)
        f.a[i] = true;
    f.a[7] = false;
    evict_clock_init(&c, 10);
    assert_int_equal(sel(&c, &f, v, 1, 4, &inv), 0);
    assert_int_equal(c.hand, 4);
    assert_int_equal(f.tac[3], 1);
    assert_int_equal(f.tac[4], 0);
    assert_true(inv);
    assert_int_equal(sel(&c, &f, v, 1, 4, &inv), 1);
    assert_int_equal(v[0].gfn, 7);
    assert_int_equal(c.hand, 8);
    assert_int_equal(sel(&c, &f, v, 1, 0, &inv), 0); /* no budget, no work */
    assert_int_equal(c.hand, 8);
    assert_false(inv);
    struct evict_clock_stats st;
    evict_clock_get_stats(&c, &st);
    assert_int_equal(st.scanned, 8);
}

static void test_want_more_than_candidates(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[16];
    bool inv;
    fake_init(&f, 6);
    f.state[1] = PAGE_REMOTE;
    f.state[4] = PAGE_ZERO;
    evict_clock_init(&c, 6);
    c.hand = 3;
    /* one lap at most: each candidate once, from the hand round to just before it */
    assert_int_equal(sel(&c, &f, v, 16, 1000, &inv), 4);
    assert_int_equal(v[0].gfn, 3);
    assert_int_equal(v[1].gfn, 5);
    assert_int_equal(v[2].gfn, 0);
    assert_int_equal(v[3].gfn, 2);
    assert_int_equal(c.hand, 3);
    for (unsigned i = 0; i < 6; i++)
        assert_true(f.tac[i] <= 1);
}

static void test_all_accessed_two_passes(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[4];
    bool inv;
    fake_init(&f, 4);
    for (unsigned i = 0; i < 4; i++)
        f.a[i] = true;
    f.d[2] = true;
    evict_clock_init(&c, 4);
    c.hand = 1;
    /* the first pass only clears bits, however large the budget */
    assert_int_equal(sel(&c, &f, v, 2, 1000, &inv), 0);
    assert_true(inv);
    assert_int_equal(c.hand, 1);
    /* after the caller's INVEPT, the second pass takes them from the hand on */
    assert_int_equal(sel(&c, &f, v, 2, 1000, &inv), 2);
    assert_false(inv);
    assert_int_equal(v[0].gfn, 1);
    assert_false(v[0].dirty);
    assert_int_equal(v[1].gfn, 2);
    assert_true(v[1].dirty); /* the D bit cleared on pass one was kept in the record */
    assert_int_equal(c.hand, 3);
}

static void test_dirty_reported(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[4];
    bool inv;
    fake_init(&f, 4);
    f.d[0] = true;             /* D without A: still cold, but written */
    f.a[1] = f.d[1] = true;    /* spared; the write must not be lost */
    f.flags[2] = PAGE_F_DIRTY; /* dirty from an earlier harvest */
    evict_clock_init(&c, 4);
    assert_int_equal(sel(&c, &f, v, 4, 100, &inv), 3);
    assert_true(inv);
    assert_int_equal(v[0].gfn, 0);
    assert_true(v[0].dirty);
    assert_int_equal(v[1].gfn, 2);
    assert_true(v[1].dirty);
    assert_int_equal(v[2].gfn, 3);
    assert_false(v[2].dirty);
    assert_int_equal(f.noted[0], 1);
    assert_int_equal(f.noted[1], 1);
    assert_int_equal(f.noted[2], 0); /* nothing cleared there */
    assert_true(f.flags[1] & PAGE_F_DIRTY);
    assert_false(f.d[1]);
    struct evict_clock_stats st;
    evict_clock_get_stats(&c, &st);
    assert_int_equal(st.dirty_chosen, 2);
    assert_int_equal(st.chosen, 3);
}

static void test_invalidate_flag(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[1];
    bool inv = true;
    fake_init(&f, 4);
    evict_clock_init(&c, 4);
    assert_int_equal(sel(&c, &f, v, 1, 100, &inv), 1);
    assert_false(inv); /* reset on every call */
    f.a[2] = true;
    assert_int_equal(sel(&c, &f, v, 1, 100, &inv), 1);
    assert_int_equal(v[0].gfn, 1);
    assert_false(inv); /* stopped before reaching page 2 */
    assert_int_equal(sel(&c, &f, v, 1, 100, &inv), 1);
    assert_int_equal(v[0].gfn, 3);
    assert_true(inv);
    f.d[0] = true; /* a cleared D bit alone also needs the invalidation */
    assert_int_equal(sel(&c, &f, v, 1, 100, &inv), 1);
    assert_int_equal(v[0].gfn, 0);
    assert_true(v[0].dirty);
    assert_true(inv);
}

static void test_empty_and_zero_want(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[1];
    bool inv = true;
    fake_init(&f, 4);
    evict_clock_init(&c, 0);
    assert_int_equal(sel(&c, &f, v, 1, 100, &inv), 0);
    assert_false(inv);
    assert_int_equal(f.tac[0], 0);
    evict_clock_init(&c, 4);
    inv = true;
    assert_int_equal(evict_clock_select(&c, &ops, &f, NULL, 0, 100, &inv), 0);
    assert_false(inv);
    assert_int_equal(c.hand, 0);
    struct evict_clock_stats st;
    evict_clock_get_stats(&c, &st);
    assert_int_equal(st.scanned, 0);
}

static void test_single_frame(void **state)
{
    struct fake f;
    struct evict_clock c;
    struct evict_victim v[2];
    bool inv;
    fake_init(&f, 1);
    f.a[0] = true;
    evict_clock_init(&c, 1);
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 0);
    assert_int_equal(c.hand, 0);
    assert_int_equal(sel(&c, &f, v, 2, 100, &inv), 1);
    assert_int_equal(v[0].gfn, 0);
    assert_int_equal(f.tac[0], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_in_order),
        cmocka_unit_test(test_second_chance_order),
        cmocka_unit_test(test_reaccessed_spared_again),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_skipped_states),
        cmocka_unit_test(test_unmapped_and_errors),
        cmocka_unit_test(test_max_scan_bound),
        cmocka_unit_test(test_want_more_than_candidates),
        cmocka_unit_test(test_all_accessed_two_passes),
        cmocka_unit_test(test_dirty_reported),
        cmocka_unit_test(test_invalidate_flag),
        cmocka_unit_test(test_empty_and_zero_want),
        cmocka_unit_test(test_single_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
