// unit-sources: boot/multiboot2.c kernel/format.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/multiboot2.h"

/* ---- building boot information in a buffer ---- */

struct mb {
    uint8_t buf[16384];
    size_t len;
};

static void put32(struct mb *b, size_t off, uint32_t v)
{
    memcpy(b->buf + off, &v, 4);
}

static void mb_init(struct mb *b)
{
    memset(b->buf, 0, sizeof(b->buf));
    b->len = 8;
}

/* A tag whose size field says size and whose payload is n bytes of data; padded to 8. */
static size_t mb_tag_raw(struct mb *b, uint32_t type, uint32_t size, const void *data, size_t n)
{
    size_t off = b->len;
    assert_true(off + 8 + n + 8 <= sizeof(b->buf));
    put32(b, off, type);
    put32(b, off + 4, size);
    if (n)
        memcpy(b->buf + off + 8, data, n);
    b->len = (off + 8 + n + 7) & ~(size_t)7;
    return off;
}

static size_t mb_tag(struct mb *b, uint32_t type, const void *data, size_t n)
{
    return mb_tag_raw(b, type, (uint32_t)(8 + n), data, n);
}

static size_t mb_string(struct mb *b, uint32_t type, const char *s)
{
    return mb_tag(b, type, s, strlen(s) + 1);
}

static size_t mb_module(struct mb *b, uint32_t start, uint32_t end, const char *s)
{
    uint8_t p[256];
    size_t n = strlen(s) + 1;
    assert_true(8 + n <= sizeof(p));
    memcpy(p, &start, 4);
    memcpy(p + 4, &end, 4);
    memcpy(p + 8, s, n);
    return mb_tag(b, MB2_TAG_MODULE, p, 8 + n);
}

struct ent {
    uint64_t base, len;
    uint32_t type;
};

static size_t mb_mmap(struct mb *b, uint32_t entry_size, const struct ent *e, size_t n)
{
    static uint8_t p[8192];
    size_t bytes = 8 + n * entry_size;
    assert_true(bytes <= sizeof(p));
    memset(p, 0, bytes);
    memcpy(p, &entry_size, 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t *q = p + 8 + i * entry_size;
        memcpy(q, &e[i].base, 8);
        memcpy(q + 8, &e[i].len, 8);
        if (entry_size >= 20)
            memcpy(q + 16, &e[i].type, 4);
    }
    return mb_tag(b, MB2_TAG_MMAP, p, bytes);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* A valid ACPI 2.0 RSDP (ACPI 6.x 5.2.5.3); the first 20 bytes are a valid 1.0 one. */
static void make_rsdp(uint8_t r[36], uint8_t revision)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "CIVIC ", 6);
    r[15] = revision;
    uint32_t rsdt = 0x7fe1234, length = 36;
    uint64_t xsdt = 0x7fe5678;
    memcpy(r + 16, &rsdt, 4);
    memcpy(r + 20, &length, 4);
    memcpy(r + 24, &xsdt, 8);
    r[8] = (uint8_t)-sum(r, 20);
    r[32] = (uint8_t)-sum(r, 36);
}

static void mb_end(struct mb *b)
{
    mb_tag(b, MB2_TAG_END, NULL, 0);
    put32(b, 0, (uint32_t)b->len);
}

/* ---- running the parser on an exactly sized heap copy, so ASan sees any overread ---- */

struct warns {
    unsigned n;
    char msg[64][256];
};

static struct warns w;
static struct boot_info bi;

static void collect(void *ctx, const char *msg)
{
    assert_ptr_equal(ctx, &w);
    if (w.n < 64)
        snprintf(w.msg[w.n], sizeof(w.msg[0]), "%s", msg);
    w.n++;
}

static civic_err parse_avail(const struct mb *b, size_t avail)
{
    uint8_t *copy = malloc(avail ? avail : 1);
    assert_non_null(copy);
    memcpy(copy, b->buf, avail < b->len ? avail : b->len);
    memset(&w, 0, sizeof(w));
    civic_err e = mb2_parse(copy, avail, 0x10000, &bi, collect, &w);
    free(copy);
    assert_int_equal(bi.warnings, w.n);
    return e;
}

