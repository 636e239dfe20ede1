/*
 * Multiboot2 kernels: the header tags are walked with every size checked against the header,
 * then the image is loaded (address tag, else ELF) and the boot information is written as
 * section 3.6 lays it out:
 *
 *   total_size, reserved | cmdline | boot loader name | basic meminfo | mmap | [load base] | end
 *
 * Tags civic cannot honour are refused when required and ignored when flagged optional, as the
 * specification asks. The relocatable tag is honoured by loading at the linked address, which is
 * always acceptable to the kernel (it is its preferred address).
 */
#include "boot/multiboot2.h"
#include "kernel/format.h"
#include "kernel/loader_elf.h"
#include "kernel/loader_int.h"
#include "kernel/multiboot2_header.h"
#include "kernel/string.h"

#define MB2_HEADER_FIXED 16
#define MB2_INFO_FIXED 8
#define MB2_TAG_HEADER 8
#define MB2_MEMINFO_SIZE 16   /* type, size, mem_lower, mem_upper */
#define MB2_MMAP_HEADER 16    /* type, size, entry_size, entry_version */
#define MB2_LOAD_BASE_SIZE 12 /* type, size, load_base_addr */

struct mb2_header_info {
    bool have_address, have_entry, want_load_base;
    struct multiboot2_header_tag_address address;
    uint32_t entry_addr;
};

static bool can_provide(uint32_t type)
{
    switch (type) {
    case MB2_TAG_END:
    case MB2_TAG_CMDLINE:
    case MB2_TAG_BOOTLOADER_NAME:
    case MB2_TAG_MODULE: /* there are none, which is a valid answer */
    case MB2_TAG_BASIC_MEMINFO:
    case MB2_TAG_MMAP:
    case MB2_TAG_LOAD_BASE_ADDR: return true;
    default: return false;
    }
}

static civic_err info_request(struct loader_ctx *lc, const uint8_t *tag, uint32_t size,
                              bool optional, struct mb2_header_info *hi)
{
    for (uint32_t off = MB2_TAG_HEADER; off + 4 <= size; off += 4) {
        uint32_t type = loader_rd32(tag + off);
        if (type == MB2_TAG_LOAD_BASE_ADDR)
            hi->want_load_base = true;
        if (!optional && !can_provide(type))
            return loader_fail(lc, CIVIC_ENOTSUP,
                               "Multiboot2 header requires boot information tag type %u, which "
                               "civic cannot provide",
                               type);
    }
    return CIVIC_OK;
}

/* One header tag; the caller has checked that size bytes of it lie inside the header. */
static civic_err header_tag(struct loader_ctx *lc, const uint8_t *tag, struct mb2_header_info *hi)
{
    uint16_t type = loader_rd16(tag);
    bool optional = loader_rd16(tag + 2) & MULTIBOOT2_HEADER_TAG_OPTIONAL;
    uint32_t size = loader_rd32(tag + 4);
    uint32_t need = 0;
    switch (type) {
    case MULTIBOOT2_HEADER_TAG_ADDRESS: need = sizeof(hi->address); break;
    case MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS: need = 12; break;
    case MULTIBOOT2_HEADER_TAG_CONSOLE_FLAGS: need = 12; break;
    case MULTIBOOT2_HEADER_TAG_RELOCATABLE: need = 24; break;
    default: break;
    }
    if (size < need)
        return loader_fail(lc, CIVIC_EINVAL, "Multiboot2 header tag type %u: size %u, needs %u",
                           type, size, need);
    switch (type) {
    case MULTIBOOT2_HEADER_TAG_INFORMATION_REQUEST:
        return info_request(lc, tag, size, optional, hi);
    case MULTIBOOT2_HEADER_TAG_ADDRESS:
        memcpy(&hi->address, tag, sizeof(hi->address));
        hi->have_address = true;
        return CIVIC_OK;
    case MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS:
        hi->entry_addr = loader_rd32(tag + 8);
        hi->have_entry = true;
        return CIVIC_OK;
    case MULTIBOOT2_HEADER_TAG_CONSOLE_FLAGS:
        if (!optional && (loader_rd32(tag + 8) & MULTIBOOT2_CONSOLE_FLAGS_CONSOLE_REQUIRED))
            return loader_fail(lc, CIVIC_ENOTSUP,
                               "Multiboot2 header requires a console "
                               "described in the boot information, which "
                               "civic cannot provide");
        return CIVIC_OK;
    case MULTIBOOT2_HEADER_TAG_MODULE_ALIGN: /* no modules */ return CIVIC_OK;
    case MULTIBOOT2_HEADER_TAG_RELOCATABLE: hi->want_load_base = true; return CIVIC_OK;
    default:
        if (optional)
            return CIVIC_OK;
        if (type == MULTIBOOT2_HEADER_TAG_FRAMEBUFFER)
            return loader_fail(lc, CIVIC_ENOTSUP,
                               "Multiboot2 header requires a framebuffer, "
                               "which civic cannot provide (guests have no "
                               "display)");
        if (type >= MULTIBOOT2_HEADER_TAG_EFI_BS &&
            type <= MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS_EFI64)
            return loader_fail(lc, CIVIC_ENOTSUP,
                               "Multiboot2 header tag type %u requires EFI, "
                               "which civic guests do not have",
                               type);
        return loader_fail(lc, CIVIC_ENOTSUP,
                           "Multiboot2 header requires tag type %u, which "
                           "civic does not support",
                           type);
    }
}

