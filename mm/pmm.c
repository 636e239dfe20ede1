/*
 * The one frame allocator over all usable RAM. Its metadata (one record per frame of the span
 * from the lowest to the highest usable address, holes included) is carved from usable RAM
 * itself and reached through the direct map, so no boot-time size guess is needed.
 */
#include "mm/pmm.h"

#include "arch/x86/irq.h"
#include "kernel/arch.h"
#include "kernel/log.h"

static struct frame_allocator pmm;
static uint64_t pmm_meta_size;
static int pmm_ready;

civic_err pmm_init(const struct memmap *usable)
{
    static struct memmap free_ranges;

    if (pmm_ready)
        return trace_error(CIVIC_EBUSY);
    free_ranges = *usable;
    memmap_align_inward(&free_ranges, PAGE_SIZE);
    if (free_ranges.n == 0)
        return trace_error(CIVIC_EINVAL);

    uint64_t base_pfn = free_ranges.r[0].start >> PAGE_SHIFT;
    uint64_t nframes = (memmap_max_end(&free_ranges) >> PAGE_SHIFT) - base_pfn;
    uint64_t meta_bytes = ALIGN_UP((uint64_t)frame_meta_bytes(nframes), PAGE_SIZE);

    uint64_t meta_phys = 0;
    size_t i;
    for (i = 0; i < free_ranges.n; i++) {
        if (free_ranges.r[i].end - free_ranges.r[i].start >= meta_bytes) {
            meta_phys = free_ranges.r[i].start;
            break;
        }
    }
    if (i == free_ranges.n) {
        log_err("mm: no usable range holds %llu bytes of frame metadata",
                (unsigned long long)meta_bytes);
        return trace_error(CIVIC_ENOMEM);
    }
    civic_err e = memmap_subtract(&free_ranges, meta_phys, meta_phys + meta_bytes);
    if (e == CIVIC_OK)
        e = frame_allocator_init(&pmm, phys_to_virt(meta_phys), base_pfn, nframes);
    for (i = 0; e == CIVIC_OK && i < free_ranges.n; i++)
        e = frame_add_free_range(&pmm, free_ranges.r[i].start, free_ranges.r[i].end);
    if (e != CIVIC_OK)
        return e;

    pmm_meta_size = meta_bytes;
    pmm_ready = 1;
    log_info("mm: %llu frames free (%llu MiB) in %zu ranges, span %#llx-%#llx, metadata %llu KiB "
             "at %#llx",
             (unsigned long long)pmm.free_frames,
             (unsigned long long)(pmm.free_frames >> (20 - PAGE_SHIFT)), free_ranges.n,
             (unsigned long long)(base_pfn << PAGE_SHIFT),
             (unsigned long long)((base_pfn + nframes) << PAGE_SHIFT),
             (unsigned long long)(meta_bytes >> 10), (unsigned long long)meta_phys);
    return CIVIC_OK;
}

civic_err pmm_alloc(unsigned order, phys_addr_t *out)
{
    if (!pmm_ready)
        return trace_error(CIVIC_ENOMEM);
    irq_state_t f = irq_save();
    civic_err e = frame_alloc(&pmm, order, out);
    irq_restore(f);
    return e;
}

civic_err pmm_free(phys_addr_t addr, unsigned order)
{
    if (!pmm_ready)
        return trace_error(CIVIC_EINVAL);
    irq_state_t f = irq_save();
    civic_err e = frame_free(&pmm, addr, order);
    irq_restore(f);
    return e;
}

void pmm_get_stats(struct frame_stats *st)
{
    if (!pmm_ready) {
        *st = (struct frame_stats){0};
        return;
    }
    irq_state_t f = irq_save();
    frame_get_stats(&pmm, st);
    irq_restore(f);
}

uint64_t pmm_meta_bytes(void)
{
    return pmm_meta_size;
}
