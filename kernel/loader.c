/*
 * Guest image loader: format detection, dispatch, and what the formats share (bounds checks,
 * writes into guest memory, the memory map, where the boot information goes).
 *
 * Choices:
 * - A non-zero flat_load always means a flat binary, whatever the image contains. Otherwise a
 *   Multiboot2 header wins over a Multiboot one when an image carries both (civic itself boots
 *   through Multiboot2; GRUB picks by command, we have no command to pick by).
 * - A header candidate whose magic matches but whose checksum does not is skipped, as GRUB does;
 *   if no valid header follows, the bad checksum is the reason given.
 * - The boot information occupies whole pages ending at 0x9f000 (top of conventional memory,
 *   below the EBDA page) unless the image covers them; then the pages right after the image.
 * - Every piece is checked before anything is written, so a refused image leaves guest memory
 *   untouched (apart from a failing target write, which is reported).
 */
#include "kernel/loader.h"

#include <stdarg.h>

#include "kernel/format.h"
#include "kernel/loader_int.h"
#include "kernel/multiboot1.h"
#include "kernel/multiboot2_header.h"
#include "kernel/string.h"

civic_err loader_fail(struct loader_ctx *lc, civic_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (lc->err && lc->err_size)
        kvsnprintf(lc->err, lc->err_size, fmt, ap);
    va_end(ap);
    return trace_error(e);
}

civic_err loader_check_span(struct loader_ctx *lc, uint64_t base, uint64_t len, const char *what)
{
    uint64_t end = base + len;
    if (end < base)
        return loader_fail(lc, CIVIC_ERANGE, "%s: [0x%llx, +0x%llx) wraps around", what,
                           (unsigned long long)base, (unsigned long long)len);
    if (end > lc->t->ram_bytes)
        return loader_fail(lc, CIVIC_ERANGE,
                           "%s: segment [0x%llx, 0x%llx) exceeds the guest's %s of RAM", what,
                           (unsigned long long)base, (unsigned long long)end, lc->ram_str);
    if (end > lc->limit)
        return loader_fail(lc, CIVIC_ERANGE,
                           "%s: segment [0x%llx, 0x%llx) reaches beyond 4 GiB, out of reach of a "
                           "32-bit kernel started with paging off",
                           what, (unsigned long long)base, (unsigned long long)end);
    return CIVIC_OK;
}

civic_err loader_write(struct loader_ctx *lc, uint64_t gpa, const void *src, size_t len)
{
    if (len == 0)
        return CIVIC_OK;
    civic_err e = lc->t->write(lc->t->ctx, gpa, src, len);
    if (e != CIVIC_OK)
        return loader_fail(lc, e, "writing guest memory [0x%llx, 0x%llx) failed: %s",
                           (unsigned long long)gpa, (unsigned long long)(gpa + len),
                           civic_strerror(e));
    return CIVIC_OK;
}

civic_err loader_zero(struct loader_ctx *lc, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[1024];
    while (len) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        civic_err e = loader_write(lc, gpa, zeros, n);
        if (e != CIVIC_OK)
            return e;
        gpa += n;
        len -= n;
    }
    return CIVIC_OK;
}

civic_err loader_place_info(struct loader_ctx *lc, uint64_t img_start, uint64_t img_end,
                            uint64_t size, uint64_t *at)
{
    uint64_t pages = loader_align_up(size, LOADER_PAGE);
    if (pages <= LOADER_INFO_LOW_TOP - LOADER_INFO_LOW_MIN && LOADER_INFO_LOW_TOP <= lc->limit) {
        uint64_t low = LOADER_INFO_LOW_TOP - pages;
        if (img_end <= low || img_start >= LOADER_INFO_LOW_TOP) {
            *at = low;
            return CIVIC_OK;
        }
    }
    uint64_t after = loader_align_up(img_end, LOADER_PAGE);
    if (after >= img_end && after + pages > after && after + pages <= lc->limit) {
        *at = after;
        return CIVIC_OK;
    }
    return loader_fail(lc, CIVIC_ERANGE,
                       "no room for the %llu-byte boot information: the image occupies [0x%llx, "
                       "0x%llx) of the guest's %s of RAM",
                       (unsigned long long)size, (unsigned long long)img_start,
                       (unsigned long long)img_end, lc->ram_str);
}

