/*
 * Network paging on guest memory (mm/guest_mem.h): eviction, fetching and the loss of a holder,
 * each a page_record transition plus what it means for the EPT and the host frames. Remote memory
 * (net/) decides which pages move and talks to the peers; this file keeps the records, the EPT
 * and the frame accounting in step.
 *
 * Ordering rules: a page leaves the EPT and the EPT is invalidated before its frame is freed or
 * its contents are trusted as unchanged; a frame is freed only once the page is ZERO, or a holder
 * has acknowledged (or still holds) its copy.
 */
#include "kernel/string.h"
#include "mm/evict_clock.h"
#include "mm/guest_mem.h"
#include "mm/guest_mem_int.h"

static struct page_record *ram_rec(const struct guest_mem *gm, uint64_t gfn)
{
    return gfn < gm->npages ? gm_rec(gm, gfn) : NULL;
}

static bool frame_all_zero(const struct guest_mem *gm, uint64_t pfn)
{
    const uint64_t *w = gm_frame_virt(gm, pfn << GM_PAGE_SHIFT);
    for (size_t i = 0; i < GM_PAGE / sizeof(*w); i++)
        if (w[i])
            return false;
    return true;
}

/* A LOCAL page back into the EPT. Without a table page it stays unmapped: the EPT is a cache of
 * the record, and the next fault maps it. */
static void remap(struct guest_mem *gm, uint64_t gfn, const struct page_record *r)
{
    (void)slat_map(gm->slat, gfn << GM_PAGE_SHIFT, r->where << GM_PAGE_SHIFT, SLAT_RWX);
}

/* The copy a SEND makes stale (made at the version before the bump), on holders that will not
 * get the new one: their owner frees it. */
static void stale_holders(const uint8_t old[2], uint8_t h0, uint8_t h1, uint8_t freed[2])
{
    unsigned n = 0;
    for (unsigned i = 0; i < 2; i++)
        if (old[i] != 0 && old[i] != h0 && old[i] != h1)
            freed[n++] = old[i];
}

civic_err guest_mem_evict(struct guest_mem *gm, uint64_t gfn, uint8_t holder0, uint8_t holder1,
                          uint32_t crc, enum guest_evict_outcome *out, const void **contents,
                          uint8_t freed_holders[2])
{
    if (!out || !contents || !freed_holders)
        return trace_error(CIVIC_EINVAL);
    struct page_record *r = ram_rec(gm, gfn);
    if (!r)
        return trace_error(CIVIC_ERANGE);
    bool no_holder = holder0 == 0 && holder1 == 0;
    if (r->state != PAGE_LOCAL || (!no_holder && (holder0 == 0 || holder1 == holder0)))
        return trace_error(CIVIC_EINVAL);
    if (r->flags & PAGE_F_PINNED)
        return trace_error(CIVIC_EBUSY);

    /* Out of the guest's reach first, then judge the contents: after the invalidation no
     * translation made earlier can write the frame behind our back. */
    uint64_t gpa = gfn << GM_PAGE_SHIFT;
    bool accessed = false, d = false;
    if (slat_test_and_clear_ad(gm->slat, gpa, &accessed, &d) == CIVIC_OK)
        slat_unmap(gm->slat, gpa);
    slat_invalidate(gm->slat);
    if (d)
        page_note_dirty(r); /* kept whatever happens next */

    bool prefetched = r->flags & PAGE_F_PREFETCHED;
    bool dirty = (r->flags & PAGE_F_DIRTY) || !(r->flags & PAGE_F_COPY);
    uint8_t freed[2] = {0, 0};
    uint64_t pfn;
    civic_err err;
    if (frame_all_zero(gm, r->where)) {
        /* Zero pages cost nothing anywhere: no frame, no copy (a previous one is freed). */
        err = page_release(r, &pfn, freed);
        if (err == CIVIC_OK) {
            gm_free_frame(gm, pfn);
            gm_moved(gm, PAGE_LOCAL, PAGE_ZERO);
            gm->evict_zero++;
            *out = GUEST_EVICT_ZERO;
            *contents = NULL;
        }
    } else if (!dirty) {
        err = page_evict_clean(r, &pfn, crc);
        if (err == CIVIC_OK) {
            gm_free_frame(gm, pfn);
            gm_moved(gm, PAGE_LOCAL, PAGE_REMOTE);
            gm->evict_clean++;
            *out = GUEST_EVICT_CLEAN;
            *contents = NULL;
        }
    } else if (no_holder) {
        err = trace_error(CIVIC_ENOENT);
    } else {
        uint8_t old[2] = {0, 0};
        if (r->flags & PAGE_F_COPY) {
            old[0] = r->holder[0];
            old[1] = r->holder[1];
        }
        err = page_evict_begin(r, &pfn, holder0, holder1);
        if (err == CIVIC_OK) {
            stale_holders(old, holder0, holder1, freed);
            gm_moved(gm, PAGE_LOCAL, PAGE_EVICTING);
            gm->evict_sent++;
            *out = GUEST_EVICT_SEND;
            *contents = gm_frame_virt(gm, pfn << GM_PAGE_SHIFT);
        }
    }
    if (err != CIVIC_OK) {
        remap(gm, gfn, r); /* still LOCAL: give it back to the guest */
        return err;
    }
    if (prefetched)
        gm->prefetch_wasted++;
    freed_holders[0] = freed[0];
    freed_holders[1] = freed[1];
    return CIVIC_OK;
}

