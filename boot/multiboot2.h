/*
 * Multiboot2 boot information (Multiboot2 specification, section 3.6), parsed into civic's own
 * struct boot_info. The parser is pure: it trusts nothing in the information, bounds-checks
 * every tag against the total size and reports what it skipped through warn().
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Tag types (spec 3.6). */
enum mb2_tag_type {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_BOOTLOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_BASIC_MEMINFO = 4,
    MB2_TAG_BOOTDEV = 5,
    MB2_TAG_MMAP = 6,
    MB2_TAG_VBE = 7,
    MB2_TAG_FRAMEBUFFER = 8,
    MB2_TAG_ELF_SECTIONS = 9,
    MB2_TAG_APM = 10,
    MB2_TAG_EFI32 = 11,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_SMBIOS = 13,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
    MB2_TAG_NETWORK = 16,
    MB2_TAG_EFI_MMAP = 17,
    MB2_TAG_EFI_BS = 18,
    MB2_TAG_EFI32_IH = 19,
    MB2_TAG_EFI64_IH = 20,
    MB2_TAG_LOAD_BASE_ADDR = 21,
};

/* Memory map entry types (spec 3.6.8). */
enum mb2_mmap_type {
    MB2_MEMORY_AVAILABLE = 1,
    MB2_MEMORY_RESERVED = 2,
    MB2_MEMORY_ACPI_RECLAIMABLE = 3,
    MB2_MEMORY_NVS = 4,
    MB2_MEMORY_BADRAM = 5,
};

#define BOOT_CMDLINE_MAX 1024
#define BOOT_MMAP_MAX 128
#define BOOT_MODULES_MAX 32
#define BOOT_RSDP_MAX 36 /* ACPI 2.0+ RSDP length */

struct boot_mmap_entry {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

struct boot_module {
    uint64_t start; /* physical, [start, end) */
    uint64_t end;
    char cmdline[BOOT_CMDLINE_MAX];
};

struct boot_info {
    uint64_t mbi_phys; /* the information itself, [mbi_phys, mbi_phys + mbi_size) */
    uint32_t mbi_size;
    char cmdline[BOOT_CMDLINE_MAX];
    char bootloader[64];
    struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
    size_t mmap_count;
    struct boot_module modules[BOOT_MODULES_MAX];
    size_t module_count;
    uint8_t rsdp[BOOT_RSDP_MAX]; /* a copy of the RSDP GRUB found, if any */
    size_t rsdp_len;             /* 0: none; 20: ACPI 1.0; 36: ACPI 2.0+ */
    unsigned warnings;           /* how many problems were reported through warn() */
};

typedef void (*mb2_warn_fn)(void *ctx, const char *msg);

/*
 * Parses the boot information at mbi, of which at most avail bytes may be read. mbi_phys is its
 * physical address (recorded so that the frame allocator can reserve it). Returns CIVIC_EINVAL if
 * the information cannot be used at all (too short, total size beyond avail, misaligned, no end
 * tag); a malformed tag is skipped with a warning and the rest is still parsed when it can be.
 */
civic_err mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys, struct boot_info *out,
                    mb2_warn_fn warn, void *warn_ctx);
