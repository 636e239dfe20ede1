/*
 * Guest-physical memory (mm/guest_mem.h): one page record per guest frame, the truth about where
 * the page is, and the EPT as a cache of the local ones. Host frames are allocated on first touch
 * and zeroed by the frame source. The layout of the object and its record pages is in
 * mm/guest_mem_int.h; eviction and fetching are in mm/guest_mem_paging.c.
 *
 * Record pages are allocated when the object is created, so a running guest never fails for want
 * of a record.
 */
#include "mm/guest_mem.h"

#include "kernel/string.h"
#include "mm/guest_mem_int.h"

_Static_assert(GM_RECS_PER_PAGE == 1u << GM_RECS_SHIFT, "records per page");
_Static_assert(sizeof(struct guest_mem) <= GM_PAGE, "struct guest_mem lives in one frame");

/* Returns every frame and every table page; copes with a half-built object from create. */
static void teardown(struct guest_mem *gm)
{
    for (uint64_t p = 0; p < gm->nrecpages; p++) {
        struct page_record *page = gm_record_page(gm, p);
        for (uint64_t i = 0; i < GM_RECS_PER_PAGE; i++) {
            struct page_record *r = &page[i];
            uint64_t pfn;
            uint8_t holders[2];
            /* An eviction in progress still owns its frame; its copy is freed by its owner. */
            if (r->state == PAGE_EVICTING && page_evict_abort(r) == CIVIC_OK)
                gm_moved(gm, PAGE_EVICTING, PAGE_LOCAL);
            if (r->state == PAGE_LOCAL && page_release(r, &pfn, holders) == CIVIC_OK) {
                gm_free_frame(gm, pfn);
                gm_moved(gm, PAGE_LOCAL, PAGE_ZERO);
            }
        }
    }
    if (gm->slat)
        slat_destroy(gm->slat);
    for (uint64_t p = 0; p < gm->nrecpages; p++)
        gm->src.free(gm->src.ctx, gm->dir[p >> 9][p & (GM_PTRS_PER_DIR - 1)]);
    for (uint64_t d = 0; d < gm->ndirs; d++)
        gm->src.free(gm->src.ctx, gm->dir_phys[d]);
    struct guest_frame_source src = gm->src;
    src.free(src.ctx, gm->self_phys);
}

civic_err guest_mem_create(struct guest_mem **out, uint64_t ram_bytes,
                           const struct guest_frame_source *src, const struct slat_caps *caps)
{
    if (!out || !src || !src->alloc || !src->free || !src->phys_to_virt)
        return trace_error(CIVIC_EINVAL);
    if (ram_bytes == 0 || ram_bytes % GM_PAGE)
        return trace_error(CIVIC_EINVAL);
    if (ram_bytes > GUEST_MEM_MAX)
        return trace_error(CIVIC_ERANGE);

    uint64_t self_phys;
    struct guest_mem *gm = src->alloc(src->ctx, &self_phys);
    if (!gm)
        return trace_error(CIVIC_ENOMEM);
    memset(gm, 0, sizeof(*gm));
    gm->size = ram_bytes;
    gm->npages = ram_bytes >> GM_PAGE_SHIFT;
    gm->limit = gm->npages;
    gm->src = *src;
    gm->self_phys = self_phys;

    const struct slat_frame_source ssrc = {
        .alloc = src->alloc, .free = src->free, .phys_to_virt = src->phys_to_virt, .ctx = src->ctx};
    civic_err err = slat_create(&gm->slat, &ssrc, caps);
    if (err != CIVIC_OK) {
        gm->slat = NULL;
        teardown(gm);
        return err;
    }

    uint64_t recpages = (gm->npages + GM_RECS_PER_PAGE - 1) >> GM_RECS_SHIFT;
    while (gm->nrecpages < recpages) {
        uint64_t p = gm->nrecpages, phys;
        if ((p & (GM_PTRS_PER_DIR - 1)) == 0) {
            uint64_t *d = src->alloc(src->ctx, &phys);
            if (!d)
                goto nomem;
            gm->dir[gm->ndirs] = d;
            gm->dir_phys[gm->ndirs++] = phys;
        }
        /* A zeroed frame is 256 records in state ZERO, version 0. */
        if (!src->alloc(src->ctx, &phys))
            goto nomem;
        gm->dir[p >> 9][p & (GM_PTRS_PER_DIR - 1)] = phys;
        gm->nrecpages++;
    }
    gm->count[PAGE_ZERO] = gm->npages;
    *out = gm;
    return CIVIC_OK;

nomem:
    teardown(gm);
    return trace_error(CIVIC_ENOMEM);
}