const void *guest_mem_local_contents(const struct guest_mem *gm, uint64_t gfn)
{
    const struct page_record *r = guest_mem_record(gm, gfn);
    if (!r || r->state != PAGE_LOCAL)
        return NULL;
    return gm_frame_virt(gm, r->where << GM_PAGE_SHIFT);
}

civic_err guest_mem_evict_done(struct guest_mem *gm, uint64_t gfn, unsigned acked_mask,
                               uint32_t crc)
{
    struct page_record *r = ram_rec(gm, gfn);
    if (!r)
        return trace_error(CIVIC_ERANGE);
    uint64_t pfn;
    civic_err err = page_evict_done(r, &pfn, acked_mask, crc);
    if (err != CIVIC_OK)
        return err;
    gm_free_frame(gm, pfn); /* unmapped and invalidated when the eviction began */
    gm_moved(gm, PAGE_EVICTING, PAGE_REMOTE);
    return CIVIC_OK;
}

civic_err guest_mem_evict_abort(struct guest_mem *gm, uint64_t gfn)
{
    struct page_record *r = ram_rec(gm, gfn);
    if (!r)
        return trace_error(CIVIC_ERANGE);
    civic_err err = page_evict_abort(r);
    if (err != CIVIC_OK)
        return err;
    gm_moved(gm, PAGE_EVICTING, PAGE_LOCAL);
    remap(gm, gfn, r);
    return CIVIC_OK;
}

civic_err guest_mem_fetch_begin(struct guest_mem *gm, uint64_t gfn)
{
    struct page_record *r = ram_rec(gm, gfn);
    if (!r)
        return trace_error(CIVIC_ERANGE);
    civic_err err = page_fetch_begin(r);
    if (err != CIVIC_OK)
        return err;
    gm_moved(gm, PAGE_REMOTE, PAGE_FETCHING);
    return CIVIC_OK;
}

