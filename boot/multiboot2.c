/*
 * Multiboot2 boot information parser (Multiboot2 specification, section 3.6). Every read is
 * bounds-checked against min(total_size, avail): the information comes from the boot loader and
 * a broken one must give a clear warning, not a wild read.
 *
 * Choices where the spec leaves room:
 * - A string not NUL-terminated inside its tag is taken as far as the tag goes (the bytes are
 *   plausible, only the terminator is missing) and warned about; too long => cut, warned.
 * - A tag whose size breaks the walk (size < 8, or reaching past total_size) makes the whole
 *   information unusable, because the END tag can no longer be found.
 * - Duplicate command line, boot loader name or memory map tags: the first one wins.
 */
#include "boot/multiboot2.h"

#include <stdbool.h>

#include "kernel/format.h"
#include "kernel/string.h"

/* Fixed part and tag header (spec 3.6.2). */
#define MB2_FIXED_SIZE 8
#define MB2_TAG_HEADER_SIZE 8
#define MB2_TAG_ALIGN 8
/* Modules tag: mod_start, mod_end, then the string (spec 3.6.6). */
#define MB2_MODULE_STRING_OFFSET 16
/* Memory map tag: entry_size, entry_version, then entries (spec 3.6.8). */
#define MB2_MMAP_ENTRIES_OFFSET 16
#define MB2_MMAP_ENTRY_MIN 24 /* base_addr u64, length u64, type u32, reserved u32 */

/* Root System Description Pointer (ACPI 6.x, 5.2.5.3). Kept here until arch/x86/acpi.h carries
 * the layout. */
#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_RSDP_V1_LENGTH 20 /* Checksum covers these bytes */
#define ACPI_RSDP_V2_LENGTH 36
#define ACPI_RSDP_LENGTH_OFFSET 20 /* Length: the whole table, covered by Extended Checksum */

struct parser {
    const uint8_t *mbi;
    struct boot_info *out;
    mb2_warn_fn warn;
    void *warn_ctx;
    bool have_cmdline, have_bootloader, have_mmap;
    size_t modules_dropped;
    size_t first_dropped_module; /* offset of the first module beyond BOOT_MODULES_MAX */
};

