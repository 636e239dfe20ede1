// clang-format off
// unit-sources: kernel/loader.c kernel/loader_elf.c kernel/loader_mb1.c kernel/loader_mb2.c kernel/loader_flat.c kernel/format.c kernel/error.c
// clang-format on
/* The guest loader: ELF parsing (through Multiboot kernels), format detection, flat binaries. */
#include "tests/unit/loader_harness.h"

#include "kernel/loader_elf.h"

static struct img im;

static int setup(void **state)
{
    memset(&im, 0, sizeof(im));
    return setup_8m(state);
}

/* A Multiboot (v1) ELF kernel with the given segments; memory info and page align required. */
static void mb1_elf(unsigned cls, uint64_t entry, const struct seg *s, unsigned n, size_t *offs)
{
    elf_build(&im, cls, entry, s, n, offs);
    mb1_header(&im, ELF_MBHDR_OFF, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO, NULL);
}

static void patch32(size_t off, uint32_t v)
{
    memcpy(im.b + off, &v, 4);
}

static void patch64(size_t off, uint64_t v)
{
    memcpy(im.b + off, &v, 8);
}

static void patch16(size_t off, uint16_t v)
{
    memcpy(im.b + off, &v, 2);
}

/* ---- ELF loading ---- */

static void test_elf32_segments_and_bss(void **state)
{
    struct seg s[2] = {{PT_LOAD, 0x100000, 0x100000, 0x300, 0x300, 0x10},
                       {PT_LOAD, 0x101000, 0x101000, 0x80, 0x2100, 0x40}};
    size_t off[2];
    mb1_elf(ELFCLASS32, 0x100010, s, 2, off);
    assert_int_equal(load(&im, "x"), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_MULTIBOOT1);
    assert_segment_loaded(&im, &s[0], off[0]);
    assert_segment_loaded(&im, &s[1], off[1]);
    assert_true(all_bytes(0x100300, 0x101000 - 0x100300, DIRTY)); /* the gap is not touched */
    assert_int_equal(ram.mem[0x103100], DIRTY);                   /* nor past the bss */
    assert_int_equal(res.load_start, 0x100000);
    assert_int_equal(res.load_end, 0x103100);
    assert_int_equal(res.boot.mode, VCPU_BOOT_PROTECTED_32);
    assert_int_equal(res.boot.eip, 0x100010);
}

static void test_elf64_segment(void **state)
{
    struct seg s = {PT_LOAD, 0x200000, 0x200000, 0x1234, 0x5000, 0x77};
    size_t off;
    mb1_elf(ELFCLASS64, 0x200400, &s, 1, &off);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_segment_loaded(&im, &s, off);
    assert_int_equal(res.boot.eip, 0x200400);
    assert_int_equal(res.load_end, 0x205000);
}

static void test_elf_loads_at_paddr_entry_translated(void **state)
{
    /* A higher-half kernel: linked at 3 GiB + 1 MiB, loaded at 1 MiB (as GRUB does). */
    struct seg s[2] = {{PT_LOAD, 0x100000, 0x100000, 0x100, 0x100, 1},
                       {PT_LOAD, 0xC0101000, 0x101000, 0x200, 0x200, 2}};
    size_t off[2];
    mb1_elf(ELFCLASS32, 0xC0101020, s, 2, off);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_segment_loaded(&im, &s[1], off[1]);
    assert_int_equal(res.boot.eip, 0x101020);
}

static void test_elf_skips_non_load_and_empty(void **state)
{
    struct seg s[3] = {{PT_NULL, 0, 0x500000, 0x10, 0x10, 3},
                       {PT_LOAD, 0x300000, 0x300000, 0, 0, 4}, /* empty: ignored */
                       {PT_LOAD, 0x100000, 0x100000, 0x40, 0x40, 5}};
    size_t off[3];
    mb1_elf(ELFCLASS32, 0x100000, s, 3, off);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(ram.mem[0x500000], DIRTY);
    assert_int_equal(res.load_start, 0x100000);
    assert_int_equal(res.load_end, 0x100040);
}

/* ---- malformed ELF ---- */

