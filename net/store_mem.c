/*
 * The page store's memory in the kernel, and its unit. Stored pages are single frames from the
 * PMM. The index must be one contiguous array (net/page_store.c indexes it directly): small ones
 * come from the heap, up to 4 MiB from one buddy block, and larger ones (stores above 256 MiB) from
 * a run of adjacent 4 MiB blocks, which a buddy allocator hands out in address order on a quiet
 * machine; blocks that break a run are given back. The store= boot option is applied here.
 */
#include "net/store.h"

#include "kernel/arch.h"
#include "kernel/boot.h"
#include "kernel/boot_options.h"
#include "kernel/log.h"
#include "kernel/unit.h"
#include "mm/kmalloc.h"
#include "mm/pmm.h"

#define BLOCK_ORDER FRAME_MAX_ORDER
#define BLOCK_BYTES ((uint64_t)PAGE_SIZE << BLOCK_ORDER)

/* The one index in use (page_store_ops.free_index gets only its address). */
static struct {
    void *addr;
    phys_addr_t base;
    uint64_t bytes;
    bool heap; /* from kmalloc, else buddy blocks */
} ix;

static void *mem_alloc_page(void *ctx)
{
    phys_addr_t pa;
    return pmm_alloc(0, &pa) == CIVIC_OK ? phys_to_virt(pa) : NULL;
}

static void mem_free_page(void *ctx, void *page)
{
    civic_err e = pmm_free(virt_to_phys(page), 0);
    if (e != CIVIC_OK)
        log_err("store: the PMM refuses stored page %p: %s", page, civic_strerror(e));
}

static void free_blocks(phys_addr_t base, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        pmm_free(base + i * BLOCK_BYTES, BLOCK_ORDER);
}

/* Gives back a chain of runs linked through their first bytes: {next run, blocks}. */
static void free_chain(phys_addr_t head)
{
    while (head) {
        const uint64_t *link = phys_to_virt(head);
        phys_addr_t next = link[0];
        free_blocks(head, link[1]);
        head = next;
    }
}

/* n adjacent 4 MiB blocks, or CIVIC_ENOMEM (everything taken on the way given back). */
static civic_err alloc_run(uint64_t n, phys_addr_t *out)
{
    phys_addr_t lo = 0, rejected = 0;
    uint64_t have = 0;
    while (have < n) {
        phys_addr_t b;
        if (pmm_alloc(BLOCK_ORDER, &b) != CIVIC_OK) {
            if (have)
                free_blocks(lo, have);
            free_chain(rejected);
            return trace_error(CIVIC_ENOMEM);
        }
        if (have && b == lo + have * BLOCK_BYTES) {
            have++;
        } else if (have && b + BLOCK_BYTES == lo) {
            lo = b;
            have++;
        } else {
            if (have) { /* this run cannot grow here: keep it aside, start again at b */
                uint64_t *link = phys_to_virt(lo);
                link[0] = rejected;
                link[1] = have;
                rejected = lo;
            }
            lo = b;
            have = 1;
        }
    }
    free_chain(rejected);
    *out = lo;
    return CIVIC_OK;
}

static void *mem_alloc_index(void *ctx, size_t bytes)
{
    if (ix.addr)
        return NULL; /* one store, one index */
    if (bytes < PAGE_SIZE) {
        ix.addr = kmalloc(bytes);
        ix.heap = true;
    } else {
        unsigned order = 0;
        while (((uint64_t)PAGE_SIZE << order) < bytes)
            order++;
        phys_addr_t pa;
        civic_err e = order <= BLOCK_ORDER
                          ? pmm_alloc(order, &pa)
                          : alloc_run(((uint64_t)PAGE_SIZE << order) / BLOCK_BYTES, &pa);
        ix.addr = e == CIVIC_OK ? phys_to_virt(pa) : NULL;
        ix.base = pa;
        ix.heap = false;
    }
    ix.bytes = bytes;
    return ix.addr;
}

static void mem_free_index(void *ctx, void *index)
{
    if (index != ix.addr || !index) {
        log_err("store: freeing an index %p that is not the store's", index);
        return;
    }
    if (ix.heap) {
        kfree(index);
    } else if (ix.bytes <= BLOCK_BYTES) {
        unsigned order = 0;
        while (((uint64_t)PAGE_SIZE << order) < ix.bytes)
            order++;
        pmm_free(ix.base, order);
    } else {
        free_blocks(ix.base, ix.bytes / BLOCK_BYTES);
    }
    ix.addr = NULL;
}

static const struct page_store_ops kernel_ops = {
    .alloc_page = mem_alloc_page,
    .free_page = mem_free_page,
    .alloc_index = mem_alloc_index,
    .free_index = mem_free_index,
    .hash = NULL,
};

static civic_err store_unit_init(void)
{
    civic_err e = store_init(&kernel_ops, NULL);
    if (e != CIVIC_OK) {
        log_err("store: cannot register the page store service: %s", civic_strerror(e));
        return e;
    }
    static struct boot_options opts; /* kmain reported their problems already */
    boot_options_parse(boot_info->cmdline, &opts, NULL, NULL);
    if (!opts.has_store)
        return CIVIC_OK;
    e = store_set_capacity(opts.store_bytes);
    if (e != CIVIC_OK) {
        log_err("store: store=%llu bytes: %s; lending nothing",
                (unsigned long long)opts.store_bytes, civic_strerror(e));
        return CIVIC_OK; /* the service still answers, FULL to every PUT */
    }
    struct frame_stats fs;
    pmm_get_stats(&fs);
    log_info("store: lending up to %llu MiB to peers (store=)",
             (unsigned long long)(opts.store_bytes >> 20));
    if (opts.store_bytes / PAGE_SIZE > fs.free)
        log_warn("store: only %llu MiB of frames are free now",
                 (unsigned long long)(fs.free * PAGE_SIZE >> 20));
    return CIVIC_OK;
}

static bool store_unit_poll(void)
{
    return store_poll();
}

CIVIC_UNIT(store, store_unit_init, store_unit_poll);
