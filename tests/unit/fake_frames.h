/*
 * A frame source for host tests of EPT and guest memory: zeroed 4 KiB frames from aligned_alloc,
 * "physical" addresses FAKE_FRAMES_BASE + index * 4 KiB (above 4 GiB, so high address bits are
 * exercised), every frame counted. Freed frames are released to the C library, so ASan catches a
 * use after free; a double or foreign free fails the test. fail_after limits the allocations
 * that will succeed (-1: no limit), to test out-of-memory paths.
 */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/arch_slat.h"
#include "mm/guest_mem.h"

#define FAKE_FRAMES_BASE 0x0000004000000000ull /* 256 GiB */
#define FAKE_FRAMES_MAX 8192

struct fake_frames {
    void *frame[FAKE_FRAMES_MAX];
    size_t used; /* slots ever handed out */
    long live;
    long allocs;
    long frees;
    long fail_after;
};

static struct fake_frames fake;

static inline void fake_frames_reset(void)
{
    for (size_t i = 0; i < fake.used; i++)
        free(fake.frame[i]);
    memset(&fake, 0, sizeof(fake));
    fake.fail_after = -1;
}

static inline void *fake_alloc(void *ctx, uint64_t *phys)
{
    assert_ptr_equal(ctx, &fake);
    if (fake.fail_after == 0)
        return NULL;
    if (fake.fail_after > 0)
        fake.fail_after--;
    /* Fresh slots first, so a stale address keeps failing; reuse only when all were used. */
    size_t i = fake.used;
    if (i == FAKE_FRAMES_MAX) {
        for (i = 0; i < FAKE_FRAMES_MAX && fake.frame[i]; i++)
            ;
        if (i == FAKE_FRAMES_MAX)
            fail_msg("fake frame source exhausted");
    } else {
        fake.used++;
    }
    void *p = aligned_alloc(4096, 4096);
    assert_non_null(p);
    memset(p, 0, 4096);
    fake.frame[i] = p;
    *phys = FAKE_FRAMES_BASE + ((uint64_t)i << 12);
    fake.live++;
    fake.allocs++;
    return p;
}

static inline size_t fake_slot(uint64_t phys)
{
    if (phys < FAKE_FRAMES_BASE || (phys & 0xfff))
        fail_msg("not a fake frame: %#llx", (unsigned long long)phys);
    size_t i = (size_t)((phys - FAKE_FRAMES_BASE) >> 12);
    if (i >= fake.used || !fake.frame[i])
        fail_msg("fake frame %#llx is not allocated", (unsigned long long)phys);
    return i;
}

static inline void fake_free(void *ctx, uint64_t phys)
{
    assert_ptr_equal(ctx, &fake);
    size_t i = fake_slot(phys);
    free(fake.frame[i]);
    fake.frame[i] = NULL;
    fake.live--;
    fake.frees++;
}

static inline void *fake_phys_to_virt(void *ctx, uint64_t phys)
{
    assert_ptr_equal(ctx, &fake);
    return fake.frame[fake_slot(phys & ~0xfffull)];
}

static inline bool fake_is_live(uint64_t phys)
{
    if (phys < FAKE_FRAMES_BASE || (phys & 0xfff))
        return false;
    size_t i = (size_t)((phys - FAKE_FRAMES_BASE) >> 12);
    return i < fake.used && fake.frame[i];
}

__attribute__((unused)) static const struct slat_frame_source fake_slat_src = {
    .alloc = fake_alloc, .free = fake_free, .phys_to_virt = fake_phys_to_virt, .ctx = &fake};
__attribute__((unused)) static const struct guest_frame_source fake_guest_src = {
    .alloc = fake_alloc, .free = fake_free, .phys_to_virt = fake_phys_to_virt, .ctx = &fake};

static inline int fake_frames_setup(void **state)
{
    fake_frames_reset();
    return 0;
}

/* Frees whatever a failed test left behind; the tests check fake.live themselves (a failing
 * teardown would hide the test's own failure report). */
static inline int fake_frames_teardown(void **state)
{
    fake_frames_reset();
    return 0;
}