static civic_err parse(const struct mb *b)
{
    return parse_avail(b, b->len);
}

static bool has_warning(const char *needle)
{
    for (unsigned i = 0; i < w.n && i < 64; i++)
        if (strstr(w.msg[i], needle))
            return true;
    return false;
}

#define assert_warning(s)                                                                          \
    do {                                                                                           \
        if (!has_warning(s)) {                                                                     \
            for (unsigned i_ = 0; i_ < w.n && i_ < 64; i_++)                                       \
                print_error("warning %u: %s\n", i_, w.msg[i_]);                                    \
            fail_msg("no warning containing \"%s\"", s);                                           \
        }                                                                                          \
    } while (0)

static struct mb b;

static int setup(void **state)
{
    mb_init(&b);
    memset(&bi, 0xa5, sizeof(bi)); /* the parser must zero everything itself */
    return 0;
}

/* ---- good information ---- */

static void build_good(struct mb *m)
{
    static const struct ent e[3] = {
        {0, 0x9fc00, MB2_MEMORY_AVAILABLE},
        {0xf0000, 0x10000, MB2_MEMORY_RESERVED},
        {0x100000, 0xfee0000, MB2_MEMORY_AVAILABLE},
    };
    uint8_t rsdp[36];
    mb_string(m, MB2_TAG_CMDLINE, "console=serial loglevel=debug");
    mb_string(m, MB2_TAG_BOOTLOADER_NAME, "GRUB 2.06");
    uint32_t meminfo[2] = {639, 261120};
    mb_tag(m, MB2_TAG_BASIC_MEMINFO, meminfo, sizeof(meminfo));
    mb_mmap(m, 24, e, 3);
    mb_module(m, 0x200000, 0x203000, "guest.bin mode=64");
    mb_module(m, 0x204000, 0x204000, "");
    make_rsdp(rsdp, 0);
    mb_tag(m, MB2_TAG_ACPI_OLD, rsdp, 20);
    make_rsdp(rsdp, 2);
    mb_tag(m, MB2_TAG_ACPI_NEW, rsdp, 36);
    mb_tag(m, 99, "whatever", 8); /* unknown: skipped silently */
    mb_end(m);
}

static void test_good(void **state)
{
    build_good(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 0);
    assert_int_equal(bi.warnings, 0);
    assert_int_equal(bi.mbi_phys, 0x10000);
    assert_int_equal(bi.mbi_size, b.len);
    assert_string_equal(bi.cmdline, "console=serial loglevel=debug");
    assert_string_equal(bi.bootloader, "GRUB 2.06");
    assert_int_equal(bi.mmap_count, 3);
    assert_int_equal(bi.mmap[0].base, 0);
    assert_int_equal(bi.mmap[0].len, 0x9fc00);
    assert_int_equal(bi.mmap[0].type, MB2_MEMORY_AVAILABLE);
    assert_int_equal(bi.mmap[1].base, 0xf0000);
    assert_int_equal(bi.mmap[1].type, MB2_MEMORY_RESERVED);
    assert_int_equal(bi.mmap[2].base, 0x100000);
    assert_int_equal(bi.mmap[2].len, 0xfee0000);
    assert_int_equal(bi.module_count, 2);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x203000);
    assert_string_equal(bi.modules[0].cmdline, "guest.bin mode=64");
    assert_int_equal(bi.modules[1].start, 0x204000);
    assert_int_equal(bi.modules[1].end, 0x204000);
    assert_string_equal(bi.modules[1].cmdline, "");
    uint8_t rsdp[36];
    make_rsdp(rsdp, 2);
    assert_int_equal(bi.rsdp_len, 36);
    assert_memory_equal(bi.rsdp, rsdp, 36);
}