static void test_elf_header_truncated(void **state)
{
    /* Direct: a Multiboot header cannot sit inside a truncated ELF header's image. */
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x10, 0x10, 0};
    size_t off;
    for (unsigned cls = ELFCLASS32; cls <= ELFCLASS64; cls++) {
        memset(&im, 0, sizeof(im));
        elf_build(&im, cls, 0x100000, &s, 1, &off);
        size_t cut = cls == ELFCLASS32 ? sizeof(Elf32_Ehdr) - 1 : sizeof(Elf64_Ehdr) - 1;
        uint8_t *copy = malloc(cut);
        memcpy(copy, im.b, cut);
        struct loader_request req = {.image = copy, .size = cut};
        struct loader_ctx lc = {
            .req = &req, .t = &target, .err = err, .err_size = sizeof(err), .limit = RAM_8M};
        struct elf_layout l;
        assert_int_equal(elf_check(&lc, &l), CIVIC_EINVAL);
        assert_err_contains("ELF header truncated");
        free(copy);
    }
    /* And through the loader: an ELF magic and a Multiboot header in a 44-byte file. */
    memset(&im, 0, sizeof(im));
    elf_build(&im, ELFCLASS32, 0x100000, &s, 1, &off);
    mb1_header(&im, 32, 0, NULL);
    assert_int_equal(load_n(&im, 44, "", 0, 0), CIVIC_EINVAL);
    assert_err_contains("ELF header truncated: the image is 44 bytes, an ELF32 header needs 52");
}

static void test_elf_phoff_beyond_image(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x10, 0x10, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    patch32(offsetof(Elf32_Ehdr, e_phoff), (uint32_t)im.len);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("ELF program headers");
    assert_err_contains("outside");
    assert_int_equal(ram.writes, 0);

    memset(&im, 0, sizeof(im));
    mb1_elf(ELFCLASS64, 0x100000, &s, 1, &off);
    patch64(offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8); /* would wrap with phnum * phentsize */
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("ELF program headers");
}

static void test_elf_phnum_phentsize_overflow(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x10, 0x10, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    patch16(offsetof(Elf32_Ehdr, e_phnum), 0xfffe);
    patch16(offsetof(Elf32_Ehdr, e_phentsize), 0xffff);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("ELF program headers [0x34, +65534 * 65535 bytes) lie outside");

    patch16(offsetof(Elf32_Ehdr, e_phnum), PN_XNUM);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("PN_XNUM");

    patch16(offsetof(Elf32_Ehdr, e_phnum), 1);
    patch16(offsetof(Elf32_Ehdr, e_phentsize), sizeof(Elf32_Phdr) - 1);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("e_phentsize 31");

    patch16(offsetof(Elf32_Ehdr, e_phentsize), sizeof(Elf32_Phdr));
    patch16(offsetof(Elf32_Ehdr, e_phnum), 0);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("no program headers");
}

static void test_elf_segment_beyond_image(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x100, 0x100, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    /* The last segment ends the file: cut one byte. */
    assert_int_equal(load_n(&im, im.len - 1, "", 0, 0), CIVIC_EINVAL);
    assert_err_contains(
        "ELF program header 0: file bytes [0x400, +0x100) lie outside the 1279-byte image");

    memset(&im, 0, sizeof(im));
    mb1_elf(ELFCLASS64, 0x100000, &s, 1, &off);
    patch64(sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_offset), UINT64_MAX - 0x10);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("lie outside");
    assert_int_equal(ram.writes, 0);
}

static void test_elf_memsz_below_filesz(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x100, 0xff, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("ELF program header 0: p_memsz 0xff < p_filesz 0x100");
}

static void test_elf_segment_beyond_ram(void **state)
{
    struct seg s[2] = {{PT_LOAD, 0x100000, 0x100000, 0x10, 0x10, 0},
                       {PT_LOAD, 0x200000, 0x100000, 0x10, 0x4000000, 0}};
    size_t off[2];
    mb1_elf(ELFCLASS32, 0x100000, s, 2, off);
    assert_int_equal(load(&im, ""), CIVIC_ERANGE);
    assert_string_equal(err, "ELF program header 1: segment [0x100000, 0x4100000) exceeds the "
                             "guest's 8 MiB of RAM");
    assert_int_equal(ram.writes, 0);

    /* Ending exactly at the end of RAM is fine. */
    memset(&im, 0, sizeof(im));
    s[1].memsz = RAM_8M - 0x100000;
    mb1_elf(ELFCLASS32, 0x100000, s, 2, off);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_true(all_bytes(0x100010, RAM_8M - 0x100010, 0));
}

static void test_elf_segment_wraps(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0xfffffffffffff000ull, 0x10, 0x2000, 0};
    size_t off;
    mb1_elf(ELFCLASS64, 0x100000, &s, 1, &off);
    assert_int_equal(load(&im, ""), CIVIC_ERANGE);
    assert_err_contains("wraps around");
}

