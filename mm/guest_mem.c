/*
 * Guest-physical memory (mm/guest_mem.h): one page record per guest frame, the truth about where
 * the page is, and the EPT as a cache of the local ones. Host frames are allocated on first touch
 * and zeroed by the frame source.
 *
 * Everything, this structure included, lives in 4 KiB frames from the frame source, because a
 * frame source cannot give contiguous virtual memory: the records sit in record pages (256 per
 * page), found through directory pages (512 record-page addresses each, 512 MiB of guest RAM),
 * whose addresses are in this structure (128 of them cover GUEST_MEM_MAX). Record pages are
 * allocated when the object is created, so a running guest never fails for want of a record.
 */
#include "mm/guest_mem.h"

#include "kernel/string.h"

#define GM_PAGE 4096ull
#define GM_PAGE_SHIFT 12
#define GM_RECS_PER_PAGE (GM_PAGE / sizeof(struct page_record))
#define GM_RECS_SHIFT 8
#define GM_PTRS_PER_DIR 512
#define GM_DIR_SHIFT (GM_RECS_SHIFT + 9) /* guest frames per directory page, log2 */
#define GM_DIRS_MAX ((GUEST_MEM_MAX >> GM_PAGE_SHIFT) >> GM_DIR_SHIFT)

_Static_assert(GM_RECS_PER_PAGE == 1u << GM_RECS_SHIFT, "records per page");

struct guest_mem {
    uint64_t size;
    uint64_t npages;
    struct guest_frame_source src;
    struct slat *slat;
    uint64_t self_phys;
    uint64_t count[4]; /* records per enum page_state */
    uint64_t faults;
    uint64_t ndirs;     /* directory pages allocated */
    uint64_t nrecpages; /* record pages allocated (in gfn order) */
    uint64_t dir_phys[GM_DIRS_MAX];
    uint64_t *dir[GM_DIRS_MAX]; /* each: GM_PTRS_PER_DIR physical addresses of record pages */
};

_Static_assert(sizeof(struct guest_mem) <= GM_PAGE, "struct guest_mem lives in one frame");

static void *frame_virt(const struct guest_mem *gm, uint64_t phys)
{
    return gm->src.phys_to_virt(gm->src.ctx, phys);
}

static struct page_record *record_page(const struct guest_mem *gm, uint64_t page_index)
{
    uint64_t phys = gm->dir[page_index >> 9][page_index & (GM_PTRS_PER_DIR - 1)];
    return frame_virt(gm, phys);
}

static struct page_record *rec(const struct guest_mem *gm, uint64_t gfn)
{
    return &record_page(gm, gfn >> GM_RECS_SHIFT)[gfn & (GM_RECS_PER_PAGE - 1)];
}

/* Returns every frame and every table page; copes with a half-built object from create. */
static void teardown(struct guest_mem *gm)
{
    for (uint64_t p = 0; p < gm->nrecpages; p++) {
        struct page_record *page = record_page(gm, p);
        for (uint64_t i = 0; i < GM_RECS_PER_PAGE; i++) {
            uint64_t pfn;
            if (page[i].state == PAGE_LOCAL && page_release(&page[i], &pfn) == CIVIC_OK) {
                gm->src.free(gm->src.ctx, pfn << GM_PAGE_SHIFT);
                gm->count[PAGE_LOCAL]--;
                gm->count[PAGE_ZERO]++;
            }
        }
    }
    /* Remote and in-flight pages (later) are given up by their owners before this point. */
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
    gm->count[PAGE_ZERO]--;
    gm->count[PAGE_LOCAL]++;
    return CIVIC_OK;
}

/* Pages that are elsewhere cannot be used yet: in flight means wait (park the vCPU), remote
 * needs network paging (later). */
static civic_err not_here(const struct page_record *r)
{
    return trace_error(r->state == PAGE_IN_FLIGHT ? CIVIC_EBUSY : CIVIC_ENOTSUP);
}

civic_err guest_mem_fault(struct guest_mem *gm, uint64_t gpa, unsigned access)
{
    if (gpa >= gm->size)
        return trace_error(CIVIC_ERANGE);
    uint64_t gfn = gpa >> GM_PAGE_SHIFT;
    struct page_record *r = rec(gm, gfn);

    switch (r->state) {
    case PAGE_ZERO: {
        civic_err err = populate(gm, gfn, r);
        if (err == CIVIC_OK)
            gm->faults++;
        return err;
    }
    case PAGE_LOCAL:
        if (slat_lookup(gm->slat, gfn << GM_PAGE_SHIFT, NULL, NULL))
            return trace_error(CIVIC_EEXIST);
        /* The record says local but the cache lost the entry: refill it. */
        return slat_map(gm->slat, gfn << GM_PAGE_SHIFT, r->where << GM_PAGE_SHIFT, SLAT_RWX);
    default: return not_here(r);
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
        struct page_record *r = rec(gm, gfn);
        if (r->state == PAGE_ZERO && all_zero(s, n)) {
            /* An untouched page already reads as zeros: writing zeros (a loader's bss) must
             * not cost a frame. */
        } else if (r->state == PAGE_ZERO) {
            civic_err err = populate(gm, gfn, r);
            if (err != CIVIC_OK)
                return err; /* the pages before this one are written */
        }
        if (r->state == PAGE_LOCAL)
            memcpy((uint8_t *)frame_virt(gm, r->where << GM_PAGE_SHIFT) + off, s, n);
        else if (r->state != PAGE_ZERO)
            return not_here(r);
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
        const struct page_record *r = rec(gm, gpa >> GM_PAGE_SHIFT);
        if (r->state == PAGE_ZERO)
            memset(d, 0, n);
        else if (r->state == PAGE_LOCAL)
            memcpy(d, (const uint8_t *)frame_virt(gm, r->where << GM_PAGE_SHIFT) + off, n);
        else
            return not_here(r);
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

void guest_mem_get_stats(const struct guest_mem *gm, struct guest_mem_stats *st)
{
    st->ram_pages = gm->npages;
    st->local_pages = gm->count[PAGE_LOCAL];
    st->zero_pages = gm->count[PAGE_ZERO];
    st->table_pages = slat_table_pages(gm->slat);
    st->faults = gm->faults;
}

const struct page_record *guest_mem_record(const struct guest_mem *gm, uint64_t gfn)
{
    if (gfn >= gm->npages)
        return NULL;
    return rec(gm, gfn);
}