static void test_minimal_zeroes_everything(void **state)
{
    mb_end(&b);
    assert_int_equal(b.len, 16);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(bi.warnings, 0);
    assert_int_equal(bi.mbi_size, 16);
    assert_string_equal(bi.cmdline, "");
    assert_string_equal(bi.bootloader, "");
    assert_int_equal(bi.mmap_count, 0);
    assert_int_equal(bi.module_count, 0);
    assert_int_equal(bi.rsdp_len, 0);
    static const uint8_t zero[BOOT_RSDP_MAX];
    assert_memory_equal(bi.rsdp, zero, sizeof(zero));
    assert_int_equal(bi.mmap[5].base, 0);
    assert_int_equal(bi.modules[BOOT_MODULES_MAX - 1].cmdline[7], 0);
}

static void test_avail_larger_than_total(void **state)
{
    build_good(&b);
    assert_int_equal(parse_avail(&b, b.len + 100), CIVIC_OK);
    assert_int_equal(bi.mbi_size, b.len);
    assert_int_equal(bi.warnings, 0);
}

static void test_null_warn_still_counts(void **state)
{
    mb_string(&b, MB2_TAG_CMDLINE, "a");
    mb_string(&b, MB2_TAG_CMDLINE, "b");
    mb_end(&b);
    uint8_t *copy = malloc(b.len);
    memcpy(copy, b.buf, b.len);
    assert_int_equal(mb2_parse(copy, b.len, 0, &bi, NULL, NULL), CIVIC_OK);
    free(copy);
    assert_int_equal(bi.warnings, 1);
    assert_string_equal(bi.cmdline, "a");
}

/* ---- fatal: the information cannot be used ---- */

static void test_avail_below_fixed_part(void **state)
{
    mb_end(&b);
    assert_int_equal(parse_avail(&b, 4), CIVIC_EINVAL);
    assert_int_equal(w.n, 1);
    assert_warning("only 4 bytes readable");
    assert_int_equal(parse_avail(&b, 0), CIVIC_EINVAL);
    assert_int_equal(w.n, 1);
}

static void test_total_size_too_small(void **state)
{
    mb_end(&b);
    put32(&b, 0, 8);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_int_equal(w.n, 1);
    assert_warning("total_size 8 is below the minimum 16");
    put32(&b, 0, 0);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_warning("total_size 0");
}

static void test_total_size_beyond_avail(void **state)
{
    build_good(&b);
    assert_int_equal(parse_avail(&b, b.len - 8), CIVIC_EINVAL); /* buffer is 8 bytes short */
    assert_int_equal(w.n, 1);
    char want[80];
    snprintf(want, sizeof(want), "total_size %zu exceeds the %zu readable bytes", b.len, b.len - 8);
    assert_warning(want);
    put32(&b, 0, 0xfffffff8);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_warning("total_size 4294967288 exceeds");
}

static void test_misaligned(void **state)
{
    mb_end(&b);
    uint8_t *copy = malloc(b.len + 4);
    memcpy(copy + 4, b.buf, b.len);
    memset(&w, 0, sizeof(w));
    assert_int_equal(mb2_parse(copy + 4, b.len, 4, &bi, collect, &w), CIVIC_EINVAL);
    free(copy);
    assert_int_equal(w.n, 1);
    assert_int_equal(bi.warnings, 1);
    assert_warning("not 8-byte aligned");
}

static void test_tag_size_below_8(void **state)
{
    mb_string(&b, MB2_TAG_CMDLINE, "x");
    mb_tag_raw(&b, MB2_TAG_BOOTLOADER_NAME, 4, "abcdefgh", 8);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_int_equal(w.n, 1);
    assert_warning("tag type 2 at offset 0x18: size 4 below 8");
}

static void test_tag_past_end(void **state)
{
    mb_string(&b, MB2_TAG_CMDLINE, "x");
    size_t off = mb_tag_raw(&b, MB2_TAG_BOOTLOADER_NAME, 64, "GRUB", 5);
    mb_end(&b);
    assert_int_equal(off, 0x18);
    assert_int_equal(b.len, 0x30);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_int_equal(w.n, 1);
    assert_warning("tag type 2 at offset 0x18: size 64 reaches past total_size 48");
    assert_string_equal(bi.bootloader, "");
}