static void test_elf_segment_beyond_4g(void **state)
{
    ram_setup(RAM_8M, 8ull << 30); /* claims 8 GiB */
    struct seg s = {PT_LOAD, 0x100000, 0xfffff000ull, 0x10, 0x2000, 0};
    size_t off;
    mb1_elf(ELFCLASS64, 0xfffff000ull, &s, 1, &off);
    assert_int_equal(load(&im, ""), CIVIC_ERANGE);
    assert_err_contains("beyond 4 GiB");
}

static void test_elf_entry_outside_segments(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x100, 0x200, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100200, &s, 1, &off); /* one past the end */
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_string_equal(err, "ELF entry point 0x100200 is not inside a loaded segment");
    memset(&im, 0, sizeof(im));
    mb1_elf(ELFCLASS32, 0x1001ff, &s, 1, &off); /* last byte (in the bss): accepted */
    assert_int_equal(load(&im, ""), CIVIC_OK);
}

static void test_elf_no_load_segment(void **state)
{
    struct seg s = {PT_NULL, 0x100000, 0x100000, 0x100, 0x100, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("no loadable (PT_LOAD) segment");
}

static void test_elf_wrong_identity(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x100, 0x100, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    patch16(offsetof(Elf32_Ehdr, e_machine), EM_X86_64);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("ELF32 machine 62 is not EM_386");
    patch16(offsetof(Elf32_Ehdr, e_machine), EM_386);
    patch16(offsetof(Elf32_Ehdr, e_type), ET_DYN);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not an executable");
    patch16(offsetof(Elf32_Ehdr, e_type), ET_EXEC);
    im.b[EI_DATA] = 2;
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not little-endian");
    im.b[EI_DATA] = ELFDATA2LSB;
    im.b[EI_CLASS] = 3;
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("ELF class 3");
    im.b[EI_CLASS] = ELFCLASS32;
    assert_int_equal(load(&im, ""), CIVIC_OK);
}

static void test_not_elf_without_kludge(void **state)
{
    mb1_header(&im, 0, MULTIBOOT_MEMORY_INFO, NULL);
    put32(&im, 60, 0x12345678);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not ELF");
}

/* ---- detection ---- */

static void test_no_header_no_flat(void **state)
{
    memset(im.b, 0x90, 20000);
    im.len = 20000;
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not a Multiboot kernel");
}

static void test_header_search_window(void **state)
{
    uint32_t aout[5] = {0x100000 + 8180, 0x100000, 0, 0, 0x100000};
    /* Last place a 12-byte header fits in the first 8192 bytes. */
    mb1_header(&im, 8180, MULTIBOOT_AOUT_KLUDGE, aout);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_MULTIBOOT1);
    assert_int_equal(res.load_end, 0x100000 + im.len);

    /* Beyond 8 KiB: not found. */
    memset(&im, 0, sizeof(im));
    aout[0] = 0x100000 + 8192;
    mb1_header(&im, 8192, MULTIBOOT_AOUT_KLUDGE, aout);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not a Multiboot kernel");

    /* Not 4-byte aligned: not found. */
    memset(&im, 0, sizeof(im));
    aout[0] = 0x100000 + 2;
    mb1_header(&im, 2, MULTIBOOT_AOUT_KLUDGE, aout);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not a Multiboot kernel");
}

static void test_bad_checksum(void **state)
{
    mb1_header(&im, 0x40, MULTIBOOT_MEMORY_INFO, NULL);
    put32(&im, 0x48, 0);
    put32(&im, 0x100, 0);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_string_equal(err, "Multiboot header at offset 0x40: bad checksum (magic + flags + "
                             "checksum must be 0 mod 2^32)");

    /* A good header after the bad candidate is used, as GRUB does. */
    uint32_t aout[5] = {0x100080, 0x100000, 0, 0, 0x100000};
    mb1_header(&im, 0x80, MULTIBOOT_AOUT_KLUDGE, aout);
    assert_int_equal(load(&im, ""), CIVIC_OK);
}

static void test_empty_image(void **state)
{
    assert_int_equal(load_n(&im, 0, "", 0, 0), CIVIC_EINVAL);
    assert_err_contains("empty");
}

static void test_target_write_failure(void **state)
{
    struct seg s = {PT_LOAD, 0x100000, 0x100000, 0x100, 0x100, 0};
    size_t off;
    mb1_elf(ELFCLASS32, 0x100000, &s, 1, &off);
    ram.fail_with = CIVIC_ENOMEM;
    assert_int_equal(load(&im, ""), CIVIC_ENOMEM);
    assert_err_contains("writing guest memory [0x100000, 0x100100) failed");
}

