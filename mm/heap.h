/*
 * Kernel heap: small objects from size-class slabs, large ones straight from pages. Pure logic
 * over a page source, so it is host-tested against malloc'd pages. Every allocation is 16-byte
 * aligned. heap_free() refuses (CIVIC_EINVAL) a pointer it did not hand out or one already freed,
 * where its headers can tell.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

struct heap_page_source {
    /* 2^order contiguous, 4 KiB-aligned pages, or NULL. */
    void *(*alloc_pages)(void *ctx, unsigned order);
    void (*free_pages)(void *ctx, void *pages, unsigned order);
    void *ctx;
};

struct heap_stats {
    uint64_t bytes_requested; /* live bytes as the callers asked for them */
    uint64_t bytes_reserved;  /* bytes of pages the heap holds */
    uint64_t live_allocations;
    uint64_t total_allocations;
    uint64_t failed_allocations;
    uint64_t bad_frees;
};

#define HEAP_SIZE_CLASSES 8 /* 16 .. 2048 bytes */

struct heap_slab; /* private */

struct heap {
    struct heap_page_source src;
    struct heap_slab *partial[HEAP_SIZE_CLASSES]; /* slabs with free and live objects */
    struct heap_slab *empty[HEAP_SIZE_CLASSES];   /* at most one cached empty slab per class */
    struct heap_stats stats;
};

void heap_init(struct heap *h, const struct heap_page_source *src);
void *heap_alloc(struct heap *h, size_t size);
void *heap_zalloc(struct heap *h, size_t size);
civic_err heap_free(struct heap *h, void *p);
void heap_get_stats(const struct heap *h, struct heap_stats *st);
