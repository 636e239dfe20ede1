// unit-sources: mm/page_record.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mm/page_record.h"

#define PFN 0xabcdeull
#define H0 3
#define H1 9

enum transition {
    T_TOUCH,
    T_RELEASE,
    T_EVICT_BEGIN,
    T_EVICT_CLEAN,
    T_EVICT_DONE,
    T_EVICT_ABORT,
    T_FETCH_BEGIN,
    T_FETCH_DONE,
    T_FETCH_ABORT,
    T_NOTE_DIRTY,
    T_PREFETCH_USED,
    NTRANSITIONS
};

static const char *const tnames[NTRANSITIONS] = {
    "touch",       "release",    "evict_begin", "evict_clean", "evict_done",   "evict_abort",
    "fetch_begin", "fetch_done", "fetch_abort", "note_dirty",  "prefetch_used"};

/* The one state each transition starts from, and where it goes. */
static const enum page_state from[NTRANSITIONS] = {
    PAGE_ZERO,   PAGE_LOCAL,    PAGE_LOCAL,    PAGE_LOCAL, PAGE_EVICTING, PAGE_EVICTING,
    PAGE_REMOTE, PAGE_FETCHING, PAGE_FETCHING, PAGE_LOCAL, PAGE_LOCAL};
static const enum page_state to[NTRANSITIONS] = {
    PAGE_LOCAL,    PAGE_ZERO,  PAGE_EVICTING, PAGE_REMOTE, PAGE_REMOTE, PAGE_LOCAL,
    PAGE_FETCHING, PAGE_LOCAL, PAGE_REMOTE,   PAGE_LOCAL,  PAGE_LOCAL};

struct outs {
    uint64_t pfn;
    uint8_t holders[2];
};

/* Checksums of copies, kept in REMOTE and FETCHING records. */
#define CRC_A 0xc1c2c3c4u
#define CRC_B 0xd1d2d3d4u

static civic_err apply(struct page_record *r, enum transition t, struct outs *o)
{
    switch (t) {
    case T_TOUCH: return page_touch(r, 0x1234);
    case T_RELEASE: return page_release(r, &o->pfn, o->holders);
    case T_EVICT_BEGIN: return page_evict_begin(r, &o->pfn, 5, 6);
    case T_EVICT_CLEAN: return page_evict_clean(r, &o->pfn, CRC_A);
    case T_EVICT_DONE: return page_evict_done(r, &o->pfn, 3, CRC_B);
    case T_EVICT_ABORT: return page_evict_abort(r);
    case T_FETCH_BEGIN: return page_fetch_begin(r);
    case T_FETCH_DONE: return page_fetch_done(r, 0x5678, false);
    case T_FETCH_ABORT: return page_fetch_abort(r);
    case T_NOTE_DIRTY: return page_note_dirty(r);
    case T_PREFETCH_USED: return page_prefetch_used(r);
    case NTRANSITIONS: break;
    }
    return CIVIC_OK;
}

/* A valid record in state s with recognisable contents; a LOCAL one has a clean prefetched copy
 * on two holders so that every transition from LOCAL is legal on it. */
static struct page_record in_state(uint8_t s)
{
    struct page_record r;
    memset(&r, 0, sizeof(r));
    r.state = s;
    r.version = 41;
    switch (s) {
    case PAGE_ZERO: break;
    case PAGE_LOCAL:
        r.where = PFN;
        r.flags = PAGE_F_COPY | PAGE_F_PREFETCHED;
        r.holder[0] = H0;
        r.holder[1] = H1;
        break;
    case PAGE_EVICTING: r.where = PFN; /* fall through */
    default:
        r.holder[0] = H0;
        r.holder[1] = H1;
        break;
    }
    return r;
}

static struct outs fresh_outs(void)
{
    struct outs o = {.pfn = 0xdead, .holders = {0xee, 0xee}};
    return o;
}

static void assert_unchanged_outs(const struct outs *o)
{
    assert_int_equal(o->pfn, 0xdead);
    assert_int_equal(o->holders[0], 0xee);
    assert_int_equal(o->holders[1], 0xee);
}

#define assert_same(a, b) assert_memory_equal(&(a), &(b), sizeof(struct page_record))