static void warnf(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warnf(struct parser *p, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->out->warnings++;
    if (p->warn)
        p->warn(p->warn_ctx, msg);
}

/* __builtin_memcpy so that fixed-size loads inline even in the freestanding kernel. */
static uint32_t rd32(const uint8_t *at)
{
    uint32_t v;
    __builtin_memcpy(&v, at, sizeof(v));
    return v;
}

static uint64_t rd64(const uint8_t *at)
{
    uint64_t v;
    __builtin_memcpy(&v, at, sizeof(v));
    return v;
}

/* Copies the string of max bytes at src into dst (dst_size bytes), always NUL-terminated. */
static void copy_string(struct parser *p, char *dst, size_t dst_size, const uint8_t *src,
                        size_t max, const char *what, size_t off)
{
    size_t len = strnlen((const char *)src, max);
    if (len == max)
        warnf(p,
              "%s tag at offset %#zx: string not NUL-terminated within the tag; "
              "using its %zu bytes",
              what, off, len);
    if (len >= dst_size) {
        warnf(p, "%s tag at offset %#zx: string of %zu bytes truncated to %zu", what, off, len,
              dst_size - 1);
        len = dst_size - 1;
    }
    memcpy(dst, src, len);
    dst[len] = 0;
}

static void parse_string_tag(struct parser *p, size_t off, uint32_t size, char *dst,
                             size_t dst_size, bool *seen, const char *what)
{
    if (*seen) {
        warnf(p, "duplicate %s tag at offset %#zx ignored; keeping the first", what, off);
        return;
    }
    *seen = true;
    copy_string(p, dst, dst_size, p->mbi + off + MB2_TAG_HEADER_SIZE, size - MB2_TAG_HEADER_SIZE,
                what, off);
}

static void parse_module(struct parser *p, size_t off, uint32_t size)
{
    if (size < MB2_MODULE_STRING_OFFSET) {
        warnf(p, "module tag at offset %#zx: size %u too small (minimum %u); skipped", off, size,
              MB2_MODULE_STRING_OFFSET);
        return;
    }
    const uint8_t *tag = p->mbi + off;
    uint32_t start = rd32(tag + 8);
    uint32_t end = rd32(tag + 12);
    if (start > end) {
        warnf(p, "module tag at offset %#zx: mod_start %#x > mod_end %#x; skipped", off, start,
              end);
        return;
    }
    if (p->out->module_count == BOOT_MODULES_MAX) {
        if (p->modules_dropped++ == 0)
            p->first_dropped_module = off;
        return;
    }
    struct boot_module *m = &p->out->modules[p->out->module_count++];
    m->start = start;
    m->end = end;
    copy_string(p, m->cmdline, sizeof(m->cmdline), tag + MB2_MODULE_STRING_OFFSET,
                size - MB2_MODULE_STRING_OFFSET, "module", off);
}

static void parse_mmap(struct parser *p, size_t off, uint32_t size)
{
    if (p->have_mmap) {
        warnf(p, "duplicate memory map tag at offset %#zx ignored; keeping the first", off);
        return;
    }
    if (size < MB2_MMAP_ENTRIES_OFFSET) {
        warnf(p, "memory map tag at offset %#zx: size %u too small (minimum %u); skipped", off,
              size, MB2_MMAP_ENTRIES_OFFSET);
        return;
    }
    const uint8_t *tag = p->mbi + off;
    uint32_t entry_size = rd32(tag + 8);
    if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % 8 != 0) {
        warnf(p,
              "memory map tag at offset %#zx: entry_size %u invalid (need >= %u, multiple of "
              "8); skipped",
              off, entry_size, MB2_MMAP_ENTRY_MIN);
        return;
    }
    p->have_mmap = true;
    uint32_t bytes = size - MB2_MMAP_ENTRIES_OFFSET;
    uint32_t n = bytes / entry_size;
    if (bytes % entry_size != 0)
        warnf(p, "memory map tag at offset %#zx: %u trailing bytes after %u entries ignored", off,
              bytes % entry_size, n);

    size_t kept_over = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = tag + MB2_MMAP_ENTRIES_OFFSET + (size_t)i * entry_size;
        uint64_t base = rd64(e);
        uint64_t len = rd64(e + 8);
        uint32_t type = rd32(e + 16);
        if (len == 0)
            continue;
        if (len > UINT64_MAX - base) {
            /* Clamp so base + len stays representable; the last byte is lost, which page
             * alignment would drop anyway. */
            warnf(p,
                  "memory map entry %u at offset %#zx: [%#llx + %#llx] wraps past 2^64; "
                  "clamped",
                  i, off + MB2_MMAP_ENTRIES_OFFSET + (size_t)i * entry_size,
                  (unsigned long long)base, (unsigned long long)len);
            len = UINT64_MAX - base;
            if (len == 0)
                continue;
        }
        if (p->out->mmap_count == BOOT_MMAP_MAX) {
            kept_over++;
            continue;
        }
        struct boot_mmap_entry *dst = &p->out->mmap[p->out->mmap_count++];
        dst->base = base;
        dst->len = len;
        dst->type = type;
    }
    if (kept_over)
        warnf(p, "memory map tag at offset %#zx: %zu entries beyond the first %u ignored", off,
              kept_over, BOOT_MMAP_MAX);
}

static uint8_t byte_sum(const uint8_t *b, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + b[i]);
    return s;
}

/* ACPI old (RSDP 1.0, 20 bytes) and new (RSDP 2.0+, 36 bytes); a valid new one wins. */
static void parse_acpi(struct parser *p, size_t off, uint32_t size, bool is_new)
{
    const char *what = is_new ? "ACPI new RSDP" : "ACPI old RSDP";
    size_t want = is_new ? ACPI_RSDP_V2_LENGTH : ACPI_RSDP_V1_LENGTH;
    size_t have = size - MB2_TAG_HEADER_SIZE;
    const uint8_t *rsdp = p->mbi + off + MB2_TAG_HEADER_SIZE;

    if (have < want) {
        warnf(p, "%s tag at offset %#zx: %zu bytes, need %zu; ignored", what, off, have, want);
        return;
    }
    if (memcmp(rsdp, ACPI_RSDP_SIGNATURE, 8) != 0) {
        warnf(p, "%s tag at offset %#zx: signature is not \"RSD PTR \"; ignored", what, off);
        return;
    }
    if (byte_sum(rsdp, ACPI_RSDP_V1_LENGTH) != 0) {
        warnf(p, "%s tag at offset %#zx: checksum of the first 20 bytes is wrong; ignored", what,
              off);
        return;
    }
    if (is_new) {
        uint32_t length = rd32(rsdp + ACPI_RSDP_LENGTH_OFFSET);
        if (length < ACPI_RSDP_V2_LENGTH || length > have) {
            warnf(p, "%s tag at offset %#zx: RSDP Length %u outside [%u, %zu]; ignored", what, off,
                  length, ACPI_RSDP_V2_LENGTH, have);
            return;
        }
        if (byte_sum(rsdp, length) != 0) {
            warnf(p, "%s tag at offset %#zx: extended checksum over %u bytes is wrong; ignored",
                  what, off, length);
            return;
        }
    }
    if (p->out->rsdp_len >= want)
        return; /* already have one as good: keep the first */
    memcpy(p->out->rsdp, rsdp, want);
    p->out->rsdp_len = want;
}

