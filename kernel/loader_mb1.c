/*
 * Multiboot (0.6.96) kernels: the header's flags decide what the kernel needs, the a.out kludge
 * address fields (flags bit 16) take precedence over ELF as the specification says, and the boot
 * information is written into guest memory in the layout of section 3.3:
 *
 *   info (116 bytes, padded to 120) | memory map entries | command line | "civic"
 */
#include "kernel/format.h"
#include "kernel/loader_elf.h"
#include "kernel/loader_int.h"
#include "kernel/multiboot1.h"
#include "kernel/string.h"

/* Requirements civic meets: no modules to align, memory information always present. */
#define MB1_SUPPORTED_REQUIRED (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)
#define MB1_INFO_SLOT 120 /* the structure, rounded to 8 so the map entries are aligned */

static civic_err check_flags(struct loader_ctx *lc, size_t hdr_off, uint32_t flags)
{
    uint32_t unknown = flags & MULTIBOOT_REQUIRED_MASK & ~MB1_SUPPORTED_REQUIRED;
    if (unknown & MULTIBOOT_VIDEO_MODE)
        return loader_fail(lc, CIVIC_ENOTSUP,
                           "Multiboot header at offset 0x%zx requires video mode information "
                           "(flags bit 2), which civic cannot provide (guests have no display)",
                           hdr_off);
    if (unknown) {
        unsigned bit = (unsigned)__builtin_ctz(unknown);
        return loader_fail(lc, CIVIC_ENOTSUP,
                           "Multiboot header at offset 0x%zx requires flags bit %u (flags 0x%x), "
                           "which civic does not support",
                           hdr_off, bit, flags);
    }
    return CIVIC_OK;
}

static civic_err write_info(struct loader_ctx *lc, uint64_t at, size_t cmd_len, size_t n_map,
                            const struct loader_mem_range *map)
{
    uint64_t ram = lc->t->ram_bytes;
    uint64_t map_at = at + MB1_INFO_SLOT;
    uint64_t cmd_at = map_at + n_map * sizeof(struct multiboot_mmap_entry);
    uint64_t name_at = cmd_at + cmd_len + 1;

    struct multiboot_info info;
    memset(&info, 0, sizeof(info));
    info.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
                 MULTIBOOT_INFO_BOOT_LOADER_NAME;
    info.mem_lower = loader_mem_lower_kib(ram);
    info.mem_upper = loader_mem_upper_kib(ram);
    info.cmdline = (uint32_t)cmd_at;
    info.mmap_length = (uint32_t)(n_map * sizeof(struct multiboot_mmap_entry));
    info.mmap_addr = (uint32_t)map_at;
    info.boot_loader_name = (uint32_t)name_at;
    static const uint8_t pad[MB1_INFO_SLOT - sizeof(struct multiboot_info)];
    civic_err e = loader_write(lc, at, &info, sizeof(info));
    if (e == CIVIC_OK)
        e = loader_write(lc, at + sizeof(info), pad, sizeof(pad));
    for (size_t i = 0; i < n_map && e == CIVIC_OK; i++) {
        struct multiboot_mmap_entry m = {
            .size = sizeof(m) - sizeof(m.size),
            .addr = map[i].base,
            .len = map[i].len,
            .type = map[i].type,
        };
        e = loader_write(lc, map_at + i * sizeof(m), &m, sizeof(m));
    }
    const char *cmdline = lc->req->cmdline ? lc->req->cmdline : "";
    if (e == CIVIC_OK)
        e = loader_write(lc, cmd_at, cmdline, cmd_len + 1);
    if (e == CIVIC_OK)
        e = loader_write(lc, name_at, LOADER_BOOT_LOADER_NAME, sizeof(LOADER_BOOT_LOADER_NAME));
    return e;
}

civic_err loader_mb1_load(struct loader_ctx *lc, size_t hdr_off, struct loader_result *out)
{
    const uint8_t *h = lc->req->image + hdr_off;
    uint32_t flags = loader_rd32(h + 4);
    civic_err e = check_flags(lc, hdr_off, flags);
    if (e != CIVIC_OK)
        return e;

    bool aout = flags & MULTIBOOT_AOUT_KLUDGE;
    struct loader_raw raw;
    struct elf_layout elf;
    uint64_t start, end, entry;
    if (aout) {
        if (lc->req->size - hdr_off < MULTIBOOT_HEADER_AOUT_SIZE)
            return loader_fail(lc, CIVIC_EINVAL,
                               "Multiboot header at offset 0x%zx: the address fields (flags bit "
                               "16) run past the end of the %zu-byte image",
                               hdr_off, lc->req->size);
        struct multiboot_header mh;
        memcpy(&mh, h, MULTIBOOT_HEADER_AOUT_SIZE);
        e = loader_raw_layout(lc, hdr_off, mh.header_addr, mh.load_addr, mh.load_end_addr,
                              mh.bss_end_addr, "Multiboot header", &raw);
        if (e != CIVIC_OK)
            return e;
        start = raw.load_addr;
        end = raw.bss_end;
        entry = mh.entry_addr;
        if (entry < start || entry >= end)
            return loader_fail(lc, CIVIC_EINVAL,
                               "Multiboot header: entry_addr 0x%llx is outside the loaded image "
                               "[0x%llx, 0x%llx)",
                               (unsigned long long)entry, (unsigned long long)start,
                               (unsigned long long)end);
    } else {
        if (!elf_is_elf(lc->req->image, lc->req->size))
            return loader_fail(lc, CIVIC_EINVAL,
                               "Multiboot kernel is not ELF and its header has no address fields "
                               "(flags bit 16)");
        e = elf_check(lc, &elf);
        if (e != CIVIC_OK)
            return e;
        start = elf.load_start;
        end = elf.load_end;
        entry = elf.entry;
    }

    const char *cmdline = lc->req->cmdline ? lc->req->cmdline : "";
    size_t cmd_len = strlen(cmdline);
    struct loader_mem_range map[LOADER_MMAP_MAX];
    size_t n_map = loader_memory_map(lc->t->ram_bytes, map);
    uint64_t info_size = MB1_INFO_SLOT + n_map * sizeof(struct multiboot_mmap_entry) + cmd_len + 1 +
                         sizeof(LOADER_BOOT_LOADER_NAME);
    uint64_t info_at;
    e = loader_place_info(lc, start, end, info_size, &info_at);
    if (e != CIVIC_OK)
        return e;

    e = aout ? loader_raw_write(lc, &raw) : elf_load_segments(lc, &elf);
    if (e == CIVIC_OK)
        e = write_info(lc, info_at, cmd_len, n_map, map);
    if (e != CIVIC_OK)
        return e;

    out->format = IMAGE_MULTIBOOT1;
    out->load_start = start;
    out->load_end = end;
    out->info_start = info_at;
    out->info_end = info_at + info_size;
    loader_multiboot_entry(&out->boot, (uint32_t)entry, MULTIBOOT_BOOTLOADER_MAGIC,
                           (uint32_t)info_at);
    return CIVIC_OK;
}