static void test_size(void **state)
{
    assert_int_equal(sizeof(struct page_record), 16);
    assert_int_equal(offsetof(struct page_record, version), 8);
    assert_int_equal(offsetof(struct page_record, state), 12);
    assert_int_equal(offsetof(struct page_record, holder), 14);
    struct page_record zero;
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(zero.state, PAGE_ZERO); /* a zeroed frame of records is all ZERO */
    assert_int_equal(page_check(&zero), CIVIC_OK);
    assert_int_equal(PAGE_STATES, 5);
}

/* Every transition from every state (and two invalid ones): legal ones move to their target,
 * illegal ones return EINVAL and leave every byte of the record and the outputs as they were. */
static void test_every_transition_from_every_state(void **state)
{
    const uint8_t states[] = {PAGE_ZERO,     PAGE_LOCAL, PAGE_REMOTE, PAGE_EVICTING,
                              PAGE_FETCHING, 5,          0xff};
    unsigned legal = 0;
    for (size_t i = 0; i < sizeof(states); i++) {
        for (unsigned t = 0; t < NTRANSITIONS; t++) {
            struct page_record r = in_state(states[i]);
            struct page_record before = r;
            struct outs o = fresh_outs();
            civic_err e = apply(&r, (enum transition)t, &o);
            if (states[i] == from[t]) {
                legal++;
                if (e != CIVIC_OK)
                    fail_msg("%s from %s refused: %d", tnames[t], page_state_name(states[i]), e);
                assert_int_equal(r.state, to[t]);
                if (page_check(&r) != CIVIC_OK)
                    fail_msg("%s from %s left a bad record", tnames[t], page_state_name(states[i]));
                /* Only evict_begin starts a copy. */
                assert_int_equal(r.version, t == T_EVICT_BEGIN ? 42 : 41);
            } else {
                if (e != CIVIC_EINVAL)
                    fail_msg("%s from state %u: %d", tnames[t], states[i], e);
                assert_same(r, before);
                assert_unchanged_outs(&o);
            }
        }
    }
    assert_int_equal(legal, NTRANSITIONS);
}

static void test_touch(void **state)
{
    struct page_record r;
    memset(&r, 0, sizeof(r));
    r.version = 17; /* released after a copy once: the version stays */
    r.flags = PAGE_F_PINNED;
    assert_int_equal(page_touch(&r, 0x123456789ull), CIVIC_OK);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.where, 0x123456789ull);
    assert_int_equal(r.version, 17);
    assert_int_equal(r.flags, PAGE_F_PINNED);
    assert_int_equal(r.holder[0], 0);
    assert_int_equal(r.holder[1], 0);
    assert_int_equal(page_check(&r), CIVIC_OK);

    /* Only PINNED survives, whatever was left in the flags. */
    memset(&r, 0, sizeof(r));
    r.flags = PAGE_F_DIRTY | PAGE_F_COPY | PAGE_F_PREFETCHED;
    assert_int_equal(page_touch(&r, 1), CIVIC_OK);
    assert_int_equal(r.flags, 0);

    /* Frame numbers beyond 52-bit physical addresses. */
    memset(&r, 0, sizeof(r));
    struct page_record before = r;
    assert_int_equal(page_touch(&r, PAGE_PFN_LIMIT), CIVIC_EINVAL);
    assert_int_equal(page_touch(&r, ~0ull), CIVIC_EINVAL);
    assert_same(r, before);
    assert_int_equal(page_touch(&r, PAGE_PFN_LIMIT - 1), CIVIC_OK);
    assert_int_equal(page_touch(NULL, 1), CIVIC_EINVAL);
}

