/*
 * Multiboot v1 (Multiboot Specification version 0.6.96): the header a kernel carries and the
 * information structure the loader passes in EBX. Only the fields the guests read.
 */
#pragma once
#include <stdint.h>

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u /* in EAX at entry */

/* Header flags (spec 3.1.2). */
#define MULTIBOOT_PAGE_ALIGN (1u << 0)
#define MULTIBOOT_MEMORY_INFO (1u << 1)

/* multiboot_info.flags (spec 3.3): which fields are valid. */
#define MULTIBOOT_INFO_MEMORY (1u << 0)  /* mem_lower, mem_upper */
#define MULTIBOOT_INFO_CMDLINE (1u << 2) /* cmdline */
#define MULTIBOOT_INFO_MEM_MAP (1u << 6) /* mmap_length, mmap_addr */

#define MULTIBOOT_MEMORY_AVAILABLE 1

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB below 1 MiB */
    uint32_t mem_upper; /* KiB from 1 MiB to the first hole */
    uint32_t boot_device;
    uint32_t cmdline; /* physical address of a NUL-terminated string */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
} __attribute__((packed));

/* One memory map entry; `size` does not count itself (spec 3.3). */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));
