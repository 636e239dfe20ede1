// clang-format off
// unit-sources: kernel/loader.c kernel/loader_elf.c kernel/loader_mb1.c kernel/loader_mb2.c kernel/loader_flat.c kernel/format.c kernel/error.c
// clang-format on
/* The guest loader, Multiboot (v1): header flags, the a.out kludge, the boot information as the
 * guest reads it, and where it is placed. */
#include "tests/unit/loader_harness.h"

static struct img im;

static int setup(void **state)
{
    memset(&im, 0, sizeof(im));
    return setup_8m(state);
}

static const struct seg kernel_seg = {PT_LOAD, 0x100000, 0x100000, 0x200, 0x1000, 0x33};

static void mb1_elf(uint32_t flags)
{
    size_t off;
    elf_build(&im, ELFCLASS32, 0x100000, &kernel_seg, 1, &off);
    mb1_header(&im, ELF_MBHDR_OFF, flags, NULL);
}

/* Info field at byte offset off (struct multiboot_info). */
static uint32_t info32(size_t off)
{
    return g32(res.boot.ebx + off);
}

static void test_info_as_the_guest_reads_it(void **state)
{
    mb1_elf(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO);
    assert_int_equal(load(&im, "console=ttyS0 mem=test"), CIVIC_OK);
    assert_int_equal(res.boot.mode, VCPU_BOOT_PROTECTED_32);
    assert_int_equal(res.boot.eax, 0x2BADB002);
    assert_int_equal(res.boot.ebx, 0x9e000);
    assert_int_equal(res.boot.esp, 0);
    assert_int_equal(res.boot.eip, 0x100000);
    assert_int_equal(res.info_start, 0x9e000);
    assert_true(res.info_end > res.info_start && res.info_end <= 0x9f000);

    assert_int_equal(info32(offsetof(struct multiboot_info, flags)),
                     MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
                         MULTIBOOT_INFO_BOOT_LOADER_NAME);
    assert_int_equal(info32(offsetof(struct multiboot_info, mem_lower)), 639);
    assert_int_equal(info32(offsetof(struct multiboot_info, mem_upper)), 7 * 1024);
    assert_string_equal(gstr(info32(offsetof(struct multiboot_info, cmdline))),
                        "console=ttyS0 mem=test");
    assert_string_equal(gstr(info32(offsetof(struct multiboot_info, boot_loader_name))), "civic");
    /* Fields civic does not provide read as zero, not as stale memory. */
    assert_int_equal(info32(offsetof(struct multiboot_info, mods_count)), 0);
    assert_int_equal(info32(offsetof(struct multiboot_info, boot_device)), 0);
    assert_int_equal(info32(offsetof(struct multiboot_info, vbe_control_info)), 0);

    uint32_t len = info32(offsetof(struct multiboot_info, mmap_length));
    uint32_t at = info32(offsetof(struct multiboot_info, mmap_addr));
    assert_int_equal(len, 4 * 24);
    static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
                                        {0x9fc00, 0x400, 2},
                                        {0xf0000, 0x10000, 2},
                                        {0x100000, RAM_8M - 0x100000, 1}};
    /* Walk as the spec says: each entry is size + 4 bytes. */
    uint32_t p = at;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g32(p), 20);
        assert_int_equal(g64(p + 4), want[i][0]);
        assert_int_equal(g64(p + 12), want[i][1]);
        assert_int_equal(g32(p + 20), want[i][2]);
        p += g32(p) + 4;
    }
    assert_int_equal(p, at + len);
    /* Everything the guest is pointed at lies inside [info_start, info_end). */
    assert_true(at >= res.info_start && at + len <= res.info_end);
    uint32_t name = info32(offsetof(struct multiboot_info, boot_loader_name));
    assert_int_equal(name + 6, res.info_end);
}

static void test_null_cmdline_and_small_ram(void **state)
{
    ram_setup(RAM_8M, 0x200000 - 0x400); /* just under 2 MiB, not a MiB multiple */
    mb1_elf(MULTIBOOT_MEMORY_INFO);
    assert_int_equal(load(&im, NULL), CIVIC_OK);
    assert_string_equal(gstr(info32(offsetof(struct multiboot_info, cmdline))), "");
    assert_int_equal(info32(offsetof(struct multiboot_info, mem_upper)), 1023);
    uint32_t at = info32(offsetof(struct multiboot_info, mmap_addr));
    assert_int_equal(g64(at + 3 * 24 + 12), 0x200000 - 0x400 - 0x100000);
}