static void test_release(void **state)
{
    /* With a copy: its holders are handed out to be freed. */
    struct page_record r = in_state(PAGE_LOCAL);
    r.flags |= PAGE_F_PINNED | PAGE_F_DIRTY;
    struct outs o = fresh_outs();
    assert_int_equal(page_release(&r, &o.pfn, o.holders), CIVIC_OK);
    assert_int_equal(o.pfn, PFN);
    assert_int_equal(o.holders[0], H0);
    assert_int_equal(o.holders[1], H1);
    assert_int_equal(r.state, PAGE_ZERO);
    assert_int_equal(r.where, 0);
    assert_int_equal(r.version, 41);
    assert_int_equal(r.flags, PAGE_F_PINNED);
    assert_int_equal(r.holder[0], 0);
    assert_int_equal(r.holder[1], 0);
    assert_int_equal(page_check(&r), CIVIC_OK);

    /* Without a copy: nothing to free elsewhere. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(page_touch(&r, 77), CIVIC_OK);
    o = fresh_outs();
    assert_int_equal(page_release(&r, &o.pfn, o.holders), CIVIC_OK);
    assert_int_equal(o.pfn, 77);
    assert_int_equal(o.holders[0], 0);
    assert_int_equal(o.holders[1], 0);

    /* NULL outputs. */
    r = in_state(PAGE_LOCAL);
    struct page_record before = r;
    o = fresh_outs();
    assert_int_equal(page_release(&r, NULL, o.holders), CIVIC_EINVAL);
    assert_int_equal(page_release(&r, &o.pfn, NULL), CIVIC_EINVAL);
    assert_int_equal(page_release(NULL, &o.pfn, o.holders), CIVIC_EINVAL);
    assert_same(r, before);
    assert_unchanged_outs(&o);
}

static void test_evict_begin(void **state)
{
    struct page_record r = in_state(PAGE_LOCAL);
    r.flags |= PAGE_F_DIRTY;
    uint64_t pfn = 0;
    assert_int_equal(page_evict_begin(&r, &pfn, 7, 8), CIVIC_OK);
    assert_int_equal(pfn, PFN);
    assert_int_equal(r.state, PAGE_EVICTING);
    assert_int_equal(r.where, PFN); /* the frame is kept until a holder acknowledges */
    assert_int_equal(r.version, 42);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.holder[0], 7);
    assert_int_equal(r.holder[1], 8);
    assert_int_equal(page_check(&r), CIVIC_OK);

    /* One holder is enough. */
    r = in_state(PAGE_LOCAL);
    assert_int_equal(page_evict_begin(&r, &pfn, 255, 0), CIVIC_OK);
    assert_int_equal(r.holder[0], 255);
    assert_int_equal(r.holder[1], 0);

    /* Version 0 means never copied: a wrapping version skips it. */
    r = in_state(PAGE_LOCAL);
    r.version = UINT32_MAX;
    assert_int_equal(page_evict_begin(&r, &pfn, 1, 0), CIVIC_OK);
    assert_int_equal(r.version, 1);
    r = in_state(PAGE_LOCAL);
    r.version = 0;
    r.flags = 0;
    r.holder[0] = r.holder[1] = 0;
    assert_int_equal(page_evict_begin(&r, &pfn, 1, 0), CIVIC_OK);
    assert_int_equal(r.version, 1);
}

static void test_evict_begin_refusals(void **state)
{
    const uint8_t bad[][2] = {{0, 0}, {0, 5}, {5, 5}, {255, 255}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct page_record r = in_state(PAGE_LOCAL);
        struct page_record before = r;
        uint64_t pfn = 0xdead;
        assert_int_equal(page_evict_begin(&r, &pfn, bad[i][0], bad[i][1]), CIVIC_EINVAL);
        assert_same(r, before);
        assert_int_equal(pfn, 0xdead);
    }
    struct page_record r = in_state(PAGE_LOCAL);
    r.flags |= PAGE_F_PINNED;
    struct page_record before = r;
    uint64_t pfn = 0xdead;
    assert_int_equal(page_evict_begin(&r, &pfn, 1, 2), CIVIC_EBUSY);
    assert_same(r, before);
    assert_int_equal(pfn, 0xdead);
    /* Bad arguments are refused before the pin is considered. */
    assert_int_equal(page_evict_begin(&r, &pfn, 0, 2), CIVIC_EINVAL);
    assert_int_equal(page_evict_begin(&r, NULL, 1, 2), CIVIC_EINVAL);
    assert_int_equal(page_evict_begin(NULL, &pfn, 1, 2), CIVIC_EINVAL);
    assert_same(r, before);
}