void guest_mem_destroy(struct guest_mem *gm)
{
    if (gm)
        teardown(gm);
}

uint64_t guest_mem_size(const struct guest_mem *gm)
{
    return gm->size;
}

uint64_t guest_mem_eptp(const struct guest_mem *gm)
{
    return slat_root_pointer(gm->slat);
}

void guest_mem_set_limit(struct guest_mem *gm, uint64_t pages)
{
    gm->limit = pages == 0 ? 1 : pages > gm->npages ? gm->npages : pages;
}

uint64_t guest_mem_limit(const struct guest_mem *gm)
{
    return gm->limit;
}

uint64_t guest_mem_frames_held(const struct guest_mem *gm)
{
    return gm->count[PAGE_LOCAL] + gm->count[PAGE_EVICTING];
}

/* ZERO -> LOCAL: a zeroed frame, mapped RWX, then the record. On failure nothing changes (EPT
 * table pages made on the way stay: they are valid, empty and freed with the object). */
static civic_err populate(struct guest_mem *gm, uint64_t gfn, struct page_record *r)
{
    uint64_t phys;
    if (!gm->src.alloc(gm->src.ctx, &phys))
        return trace_error(CIVIC_ENOMEM);
    uint64_t gpa = gfn << GM_PAGE_SHIFT;
    civic_err err = slat_map(gm->slat, gpa, phys, SLAT_RWX);
    if (err == CIVIC_OK) {
        err = page_touch(r, phys >> GM_PAGE_SHIFT);
        if (err != CIVIC_OK)
            slat_unmap(gm->slat, gpa);
    }
    if (err != CIVIC_OK) {
        gm->src.free(gm->src.ctx, phys);
        return err;
    }
    gm_moved(gm, PAGE_ZERO, PAGE_LOCAL);
    return CIVIC_OK;
}

/* A LOCAL page the EPT does not map: the cache lost the entry, or read-ahead installed the page
 * unmapped so that this first touch would be seen. */
static civic_err map_local(struct guest_mem *gm, uint64_t gfn, struct page_record *r)
{
    uint64_t gpa = gfn << GM_PAGE_SHIFT;
    bool prefetched = r->flags & PAGE_F_PREFETCHED;
    if (!prefetched && slat_lookup(gm->slat, gpa, NULL, NULL))
        return trace_error(CIVIC_EEXIST);
    civic_err err = slat_map(gm->slat, gpa, r->where << GM_PAGE_SHIFT, SLAT_RWX);
    if (err != CIVIC_OK && !(prefetched && err == CIVIC_EEXIST))
        return err;
    if (prefetched && page_prefetch_used(r) == CIVIC_OK)
        gm->prefetch_used++;
    return CIVIC_OK;
}

civic_err guest_mem_fault(struct guest_mem *gm, uint64_t gpa, unsigned access)
{
    (void)access; /* RAM is mapped RWX: the access does not change what to do */
    if (gpa >= gm->size)
        return trace_error(CIVIC_ERANGE);
    uint64_t gfn = gpa >> GM_PAGE_SHIFT;
    struct page_record *r = gm_rec(gm, gfn);

    switch (r->state) {
    case PAGE_ZERO: {
        if (guest_mem_frames_held(gm) >= gm->limit)
            return trace_error(CIVIC_EAGAIN); /* remote memory evicts, then the guest retries */
        civic_err err = populate(gm, gfn, r);
        if (err == CIVIC_OK)
            gm->faults++;
        return err;
    }
    case PAGE_LOCAL: return map_local(gm, gfn, r);
    default: return trace_error(CIVIC_EAGAIN);
    }
}