/* ---- flat binaries ---- */

static void test_flat_real_mode(void **state)
{
    for (int i = 0; i < 512; i++)
        im.b[i] = (uint8_t)(i * 7);
    im.len = 512;
    assert_int_equal(load_n(&im, 512, "ignored", 0x7c00, VCPU_BOOT_REAL_MODE), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_FLAT);
    assert_memory_equal(ram.mem + 0x7c00, im.b, 512);
    assert_int_equal(res.boot.mode, VCPU_BOOT_REAL_MODE);
    assert_int_equal(res.boot.cs_selector, 0);
    assert_int_equal(res.boot.eip, 0x7c00);
    assert_int_equal(res.boot.esp, 0x7000);
    assert_int_equal(res.load_start, 0x7c00);
    assert_int_equal(res.load_end, 0x7e00);
    assert_int_equal(res.info_start, 0);
    assert_int_equal(res.info_end, 0);

    assert_int_equal(load_n(&im, 512, "", 0x12345, VCPU_BOOT_REAL_MODE), CIVIC_OK);
    assert_int_equal(res.boot.cs_selector, 0x1000);
    assert_int_equal(res.boot.eip, 0x2345);
    assert_int_equal(load_n(&im, 512, "", 0xf0000, VCPU_BOOT_REAL_MODE), CIVIC_OK);
    assert_int_equal(res.boot.cs_selector, 0xf000);
    assert_int_equal(res.boot.eip, 0);

    /* Must end at or below 1 MiB. */
    assert_int_equal(load_n(&im, 512, "", 0x100000 - 511, VCPU_BOOT_REAL_MODE), CIVIC_ERANGE);
    assert_err_contains("beyond 1 MiB");
    assert_int_equal(load_n(&im, 512, "", 0x100000 - 512, VCPU_BOOT_REAL_MODE), CIVIC_OK);
}

static void test_flat_protected(void **state)
{
    for (int i = 0; i < 100; i++)
        im.b[i] = (uint8_t)(i + 1);
    im.len = 100;
    assert_int_equal(load_n(&im, 100, "", 0x200000, VCPU_BOOT_PROTECTED_32), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x200000, im.b, 100);
    assert_int_equal(res.boot.mode, VCPU_BOOT_PROTECTED_32);
    assert_int_equal(res.boot.eip, 0x200000);
    assert_int_equal(res.boot.esp, 0x200000);

    assert_int_equal(load_n(&im, 100, "", RAM_8M - 99, VCPU_BOOT_PROTECTED_32), CIVIC_ERANGE);
    assert_err_contains("exceeds the guest's 8 MiB of RAM");
    assert_int_equal(load_n(&im, 100, "", UINT64_MAX - 10, VCPU_BOOT_PROTECTED_32), CIVIC_ERANGE);
    assert_err_contains("wraps");
    assert_int_equal(load_n(&im, 100, "", 0x1000, (enum vcpu_boot_mode)7), CIVIC_EINVAL);
}

static void test_flat_wins_over_headers(void **state)
{
    mb1_header(&im, 0, MULTIBOOT_MEMORY_INFO, NULL);
    im.len = 64;
    assert_int_equal(load_n(&im, 64, "", 0x8000, VCPU_BOOT_PROTECTED_32), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_FLAT);
    assert_int_equal(g32(0x8000), MULTIBOOT_HEADER_MAGIC);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_ram)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_elf32_segments_and_bss),
        T(test_elf64_segment),
        T(test_elf_loads_at_paddr_entry_translated),
        T(test_elf_skips_non_load_and_empty),
        T(test_elf_header_truncated),
        T(test_elf_phoff_beyond_image),
        T(test_elf_phnum_phentsize_overflow),
        T(test_elf_segment_beyond_image),
        T(test_elf_memsz_below_filesz),
        T(test_elf_segment_beyond_ram),
        T(test_elf_segment_wraps),
        T(test_elf_segment_beyond_4g),
        T(test_elf_entry_outside_segments),
        T(test_elf_no_load_segment),
        T(test_elf_wrong_identity),
        T(test_not_elf_without_kludge),
        T(test_no_header_no_flat),
        T(test_header_search_window),
        T(test_bad_checksum),
        T(test_empty_image),
        T(test_target_write_failure),
        T(test_flat_real_mode),
        T(test_flat_protected),
        T(test_flat_wins_over_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