static void test_tag_size_huge_does_not_wrap(void **state)
{
    mb_tag_raw(&b, 77, 0xfffffffc, NULL, 0);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_warning("size 4294967292 reaches past");
}

static void test_no_end_tag(void **state)
{
    mb_string(&b, MB2_TAG_CMDLINE, "root=none");
    put32(&b, 0, (uint32_t)b.len);
    assert_int_equal(parse(&b), CIVIC_EINVAL);
    assert_int_equal(w.n, 1);
    assert_warning("no end tag within total_size 32");
}

static void test_end_tag_outside_total_size(void **state)
{
    mb_string(&b, MB2_TAG_CMDLINE, "root=none");
    mb_end(&b);
    put32(&b, 0, (uint32_t)b.len - 8); /* the end tag is present but not counted */
    assert_int_equal(parse_avail(&b, b.len), CIVIC_EINVAL);
    assert_warning("no end tag");
}

static void test_tail_shorter_than_tag_header(void **state)
{
    mb_end(&b);
    put32(&b, 0, 12); /* leaves 4 bytes: not even a tag header */
    assert_int_equal(parse_avail(&b, 12), CIVIC_EINVAL);
    assert_warning("below the minimum 16");
    mb_init(&b);
    mb_string(&b, MB2_TAG_CMDLINE, "abc"); /* 8..20, padded to 24 */
    put32(&b, 0, 28);
    assert_int_equal(parse_avail(&b, 28), CIVIC_EINVAL);
    assert_warning("no end tag within total_size 28");
}

static void test_end_tag_wrong_size_and_tags_after_end(void **state)
{
    mb_tag_raw(&b, MB2_TAG_END, 16, "\0\0\0\0\0\0\0", 8);
    mb_string(&b, MB2_TAG_CMDLINE, "after the end");
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("end tag at offset 0x8 has size 16, expected 8");
    assert_string_equal(bi.cmdline, "");
}

/* ---- strings ---- */

static void test_cmdline_unterminated(void **state)
{
    mb_tag(&b, MB2_TAG_CMDLINE, "abc", 3);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("command line tag at offset 0x8: string not NUL-terminated");
    assert_string_equal(bi.cmdline, "abc");
}

/* The unterminated string is the last byte of the buffer: ASan catches any read past it. */
static void test_unterminated_at_buffer_end(void **state)
{
    mb_tag(&b, MB2_TAG_CMDLINE, "abcd", 4);
    put32(&b, 0, 20);
    assert_int_equal(parse_avail(&b, 20), CIVIC_EINVAL);
    assert_int_equal(w.n, 2);
    assert_string_equal(bi.cmdline, "abcd");
    assert_warning("not NUL-terminated");
    assert_warning("no end tag");

    mb_init(&b);
    mb_tag(&b, MB2_TAG_BOOTLOADER_NAME, "GRUB", 4);
    put32(&b, 0, 20);
    assert_int_equal(parse_avail(&b, 20), CIVIC_EINVAL);
    assert_string_equal(bi.bootloader, "GRUB");

    mb_init(&b);
    uint32_t mod[3] = {0x1000, 0x2000, 0x41414141};
    mb_tag(&b, MB2_TAG_MODULE, mod, sizeof(mod));
    put32(&b, 0, 28);
    assert_int_equal(parse_avail(&b, 28), CIVIC_EINVAL);
    assert_int_equal(bi.module_count, 1);
    assert_string_equal(bi.modules[0].cmdline, "AAAA");
}

static void test_empty_string_tag(void **state)
{
    mb_tag(&b, MB2_TAG_CMDLINE, NULL, 0); /* size 8: no room even for the NUL */
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("not NUL-terminated within the tag; using its 0 bytes");
    assert_string_equal(bi.cmdline, "");
}

