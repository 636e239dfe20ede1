/*
 * Binary buddy allocator. Blocks are naturally aligned in *physical* frame numbers (not relative
 * to base_pfn), so a block of order k is always 2^k-frame aligned in memory, which VMCS regions,
 * EPT tables and large pages need.
 *
 * Every frame has a 12-byte record. Only the first frame of a block (its head) carries the
 * block's order and state; the other frames are TAIL. A frame that was never added is UNAVAIL
 * and stays so forever. Heads are exact at all times (a split makes a new head, a merge turns
 * one into a tail), which is all that frame_free() needs to validate a pointer in O(1).
 */
#include "mm/frame.h"

#include "kernel/string.h"

enum frame_state {
    FRAME_UNAVAIL = 0, /* never added: reserved, hole or metadata */
    FRAME_TAIL,        /* inside a block, not its first frame */
    FRAME_FREE,        /* head of a free block, on free_head[order] */
    FRAME_ALLOC,       /* head of an allocated block */
};

struct frame_meta {
    uint32_t next; /* free list links, indices into meta[] */
    uint32_t prev;
    uint8_t order;
    uint8_t state;
    uint16_t reserved;
};

_Static_assert(sizeof(struct frame_meta) == 12, "frame_meta should stay small");

#define FRAME_NONE UINT32_MAX

size_t frame_meta_bytes(uint64_t nframes)
{
    return (size_t)nframes * sizeof(struct frame_meta);
}

static void list_push(struct frame_allocator *fa, uint32_t i, unsigned order)
{
    struct frame_meta *m = &fa->meta[i];
    m->state = FRAME_FREE;
    m->order = (uint8_t)order;
    m->prev = FRAME_NONE;
    m->next = fa->free_head[order];
    if (m->next != FRAME_NONE)
        fa->meta[m->next].prev = i;
    fa->free_head[order] = i;
}

static void list_remove(struct frame_allocator *fa, uint32_t i)
{
    struct frame_meta *m = &fa->meta[i];
    if (m->prev != FRAME_NONE)
        fa->meta[m->prev].next = m->next;
    else
        fa->free_head[m->order] = m->next;
    if (m->next != FRAME_NONE)
        fa->meta[m->next].prev = m->prev;
    m->next = m->prev = FRAME_NONE;
}

civic_err frame_allocator_init(struct frame_allocator *fa, void *meta, uint64_t base_pfn,
                               uint64_t nframes)
{
    /* Indices are 32-bit and FRAME_NONE is reserved: up to 16 TiB per allocator. */
    if (!fa || !meta || nframes == 0 || nframes >= FRAME_NONE)
        return trace_error(CIVIC_EINVAL);
    if (base_pfn + nframes < base_pfn || base_pfn + nframes > (UINT64_MAX >> PAGE_SHIFT))
        return trace_error(CIVIC_ERANGE);
    fa->meta = meta;
    fa->base_pfn = base_pfn;
    fa->nframes = nframes;
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
        fa->free_head[o] = FRAME_NONE;
    fa->total_frames = 0;
    fa->free_frames = 0;
    memset(meta, 0, frame_meta_bytes(nframes));
    return CIVIC_OK;
}

/* Frees the block at index i (its frames already TAIL or a stale head), merging with free
 * buddies as far as they go. */
static void free_block(struct frame_allocator *fa, uint32_t i, unsigned order)
{
    uint64_t pfn = fa->base_pfn + i;
    while (order < FRAME_MAX_ORDER) {
        uint64_t buddy_pfn = pfn ^ (1ull << order);
        if (buddy_pfn < fa->base_pfn || buddy_pfn >= fa->base_pfn + fa->nframes)
            break;
        uint32_t b = (uint32_t)(buddy_pfn - fa->base_pfn);
        struct frame_meta *bm = &fa->meta[b];
        if (bm->state != FRAME_FREE || bm->order != order)
            break;
        list_remove(fa, b);
        if (buddy_pfn < pfn) {
            fa->meta[pfn - fa->base_pfn].state = FRAME_TAIL;
            pfn = buddy_pfn;
        } else {
            bm->state = FRAME_TAIL;
        }
        order++;
    }
    list_push(fa, (uint32_t)(pfn - fa->base_pfn), order);
}

