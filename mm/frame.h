/*
 * Buddy allocator of physical frames (4 KiB): blocks of 2^order frames, naturally aligned.
 * Pure logic over a caller-supplied metadata array (no access to the frames themselves), so it
 * runs unchanged in host unit tests. Frees are checked: a double free, a free of a frame that
 * was never allocated, or a free with the wrong order is refused with CIVIC_EINVAL and changes
 * nothing.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "kernel/types.h"

#define FRAME_MAX_ORDER 10 /* blocks up to 4 MiB */

struct frame_meta; /* private: one per frame */

struct frame_allocator {
    struct frame_meta *meta;
    uint64_t base_pfn; /* frame number of meta[0] */
    uint64_t nframes;  /* frames covered by meta */
    uint32_t free_head[FRAME_MAX_ORDER + 1];
    uint64_t total_frames; /* frames ever added as free */
    uint64_t free_frames;
};

struct frame_stats {
    uint64_t total; /* frames managed */
    uint64_t free;
    uint64_t used;
    uint64_t free_blocks[FRAME_MAX_ORDER + 1];
};

/* Bytes of metadata needed to cover nframes frames. */
size_t frame_meta_bytes(uint64_t nframes);
/* Covers frames [base_pfn, base_pfn + nframes), all initially unavailable. */
civic_err frame_allocator_init(struct frame_allocator *fa, void *meta, uint64_t base_pfn,
                               uint64_t nframes);
/* Makes [start, end) (page-aligned physical addresses inside the covered span) available. */
civic_err frame_add_free_range(struct frame_allocator *fa, phys_addr_t start, phys_addr_t end);
/* A block of 2^order frames aligned to its size. CIVIC_ENOMEM when none is free. */
civic_err frame_alloc(struct frame_allocator *fa, unsigned order, phys_addr_t *out);
civic_err frame_free(struct frame_allocator *fa, phys_addr_t addr, unsigned order);
void frame_get_stats(const struct frame_allocator *fa, struct frame_stats *st);