static void test_cmdline_too_long(void **state)
{
    char s[2000];
    memset(s, 'x', sizeof(s) - 1);
    s[sizeof(s) - 1] = 0;
    mb_string(&b, MB2_TAG_CMDLINE, s);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("command line tag at offset 0x8: string of 1999 bytes truncated to 1023");
    assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_int_equal(bi.cmdline[0], 'x');
}

static void test_bootloader_too_long_and_unterminated(void **state)
{
    char s[100];
    memset(s, 'g', sizeof(s));
    mb_tag(&b, MB2_TAG_BOOTLOADER_NAME, s, sizeof(s));
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 2);
    assert_warning("boot loader name tag at offset 0x8: string not NUL-terminated");
    assert_warning("string of 100 bytes truncated to 63");
    assert_int_equal(strlen(bi.bootloader), 63);
}

static void test_string_exact_fit(void **state)
{
    char s[64];
    memset(s, 'n', 63);
    s[63] = 0;
    mb_string(&b, MB2_TAG_BOOTLOADER_NAME, s);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 0);
    assert_string_equal(bi.bootloader, s);
}

static void test_duplicate_cmdline_and_name(void **state)
{
    mb_string(&b, MB2_TAG_CMDLINE, "first");
    mb_string(&b, MB2_TAG_BOOTLOADER_NAME, "loader one");
    size_t off = mb_string(&b, MB2_TAG_CMDLINE, "second");
    mb_string(&b, MB2_TAG_BOOTLOADER_NAME, "loader two");
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 2);
    char want[64];
    snprintf(want, sizeof(want), "duplicate command line tag at offset %#zx", off);
    assert_warning(want);
    assert_warning("duplicate boot loader name tag");
    assert_string_equal(bi.cmdline, "first");
    assert_string_equal(bi.bootloader, "loader one");
}

/* ---- memory map ---- */

static void test_mmap_entry_size_20(void **state)
{
    const struct ent e[1] = {{0x100000, 0x1000, 1}};
    mb_mmap(&b, 20, e, 1);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("memory map tag at offset 0x8: entry_size 20 invalid");
    assert_int_equal(bi.mmap_count, 0);
}

static void test_mmap_entry_size_not_multiple_of_8(void **state)
{
    const struct ent e[1] = {{0x100000, 0x1000, 1}};
    mb_mmap(&b, 28, e, 1);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_warning("entry_size 28 invalid");
    assert_int_equal(bi.mmap_count, 0);
}

static void test_mmap_larger_entries(void **state)
{
    const struct ent e[2] = {{0x1000, 0x2000, 1}, {0x8000, 0x1000, 2}};
    mb_mmap(&b, 40, e, 2); /* a future entry version with extra fields */
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 0);
    assert_int_equal(bi.mmap_count, 2);
    assert_int_equal(bi.mmap[1].base, 0x8000);
    assert_int_equal(bi.mmap[1].len, 0x1000);
    assert_int_equal(bi.mmap[1].type, 2);
}

static void test_mmap_tag_too_small(void **state)
{
    uint32_t entry_size = 24;
    mb_tag(&b, MB2_TAG_MMAP, &entry_size, 4);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("memory map tag at offset 0x8: size 12 too small (minimum 16)");
}

static void test_mmap_trailing_bytes(void **state)
{
    const struct ent e[2] = {{0x1000, 0x2000, 1}, {0x8000, 0x1000, 2}};
    size_t off = mb_mmap(&b, 24, e, 2);
    put32(&b, off + 4, 8 + 8 + 24 + 12); /* the second entry is cut short */
    b.len = off + 56;
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("12 trailing bytes after 1 entries ignored");
    assert_int_equal(bi.mmap_count, 1);
    assert_int_equal(bi.mmap[0].base, 0x1000);
}

