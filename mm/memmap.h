/*
 * Sets of physical address ranges: the usable RAM from the boot memory map, minus what must
 * never be handed out (kernel image, boot information, modules). Pure logic, host-tested.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define MEMMAP_MAX 256

struct mem_range {
    uint64_t start; /* [start, end) */
    uint64_t end;
};

struct memmap {
    struct mem_range r[MEMMAP_MAX]; /* sorted, disjoint, non-adjacent, non-empty */
    size_t n;
};

void memmap_init(struct memmap *m);
/* Adds [start, end), merging with overlapping or adjacent ranges. CIVIC_ERANGE when full,
 * CIVIC_EINVAL when end < start (an empty range is accepted and ignored). */
civic_err memmap_add(struct memmap *m, uint64_t start, uint64_t end);
/* Removes [start, end) from every range (may split one). CIVIC_ERANGE if a split overflows. */
civic_err memmap_subtract(struct memmap *m, uint64_t start, uint64_t end);
/* Shrinks each range inward to multiples of align (a power of two), dropping empty ones. */
void memmap_align_inward(struct memmap *m, uint64_t align);
uint64_t memmap_total(const struct memmap *m);
/* Highest end address, 0 if empty. */
uint64_t memmap_max_end(const struct memmap *m);