static void test_evict_clean(void **state)
{
    struct page_record r = in_state(PAGE_LOCAL); /* COPY, PREFETCHED, not DIRTY */
    uint64_t pfn = 0;
    assert_int_equal(page_evict_clean(&r, &pfn, CRC_A), CIVIC_OK);
    assert_int_equal(pfn, PFN);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.where, CRC_A); /* the copy's checksum, to check the page against */
    assert_int_equal(r.version, 41);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.holder[0], H0);
    assert_int_equal(r.holder[1], H1);
    assert_int_equal(page_check(&r), CIVIC_OK);

    /* Dirty, or no copy: it must be sent, not dropped. */
    const uint8_t flags[] = {PAGE_F_COPY | PAGE_F_DIRTY, PAGE_F_DIRTY, 0};
    for (size_t i = 0; i < sizeof(flags); i++) {
        r = in_state(PAGE_LOCAL);
        r.flags = flags[i];
        if (!(flags[i] & PAGE_F_COPY))
            r.holder[0] = r.holder[1] = 0;
        struct page_record before = r;
        pfn = 0xdead;
        assert_int_equal(page_evict_clean(&r, &pfn, CRC_A), CIVIC_EINVAL);
        assert_same(r, before);
        assert_int_equal(pfn, 0xdead);
    }
    r = in_state(PAGE_LOCAL);
    r.flags |= PAGE_F_PINNED;
    struct page_record before = r;
    assert_int_equal(page_evict_clean(&r, &pfn, CRC_A), CIVIC_EBUSY);
    assert_int_equal(page_evict_clean(&r, NULL, CRC_A), CIVIC_EINVAL);
    assert_same(r, before);
}

/* An EVICTING record with holders h0, h1. */
static struct page_record evicting(uint8_t h0, uint8_t h1)
{
    struct page_record r = in_state(PAGE_EVICTING);
    r.holder[0] = h0;
    r.holder[1] = h1;
    return r;
}

static void check_done(struct page_record r, unsigned mask, uint8_t want0, uint8_t want1)
{
    uint64_t pfn = 0;
    assert_int_equal(page_evict_done(&r, &pfn, mask, CRC_B), CIVIC_OK);
    assert_int_equal(pfn, PFN);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.where, CRC_B);
    assert_int_equal(r.version, 41);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.holder[0], want0);
    assert_int_equal(r.holder[1], want1);
    assert_int_equal(page_check(&r), CIVIC_OK);
}

static void check_done_refused(struct page_record r, unsigned mask)
{
    struct page_record before = r;
    uint64_t pfn = 0xdead;
    assert_int_equal(page_evict_done(&r, &pfn, mask, CRC_B), CIVIC_EINVAL);
    assert_same(r, before);
    assert_int_equal(pfn, 0xdead);
}

static void test_evict_done_masks(void **state)
{
    check_done(evicting(H0, H1), 3, H0, H1); /* both */
    check_done(evicting(H0, H1), 1, H0, 0);  /* primary only: replica dropped */
    check_done(evicting(H0, H1), 2, H1, 0);  /* replica only: promoted */
    check_done_refused(evicting(H0, H1), 0); /* none */
    check_done_refused(evicting(H0, H1), 4);
    check_done_refused(evicting(H0, H1), 5);
    check_done_refused(evicting(H0, H1), ~0u);

    /* One holder: its bit is required; the absent replica's bit alone names nobody. */
    check_done(evicting(H0, 0), 1, H0, 0);
    check_done(evicting(H0, 0), 3, H0, 0);
    check_done_refused(evicting(H0, 0), 2);
    check_done_refused(evicting(H0, 0), 0);

    struct page_record r = evicting(H0, H1);
    struct page_record before = r;
    assert_int_equal(page_evict_done(&r, NULL, 3, CRC_B), CIVIC_EINVAL);
    assert_int_equal(page_evict_done(NULL, NULL, 3, CRC_B), CIVIC_EINVAL);
    assert_same(r, before);
}

static void test_evict_abort(void **state)
{
    struct page_record r = evicting(H0, H1);
    r.flags = PAGE_F_PINNED; /* not reachable through evict_begin, but kept if present */
    assert_int_equal(page_evict_abort(&r), CIVIC_OK);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.where, PFN);
    assert_int_equal(r.version, 41);
    assert_int_equal(r.flags, PAGE_F_DIRTY | PAGE_F_PINNED);
    assert_int_equal(r.holder[0], 0);
    assert_int_equal(r.holder[1], 0);
    assert_int_equal(page_check(&r), CIVIC_OK);
    assert_int_equal(page_evict_abort(NULL), CIVIC_EINVAL);
}

