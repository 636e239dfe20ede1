/*
 * Guest frames come from the PMM one 4 KiB frame at a time and are used through the direct map.
 * They are zeroed here because a guest must never see another VM's (or civic's) old data.
 */
#include "mm/guest_frames.h"

#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/pmm.h"

static void *gf_alloc(void *ctx, uint64_t *phys)
{
    /* Guests never take the last frames: the heap, the network and the page store need them
     * to keep working, remote memory most of all (it frees guest frames by sending them). */
    struct frame_stats fs;
    pmm_get_stats(&fs);
    if (fs.free <= GUEST_FRAMES_RESERVE)
        return NULL;
    phys_addr_t pa;
    if (pmm_alloc(0, &pa) != CIVIC_OK)
        return NULL;
    void *v = phys_to_virt(pa);
    memset(v, 0, PAGE_SIZE);
    *phys = pa;
    return v;
}

static void gf_free(void *ctx, uint64_t phys)
{
    civic_err e = pmm_free(phys, 0);
    if (e != CIVIC_OK)
        log_err("mm: guest frame %#llx refused by the PMM: %s", (unsigned long long)phys,
                civic_strerror(e));
}

static void *gf_phys_to_virt(void *ctx, uint64_t phys)
{
    return phys_to_virt(phys);
}

const struct guest_frame_source *guest_frames_kernel(void)
{
    static const struct guest_frame_source src = {
        .alloc = gf_alloc,
        .free = gf_free,
        .phys_to_virt = gf_phys_to_virt,
        .ctx = NULL,
    };
    return &src;
}
