/* The kernel's physical memory manager: the one frame allocator over all usable RAM. */
#pragma once
#include "kernel/error.h"
#include "kernel/types.h"
#include "mm/frame.h"
#include "mm/memmap.h"

/* Takes the usable ranges (already minus kernel, boot information and modules), carves the
 * allocator's metadata out of them and frees the rest. Needs the direct map. */
civic_err pmm_init(const struct memmap *usable);
civic_err pmm_alloc(unsigned order, phys_addr_t *out);
civic_err pmm_free(phys_addr_t addr, unsigned order);
void pmm_get_stats(struct frame_stats *st);
/* Bytes taken by the allocator's own metadata. */
uint64_t pmm_meta_bytes(void);
