/*
 * Shared by the guest loader's parts (loader.c and loader_{elf,mb1,mb2,flat}.c); not for other
 * modules, which use kernel/loader.h.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/loader.h"

#define LOADER_PAGE 4096u
#define LOADER_4GIB 0x100000000ull
#define LOADER_1MIB 0x100000ull

/* The guest-physical memory map every Multiboot guest is given (clipped to its RAM): conventional
 * memory up to the EBDA, the EBDA and the BIOS area reserved as on a PC, the rest available. */
#define LOADER_EBDA_START 0x9fc00ull
#define LOADER_VGA_START 0xa0000ull
#define LOADER_BIOS_START 0xf0000ull
#define LOADER_MMAP_MAX 4
#define LOADER_MEMORY_AVAILABLE 1 /* same value in Multiboot 1 and 2 */
#define LOADER_MEMORY_RESERVED 2

/* The boot information goes in the top pages of conventional memory, below this address (the
 * EBDA page is left alone), unless the image is there; then in the page after the image. */
#define LOADER_INFO_LOW_TOP 0x9f000ull
#define LOADER_INFO_LOW_MIN 0x1000ull /* never in page 0 (real-mode IVT, null pointers) */

#define LOADER_BOOT_LOADER_NAME "civic"

struct loader_ctx {
    const struct loader_request *req;
    const struct loader_target *t;
    char *err;
    size_t err_size;
    uint64_t limit;   /* loads must end at or below this: min(RAM, 4 GiB) for 32-bit entry */
    char ram_str[24]; /* "64 MiB", for messages */
};

struct loader_mem_range {
    uint64_t base, len;
    uint32_t type;
};

/* A raw load (Multiboot a.out kludge, Multiboot2 address tag): file bytes [file_off, file_off +
 * load_end - load_addr) go to load_addr, zeros from load_end to bss_end. */
struct loader_raw {
    uint64_t file_off;
    uint64_t load_addr, load_end, bss_end;
};

static inline uint16_t loader_rd16(const uint8_t *at)
{
    uint16_t v;
    __builtin_memcpy(&v, at, sizeof(v));
    return v;
}

static inline uint32_t loader_rd32(const uint8_t *at)
{
    uint32_t v;
    __builtin_memcpy(&v, at, sizeof(v));
    return v;
}

static inline uint64_t loader_align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Formats the one-line reason into lc->err and returns e (traced). */
civic_err loader_fail(struct loader_ctx *lc, civic_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks that [base, base + len) lies in the guest's RAM below lc->limit, without wrapping;
 * what names the piece in the message ("ELF program header 2"). */
civic_err loader_check_span(struct loader_ctx *lc, uint64_t base, uint64_t len, const char *what);

/* Writes through the target; a failure becomes a message naming the range. */
civic_err loader_write(struct loader_ctx *lc, uint64_t gpa, const void *src, size_t len);
/* Writes len zero bytes at gpa, in chunks. */
civic_err loader_zero(struct loader_ctx *lc, uint64_t gpa, uint64_t len);

/* Where size bytes of boot information go for an image occupying [img_start, img_end). */
civic_err loader_place_info(struct loader_ctx *lc, uint64_t img_start, uint64_t img_end,
                            uint64_t size, uint64_t *at);

/* The map of the guest's memory, clipped to ram; returns the number of ranges. */
size_t loader_memory_map(uint64_t ram, struct loader_mem_range out[LOADER_MMAP_MAX]);
uint32_t loader_mem_lower_kib(uint64_t ram);
uint32_t loader_mem_upper_kib(uint64_t ram);

/* Validates a raw load described by a header found at hdr_off (what: "Multiboot header"). */
civic_err loader_raw_layout(struct loader_ctx *lc, size_t hdr_off, uint32_t header_addr,
                            uint64_t load_addr, uint32_t load_end_addr, uint32_t bss_end_addr,
                            const char *what, struct loader_raw *out);
civic_err loader_raw_write(struct loader_ctx *lc, const struct loader_raw *raw);

/* The protected-mode start state both Multiboot versions share (ESP 0: the specs leave it
 * undefined, and a push before the kernel sets its stack lands outside RAM, harmlessly). */
void loader_multiboot_entry(struct vcpu_boot_state *b, uint32_t eip, uint32_t eax, uint32_t ebx);

civic_err loader_mb1_load(struct loader_ctx *lc, size_t hdr_off, struct loader_result *out);
civic_err loader_mb2_load(struct loader_ctx *lc, size_t hdr_off, struct loader_result *out);
civic_err loader_flat_load(struct loader_ctx *lc, struct loader_result *out);