static void test_mmap_zero_len_and_overflow(void **state)
{
    const struct ent e[5] = {
        {0x1000, 0, 1},                       /* skipped silently */
        {0xfffffffffffff000ull, 0x2000, 2},   /* wraps: clamped */
        {0x10000, 0x1000, 1},                 /* normal */
        {0xffffffffffffffffull, 0x10, 2},     /* clamps to nothing: skipped */
        {0xfffffffffffff000ull, 0xfffull, 2}, /* ends at 2^64 - 1: fine */
    };
    mb_mmap(&b, 24, e, 5);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 2);
    assert_warning("memory map entry 1 at offset 0x30: [0xfffffffffffff000 + 0x2000] wraps");
    assert_warning("memory map entry 3 at offset 0x60");
    assert_int_equal(bi.mmap_count, 3);
    assert_int_equal(bi.mmap[0].base, 0xfffffffffffff000ull);
    assert_int_equal(bi.mmap[0].len, 0xfffull);
    assert_int_equal(bi.mmap[0].type, 2);
    assert_int_equal(bi.mmap[1].base, 0x10000);
    assert_int_equal(bi.mmap[2].len, 0xfffull);
}

static void test_mmap_too_many(void **state)
{
    static struct ent e[BOOT_MMAP_MAX + 3];
    for (size_t i = 0; i < BOOT_MMAP_MAX + 3; i++)
        e[i] = (struct ent){i * 0x10000, 0x1000, 1};
    mb_mmap(&b, 24, e, BOOT_MMAP_MAX + 3);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("memory map tag at offset 0x8: 3 entries beyond the first 128 ignored");
    assert_int_equal(bi.mmap_count, BOOT_MMAP_MAX);
    assert_int_equal(bi.mmap[BOOT_MMAP_MAX - 1].base, (BOOT_MMAP_MAX - 1) * 0x10000ull);
}

static void test_mmap_duplicate(void **state)
{
    const struct ent e1[1] = {{0x1000, 0x2000, 1}};
    const struct ent e2[1] = {{0x9000, 0x2000, 1}};
    mb_mmap(&b, 24, e1, 1);
    mb_mmap(&b, 24, e2, 1);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("duplicate memory map tag at offset 0x30");
    assert_int_equal(bi.mmap_count, 1);
    assert_int_equal(bi.mmap[0].base, 0x1000);
}

/* ---- modules ---- */

static void test_modules_too_many(void **state)
{
    char name[16];
    size_t first_extra = 0;
    for (uint32_t i = 0; i < BOOT_MODULES_MAX + 2; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        size_t off = mb_module(&b, 0x100000 + i * 0x1000, 0x100800 + i * 0x1000, name);
        if (i == BOOT_MODULES_MAX)
            first_extra = off;
    }
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    char want[96];
    snprintf(want, sizeof(want), "2 modules beyond the first 32 ignored (first at offset %#zx)",
             first_extra);
    assert_warning(want);
    assert_int_equal(bi.module_count, BOOT_MODULES_MAX);
    assert_string_equal(bi.modules[31].cmdline, "m31");
    assert_int_equal(bi.modules[31].start, 0x100000 + 31 * 0x1000);
}

static void test_module_start_after_end(void **state)
{
    mb_module(&b, 0x3000, 0x2000, "bad");
    mb_module(&b, 0x4000, 0x5000, "good");
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("module tag at offset 0x8: mod_start 0x3000 > mod_end 0x2000; skipped");
    assert_int_equal(bi.module_count, 1);
    assert_string_equal(bi.modules[0].cmdline, "good");
}

static void test_module_tag_too_small(void **state)
{
    uint32_t start = 0x1000;
    mb_tag(&b, MB2_TAG_MODULE, &start, 4);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("module tag at offset 0x8: size 12 too small (minimum 16)");
    assert_int_equal(bi.module_count, 0);
}

static void test_module_string_unterminated(void **state)
{
    uint8_t p[8 + 5];
    uint32_t s = 0x1000, e = 0x2000;
    memcpy(p, &s, 4);
    memcpy(p + 4, &e, 4);
    memcpy(p + 8, "guest", 5);
    mb_tag(&b, MB2_TAG_MODULE, p, sizeof(p));
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("module tag at offset 0x8: string not NUL-terminated");
    assert_int_equal(bi.module_count, 1);
    assert_string_equal(bi.modules[0].cmdline, "guest");
}

