/*
 * Choosing cold guest frames to evict (network paging): a CLOCK (second-chance) hand over one
 * VM's page records, driven by the EPT accessed/dirty bits. Pure policy: the records and the EPT
 * are reached through evict_clock_ops, so the host tests drive it with a fake.
 *
 * Only LOCAL, unpinned frames are candidates. At each candidate the hand reads and clears the A
 * and D bits in one atomic step: A set means "used since the last visit", the page gets a second
 * chance; A clear means cold, the page is chosen.
 *
 * Contract with the caller (DESIGN.md "Memory": a write must never be lost between reading a
 * dirty bit and clearing it):
 *  - Every D bit the hand clears is handed to ops->note_dirty before select returns; its
 *    implementation must OR it into the record's PAGE_F_DIRTY. A victim's `dirty` is that bit or
 *    the record's PAGE_F_DIRTY: false means its contents still equal the last copy sent, if any.
 *  - When *need_invalidate comes back true the caller must INVEPT (slat_invalidate) before the
 *    guest runs again and before the next select: a TLB entry made before the clear lets the guest
 *    keep using (and writing) the page without setting A or D again, so an A or D bit read later
 *    means nothing until the stale translations are gone.
 *  - A victim's A/D reading holds only while the guest does not run: the caller unmaps it (and
 *    invalidates) before resuming, and treats the page as clean only if the D bit it sees when
 *    unmapping is clear too.
 * A call visits each frame at most once, so a page that got a second chance is only reconsidered
 * in a later call, after that invalidation: with every page in use the first call only clears
 * bits and returns no victim.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "mm/page_record.h"

struct evict_clock_ops {
    /* The record's enum page_state; *flags gets its PAGE_F_* flags. */
    enum page_state (*state)(void *ctx, uint64_t gfn, uint8_t *flags);
    /* slat_test_and_clear_ad for the frame: CIVIC_ENOENT when it is not mapped in EPT (the guest
     * has not used it since it was mapped: cold); any other error skips the frame. */
    civic_err (*test_and_clear_ad)(void *ctx, uint64_t gfn, bool *accessed, bool *dirty);
    /* A D bit was cleared on gfn: OR it into the record's PAGE_F_DIRTY. */
    void (*note_dirty)(void *ctx, uint64_t gfn);
};

struct evict_victim {
    uint64_t gfn;
    bool dirty; /* written since the record's copy elsewhere was made: must be sent again */
};

struct evict_clock_stats {
    uint64_t scanned;        /* frames the hand passed */
    uint64_t second_chances; /* candidates found accessed and spared */
    uint64_t chosen;         /* victims returned */
    uint64_t dirty_chosen;   /* victims returned dirty */
};

struct evict_clock {
    uint64_t frames; /* the VM's guest frames */
    uint64_t hand;   /* next frame to visit, < frames */
    struct evict_clock_stats stats;
};

void evict_clock_init(struct evict_clock *c, uint64_t frames);

/* Moves the hand over at most max_scan frames (and at most one lap), stopping early once `want`
 * victims are in victims[]. Returns how many were chosen. *need_invalidate: see above. */
size_t evict_clock_select(struct evict_clock *c, const struct evict_clock_ops *ops, void *ctx,
                          struct evict_victim *victims, size_t want, size_t max_scan,
                          bool *need_invalidate);

void evict_clock_get_stats(const struct evict_clock *c, struct evict_clock_stats *st);
