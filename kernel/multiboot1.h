/*
 * Multiboot (version 1, specification 0.6.96) as the guest loader provides it: the OS image
 * header (section 3.1), the boot information structure (3.3) and its memory map entries.
 * Names follow the specification's own example header.
 */
#pragma once
#include <stdint.h>

/* 3.1.1: the header lies within the first 8192 bytes of the image, 32-bit aligned. */
#define MULTIBOOT_SEARCH 8192
#define MULTIBOOT_HEADER_ALIGN 4
#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
/* 3.2: EAX holds this when the kernel starts. */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* 3.1.2 header flags. Bits 0-15 are requirements: a loader that does not know one must refuse;
 * bits 16-31 are optional features. */
#define MULTIBOOT_PAGE_ALIGN 0x00000001u  /* modules on 4 KiB boundaries */
#define MULTIBOOT_MEMORY_INFO 0x00000002u /* mem_* (and mmap_*) must be provided */
#define MULTIBOOT_VIDEO_MODE 0x00000004u  /* video mode table must be provided */
#define MULTIBOOT_REQUIRED_MASK 0x0000ffffu
#define MULTIBOOT_AOUT_KLUDGE 0x00010000u /* the address fields are valid: load them, not ELF */

/* 3.1.1 header layout; the address fields count only with MULTIBOOT_AOUT_KLUDGE, the graphics
 * fields only with MULTIBOOT_VIDEO_MODE. */
struct multiboot_header {
    uint32_t magic;
    uint32_t flags;
    uint32_t checksum; /* magic + flags + checksum == 0 (mod 2^32) */
    uint32_t header_addr;
    uint32_t load_addr;
    uint32_t load_end_addr; /* 0: load to the end of the file */
    uint32_t bss_end_addr;  /* 0: no bss */
    uint32_t entry_addr;
    uint32_t mode_type;
    uint32_t width;
    uint32_t height;
    uint32_t depth;
};
#define MULTIBOOT_HEADER_FIXED_SIZE 12 /* magic, flags, checksum */
#define MULTIBOOT_HEADER_AOUT_SIZE 32  /* ... through entry_addr */

/* 3.3 boot information flags: which fields are valid. */
#define MULTIBOOT_INFO_MEMORY 0x00000001u
#define MULTIBOOT_INFO_BOOTDEV 0x00000002u
#define MULTIBOOT_INFO_CMDLINE 0x00000004u
#define MULTIBOOT_INFO_MODS 0x00000008u
#define MULTIBOOT_INFO_AOUT_SYMS 0x00000010u
#define MULTIBOOT_INFO_ELF_SHDR 0x00000020u
#define MULTIBOOT_INFO_MEM_MAP 0x00000040u
#define MULTIBOOT_INFO_DRIVE_INFO 0x00000080u
#define MULTIBOOT_INFO_CONFIG_TABLE 0x00000100u
#define MULTIBOOT_INFO_BOOT_LOADER_NAME 0x00000200u
#define MULTIBOOT_INFO_APM_TABLE 0x00000400u
#define MULTIBOOT_INFO_VBE_INFO 0x00000800u
#define MULTIBOOT_INFO_FRAMEBUFFER_INFO 0x00001000u

/* 3.3 boot information structure. All addresses are guest-physical. */
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB from 0 */
    uint32_t mem_upper; /* KiB from 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4]; /* a.out symbol table or ELF section headers */
    uint32_t mmap_length;
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
    uint64_t framebuffer_addr;
    uint32_t framebuffer_pitch;
    uint32_t framebuffer_width;
    uint32_t framebuffer_height;
    uint8_t framebuffer_bpp;
    uint8_t framebuffer_type;
    uint8_t color_info[6];
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_info) == 116, "Multiboot 3.3: the information is 116 bytes");

/* 3.3 memory map entry. size counts the bytes after itself (20 here), so an entry occupies
 * size + 4 bytes. */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "Multiboot 3.3: mmap entry is 24 bytes");

#define MULTIBOOT_MEMORY_AVAILABLE 1
#define MULTIBOOT_MEMORY_RESERVED 2