/* ---- ACPI RSDP ---- */

static void test_acpi_old_only(void **state)
{
    uint8_t r[36];
    make_rsdp(r, 0);
    mb_tag(&b, MB2_TAG_ACPI_OLD, r, 20);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 0);
    assert_int_equal(bi.rsdp_len, 20);
    assert_memory_equal(bi.rsdp, r, 20);
}

static void test_acpi_new_preferred_in_any_order(void **state)
{
    uint8_t r1[36], r2[36];
    make_rsdp(r1, 0);
    make_rsdp(r2, 2);
    mb_tag(&b, MB2_TAG_ACPI_NEW, r2, 36);
    mb_tag(&b, MB2_TAG_ACPI_OLD, r1, 20);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 0);
    assert_int_equal(bi.rsdp_len, 36);
    assert_memory_equal(bi.rsdp, r2, 36);
}

static void test_acpi_bad_checksum(void **state)
{
    uint8_t r1[36], r2[36];
    make_rsdp(r1, 0);
    make_rsdp(r2, 2);
    r2[8]++; /* breaks the 20-byte checksum */
    mb_tag(&b, MB2_TAG_ACPI_OLD, r1, 20);
    size_t off = mb_tag(&b, MB2_TAG_ACPI_NEW, r2, 36);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    char want[96];
    snprintf(want, sizeof(want), "ACPI new RSDP tag at offset %#zx: checksum of the first 20", off);
    assert_warning(want);
    assert_int_equal(bi.rsdp_len, 20); /* the valid old one is kept */
    assert_memory_equal(bi.rsdp, r1, 20);
}

static void test_acpi_bad_extended_checksum(void **state)
{
    uint8_t r[36];
    make_rsdp(r, 2);
    r[33] = 1; /* reserved byte: only the extended checksum covers it */
    mb_tag(&b, MB2_TAG_ACPI_NEW, r, 36);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("extended checksum over 36 bytes is wrong");
    assert_int_equal(bi.rsdp_len, 0);
}

static void test_acpi_bad_signature_and_short(void **state)
{
    uint8_t r[36];
    make_rsdp(r, 0);
    r[0] = 'X';
    r[8] = (uint8_t)(r[8] + 'R' - 'X'); /* checksum still right: the signature alone fails */
    mb_tag(&b, MB2_TAG_ACPI_OLD, r, 20);
    make_rsdp(r, 2);
    mb_tag(&b, MB2_TAG_ACPI_NEW, r, 20); /* a new RSDP needs 36 bytes */
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 2);
    assert_warning("ACPI old RSDP tag at offset 0x8: signature is not \"RSD PTR \"");
    assert_warning("ACPI new RSDP tag at offset 0x28: 20 bytes, need 36");
    assert_int_equal(bi.rsdp_len, 0);
}

static void test_acpi_bad_length_field(void **state)
{
    uint8_t r[36];
    make_rsdp(r, 2);
    uint32_t length = 64; /* claims more than the tag holds */
    memcpy(r + 20, &length, 4);
    r[8] = 0;
    r[8] = (uint8_t)-sum(r, 20);
    mb_tag(&b, MB2_TAG_ACPI_NEW, r, 36);
    mb_end(&b);
    assert_int_equal(parse(&b), CIVIC_OK);
    assert_int_equal(w.n, 1);
    assert_warning("RSDP Length 64 outside [36, 36]");
    assert_int_equal(bi.rsdp_len, 0);
}

/* ---- robustness: random corruption of a good MBI, read under ASan ---- */

