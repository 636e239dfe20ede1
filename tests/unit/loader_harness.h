/*
 * Shared by the loader's unit tests (test_loader*.c): a guest RAM backed by a malloc'd buffer
 * (filled with 0xAA so missed zeroing shows), builders for ELF images and Multiboot headers, and
 * readers that look at the boot information as the guest would. Images handed to the loader are
 * malloc'd to their exact size, so ASan catches any read past the end.
 */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/elf.h"
#include "kernel/loader.h"
#include "kernel/multiboot1.h"
#include "kernel/multiboot2_header.h"

#define H_UNUSED __attribute__((unused))
#define RAM_8M (8ull << 20)
#define DIRTY 0xAA

struct ram {
    uint8_t *mem;
    uint64_t backed; /* bytes really allocated (ram_bytes may claim more) */
    unsigned writes;
    civic_err fail_with; /* non-zero: every write fails with this */
};

static struct ram ram;
static struct loader_target target;
static struct loader_result res;
static char err[256];

static civic_err ram_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct ram *r = ctx;
    r->writes++;
    if (r->fail_with)
        return r->fail_with;
    if (gpa > r->backed || len > r->backed - gpa)
        return CIVIC_ERANGE;
    memcpy(r->mem + gpa, src, len);
    return CIVIC_OK;
}

/* RAM of backed bytes that claims to be claimed bytes (claimed >= backed). */
static H_UNUSED void ram_setup(uint64_t backed, uint64_t claimed)
{
    free(ram.mem);
    memset(&ram, 0, sizeof(ram));
    ram.mem = malloc(backed);
    assert_non_null(ram.mem);
    memset(ram.mem, DIRTY, backed);
    ram.backed = backed;
    target = (struct loader_target){.write = ram_write, .ctx = &ram, .ram_bytes = claimed};
    memset(&res, 0x5a, sizeof(res));
    memset(err, 0, sizeof(err));
}

static H_UNUSED int setup_8m(void **state)
{
    ram_setup(RAM_8M, RAM_8M);
    return 0;
}

static H_UNUSED int teardown_ram(void **state)
{
    free(ram.mem);
    ram.mem = NULL;
    return 0;
}

static H_UNUSED uint32_t g32(uint64_t gpa)
{
    uint32_t v;
    assert_true(gpa + 4 <= ram.backed);
    memcpy(&v, ram.mem + gpa, 4);
    return v;
}

static H_UNUSED uint64_t g64(uint64_t gpa)
{
    uint64_t v;
    assert_true(gpa + 8 <= ram.backed);
    memcpy(&v, ram.mem + gpa, 8);
    return v;
}

static H_UNUSED const char *gstr(uint64_t gpa)
{
    assert_true(gpa < ram.backed);
    assert_non_null(memchr(ram.mem + gpa, 0, ram.backed - gpa));
    return (const char *)ram.mem + gpa;
}

static H_UNUSED bool all_bytes(uint64_t gpa, uint64_t len, uint8_t v)
{
    for (uint64_t i = 0; i < len; i++)
        if (ram.mem[gpa + i] != v)
            return false;
    return true;
}

/* ---- images ---- */

#define IMG_CAP (64 * 1024)

struct img {
    uint8_t b[IMG_CAP];
    size_t len;
};

static H_UNUSED void put32(struct img *im, size_t off, uint32_t v)
{
    assert_true(off + 4 <= IMG_CAP);
    memcpy(im->b + off, &v, 4);
    if (off + 4 > im->len)
        im->len = off + 4;
}

static H_UNUSED void put_bytes(struct img *im, size_t off, const void *p, size_t n)
{
    assert_true(off + n <= IMG_CAP);
    memcpy(im->b + off, p, n);
    if (off + n > im->len)
        im->len = off + n;
}

/* Runs the loader on an exact-size copy of the first len bytes of im. */
static H_UNUSED civic_err load_n(const struct img *im, size_t len, const char *cmdline,
                                 uint64_t flat_load, enum vcpu_boot_mode mode)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, im->b, len);
    struct loader_request req = {
        .image = copy, .size = len, .cmdline = cmdline, .flat_load = flat_load, .flat_mode = mode};
    civic_err e = loader_load(&req, &target, &res, err, sizeof(err));
    free(copy);
    if (e != CIVIC_OK)
        printf("  (loader: %s)\n", err);
    return e;
}

static H_UNUSED civic_err load(const struct img *im, const char *cmdline)
{
    return load_n(im, im->len, cmdline, 0, VCPU_BOOT_PROTECTED_32);
}

#define assert_err_contains(text)                                                                  \
    do {                                                                                           \
        if (!strstr(err, (text)))                                                                  \
            fail_msg("error \"%s\" lacks \"%s\"", err, (text));                                    \
    } while (0)

/* Multiboot header (12 bytes, or 32 with the a.out fields) at off. */
static H_UNUSED void mb1_header(struct img *im, size_t off, uint32_t flags, const uint32_t *aout)
{
    put32(im, off, MULTIBOOT_HEADER_MAGIC);
    put32(im, off + 4, flags);
    put32(im, off + 8, -(MULTIBOOT_HEADER_MAGIC + flags));
    if (aout)
        for (int i = 0; i < 5; i++)
            put32(im, off + 12 + 4 * (size_t)i, aout[i]);
}

