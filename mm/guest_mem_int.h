/*
 * Internals of guest memory shared by mm/guest_mem.c (the object, faults, loader access) and
 * mm/guest_mem_paging.c (eviction and fetching for network paging). Not for other modules.
 *
 * Everything, this structure included, lives in 4 KiB frames from the frame source, because a
 * frame source cannot give contiguous virtual memory: the records sit in record pages (256 per
 * page), found through directory pages (512 record-page addresses each, 512 MiB of guest RAM),
 * whose addresses are in this structure (128 of them cover GUEST_MEM_MAX).
 */
#pragma once
#include "mm/guest_mem.h"

#define GM_PAGE 4096ull
#define GM_PAGE_SHIFT 12
#define GM_RECS_PER_PAGE (GM_PAGE / sizeof(struct page_record))
#define GM_RECS_SHIFT 8
#define GM_PTRS_PER_DIR 512
#define GM_DIR_SHIFT (GM_RECS_SHIFT + 9) /* guest frames per directory page, log2 */
#define GM_DIRS_MAX ((GUEST_MEM_MAX >> GM_PAGE_SHIFT) >> GM_DIR_SHIFT)

struct guest_mem {
    uint64_t size;
    uint64_t npages;
    uint64_t limit; /* frames held (LOCAL + EVICTING) a first touch may not exceed */
    struct guest_frame_source src;
    struct slat *slat;
    uint64_t self_phys;
    uint64_t count[PAGE_STATES]; /* records per enum page_state */
    uint64_t lost;               /* REMOTE or FETCHING records without a holder */
    uint64_t faults, evict_sent, evict_zero, evict_clean, fetched, prefetch_used, prefetch_wasted;
    uint64_t ndirs;     /* directory pages allocated */
    uint64_t nrecpages; /* record pages allocated (in gfn order) */
    uint64_t dir_phys[GM_DIRS_MAX];
    uint64_t *dir[GM_DIRS_MAX]; /* each: GM_PTRS_PER_DIR physical addresses of record pages */
};

static inline void *gm_frame_virt(const struct guest_mem *gm, uint64_t phys)
{
    return gm->src.phys_to_virt(gm->src.ctx, phys);
}

static inline struct page_record *gm_record_page(const struct guest_mem *gm, uint64_t page_index)
{
    uint64_t phys = gm->dir[page_index >> 9][page_index & (GM_PTRS_PER_DIR - 1)];
    return gm_frame_virt(gm, phys);
}

/* gfn < npages (or < nrecpages * 256 for the teardown walk). */
static inline struct page_record *gm_rec(const struct guest_mem *gm, uint64_t gfn)
{
    return &gm_record_page(gm, gfn >> GM_RECS_SHIFT)[gfn & (GM_RECS_PER_PAGE - 1)];
}

/* Keeps the per-state counts in step with a transition that succeeded. */
static inline void gm_moved(struct guest_mem *gm, enum page_state from, enum page_state to)
{
    gm->count[from]--;
    gm->count[to]++;
}

static inline void gm_free_frame(struct guest_mem *gm, uint64_t pfn)
{
    gm->src.free(gm->src.ctx, pfn << GM_PAGE_SHIFT);
}