static bool range_ok(const struct guest_mem *gm, uint64_t gpa, size_t len)
{
    return len <= gm->size && gpa <= gm->size - len;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

civic_err guest_mem_write(struct guest_mem *gm, uint64_t gpa, const void *src, size_t len)
{
    if (!range_ok(gm, gpa, len))
        return trace_error(CIVIC_ERANGE);
    const uint8_t *s = src;
    while (len > 0) {
        uint64_t off = gpa & (GM_PAGE - 1);
        size_t n = (size_t)(GM_PAGE - off) < len ? (size_t)(GM_PAGE - off) : len;
        uint64_t gfn = gpa >> GM_PAGE_SHIFT;
        struct page_record *r = gm_rec(gm, gfn);
        if (r->state == PAGE_ZERO && all_zero(s, n)) {
            /* An untouched page already reads as zeros: writing zeros (a loader's bss) must
             * not cost a frame. */
        } else if (r->state == PAGE_ZERO) {
            civic_err err = populate(gm, gfn, r);
            if (err != CIVIC_OK)
                return err; /* the pages before this one are written */
        }
        if (r->state == PAGE_LOCAL) {
            memcpy((uint8_t *)gm_frame_virt(gm, r->where << GM_PAGE_SHIFT) + off, s, n);
            /* No EPT D bit records this write: the record must, or a stale copy looks valid. */
            if (r->flags & PAGE_F_COPY)
                page_note_dirty(r);
        } else if (r->state != PAGE_ZERO) {
            return trace_error(CIVIC_EAGAIN);
        }
        s += n;
        gpa += n;
        len -= n;
    }
    return CIVIC_OK;
}

civic_err guest_mem_read(struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
    if (!range_ok(gm, gpa, len))
        return trace_error(CIVIC_ERANGE);
    uint8_t *d = dst;
    while (len > 0) {
        uint64_t off = gpa & (GM_PAGE - 1);
        size_t n = (size_t)(GM_PAGE - off) < len ? (size_t)(GM_PAGE - off) : len;
        const struct page_record *r = gm_rec(gm, gpa >> GM_PAGE_SHIFT);
        if (r->state == PAGE_ZERO)
            memset(d, 0, n);
        else if (r->state == PAGE_LOCAL)
            memcpy(d, (const uint8_t *)gm_frame_virt(gm, r->where << GM_PAGE_SHIFT) + off, n);
        else
            return trace_error(CIVIC_EAGAIN);
        d += n;
        gpa += n;
        len -= n;
    }
    return CIVIC_OK;
}

struct slat *guest_mem_slat(struct guest_mem *gm)
{
    return gm->slat;
}

void guest_mem_invalidate(struct guest_mem *gm)
{
    slat_invalidate(gm->slat);
}

void guest_mem_get_stats(const struct guest_mem *gm, struct guest_mem_stats *st)
{
    *st = (struct guest_mem_stats){
        .ram_pages = gm->npages,
        .local_pages = gm->count[PAGE_LOCAL],
        .zero_pages = gm->count[PAGE_ZERO],
        .remote_pages = gm->count[PAGE_REMOTE],
        .evicting_pages = gm->count[PAGE_EVICTING],
        .fetching_pages = gm->count[PAGE_FETCHING],
        .lost_pages = gm->lost,
        .table_pages = slat_table_pages(gm->slat),
        .faults = gm->faults,
        .evict_sent = gm->evict_sent,
        .evict_zero = gm->evict_zero,
        .evict_clean = gm->evict_clean,
        .fetched = gm->fetched,
        .prefetch_used = gm->prefetch_used,
        .prefetch_wasted = gm->prefetch_wasted,
        .limit_pages = gm->limit,
    };
}

const struct page_record *guest_mem_record(const struct guest_mem *gm, uint64_t gfn)
{
    if (gfn >= gm->npages)
        return NULL;
    return gm_rec(gm, gfn);
}
