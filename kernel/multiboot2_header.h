/*
 * The Multiboot2 OS image header (Multiboot2 specification 2.0, section 3.1), which the guest
 * loader reads from a guest kernel. The boot information the loader writes back uses the tag
 * types of boot/multiboot2.h (section 3.6).
 */
#pragma once
#include <stdint.h>

/* 3.1.1: the header lies within the first 32768 bytes of the image, 64-bit aligned. */
#define MULTIBOOT2_SEARCH 32768
#define MULTIBOOT2_HEADER_ALIGN 8
#define MULTIBOOT2_HEADER_MAGIC 0xE85250D6u
#define MULTIBOOT2_ARCHITECTURE_I386 0

/* 3.1.2: magic + architecture + header_length + checksum == 0 (mod 2^32). */
struct multiboot2_header {
    uint32_t magic;
    uint32_t architecture;
    uint32_t header_length; /* including the tags */
    uint32_t checksum;
};

/* 3.1.3: header tags, 8-aligned, ending with an END tag (type 0, size 8). */
struct multiboot2_header_tag {
    uint16_t type;
    uint16_t flags;
    uint32_t size;
};
#define MULTIBOOT2_HEADER_TAG_OPTIONAL 1 /* flags bit 0: a loader may ignore the tag */
#define MULTIBOOT2_TAG_ALIGN 8

enum multiboot2_header_tag_type {
    MULTIBOOT2_HEADER_TAG_END = 0,
    MULTIBOOT2_HEADER_TAG_INFORMATION_REQUEST = 1, /* u32 mbi_tag_types[] */
    MULTIBOOT2_HEADER_TAG_ADDRESS = 2,             /* header, load, load_end, bss_end */
    MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS = 3,       /* u32 entry_addr */
    MULTIBOOT2_HEADER_TAG_CONSOLE_FLAGS = 4,       /* u32 console_flags */
    MULTIBOOT2_HEADER_TAG_FRAMEBUFFER = 5,         /* width, height, depth */
    MULTIBOOT2_HEADER_TAG_MODULE_ALIGN = 6,
    MULTIBOOT2_HEADER_TAG_EFI_BS = 7,
    MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS_EFI32 = 8,
    MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS_EFI64 = 9,
    MULTIBOOT2_HEADER_TAG_RELOCATABLE = 10, /* min_addr, max_addr, align, preference */
};

/* 3.1.9 console_flags */
#define MULTIBOOT2_CONSOLE_FLAGS_CONSOLE_REQUIRED 1
#define MULTIBOOT2_CONSOLE_FLAGS_EGA_TEXT_SUPPORTED 2

/* 3.1.5 address tag */
struct multiboot2_header_tag_address {
    uint16_t type;
    uint16_t flags;
    uint32_t size;
    uint32_t header_addr;
    uint32_t load_addr;     /* 0xffffffff: load the file from its beginning */
    uint32_t load_end_addr; /* 0: the whole file */
    uint32_t bss_end_addr;  /* 0: no bss */
};
#define MULTIBOOT2_LOAD_ADDR_FILE_START 0xffffffffu

/* 3.6.8: the memory map entries the loader writes (entry_version 0). */
struct multiboot2_mmap_entry {
    uint64_t addr;
    uint64_t len;
    uint32_t type;
    uint32_t zero;
};
_Static_assert(sizeof(struct multiboot2_mmap_entry) == 24, "Multiboot2 3.6.8: entry is 24 bytes");