static civic_err parse_header(struct loader_ctx *lc, size_t hdr_off, struct mb2_header_info *hi)
{
    const uint8_t *h = lc->req->image + hdr_off;
    uint32_t arch = loader_rd32(h + 4), len = loader_rd32(h + 8);
    size_t limit = lc->req->size < MULTIBOOT2_SEARCH ? lc->req->size : MULTIBOOT2_SEARCH;
    if (arch != MULTIBOOT2_ARCHITECTURE_I386)
        return loader_fail(lc, CIVIC_ENOTSUP, "Multiboot2 header: architecture %u is not i386 (0)",
                           arch);
    if (len < MB2_HEADER_FIXED + MB2_TAG_HEADER || len > limit - hdr_off)
        return loader_fail(lc, CIVIC_EINVAL,
                           "Multiboot2 header at offset 0x%zx: header_length %u does not fit the "
                           "first %zu bytes of the image",
                           hdr_off, len, limit);
    memset(hi, 0, sizeof(*hi));
    for (uint32_t off = MB2_HEADER_FIXED; off + MB2_TAG_HEADER <= len;) {
        const uint8_t *tag = h + off;
        uint16_t type = loader_rd16(tag);
        uint32_t size = loader_rd32(tag + 4);
        if (size < MB2_TAG_HEADER || size > len - off)
            return loader_fail(lc, CIVIC_EINVAL,
                               "Multiboot2 header tag at offset 0x%zx: bad size %u (under 8 or "
                               "past the end of the %u-byte header)",
                               hdr_off + off, size, len);
        if (type == MULTIBOOT2_HEADER_TAG_END)
            return CIVIC_OK;
        civic_err e = header_tag(lc, tag, hi);
        if (e != CIVIC_OK)
            return e;
        off += (uint32_t)loader_align_up(size, MULTIBOOT2_TAG_ALIGN);
    }
    return loader_fail(lc, CIVIC_EINVAL, "Multiboot2 header at offset 0x%zx has no end tag",
                       hdr_off);
}

/* Writes a tag header plus n payload bytes at *at, zero-pads to 8 and advances *at. */
static civic_err put_tag(struct loader_ctx *lc, uint64_t *at, uint32_t type, const void *payload,
                         size_t n)
{
    static const uint8_t zeros[MULTIBOOT2_TAG_ALIGN];
    uint32_t head[2] = {type, (uint32_t)(MB2_TAG_HEADER + n)};
    uint64_t padded = loader_align_up(MB2_TAG_HEADER + n, MULTIBOOT2_TAG_ALIGN);
    civic_err e = loader_write(lc, *at, head, sizeof(head));
    if (e == CIVIC_OK)
        e = loader_write(lc, *at + MB2_TAG_HEADER, payload, n);
    if (e == CIVIC_OK)
        e = loader_write(lc, *at + MB2_TAG_HEADER + n, zeros, padded - MB2_TAG_HEADER - n);
    *at += padded;
    return e;
}

static uint64_t info_size(size_t cmd_len, size_t n_map, bool load_base)
{
    return MB2_INFO_FIXED + loader_align_up(MB2_TAG_HEADER + cmd_len + 1, 8) +
           loader_align_up(MB2_TAG_HEADER + sizeof(LOADER_BOOT_LOADER_NAME), 8) + MB2_MEMINFO_SIZE +
           MB2_MMAP_HEADER + n_map * sizeof(struct multiboot2_mmap_entry) +
           (load_base ? loader_align_up(MB2_LOAD_BASE_SIZE, 8) : 0) + MB2_TAG_HEADER;
}