static void test_random_corruption(void **state)
{
    struct mb good;
    mb_init(&good);
    build_good(&good);
    uint32_t seed = 12345;
    unsigned ok = 0;
    for (int iter = 0; iter < 3000; iter++) {
        b = good;
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % good.len;
            seed = seed * 1103515245u + 12345u;
            b.buf[pos] = (uint8_t)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        size_t avail = good.len - ((seed >> 8) % 4 == 0 ? (seed >> 12) % good.len : 0);
        civic_err e = parse_avail(&b, avail);
        assert_true(e == CIVIC_OK || e == CIVIC_EINVAL);
        if (e == CIVIC_OK) {
            ok++;
            assert_true(bi.mbi_size <= avail);
            assert_true(bi.mmap_count <= BOOT_MMAP_MAX);
            assert_true(bi.module_count <= BOOT_MODULES_MAX);
            assert_true(bi.rsdp_len == 0 || bi.rsdp_len == 20 || bi.rsdp_len == 36);
            assert_true(strlen(bi.cmdline) < BOOT_CMDLINE_MAX);
            assert_true(strlen(bi.bootloader) < sizeof(bi.bootloader));
        }
    }
    assert_true(ok > 100); /* most single-byte corruptions keep the walk intact */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good, setup),
        cmocka_unit_test_setup(test_minimal_zeroes_everything, setup),
        cmocka_unit_test_setup(test_avail_larger_than_total, setup),
        cmocka_unit_test_setup(test_null_warn_still_counts, setup),
        cmocka_unit_test_setup(test_avail_below_fixed_part, setup),
        cmocka_unit_test_setup(test_total_size_too_small, setup),
        cmocka_unit_test_setup(test_total_size_beyond_avail, setup),
        cmocka_unit_test_setup(test_misaligned, setup),
        cmocka_unit_test_setup(test_tag_size_below_8, setup),
        cmocka_unit_test_setup(test_tag_past_end, setup),
        cmocka_unit_test_setup(test_tag_size_huge_does_not_wrap, setup),
        cmocka_unit_test_setup(test_no_end_tag, setup),
        cmocka_unit_test_setup(test_end_tag_outside_total_size, setup),
        cmocka_unit_test_setup(test_tail_shorter_than_tag_header, setup),
        cmocka_unit_test_setup(test_end_tag_wrong_size_and_tags_after_end, setup),
        cmocka_unit_test_setup(test_cmdline_unterminated, setup),
        cmocka_unit_test_setup(test_unterminated_at_buffer_end, setup),
        cmocka_unit_test_setup(test_empty_string_tag, setup),
        cmocka_unit_test_setup(test_cmdline_too_long, setup),
        cmocka_unit_test_setup(test_bootloader_too_long_and_unterminated, setup),
        cmocka_unit_test_setup(test_string_exact_fit, setup),
        cmocka_unit_test_setup(test_duplicate_cmdline_and_name, setup),
        cmocka_unit_test_setup(test_mmap_entry_size_20, setup),
        cmocka_unit_test_setup(test_mmap_entry_size_not_multiple_of_8, setup),
        cmocka_unit_test_setup(test_mmap_larger_entries, setup),
        cmocka_unit_test_setup(test_mmap_tag_too_small, setup),
        cmocka_unit_test_setup(test_mmap_trailing_bytes, setup),
        cmocka_unit_test_setup(test_mmap_zero_len_and_overflow, setup),
        cmocka_unit_test_setup(test_mmap_too_many, setup),
        cmocka_unit_test_setup(test_mmap_duplicate, setup),
        cmocka_unit_test_setup(test_modules_too_many, setup),
        cmocka_unit_test_setup(test_module_start_after_end, setup),
        cmocka_unit_test_setup(test_module_tag_too_small, setup),
        cmocka_unit_test_setup(test_module_string_unterminated, setup),
        cmocka_unit_test_setup(test_acpi_old_only, setup),
        cmocka_unit_test_setup(test_acpi_new_preferred_in_any_order, setup),
        cmocka_unit_test_setup(test_acpi_bad_checksum, setup),
        cmocka_unit_test_setup(test_acpi_bad_extended_checksum, setup),
        cmocka_unit_test_setup(test_acpi_bad_signature_and_short, setup),
        cmocka_unit_test_setup(test_acpi_bad_length_field, setup),
        cmocka_unit_test_setup(test_random_corruption, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
