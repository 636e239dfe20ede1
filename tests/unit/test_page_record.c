// unit-sources: mm/page_record.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mm/page_record.h"

enum transition { T_TOUCH, T_RELEASE, T_EVICT_BEGIN, T_EVICT_DONE, T_FETCH_BEGIN, T_FETCH_DONE };
#define NTRANSITIONS 6

static const char *const tnames[NTRANSITIONS] = {"touch",      "release",     "evict_begin",
                                                 "evict_done", "fetch_begin", "fetch_done"};

/* The one state each transition starts from. */
static const enum page_state from[NTRANSITIONS] = {PAGE_ZERO,      PAGE_LOCAL,  PAGE_LOCAL,
                                                   PAGE_IN_FLIGHT, PAGE_REMOTE, PAGE_IN_FLIGHT};

static civic_err apply(struct page_record *r, enum transition t, uint64_t *out)
{
    switch (t) {
    case T_TOUCH: return page_touch(r, 0x1234);
    case T_RELEASE: return page_release(r, out);
    case T_EVICT_BEGIN: return page_evict_begin(r, out);
    case T_EVICT_DONE: return page_evict_done(r, 7, 99);
    case T_FETCH_BEGIN: return page_fetch_begin(r);
    case T_FETCH_DONE: return page_fetch_done(r, 0x5678);
    }
    return CIVIC_OK;
}

/* A record in state s with recognisable contents. */
static struct page_record in_state(uint8_t s)
{
    struct page_record r = {.version = 41, .state = s, .flags = PAGE_F_DIRTY};
    if (s == PAGE_LOCAL)
        r.where = 0xabcde;
    else if (s == PAGE_REMOTE)
        r.where = (3ull << 32) | 17;
    return r;
}

static void test_size(void **state)
{
    assert_int_equal(sizeof(struct page_record), 16);
    struct page_record zero;
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(zero.state, PAGE_ZERO); /* a zeroed frame of records is all ZERO */
}

static void test_touch_release(void **state)
{
    struct page_record r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(page_touch(&r, 0x123456789ull), CIVIC_OK);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.where, 0x123456789ull);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.reserved, 0);

    uint64_t pfn = 0;
    assert_int_equal(page_release(&r, &pfn), CIVIC_OK);
    assert_int_equal(pfn, 0x123456789ull);
    assert_int_equal(r.state, PAGE_ZERO);
    assert_int_equal(r.where, 0);
    assert_int_equal(r.version, 2);
}

static void test_evict_and_fetch(void **state)
{
    struct page_record r = in_state(PAGE_LOCAL);
    uint64_t pfn = 0;
    assert_int_equal(page_evict_begin(&r, &pfn), CIVIC_OK);
    assert_int_equal(pfn, 0xabcde);
    assert_int_equal(r.state, PAGE_IN_FLIGHT);
    assert_int_equal(r.where, 0);
    assert_int_equal(r.version, 42);

    assert_int_equal(page_evict_done(&r, 0xfffffffe, 0x80000001), CIVIC_OK);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.where, 0xfffffffe80000001ull);
    assert_int_equal(r.version, 43);

    assert_int_equal(page_fetch_begin(&r), CIVIC_OK);
    assert_int_equal(r.state, PAGE_IN_FLIGHT);
    assert_int_equal(r.where, 0);
    assert_int_equal(r.version, 44);

    assert_int_equal(page_fetch_done(&r, 0x42), CIVIC_OK);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.where, 0x42);
    assert_int_equal(r.version, 45);
    assert_int_equal(r.flags, PAGE_F_DIRTY); /* flags are not state */
}

/* Every transition from every state: legal ones move, illegal ones return EINVAL and leave every
 * byte of the record as it was. */
static void test_every_transition_from_every_state(void **state)
{
    const uint8_t states[] = {PAGE_ZERO, PAGE_LOCAL, PAGE_REMOTE, PAGE_IN_FLIGHT, 4, 0xff};
    unsigned legal = 0;
    for (size_t i = 0; i < sizeof(states); i++) {
        for (unsigned t = 0; t < NTRANSITIONS; t++) {
            struct page_record r = in_state(states[i]);
            struct page_record before = r;
            uint64_t out = 0xdead;
            civic_err e = apply(&r, (enum transition)t, &out);
            if (states[i] == from[t]) {
                legal++;
                if (e != CIVIC_OK)
                    fail_msg("%s from %s refused", tnames[t], page_state_name(states[i]));
                assert_int_equal(r.version, 42);
                assert_int_not_equal(r.state, states[i]);
            } else {
                if (e != CIVIC_EINVAL)
                    fail_msg("%s from state %u: %d", tnames[t], states[i], e);
                assert_memory_equal(&r, &before, sizeof(r));
                assert_int_equal(out, 0xdead);
            }
        }
    }
    assert_int_equal(legal, NTRANSITIONS);
}