static void test_fetch(void **state)
{
    struct page_record r = in_state(PAGE_REMOTE);
    assert_int_equal(page_fetch_begin(&r), CIVIC_OK);
    assert_int_equal(r.state, PAGE_FETCHING);
    assert_int_equal(r.where, 0);
    assert_int_equal(r.version, 41);
    assert_int_equal(r.holder[0], H0);
    assert_int_equal(r.holder[1], H1);
    struct page_record fetching = r;

    assert_int_equal(page_fetch_done(&r, 0x42, false), CIVIC_OK);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.where, 0x42);
    assert_int_equal(r.version, 41);
    assert_int_equal(r.flags, PAGE_F_COPY);
    assert_int_equal(r.holder[0], H0);
    assert_int_equal(r.holder[1], H1);
    assert_int_equal(page_check(&r), CIVIC_OK);

    r = fetching;
    r.flags = PAGE_F_DIRTY; /* corrupt, but fetch_done clears it */
    assert_int_equal(page_fetch_done(&r, 0x43, true), CIVIC_OK);
    assert_int_equal(r.flags, PAGE_F_COPY | PAGE_F_PREFETCHED);

    r = fetching;
    assert_int_equal(page_fetch_abort(&r), CIVIC_OK);
    assert_int_equal(r.state, PAGE_REMOTE);
    fetching.state = PAGE_REMOTE;
    assert_same(r, fetching); /* nothing else changed */

    /* A frame number beyond 52 bits. */
    r = in_state(PAGE_FETCHING);
    struct page_record before = r;
    assert_int_equal(page_fetch_done(&r, PAGE_PFN_LIMIT, false), CIVIC_EINVAL);
    assert_same(r, before);
    assert_int_equal(page_fetch_begin(NULL), CIVIC_EINVAL);
    assert_int_equal(page_fetch_done(NULL, 1, false), CIVIC_EINVAL);
    assert_int_equal(page_fetch_abort(NULL), CIVIC_EINVAL);
}

static void test_fetch_lost(void **state)
{
    struct page_record r = in_state(PAGE_REMOTE);
    r.holder[0] = r.holder[1] = 0;
    struct page_record before = r;
    assert_true(page_is_lost(&r));
    assert_int_equal(page_fetch_begin(&r), CIVIC_EIO);
    assert_same(r, before);

    /* Data that arrives after the last holder went is kept, without a copy behind it. */
    r = in_state(PAGE_FETCHING);
    r.holder[0] = r.holder[1] = 0;
    assert_int_equal(page_fetch_done(&r, 5, false), CIVIC_OK);
    assert_int_equal(r.flags, 0);
    assert_int_equal(page_check(&r), CIVIC_OK);
}

static void test_note_dirty_and_prefetch_used(void **state)
{
    struct page_record r = in_state(PAGE_LOCAL);
    assert_int_equal(page_note_dirty(&r), CIVIC_OK);
    assert_int_equal(r.flags, PAGE_F_COPY | PAGE_F_PREFETCHED | PAGE_F_DIRTY);
    assert_int_equal(page_note_dirty(&r), CIVIC_OK);
    assert_int_equal(r.flags, PAGE_F_COPY | PAGE_F_PREFETCHED | PAGE_F_DIRTY);
    assert_int_equal(r.version, 41);

    assert_int_equal(page_prefetch_used(&r), CIVIC_OK);
    assert_int_equal(r.flags, PAGE_F_COPY | PAGE_F_DIRTY);
    struct page_record before = r;
    assert_int_equal(page_prefetch_used(&r), CIVIC_EINVAL); /* not prefetched any more */
    assert_same(r, before);
    assert_int_equal(page_note_dirty(NULL), CIVIC_EINVAL);
    assert_int_equal(page_prefetch_used(NULL), CIVIC_EINVAL);
}