static void parse_tag(struct parser *p, size_t off, uint32_t type, uint32_t size)
{
    struct boot_info *o = p->out;
    switch (type) {
    case MB2_TAG_CMDLINE:
        parse_string_tag(p, off, size, o->cmdline, sizeof(o->cmdline), &p->have_cmdline,
                         "command line");
        break;
    case MB2_TAG_BOOTLOADER_NAME:
        parse_string_tag(p, off, size, o->bootloader, sizeof(o->bootloader), &p->have_bootloader,
                         "boot loader name");
        break;
    case MB2_TAG_MODULE: parse_module(p, off, size); break;
    case MB2_TAG_MMAP: parse_mmap(p, off, size); break;
    case MB2_TAG_ACPI_OLD: parse_acpi(p, off, size, false); break;
    case MB2_TAG_ACPI_NEW: parse_acpi(p, off, size, true); break;
    default: break; /* tags civic does not use are skipped silently */
    }
}

civic_err mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys, struct boot_info *out,
                    mb2_warn_fn warn, void *warn_ctx)
{
    memset(out, 0, sizeof(*out));
    out->mbi_phys = mbi_phys;
    struct parser p = {.mbi = mbi, .out = out, .warn = warn, .warn_ctx = warn_ctx};

    if ((uintptr_t)mbi % MB2_TAG_ALIGN != 0) {
        warnf(&p, "information at %p is not 8-byte aligned", mbi);
        return trace_error(CIVIC_EINVAL);
    }
    if (avail < MB2_FIXED_SIZE) {
        warnf(&p, "only %zu bytes readable, the fixed part needs %u", avail, MB2_FIXED_SIZE);
        return trace_error(CIVIC_EINVAL);
    }
    uint32_t total = rd32(p.mbi);
    if (total < MB2_FIXED_SIZE + MB2_TAG_HEADER_SIZE) {
        warnf(&p, "total_size %u is below the minimum %u", total,
              MB2_FIXED_SIZE + MB2_TAG_HEADER_SIZE);
        return trace_error(CIVIC_EINVAL);
    }
    if (total > avail) {
        warnf(&p, "total_size %u exceeds the %zu readable bytes", total, avail);
        return trace_error(CIVIC_EINVAL);
    }
    out->mbi_size = total;

    size_t off = MB2_FIXED_SIZE;
    while (off + MB2_TAG_HEADER_SIZE <= total) {
        uint32_t type = rd32(p.mbi + off);
        uint32_t size = rd32(p.mbi + off + 4);
        if (size < MB2_TAG_HEADER_SIZE) {
            warnf(&p, "tag type %u at offset %#zx: size %u below 8; cannot continue", type, off,
                  size);
            return trace_error(CIVIC_EINVAL);
        }
        if (size > total - off) {
            warnf(&p, "tag type %u at offset %#zx: size %u reaches past total_size %u", type, off,
                  size, total);
            return trace_error(CIVIC_EINVAL);
        }
        if (type == MB2_TAG_END) {
            if (size != MB2_TAG_HEADER_SIZE)
                warnf(&p, "end tag at offset %#zx has size %u, expected 8", off, size);
            if (p.modules_dropped)
                warnf(&p, "%zu modules beyond the first %u ignored (first at offset %#zx)",
                      p.modules_dropped, BOOT_MODULES_MAX, p.first_dropped_module);
            return CIVIC_OK;
        }
        parse_tag(&p, off, type, size);
        off += ((size_t)size + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
    }
    warnf(&p, "no end tag within total_size %u", total);
    return trace_error(CIVIC_EINVAL);
}