static void test_targets(void **state)
{
    const enum page_state to[NTRANSITIONS] = {PAGE_LOCAL,  PAGE_ZERO,      PAGE_IN_FLIGHT,
                                              PAGE_REMOTE, PAGE_IN_FLIGHT, PAGE_LOCAL};
    for (unsigned t = 0; t < NTRANSITIONS; t++) {
        struct page_record r = in_state(from[t]);
        uint64_t out = 0;
        assert_int_equal(apply(&r, (enum transition)t, &out), CIVIC_OK);
        assert_int_equal(r.state, to[t]);
        assert_int_equal(r.flags, PAGE_F_DIRTY);
        assert_int_equal(r.reserved, 0);
    }
}

static void test_version_wraps(void **state)
{
    struct page_record r;
    memset(&r, 0, sizeof(r));
    r.version = 0xffff; /* 32 bits wide: no wrap here */
    assert_int_equal(page_touch(&r, 1), CIVIC_OK);
    assert_int_equal(r.version, 0x10000);
    r.version = 0xffffffffu;
    uint64_t pfn;
    assert_int_equal(page_release(&r, &pfn), CIVIC_OK);
    assert_int_equal(r.version, 0);
}

static void test_bad_arguments(void **state)
{
    struct page_record r;
    memset(&r, 0, sizeof(r));
    struct page_record before = r;
    /* Frame numbers beyond 52-bit physical addresses. */
    assert_int_equal(page_touch(&r, 1ull << 40), CIVIC_EINVAL);
    assert_memory_equal(&r, &before, sizeof(r));
    assert_int_equal(page_touch(&r, (1ull << 40) - 1), CIVIC_OK);

    assert_int_equal(page_release(&r, NULL), CIVIC_EINVAL);
    assert_int_equal(page_evict_begin(&r, NULL), CIVIC_EINVAL);
    assert_int_equal(r.state, PAGE_LOCAL);

    struct page_record f = in_state(PAGE_IN_FLIGHT);
    assert_int_equal(page_fetch_done(&f, ~0ull), CIVIC_EINVAL);
    assert_int_equal(f.state, PAGE_IN_FLIGHT);

    assert_int_equal(page_touch(NULL, 1), CIVIC_EINVAL);
    assert_int_equal(page_fetch_begin(NULL), CIVIC_EINVAL);
    assert_int_equal(page_evict_done(NULL, 1, 1), CIVIC_EINVAL);
}

static void test_pinned_not_evicted(void **state)
{
    struct page_record r = in_state(PAGE_LOCAL);
    r.flags |= PAGE_F_PINNED;
    struct page_record before = r;
    uint64_t pfn = 0xdead;
    assert_int_equal(page_evict_begin(&r, &pfn), CIVIC_EBUSY);
    assert_memory_equal(&r, &before, sizeof(r));
    assert_int_equal(pfn, 0xdead);
    /* Release (VM destroyed) still works. */
    assert_int_equal(page_release(&r, &pfn), CIVIC_OK);
    assert_int_equal(pfn, 0xabcde);
}

static void test_names(void **state)
{
    assert_string_equal(page_state_name(PAGE_ZERO), "zero");
    assert_string_equal(page_state_name(PAGE_LOCAL), "local");
    assert_string_equal(page_state_name(PAGE_REMOTE), "remote");
    assert_string_equal(page_state_name(PAGE_IN_FLIGHT), "in-flight");
    assert_string_equal(page_state_name((enum page_state)4), "invalid");
    assert_string_equal(page_state_name((enum page_state) - 1), "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_touch_release),
        cmocka_unit_test(test_evict_and_fetch),
        cmocka_unit_test(test_every_transition_from_every_state),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_version_wraps),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_pinned_not_evicted),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