/* holder_lost in every state, for the primary, the replica, a sole holder and a stranger. */
static void test_holder_lost_every_state(void **state)
{
    const uint8_t states[] = {PAGE_LOCAL, PAGE_REMOTE, PAGE_EVICTING, PAGE_FETCHING};
    for (size_t i = 0; i < sizeof(states); i++) {
        uint8_t s = states[i];
        /* Primary lost: the replica is promoted. */
        struct page_record r = in_state(s);
        struct page_record want = r;
        want.holder[0] = H1;
        want.holder[1] = 0;
        assert_int_equal(page_holder_lost(&r, H0), CIVIC_OK);
        assert_same(r, want);
        /* Replica lost. */
        r = in_state(s);
        want = r;
        want.holder[1] = 0;
        assert_int_equal(page_holder_lost(&r, H1), CIVIC_OK);
        assert_same(r, want);
        /* A stranger: nothing. */
        r = in_state(s);
        want = r;
        assert_int_equal(page_holder_lost(&r, 4), CIVIC_ENOENT);
        assert_same(r, want);
        /* Both, one after the other: the last one's loss depends on the state. */
        r = in_state(s);
        assert_int_equal(page_holder_lost(&r, H1), CIVIC_OK);
        civic_err last = page_holder_lost(&r, H0);
        assert_int_equal(r.holder[0], 0);
        assert_int_equal(r.holder[1], 0);
        assert_int_equal(r.state, s);
        assert_int_equal(r.version, 41);
        if (s == PAGE_LOCAL) {
            assert_int_equal(last, CIVIC_OK);
            assert_int_equal(r.flags, PAGE_F_PREFETCHED); /* COPY gone with the holders */
            assert_int_equal(r.where, PFN);
        } else {
            assert_int_equal(last, CIVIC_EIO);
        }
        assert_int_equal(page_is_lost(&r), s == PAGE_REMOTE || s == PAGE_FETCHING);
        /* Nothing named any more. */
        want = r;
        assert_int_equal(page_holder_lost(&r, H0), CIVIC_ENOENT);
        assert_same(r, want);
        if (s == PAGE_LOCAL || s == PAGE_REMOTE || s == PAGE_FETCHING)
            assert_int_equal(page_check(&r), CIVIC_OK);
        /* The EVICTING caller aborts: back to LOCAL, consistent. */
        if (s == PAGE_EVICTING) {
            assert_int_equal(page_evict_abort(&r), CIVIC_OK);
            assert_int_equal(page_check(&r), CIVIC_OK);
        }
    }

    /* Sole holder lost, replica position empty. */
    struct page_record r = in_state(PAGE_REMOTE);
    r.holder[1] = 0;
    assert_int_equal(page_holder_lost(&r, H0), CIVIC_EIO);
    assert_true(page_is_lost(&r));

    /* ZERO names nobody. */
    r = in_state(PAGE_ZERO);
    struct page_record want = r;
    assert_int_equal(page_holder_lost(&r, H0), CIVIC_ENOENT);
    assert_int_equal(page_holder_lost(&r, 255), CIVIC_ENOENT);
    assert_same(r, want);

    /* Invalid arguments. */
    r = in_state(PAGE_REMOTE);
    want = r;
    assert_int_equal(page_holder_lost(&r, 0), CIVIC_EINVAL);
    assert_int_equal(page_holder_lost(NULL, H0), CIVIC_EINVAL);
    r.state = 7;
    want.state = 7;
    assert_int_equal(page_holder_lost(&r, H0), CIVIC_EINVAL);
    assert_same(r, want);
}

static void test_is_lost(void **state)
{
    const uint8_t states[] = {PAGE_ZERO, PAGE_LOCAL, PAGE_REMOTE, PAGE_EVICTING, PAGE_FETCHING};
    for (size_t i = 0; i < sizeof(states); i++) {
        struct page_record r = in_state(states[i]);
        assert_false(page_is_lost(&r));
        r.holder[0] = r.holder[1] = 0;
        assert_int_equal(page_is_lost(&r), states[i] == PAGE_REMOTE || states[i] == PAGE_FETCHING);
    }
    assert_false(page_is_lost(NULL));
}

struct corruption {
    const char *what;
    uint8_t state;
    void (*edit)(struct page_record *r);
};