/* Multiboot2 header builder: begin, tags, end (which fixes header_length and the checksum). */
struct mb2h {
    struct img *im;
    size_t off, len;
};

static H_UNUSED struct mb2h mb2_begin(struct img *im, size_t off)
{
    put32(im, off, MULTIBOOT2_HEADER_MAGIC);
    put32(im, off + 4, MULTIBOOT2_ARCHITECTURE_I386);
    return (struct mb2h){.im = im, .off = off, .len = 16};
}

static H_UNUSED void mb2_tag(struct mb2h *h, uint16_t type, uint16_t flags, const uint32_t *words,
                             size_t n)
{
    size_t at = h->off + h->len;
    uint32_t head = (uint32_t)type | ((uint32_t)flags << 16);
    put32(h->im, at, head);
    put32(h->im, at + 4, (uint32_t)(8 + 4 * n));
    for (size_t i = 0; i < n; i++)
        put32(h->im, at + 8 + 4 * i, words[i]);
    h->len += (8 + 4 * n + 7) & ~(size_t)7;
}

static H_UNUSED void mb2_fix(struct mb2h *h, uint32_t arch)
{
    put32(h->im, h->off + 4, arch);
    put32(h->im, h->off + 8, (uint32_t)h->len);
    put32(h->im, h->off + 12, -(MULTIBOOT2_HEADER_MAGIC + arch + (uint32_t)h->len));
}

static H_UNUSED void mb2_end(struct mb2h *h)
{
    mb2_tag(h, MULTIBOOT2_HEADER_TAG_END, 0, NULL, 0);
    mb2_fix(h, MULTIBOOT2_ARCHITECTURE_I386);
}

/* ELF images: header at 0, program headers right after, a Multiboot header area at
 * ELF_MBHDR_OFF, segment contents from ELF_DATA_OFF on. */
#define ELF_MBHDR_OFF 0x200
#define ELF_DATA_OFF 0x400

struct seg {
    uint32_t type;
    uint64_t vaddr, paddr, filesz, memsz;
    uint8_t fill; /* the segment's file bytes are fill, fill+1, ... */
};

/* Builds the ELF file (class ELFCLASS32/64); returns the file offset of each segment's data. */
static H_UNUSED void elf_build(struct img *im, unsigned cls, uint64_t entry, const struct seg *s,
                               unsigned n, size_t *data_off)
{
    size_t off = ELF_DATA_OFF;
    size_t ph = cls == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
    size_t phent = cls == ELFCLASS32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
    assert_true(ph + n * phent <= ELF_MBHDR_OFF);
    unsigned char ident[EI_NIDENT] = {ELFMAG0,     ELFMAG1,   ELFMAG2, ELFMAG3, (unsigned char)cls,
                                      ELFDATA2LSB, EV_CURRENT};
    if (cls == ELFCLASS32) {
        Elf32_Ehdr e = {.e_type = ET_EXEC,
                        .e_machine = EM_386,
                        .e_version = EV_CURRENT,
                        .e_entry = (uint32_t)entry,
                        .e_phoff = (uint32_t)ph,
                        .e_ehsize = sizeof(e),
                        .e_phentsize = (uint16_t)phent,
                        .e_phnum = (uint16_t)n};
        memcpy(e.e_ident, ident, EI_NIDENT);
        put_bytes(im, 0, &e, sizeof(e));
    } else {
        Elf64_Ehdr e = {.e_type = ET_EXEC,
                        .e_machine = EM_X86_64,
                        .e_version = EV_CURRENT,
                        .e_entry = entry,
                        .e_phoff = ph,
                        .e_ehsize = sizeof(e),
                        .e_phentsize = (uint16_t)phent,
                        .e_phnum = (uint16_t)n};
        memcpy(e.e_ident, ident, EI_NIDENT);
        put_bytes(im, 0, &e, sizeof(e));
    }
    for (unsigned i = 0; i < n; i++) {
        data_off[i] = off;
        for (uint64_t k = 0; k < s[i].filesz; k++)
            im->b[off + k] = (uint8_t)(s[i].fill + k);
        if (cls == ELFCLASS32) {
            Elf32_Phdr p = {s[i].type,
                            (uint32_t)off,
                            (uint32_t)s[i].vaddr,
                            (uint32_t)s[i].paddr,
                            (uint32_t)s[i].filesz,
                            (uint32_t)s[i].memsz,
                            5,
                            0x1000};
            put_bytes(im, ph + i * phent, &p, sizeof(p));
        } else {
            Elf64_Phdr p = {s[i].type,  5,           off,        s[i].vaddr,
                            s[i].paddr, s[i].filesz, s[i].memsz, 0x1000};
            put_bytes(im, ph + i * phent, &p, sizeof(p));
        }
        off += s[i].filesz;
        assert_true(off <= IMG_CAP);
        if (off > im->len)
            im->len = off;
    }
    if (im->len < ELF_DATA_OFF)
        im->len = ELF_DATA_OFF;
}

/* Checks that segment s (data at file offset off in im) was loaded with its bss zeroed. */
static H_UNUSED void assert_segment_loaded(const struct img *im, const struct seg *s, size_t off)
{
    assert_memory_equal(ram.mem + s->paddr, im->b + off, s->filesz);
    assert_true(all_bytes(s->paddr + s->filesz, s->memsz - s->filesz, 0));
}