static void add_range(struct loader_mem_range *out, size_t *n, uint64_t base, uint64_t end,
                      uint64_t ram, uint32_t type)
{
    if (end > ram)
        end = ram;
    if (base >= end)
        return;
    out[*n] = (struct loader_mem_range){.base = base, .len = end - base, .type = type};
    (*n)++;
}

size_t loader_memory_map(uint64_t ram, struct loader_mem_range out[LOADER_MMAP_MAX])
{
    size_t n = 0;
    add_range(out, &n, 0, LOADER_EBDA_START, ram, LOADER_MEMORY_AVAILABLE);
    add_range(out, &n, LOADER_EBDA_START, LOADER_VGA_START, ram, LOADER_MEMORY_RESERVED);
    add_range(out, &n, LOADER_BIOS_START, LOADER_1MIB, ram, LOADER_MEMORY_RESERVED);
    add_range(out, &n, LOADER_1MIB, ram, ram, LOADER_MEMORY_AVAILABLE);
    return n;
}

uint32_t loader_mem_lower_kib(uint64_t ram)
{
    return (uint32_t)((ram < LOADER_EBDA_START ? ram : LOADER_EBDA_START) / 1024);
}

uint32_t loader_mem_upper_kib(uint64_t ram)
{
    if (ram <= LOADER_1MIB)
        return 0;
    uint64_t kib = (ram - LOADER_1MIB) / 1024;
    return kib > UINT32_MAX ? UINT32_MAX : (uint32_t)kib;
}

civic_err loader_raw_layout(struct loader_ctx *lc, size_t hdr_off, uint32_t header_addr,
                            uint64_t load_addr, uint32_t load_end_addr, uint32_t bss_end_addr,
                            const char *what, struct loader_raw *out)
{
    size_t size = lc->req->size;
    if (load_addr > header_addr)
        return loader_fail(lc, CIVIC_EINVAL, "%s: load_addr 0x%llx is above header_addr 0x%x", what,
                           (unsigned long long)load_addr, header_addr);
    if (header_addr - load_addr > hdr_off)
        return loader_fail(lc, CIVIC_EINVAL,
                           "%s: header_addr - load_addr = 0x%llx puts the load start before the "
                           "file (the header is at offset 0x%zx)",
                           what, (unsigned long long)(header_addr - load_addr), hdr_off);
    out->file_off = hdr_off - (header_addr - load_addr);
    out->load_addr = load_addr;
    uint64_t avail = size - out->file_off;
    if (load_end_addr == 0) {
        out->load_end = load_addr + avail;
    } else {
        if (load_end_addr <= load_addr)
            return loader_fail(lc, CIVIC_EINVAL,
                               "%s: load_end_addr 0x%x is not above load_addr 0x%llx", what,
                               load_end_addr, (unsigned long long)load_addr);
        if (load_end_addr - load_addr > avail)
            return loader_fail(lc, CIVIC_EINVAL,
                               "%s: loading [0x%llx, 0x%x) needs 0x%llx bytes from offset 0x%llx, "
                               "but the image has only 0x%zx bytes",
                               what, (unsigned long long)load_addr, load_end_addr,
                               (unsigned long long)(load_end_addr - load_addr),
                               (unsigned long long)out->file_off, size);
        out->load_end = load_end_addr;
    }
    if (bss_end_addr == 0) {
        out->bss_end = out->load_end;
    } else {
        if (bss_end_addr < out->load_end)
            return loader_fail(lc, CIVIC_EINVAL,
                               "%s: bss_end_addr 0x%x is below the load end 0x%llx", what,
                               bss_end_addr, (unsigned long long)out->load_end);
        out->bss_end = bss_end_addr;
    }
    return loader_check_span(lc, out->load_addr, out->bss_end - out->load_addr, what);
}

civic_err loader_raw_write(struct loader_ctx *lc, const struct loader_raw *raw)
{
    civic_err e = loader_write(lc, raw->load_addr, lc->req->image + raw->file_off,
                               (size_t)(raw->load_end - raw->load_addr));
    if (e != CIVIC_OK)
        return e;
    return loader_zero(lc, raw->load_end, raw->bss_end - raw->load_end);
}