static void set_bad_state(struct page_record *r)
{
    r->state = PAGE_STATES;
}
static void set_unknown_flag(struct page_record *r)
{
    r->flags |= 0x10;
}
static void set_same_holders(struct page_record *r)
{
    r->holder[1] = r->holder[0];
}
static void set_replica_only(struct page_record *r)
{
    r->holder[0] = 0;
}
static void set_where(struct page_record *r)
{
    r->where = 1;
}
static void set_where_huge(struct page_record *r)
{
    r->where = PAGE_PFN_LIMIT;
}
static void set_where_beyond_crc(struct page_record *r)
{
    r->where = (uint64_t)UINT32_MAX + 1;
}
static void set_holder(struct page_record *r)
{
    r->holder[0] = 1;
}
static void set_dirty(struct page_record *r)
{
    r->flags |= PAGE_F_DIRTY;
}
static void set_copy(struct page_record *r)
{
    r->flags |= PAGE_F_COPY;
}
static void set_prefetched(struct page_record *r)
{
    r->flags |= PAGE_F_PREFETCHED;
}
static void clear_copy(struct page_record *r)
{
    r->flags &= (uint8_t)~PAGE_F_COPY;
}
static void clear_holders(struct page_record *r)
{
    r->holder[0] = r->holder[1] = 0;
}
static void clear_version(struct page_record *r)
{
    r->version = 0;
}

static void test_check(void **state)
{
    /* Good records. */
    const uint8_t states[] = {PAGE_ZERO, PAGE_LOCAL, PAGE_REMOTE, PAGE_EVICTING, PAGE_FETCHING};
    for (size_t i = 0; i < sizeof(states); i++) {
        struct page_record r = in_state(states[i]);
        assert_int_equal(page_check(&r), CIVIC_OK);
        r.flags |= PAGE_F_PINNED;
        assert_int_equal(page_check(&r), CIVIC_OK);
    }
    struct page_record ok = in_state(PAGE_LOCAL);
    ok.flags = PAGE_F_DIRTY; /* an aborted eviction: no copy, dirty */
    ok.holder[0] = ok.holder[1] = 0;
    ok.version = 0;
    assert_int_equal(page_check(&ok), CIVIC_OK);
    ok = in_state(PAGE_REMOTE); /* lost, but consistent */
    ok.holder[0] = ok.holder[1] = 0;
    assert_int_equal(page_check(&ok), CIVIC_OK);
    ok = in_state(PAGE_REMOTE);
    ok.holder[1] = 0;
    assert_int_equal(page_check(&ok), CIVIC_OK);
    assert_int_equal(page_check(NULL), CIVIC_EINVAL);

    const struct corruption bad[] = {
        {"bad state", PAGE_ZERO, set_bad_state},
        {"unknown flag", PAGE_LOCAL, set_unknown_flag},
        {"same holders", PAGE_REMOTE, set_same_holders},
        {"replica without primary", PAGE_REMOTE, set_replica_only},
        {"zero with where", PAGE_ZERO, set_where},
        {"zero with holder", PAGE_ZERO, set_holder},
        {"zero dirty", PAGE_ZERO, set_dirty},
        {"zero copy", PAGE_ZERO, set_copy},
        {"zero prefetched", PAGE_ZERO, set_prefetched},
        {"local frame beyond 52 bits", PAGE_LOCAL, set_where_huge},
        {"local copy without holder", PAGE_LOCAL, clear_holders},
        {"local holder without copy", PAGE_LOCAL, clear_copy},
        {"local copy at version 0", PAGE_LOCAL, clear_version},
        {"evicting without holder", PAGE_EVICTING, clear_holders},
        {"evicting dirty", PAGE_EVICTING, set_dirty},
        {"evicting copy", PAGE_EVICTING, set_copy},
        {"evicting prefetched", PAGE_EVICTING, set_prefetched},
        {"evicting version 0", PAGE_EVICTING, clear_version},
        {"evicting frame beyond 52 bits", PAGE_EVICTING, set_where_huge},
        {"remote with a checksum wider than 32 bits", PAGE_REMOTE, set_where_beyond_crc},
        {"remote dirty", PAGE_REMOTE, set_dirty},
        {"remote copy", PAGE_REMOTE, set_copy},
        {"remote prefetched", PAGE_REMOTE, set_prefetched},
        {"remote version 0", PAGE_REMOTE, clear_version},
        {"fetching with a checksum wider than 32 bits", PAGE_FETCHING, set_where_beyond_crc},
        {"fetching dirty", PAGE_FETCHING, set_dirty},
        {"fetching copy", PAGE_FETCHING, set_copy},
        {"fetching version 0", PAGE_FETCHING, clear_version},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct page_record r = in_state(bad[i].state);
        bad[i].edit(&r);
        if (page_check(&r) != CIVIC_ECORRUPT)
            fail_msg("not caught: %s", bad[i].what);
    }
}