static void test_info_after_image_when_low_memory_taken(void **state)
{
    /* The kernel covers the low info pages: the information goes to the next page after it. */
    struct seg s = {PT_LOAD, 0x90000, 0x90000, 0x100, 0x10001, 1};
    size_t off;
    elf_build(&im, ELFCLASS32, 0x90000, &s, 1, &off);
    mb1_header(&im, ELF_MBHDR_OFF, 0, NULL);
    assert_int_equal(load(&im, "c"), CIVIC_OK);
    assert_int_equal(res.info_start, 0xa1000);
    assert_int_equal(res.boot.ebx, 0xa1000);
    assert_string_equal(gstr(info32(offsetof(struct multiboot_info, cmdline))), "c");

    /* An image ending right below the low pages leaves them usable. */
    memset(&im, 0, sizeof(im));
    s = (struct seg){PT_LOAD, 0x10000, 0x10000, 0x100, 0x9e000 - 0x10000, 1};
    elf_build(&im, ELFCLASS32, 0x10000, &s, 1, &off);
    mb1_header(&im, ELF_MBHDR_OFF, 0, NULL);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(res.info_start, 0x9e000);
}

static void test_no_room_for_info(void **state)
{
    struct seg s = {PT_LOAD, 0x1000, 0x1000, 0x100, RAM_8M - 0x1000, 1};
    size_t off;
    elf_build(&im, ELFCLASS32, 0x1000, &s, 1, &off);
    mb1_header(&im, ELF_MBHDR_OFF, 0, NULL);
    assert_int_equal(load(&im, ""), CIVIC_ERANGE);
    assert_err_contains("no room for the");
    assert_int_equal(ram.writes, 0);
}

static void test_long_cmdline_spans_pages(void **state)
{
    char *cmd = malloc(6000);
    memset(cmd, 'k', 5999);
    cmd[5999] = '\0';
    mb1_elf(0);
    assert_int_equal(load(&im, cmd), CIVIC_OK);
    assert_int_equal(res.info_start, 0x9d000);
    assert_string_equal(gstr(info32(offsetof(struct multiboot_info, cmdline))), cmd);
    assert_true(res.info_end <= 0x9f000);
    free(cmd);
}

static void test_required_flags(void **state)
{
    mb1_elf(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | 0x20);
    assert_int_equal(load(&im, ""), CIVIC_ENOTSUP);
    assert_string_equal(err, "Multiboot header at offset 0x200 requires flags bit 5 (flags 0x23), "
                             "which civic does not support");
    mb1_elf(MULTIBOOT_VIDEO_MODE);
    assert_int_equal(load(&im, ""), CIVIC_ENOTSUP);
    assert_err_contains("video mode information (flags bit 2)");
    mb1_elf(0x8000);
    assert_int_equal(load(&im, ""), CIVIC_ENOTSUP);
    assert_err_contains("flags bit 15");
    assert_int_equal(ram.writes, 0);
    /* Optional bits (16-31) other than the kludge are ignored. */
    mb1_elf(MULTIBOOT_MEMORY_INFO | 0x80000000u | 0x00100000u);
    assert_int_equal(load(&im, ""), CIVIC_OK);
}

/* ---- the a.out kludge ---- */

/* A non-ELF image of n bytes with a kludge header at hdr (header_addr = 0x100000 + hdr). */
static void aout_image(size_t n, size_t hdr, uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    for (size_t i = 0; i < n; i++)
        im.b[i] = (uint8_t)(i ^ 0x5c);
    im.len = n;
    uint32_t a[5] = {0x100000 + (uint32_t)hdr, 0x100000, load_end, bss_end, entry};
    mb1_header(&im, hdr, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_MEMORY_INFO, a);
}

