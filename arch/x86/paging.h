/*
 * The kernel's final address space (replacing the boot tables): the kernel image at -2 GiB, a
 * direct map of [0, max(4 GiB, top of RAM)) at DIRECT_MAP_BASE, nothing at low addresses (so a
 * NULL dereference faults), and an uncached window for device registers.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define DIRECT_MAP_BASE 0xffff800000000000ull
#define KERNEL_VMA 0xffffffff80000000ull

/* Builds and loads the final tables. top_of_ram: highest RAM address + 1. Uses 1 GiB pages
 * where the CPU has them, 2 MiB pages otherwise. */
civic_err paging_init(uint64_t top_of_ram);
/* Maps device registers uncached (PCD|PWT); returns the virtual address or NULL. */
void *paging_map_mmio(uint64_t phys, size_t size);
/* The highest physical address the direct map covers (+1). */
uint64_t paging_direct_map_end(void);