/* A page's life: touched, sent, fetched back, dropped clean, fetched, dirtied, sent again. */
static void test_life_cycle(void **state)
{
    struct page_record r;
    memset(&r, 0, sizeof(r));
    uint64_t pfn;
    assert_int_equal(page_touch(&r, 10), CIVIC_OK);
    assert_int_equal(page_evict_begin(&r, &pfn, 1, 2), CIVIC_OK);
    assert_int_equal(r.version, 1);
    assert_int_equal(page_evict_done(&r, &pfn, 3, CRC_A), CIVIC_OK);
    assert_int_equal(r.where, CRC_A);
    assert_int_equal(page_fetch_begin(&r), CIVIC_OK);
    assert_int_equal(r.where, CRC_A); /* the arriving page is checked against it */
    assert_int_equal(page_fetch_abort(&r), CIVIC_OK);
    assert_int_equal(r.where, CRC_A);
    assert_int_equal(page_fetch_begin(&r), CIVIC_OK);
    assert_int_equal(page_fetch_done(&r, 11, false), CIVIC_OK);
    assert_int_equal(r.where, 11);
    assert_int_equal(page_evict_clean(&r, &pfn, CRC_A), CIVIC_OK);
    assert_int_equal(pfn, 11);
    assert_int_equal(r.where, CRC_A);
    assert_int_equal(r.version, 1); /* no new copy */
    assert_int_equal(page_fetch_begin(&r), CIVIC_OK);
    assert_int_equal(page_fetch_done(&r, 12, true), CIVIC_OK);
    assert_int_equal(page_note_dirty(&r), CIVIC_OK);
    assert_int_equal(page_evict_clean(&r, &pfn, CRC_A), CIVIC_EINVAL);
    assert_int_equal(page_evict_begin(&r, &pfn, 2, 0), CIVIC_OK);
    assert_int_equal(r.version, 2);
    assert_int_equal(page_evict_abort(&r), CIVIC_OK);
    assert_int_equal(page_evict_begin(&r, &pfn, 2, 0), CIVIC_OK);
    assert_int_equal(r.version, 3);
    assert_int_equal(pfn, 12);
    assert_int_equal(page_check(&r), CIVIC_OK);
}

static void test_names(void **state)
{
    assert_string_equal(page_state_name(PAGE_ZERO), "zero");
    assert_string_equal(page_state_name(PAGE_LOCAL), "local");
    assert_string_equal(page_state_name(PAGE_REMOTE), "remote");
    assert_string_equal(page_state_name(PAGE_EVICTING), "evicting");
    assert_string_equal(page_state_name(PAGE_FETCHING), "fetching");
    assert_string_equal(page_state_name((enum page_state)5), "invalid");
    assert_string_equal(page_state_name((enum page_state) - 1), "invalid");
    assert_string_equal(civic_strerror(CIVIC_EAGAIN), "not available yet: wait and retry");
    assert_int_equal(CIVIC_EAGAIN, -12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_every_transition_from_every_state),
        cmocka_unit_test(test_touch),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_evict_begin),
        cmocka_unit_test(test_evict_begin_refusals),
        cmocka_unit_test(test_evict_clean),
        cmocka_unit_test(test_evict_done_masks),
        cmocka_unit_test(test_evict_abort),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_fetch_lost),
        cmocka_unit_test(test_note_dirty_and_prefetch_used),
        cmocka_unit_test(test_holder_lost_every_state),
        cmocka_unit_test(test_is_lost),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_life_cycle),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