static void test_aout_kludge(void **state)
{
    aout_image(0x3000, 0x40, 0x102800, 0x105000, 0x100100);
    assert_int_equal(load(&im, "k"), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x100000, im.b, 0x2800);
    assert_true(all_bytes(0x102800, 0x2800, 0));
    assert_int_equal(ram.mem[0x105000], DIRTY);
    assert_int_equal(res.load_start, 0x100000);
    assert_int_equal(res.load_end, 0x105000);
    assert_int_equal(res.boot.eip, 0x100100);
    assert_int_equal(res.boot.eax, 0x2BADB002);

    /* load_end_addr 0: the whole file; bss_end_addr 0: no bss. */
    memset(&im, 0, sizeof(im));
    aout_image(0x1234, 0x40, 0, 0, 0x100000);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x100000, im.b, 0x1234);
    assert_int_equal(res.load_end, 0x101234);

    /* load_addr below header_addr - offset: loading starts later in the file. */
    memset(&im, 0, sizeof(im));
    aout_image(0x2000, 0x1000, 0, 0, 0x100800);
    uint32_t a[5] = {0x100800, 0x100000, 0, 0, 0x100800};
    mb1_header(&im, 0x1000, MULTIBOOT_AOUT_KLUDGE, a);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x100000, im.b + 0x800, 0x1800);
}

static void test_aout_kludge_wins_over_elf(void **state)
{
    size_t off;
    elf_build(&im, ELFCLASS32, 0x300000, &kernel_seg, 1, &off);
    uint32_t a[5] = {0x400000 + ELF_MBHDR_OFF, 0x400000, 0, 0, 0x400000};
    mb1_header(&im, ELF_MBHDR_OFF, MULTIBOOT_AOUT_KLUDGE, a);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x400000, im.b, im.len);
    assert_int_equal(ram.mem[0x100000], DIRTY);
    assert_int_equal(res.boot.eip, 0x400000);
}

static void test_aout_kludge_malformed(void **state)
{
    aout_image(0x1000, 0x40, 0, 0, 0x100000);
    uint32_t a[5] = {0x100040, 0x100041, 0, 0, 0x100041}; /* load_addr > header_addr */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, a);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("above header_addr");

    uint32_t b[5] = {0x100040, 0x0fffff, 0, 0, 0x100000}; /* starts before the file */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, b);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("before the file");

    uint32_t c[5] = {0x100040, 0x100000, 0x101001, 0, 0x100000}; /* one byte past the file */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, c);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("has only 0x1000 bytes");

    uint32_t d[5] = {0x100040, 0x100000, 0x100800, 0x1007ff, 0x100000}; /* bss below load end */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, d);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("bss_end_addr 0x1007ff is below");

    uint32_t e[5] = {0x100040, 0x100000, 0x100800, 0x100900, 0x100900}; /* entry at the end */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, e);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("entry_addr 0x100900 is outside the loaded image [0x100000, 0x100900)");

    uint32_t f[5] = {0x100040, 0x100000, 0x100040, 0, 0x100000}; /* load_end == load_addr + x */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, f);
    assert_int_equal(load(&im, ""), CIVIC_OK);

    ram.writes = 0;
    uint32_t g[5] = {0x7fff040, 0x7fff000, 0, 0x8000001, 0x7fff000}; /* bss beyond RAM */
    mb1_header(&im, 0x40, MULTIBOOT_AOUT_KLUDGE, g);
    assert_int_equal(load(&im, ""), CIVIC_ERANGE);
    assert_err_contains("exceeds the guest's 8 MiB of RAM");
    assert_int_equal(ram.writes, 0);
}

static void test_aout_fields_truncated(void **state)
{
    /* The header's first 12 bytes fit, its address fields run past the image's end. */
    memset(im.b, 0x90, 0x100);
    im.len = 0x100;
    uint32_t a[5] = {0x1000f0, 0x100000, 0, 0, 0x100000};
    mb1_header(&im, 0xf0, MULTIBOOT_AOUT_KLUDGE, a);
    assert_int_equal(load_n(&im, 0x100, "", 0, 0), CIVIC_EINVAL);
    assert_err_contains("address fields (flags bit 16) run past the end of the 256-byte image");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_ram)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_info_as_the_guest_reads_it),
        T(test_null_cmdline_and_small_ram),
        T(test_info_after_image_when_low_memory_taken),
        T(test_no_room_for_info),
        T(test_long_cmdline_spans_pages),
        T(test_required_flags),
        T(test_aout_kludge),
        T(test_aout_kludge_wins_over_elf),
        T(test_aout_kludge_malformed),
        T(test_aout_fields_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