void loader_multiboot_entry(struct vcpu_boot_state *b, uint32_t eip, uint32_t eax, uint32_t ebx)
{
    memset(b, 0, sizeof(*b));
    b->mode = VCPU_BOOT_PROTECTED_32;
    b->cs_selector = 0x08; /* any flat code selector: the specs leave the GDT undefined */
    b->eip = eip;
    b->eax = eax;
    b->ebx = ebx;
    b->esp = 0;
}

static void size_str(char *buf, size_t n, uint64_t bytes)
{
    if (bytes && bytes % (1024 * 1024) == 0)
        ksnprintf(buf, n, "%llu MiB", (unsigned long long)(bytes >> 20));
    else if (bytes && bytes % 1024 == 0)
        ksnprintf(buf, n, "%llu KiB", (unsigned long long)(bytes >> 10));
    else
        ksnprintf(buf, n, "%llu bytes", (unsigned long long)bytes);
}

/* Offset of the first header with a valid checksum, or -1; *bad_at is the first candidate whose
 * magic matched but whose checksum did not (-1 if none). Multiboot: 3 words (magic, flags,
 * checksum); Multiboot2: 4 (magic, architecture, header_length, checksum). */
static long find_header(const uint8_t *img, size_t size, size_t search, size_t align,
                        uint32_t magic, size_t words, long *bad_at)
{
    size_t limit = size < search ? size : search;
    *bad_at = -1;
    for (size_t off = 0; off + words * 4 <= limit; off += align) {
        if (loader_rd32(img + off) != magic)
            continue;
        uint32_t sum = 0;
        for (size_t i = 0; i < words; i++)
            sum += loader_rd32(img + off + i * 4);
        if (sum == 0)
            return (long)off;
        if (*bad_at < 0)
            *bad_at = (long)off;
    }
    return -1;
}

civic_err loader_load(const struct loader_request *req, const struct loader_target *t,
                      struct loader_result *out, char *err, size_t err_size)
{
    struct loader_ctx lc = {.req = req, .t = t, .err = err, .err_size = err_size};
    if (err && err_size)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    size_str(lc.ram_str, sizeof(lc.ram_str), t->ram_bytes);
    lc.limit = t->ram_bytes < LOADER_4GIB ? t->ram_bytes : LOADER_4GIB;
    if (!req->image || req->size == 0)
        return loader_fail(&lc, CIVIC_EINVAL, "the image is empty");

    if (req->flat_load != 0)
        return loader_flat_load(&lc, out);

    long bad2, bad1;
    long mb2 = find_header(req->image, req->size, MULTIBOOT2_SEARCH, MULTIBOOT2_HEADER_ALIGN,
                           MULTIBOOT2_HEADER_MAGIC, 4, &bad2);
    if (mb2 >= 0)
        return loader_mb2_load(&lc, (size_t)mb2, out);
    long mb1 = find_header(req->image, req->size, MULTIBOOT_SEARCH, MULTIBOOT_HEADER_ALIGN,
                           MULTIBOOT_HEADER_MAGIC, 3, &bad1);
    if (mb1 >= 0)
        return loader_mb1_load(&lc, (size_t)mb1, out);

    if (bad1 >= 0)
        return loader_fail(&lc, CIVIC_EINVAL,
                           "Multiboot header at offset 0x%lx: bad checksum (magic + flags + "
                           "checksum must be 0 mod 2^32)",
                           bad1);
    if (bad2 >= 0)
        return loader_fail(&lc, CIVIC_EINVAL,
                           "Multiboot2 header at offset 0x%lx: bad checksum (magic + architecture "
                           "+ header_length + checksum must be 0 mod 2^32)",
                           bad2);
    return loader_fail(&lc, CIVIC_EINVAL,
                       "not a Multiboot kernel: no Multiboot header in the first %u bytes, no "
                       "Multiboot2 header in the first %u, and no flat load address given",
                       MULTIBOOT_SEARCH, MULTIBOOT2_SEARCH);
}