civic_err frame_add_free_range(struct frame_allocator *fa, phys_addr_t start, phys_addr_t end)
{
    if ((start | end) & (PAGE_SIZE - 1) || end < start)
        return trace_error(CIVIC_EINVAL);
    uint64_t spfn = start >> PAGE_SHIFT, epfn = end >> PAGE_SHIFT;
    if (spfn == epfn)
        return CIVIC_OK;
    if (spfn < fa->base_pfn || epfn > fa->base_pfn + fa->nframes)
        return trace_error(CIVIC_ERANGE);
    uint32_t si = (uint32_t)(spfn - fa->base_pfn), ei = (uint32_t)(epfn - fa->base_pfn);

    /* Adding a frame twice would put it in two blocks: refuse before touching anything. */
    for (uint32_t i = si; i < ei; i++) {
        if (fa->meta[i].state != FRAME_UNAVAIL)
            return trace_error(CIVIC_EEXIST);
    }
    for (uint32_t i = si; i < ei; i++)
        fa->meta[i].state = FRAME_TAIL;

    /* Largest naturally aligned blocks that fit, each merged with whatever is already free. */
    uint64_t pfn = spfn;
    while (pfn < epfn) {
        unsigned order = 0;
        while (order < FRAME_MAX_ORDER && !(pfn & ((2ull << order) - 1)) &&
               pfn + (2ull << order) <= epfn)
            order++;
        free_block(fa, (uint32_t)(pfn - fa->base_pfn), order);
        pfn += 1ull << order;
    }
    fa->total_frames += epfn - spfn;
    fa->free_frames += epfn - spfn;
    return CIVIC_OK;
}

civic_err frame_alloc(struct frame_allocator *fa, unsigned order, phys_addr_t *out)
{
    if (order > FRAME_MAX_ORDER)
        return trace_error(CIVIC_EINVAL);
    unsigned k = order;
    while (k <= FRAME_MAX_ORDER && fa->free_head[k] == FRAME_NONE)
        k++;
    if (k > FRAME_MAX_ORDER)
        return trace_error(CIVIC_ENOMEM);

    uint32_t i = fa->free_head[k];
    list_remove(fa, i);
    /* Split: keep the lower half, give the upper halves back. */
    while (k > order) {
        k--;
        list_push(fa, i + (1u << k), k);
    }
    fa->meta[i].state = FRAME_ALLOC;
    fa->meta[i].order = (uint8_t)order;
    fa->free_frames -= 1ull << order;
    *out = (fa->base_pfn + i) << PAGE_SHIFT;
    return CIVIC_OK;
}

civic_err frame_free(struct frame_allocator *fa, phys_addr_t addr, unsigned order)
{
    if (order > FRAME_MAX_ORDER || (addr & (PAGE_SIZE - 1)))
        return trace_error(CIVIC_EINVAL);
    uint64_t pfn = addr >> PAGE_SHIFT;
    if (pfn < fa->base_pfn || pfn >= fa->base_pfn + fa->nframes || (pfn & ((1ull << order) - 1)))
        return trace_error(CIVIC_EINVAL);
    uint32_t i = (uint32_t)(pfn - fa->base_pfn);
    const struct frame_meta *m = &fa->meta[i];
    if (m->state != FRAME_ALLOC || m->order != order)
        return trace_error(CIVIC_EINVAL);
    free_block(fa, i, order);
    fa->free_frames += 1ull << order;
    return CIVIC_OK;
}

void frame_get_stats(const struct frame_allocator *fa, struct frame_stats *st)
{
    st->total = fa->total_frames;
    st->free = fa->free_frames;
    st->used = fa->total_frames - fa->free_frames;
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
        uint64_t n = 0;
        for (uint32_t i = fa->free_head[o]; i != FRAME_NONE; i = fa->meta[i].next)
            n++;
        st->free_blocks[o] = n;
    }
}