civic_err guest_mem_fetch_done(struct guest_mem *gm, uint64_t gfn, const void *page4k,
                               bool prefetched)
{
    struct page_record *r = ram_rec(gm, gfn);
    if (!r)
        return trace_error(CIVIC_ERANGE);
    if (!page4k || r->state != PAGE_FETCHING)
        return trace_error(CIVIC_EINVAL);
    uint64_t phys;
    void *frame = gm->src.alloc(gm->src.ctx, &phys);
    if (!frame)
        return trace_error(CIVIC_ENOMEM);
    memcpy(frame, page4k, GM_PAGE);

    uint64_t gpa = gfn << GM_PAGE_SHIFT;
    /* A read-ahead page stays unmapped so that the guest's first touch is seen. */
    civic_err err = prefetched ? CIVIC_OK : slat_map(gm->slat, gpa, phys, SLAT_RWX);
    bool was_lost = page_is_lost(r);
    if (err == CIVIC_OK) {
        err = page_fetch_done(r, phys >> GM_PAGE_SHIFT, prefetched);
        if (err != CIVIC_OK && !prefetched)
            slat_unmap(gm->slat, gpa);
    }
    if (err != CIVIC_OK) {
        gm->src.free(gm->src.ctx, phys);
        return err;
    }
    if (was_lost)
        gm->lost--; /* arrived after its last holder went: found after all */
    gm_moved(gm, PAGE_FETCHING, PAGE_LOCAL);
    gm->fetched++;
    return CIVIC_OK;
}

civic_err guest_mem_fetch_abort(struct guest_mem *gm, uint64_t gfn)
{
    struct page_record *r = ram_rec(gm, gfn);
    if (!r)
        return trace_error(CIVIC_ERANGE);
    civic_err err = page_fetch_abort(r);
    if (err != CIVIC_OK)
        return err;
    gm_moved(gm, PAGE_FETCHING, PAGE_REMOTE);
    return CIVIC_OK;
}

uint64_t guest_mem_holder_lost(struct guest_mem *gm, uint8_t h)
{
    if (h == 0)
        return 0;
    uint64_t lost = 0;
    for (uint64_t p = 0; p < gm->nrecpages; p++) {
        struct page_record *page = gm_record_page(gm, p);
        for (uint64_t i = 0; i < GM_RECS_PER_PAGE; i++) {
            struct page_record *r = &page[i];
            enum page_state was = (enum page_state)r->state;
            if (page_holder_lost(r, h) != CIVIC_EIO)
                continue;
            if (was == PAGE_EVICTING && page_evict_abort(r) == CIVIC_OK) {
                /* Nobody got the copy: the frame still has the contents. */
                gm_moved(gm, PAGE_EVICTING, PAGE_LOCAL);
                remap(gm, (p << GM_RECS_SHIFT) + i, r);
            } else if (page_is_lost(r)) {
                gm->lost++;
                lost++;
            }
        }
    }
    return lost;
}

uint64_t guest_mem_pages_on_holder(const struct guest_mem *gm, uint8_t h)
{
    if (h == 0)
        return 0;
    uint64_t n = 0;
    for (uint64_t p = 0; p < gm->nrecpages; p++) {
        const struct page_record *page = gm_record_page(gm, p);
        for (uint64_t i = 0; i < GM_RECS_PER_PAGE; i++)
            if (page[i].holder[0] == h || page[i].holder[1] == h)
                n++;
    }
    return n;
}

/* ---- the CLOCK policy's view (mm/evict_clock.h) ---- */

static enum page_state clock_state(void *ctx, uint64_t gfn, uint8_t *flags)
{
    const struct page_record *r = ram_rec(ctx, gfn);
    *flags = r ? r->flags : 0;
    return r ? (enum page_state)r->state : PAGE_ZERO; /* beyond RAM: never a candidate */
}

static civic_err clock_test_and_clear_ad(void *ctx, uint64_t gfn, bool *accessed, bool *dirty)
{
    const struct guest_mem *gm = ctx;
    if (gfn >= gm->npages)
        return trace_error(CIVIC_ERANGE);
    return slat_test_and_clear_ad(gm->slat, gfn << GM_PAGE_SHIFT, accessed, dirty);
}

static void clock_note_dirty(void *ctx, uint64_t gfn)
{
    struct page_record *r = ram_rec(ctx, gfn);
    if (r)
        page_note_dirty(r);
}

static const struct evict_clock_ops clock_ops = {
    .state = clock_state,
    .test_and_clear_ad = clock_test_and_clear_ad,
    .note_dirty = clock_note_dirty,
};

const struct evict_clock_ops *guest_mem_clock_ops(void)
{
    return &clock_ops;
}