static civic_err write_info(struct loader_ctx *lc, uint64_t at, uint64_t size, uint64_t load_base,
                            bool with_load_base)
{
    uint64_t ram = lc->t->ram_bytes;
    const char *cmdline = lc->req->cmdline ? lc->req->cmdline : "";
    uint32_t fixed[2] = {(uint32_t)size, 0};
    civic_err e = loader_write(lc, at, fixed, sizeof(fixed));
    at += sizeof(fixed);
    if (e == CIVIC_OK)
        e = put_tag(lc, &at, MB2_TAG_CMDLINE, cmdline, strlen(cmdline) + 1);
    if (e == CIVIC_OK)
        e = put_tag(lc, &at, MB2_TAG_BOOTLOADER_NAME, LOADER_BOOT_LOADER_NAME,
                    sizeof(LOADER_BOOT_LOADER_NAME));
    uint32_t mem[2] = {loader_mem_lower_kib(ram), loader_mem_upper_kib(ram)};
    if (e == CIVIC_OK)
        e = put_tag(lc, &at, MB2_TAG_BASIC_MEMINFO, mem, sizeof(mem));
    if (e != CIVIC_OK)
        return e;

    struct loader_mem_range map[LOADER_MMAP_MAX];
    size_t n = loader_memory_map(ram, map);
    uint32_t mmap_head[4] = {MB2_TAG_MMAP,
                             (uint32_t)(MB2_MMAP_HEADER + n * sizeof(struct multiboot2_mmap_entry)),
                             sizeof(struct multiboot2_mmap_entry), 0};
    e = loader_write(lc, at, mmap_head, sizeof(mmap_head));
    at += sizeof(mmap_head);
    for (size_t i = 0; i < n && e == CIVIC_OK; i++) {
        struct multiboot2_mmap_entry m = {map[i].base, map[i].len, map[i].type, 0};
        e = loader_write(lc, at, &m, sizeof(m));
        at += sizeof(m);
    }
    uint32_t base32 = (uint32_t)load_base;
    if (e == CIVIC_OK && with_load_base)
        e = put_tag(lc, &at, MB2_TAG_LOAD_BASE_ADDR, &base32, sizeof(base32));
    if (e == CIVIC_OK)
        e = put_tag(lc, &at, MB2_TAG_END, NULL, 0);
    return e;
}

civic_err loader_mb2_load(struct loader_ctx *lc, size_t hdr_off, struct loader_result *out)
{
    struct mb2_header_info hi;
    civic_err e = parse_header(lc, hdr_off, &hi);
    if (e != CIVIC_OK)
        return e;

    struct loader_raw raw;
    struct elf_layout elf;
    uint64_t start, end, entry;
    if (hi.have_address) {
        if (!hi.have_entry)
            return loader_fail(lc, CIVIC_EINVAL,
                               "Multiboot2 header has an address tag but no "
                               "entry address tag");
        const struct multiboot2_header_tag_address *a = &hi.address;
        uint64_t load_addr = a->load_addr;
        if (a->load_addr == MULTIBOOT2_LOAD_ADDR_FILE_START) {
            if (a->header_addr < hdr_off)
                return loader_fail(lc, CIVIC_EINVAL,
                                   "Multiboot2 address tag: header_addr 0x%x "
                                   "is below the header's file offset 0x%zx",
                                   a->header_addr, hdr_off);
            load_addr = a->header_addr - hdr_off;
        }
        e = loader_raw_layout(lc, hdr_off, a->header_addr, load_addr, a->load_end_addr,
                              a->bss_end_addr, "Multiboot2 address tag", &raw);
        if (e != CIVIC_OK)
            return e;
        start = raw.load_addr;
        end = raw.bss_end;
    } else {
        if (!elf_is_elf(lc->req->image, lc->req->size))
            return loader_fail(lc, CIVIC_EINVAL,
                               "Multiboot2 kernel is not ELF and its header has "
                               "no address tag");
        e = elf_check(lc, &elf);
        if (e != CIVIC_OK)
            return e;
        start = elf.load_start;
        end = elf.load_end;
    }
    entry = hi.have_entry ? hi.entry_addr : elf.entry;
    if (entry < start || entry >= end)
        return loader_fail(lc, CIVIC_EINVAL,
                           "Multiboot2 entry address 0x%llx is outside the "
                           "loaded image [0x%llx, 0x%llx)",
                           (unsigned long long)entry, (unsigned long long)start,
                           (unsigned long long)end);

    struct loader_mem_range map[LOADER_MMAP_MAX];
    size_t n_map = loader_memory_map(lc->t->ram_bytes, map);
    const char *cmdline = lc->req->cmdline ? lc->req->cmdline : "";
    uint64_t size = info_size(strlen(cmdline), n_map, hi.want_load_base);
    uint64_t info_at;
    e = loader_place_info(lc, start, end, size, &info_at);
    if (e != CIVIC_OK)
        return e;

    e = hi.have_address ? loader_raw_write(lc, &raw) : elf_load_segments(lc, &elf);
    if (e == CIVIC_OK)
        e = write_info(lc, info_at, size, start, hi.want_load_base);
    if (e != CIVIC_OK)
        return e;

    out->format = IMAGE_MULTIBOOT2;
    out->load_start = start;
    out->load_end = end;
    out->info_start = info_at;
    out->info_end = info_at + size;
    loader_multiboot_entry(&out->boot, (uint32_t)entry, MB2_BOOTLOADER_MAGIC, (uint32_t)info_at);
    return CIVIC_OK;
}
