// clang-format off
// unit-sources: kernel/loader.c kernel/loader_elf.c kernel/loader_mb1.c kernel/loader_mb2.c kernel/loader_flat.c kernel/format.c kernel/error.c
// clang-format on
/* The guest loader, Multiboot2: header tags (required and optional), the boot information tags
 * as the guest walks them. */
#include "tests/unit/loader_harness.h"

#include "boot/multiboot2.h"

static struct img im;

static int setup(void **state)
{
    memset(&im, 0, sizeof(im));
    return setup_8m(state);
}

static const struct seg kernel_seg = {PT_LOAD, 0x100000, 0x100000, 0x180, 0x3000, 0x21};

/* An ELF kernel with a Multiboot2 header being built at ELF_MBHDR_OFF. */
static struct mb2h mb2_elf(unsigned cls)
{
    size_t off;
    elf_build(&im, cls, 0x100010, &kernel_seg, 1, &off);
    return mb2_begin(&im, ELF_MBHDR_OFF);
}

/* The boot information tag of the given type (0 if absent), checking the walk as it goes. */
static uint64_t find_tag(uint32_t type)
{
    uint64_t base = res.boot.ebx, total = g32(base);
    assert_int_equal(base % 8, 0);
    assert_int_equal(g32(base + 4), 0);
    for (uint64_t at = base + 8; at + 8 <= base + total;) {
        uint32_t t = g32(at), size = g32(at + 4);
        assert_true(size >= 8 && at + size <= base + total);
        if (t == type)
            return at;
        if (t == MB2_TAG_END) {
            assert_int_equal(at + 8, base + total);
            return 0;
        }
        at += (size + 7) & ~7u;
    }
    fail_msg("no end tag");
    return 0;
}

static void test_elf_kernel_and_info(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    uint32_t req[] = {MB2_TAG_CMDLINE, MB2_TAG_MMAP, MB2_TAG_BASIC_MEMINFO, MB2_TAG_MODULE};
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_INFORMATION_REQUEST, 0, req, 4);
    mb2_end(&h);
    assert_int_equal(load(&im, "root=/dev/null quiet"), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_MULTIBOOT2);
    assert_memory_equal(ram.mem + 0x100000, im.b + ELF_DATA_OFF, 0x180);
    assert_true(all_bytes(0x100180, 0x3000 - 0x180, 0));
    assert_int_equal(res.boot.mode, VCPU_BOOT_PROTECTED_32);
    assert_int_equal(res.boot.eax, 0x36D76289);
    assert_int_equal(res.boot.ebx, res.info_start);
    assert_int_equal(res.boot.eip, 0x100010);
    assert_int_equal(res.boot.esp, 0);
    assert_int_equal(res.info_start, 0x9e000);
    assert_int_equal(g32(res.info_start), res.info_end - res.info_start);

    uint64_t t = find_tag(MB2_TAG_CMDLINE);
    assert_true(t);
    assert_int_equal(g32(t + 4), 8 + sizeof("root=/dev/null quiet"));
    assert_string_equal(gstr(t + 8), "root=/dev/null quiet");
    t = find_tag(MB2_TAG_BOOTLOADER_NAME);
    assert_true(t);
    assert_string_equal(gstr(t + 8), "civic");
    t = find_tag(MB2_TAG_BASIC_MEMINFO);
    assert_true(t);
    assert_int_equal(g32(t + 4), 16);
    assert_int_equal(g32(t + 8), 639);
    assert_int_equal(g32(t + 12), 7168);
    t = find_tag(MB2_TAG_MMAP);
    assert_true(t);
    assert_int_equal(g32(t + 4), 16 + 4 * 24);
    assert_int_equal(g32(t + 8), 24); /* entry_size */
    assert_int_equal(g32(t + 12), 0); /* entry_version */
    static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
                                        {0x9fc00, 0x400, 2},
                                        {0xf0000, 0x10000, 2},
                                        {0x100000, RAM_8M - 0x100000, 1}};
    for (int i = 0; i < 4; i++) {
        uint64_t e = t + 16 + 24 * (uint64_t)i;
        assert_int_equal(g64(e), want[i][0]);
        assert_int_equal(g64(e + 8), want[i][1]);
        assert_int_equal(g32(e + 16), want[i][2]);
        assert_int_equal(g32(e + 20), 0);
    }
    assert_int_equal(find_tag(MB2_TAG_LOAD_BASE_ADDR), 0);
    assert_int_equal(find_tag(MB2_TAG_MODULE), 0); /* no modules */
}

static void test_elf64_kernel(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS64);
    mb2_end(&h);
    assert_int_equal(load(&im, NULL), CIVIC_OK);
    assert_int_equal(res.boot.eip, 0x100010);
    assert_string_equal(gstr(find_tag(MB2_TAG_CMDLINE) + 8), "");
}

static void test_entry_tag_overrides_elf(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    uint32_t entry = 0x100100;
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS, 0, &entry, 1);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(res.boot.eip, 0x100100);

    memset(&im, 0, sizeof(im));
    h = mb2_elf(ELFCLASS32);
    entry = 0x200000;
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS, 0, &entry, 1);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("entry address 0x200000 is outside the loaded image");
}

static void test_address_tag(void **state)
{
    for (size_t i = 0; i < 0x2000; i++)
        im.b[i] = (uint8_t)(i * 3);
    im.len = 0x2000;
    struct mb2h h = mb2_begin(&im, 0x80);
    uint32_t addr[4] = {0x200080, 0x200000, 0x201800, 0x204000};
    uint32_t entry = 0x200400;
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ADDRESS, 0, addr, 4);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS, 0, &entry, 1);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x200000, im.b, 0x1800);
    assert_true(all_bytes(0x201800, 0x2800, 0));
    assert_int_equal(res.load_end, 0x204000);
    assert_int_equal(res.boot.eip, 0x200400);

    /* load_addr -1: from the file's beginning. */
    uint32_t whole[4] = {0x300080, 0xffffffff, 0, 0};
    entry = 0x300000;
    h = mb2_begin(&im, 0x80);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ADDRESS, 0, whole, 4);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS, 0, &entry, 1);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_memory_equal(ram.mem + 0x300000, im.b, 0x2000);
    assert_int_equal(res.load_start, 0x300000);

    /* An address tag needs an entry address tag. */
    h = mb2_begin(&im, 0x80);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ADDRESS, 0, addr, 4);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("no entry address tag");

    /* header_addr below the header's offset with load_addr -1. */
    uint32_t low[4] = {0x40, 0xffffffff, 0, 0};
    h = mb2_begin(&im, 0x80);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ADDRESS, 0, low, 4);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS, 0, &entry, 1);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("below the header's file offset");
}

static void test_information_request(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    uint32_t req[] = {MB2_TAG_CMDLINE, MB2_TAG_FRAMEBUFFER};
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_INFORMATION_REQUEST, 0, req, 2);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_ENOTSUP);
    assert_string_equal(err, "Multiboot2 header requires boot information tag type 8, which civic "
                             "cannot provide");
    assert_int_equal(ram.writes, 0);

    h = mb2_elf(ELFCLASS32);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_INFORMATION_REQUEST, MULTIBOOT2_HEADER_TAG_OPTIONAL, req, 2);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(find_tag(MB2_TAG_FRAMEBUFFER), 0);

    /* Asking for the load base address gets it. */
    memset(&im, 0, sizeof(im));
    h = mb2_elf(ELFCLASS32);
    uint32_t base = MB2_TAG_LOAD_BASE_ADDR;
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_INFORMATION_REQUEST, 0, &base, 1);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    uint64_t t = find_tag(MB2_TAG_LOAD_BASE_ADDR);
    assert_true(t);
    assert_int_equal(g32(t + 4), 12);
    assert_int_equal(g32(t + 8), 0x100000);
    assert_int_equal(g32(res.info_start), res.info_end - res.info_start);
}

static void test_required_and_optional_tags(void **state)
{
    static const struct {
        uint16_t type;
        uint32_t words[3];
        size_t n;
        const char *refusal;
    } cases[] = {
        {MULTIBOOT2_HEADER_TAG_FRAMEBUFFER, {1024, 768, 32}, 3, "requires a framebuffer"},
        {MULTIBOOT2_HEADER_TAG_EFI_BS, {0}, 0, "tag type 7 requires EFI"},
        {MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS_EFI64, {0x100000}, 1, "tag type 9 requires EFI"},
        {MULTIBOOT2_HEADER_TAG_CONSOLE_FLAGS,
         {MULTIBOOT2_CONSOLE_FLAGS_CONSOLE_REQUIRED},
         1,
         "requires a console"},
        {42, {0}, 0, "requires tag type 42, which civic does not support"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&im, 0, sizeof(im));
        struct mb2h h = mb2_elf(ELFCLASS32);
        mb2_tag(&h, cases[i].type, 0, cases[i].words, cases[i].n);
        mb2_end(&h);
        assert_int_equal(load(&im, ""), CIVIC_ENOTSUP);
        assert_err_contains(cases[i].refusal);

        memset(&im, 0, sizeof(im));
        h = mb2_elf(ELFCLASS32);
        mb2_tag(&h, cases[i].type, MULTIBOOT2_HEADER_TAG_OPTIONAL, cases[i].words, cases[i].n);
        mb2_end(&h);
        assert_int_equal(load(&im, ""), CIVIC_OK);
    }
    /* Tags civic honours even when required. */
    memset(&im, 0, sizeof(im));
    struct mb2h h = mb2_elf(ELFCLASS32);
    uint32_t ega = MULTIBOOT2_CONSOLE_FLAGS_EGA_TEXT_SUPPORTED;
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_CONSOLE_FLAGS, 0, &ega, 1);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
}

static void test_relocatable_loads_at_link_address(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    uint32_t reloc[4] = {0x200000, 0x1000000, 0x1000, 2 /* prefer highest */};
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_RELOCATABLE, 0, reloc, 4);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(res.load_start, 0x100000);
    assert_memory_equal(ram.mem + 0x100000, im.b + ELF_DATA_OFF, 0x180);
    uint64_t t = find_tag(MB2_TAG_LOAD_BASE_ADDR);
    assert_true(t);
    assert_int_equal(g32(t + 8), 0x100000);
}

static void test_malformed_headers(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
    mb2_fix(&h, MULTIBOOT2_ARCHITECTURE_I386); /* no end tag */
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("has no end tag");

    h = mb2_elf(ELFCLASS32);
    mb2_end(&h);
    mb2_fix(&h, 4); /* MIPS */
    assert_int_equal(load(&im, ""), CIVIC_ENOTSUP);
    assert_err_contains("architecture 4 is not i386");

    h = mb2_elf(ELFCLASS32);
    mb2_tag(&h, MULTIBOOT2_HEADER_TAG_ENTRY_ADDRESS, 0, NULL, 0); /* size 8, needs 12 */
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("tag type 3: size 8, needs 12");

    h = mb2_elf(ELFCLASS32);
    mb2_end(&h);
    put32(&im, ELF_MBHDR_OFF + 20, 4); /* the end tag's size */
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("bad size 4 (under 8");

    h = mb2_elf(ELFCLASS32);
    mb2_end(&h);
    h.len = MULTIBOOT2_SEARCH; /* header_length past the search window and the image */
    mb2_fix(&h, MULTIBOOT2_ARCHITECTURE_I386);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("header_length 32768 does not fit");
}

static void test_bad_checksum(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    mb2_end(&h);
    put32(&im, ELF_MBHDR_OFF + 12, 1);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("Multiboot2 header at offset 0x200: bad checksum");
}

static void test_search_window(void **state)
{
    /* Beyond 32 KiB: not found. */
    size_t off;
    elf_build(&im, ELFCLASS32, 0x100010, &kernel_seg, 1, &off);
    struct mb2h h = mb2_begin(&im, MULTIBOOT2_SEARCH);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not a Multiboot kernel");
    /* Last 8-aligned place where a minimal header (24 bytes) fits. */
    memset(&im, 0, sizeof(im));
    elf_build(&im, ELFCLASS32, 0x100010, &kernel_seg, 1, &off);
    h = mb2_begin(&im, MULTIBOOT2_SEARCH - 24);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    /* Not 8-aligned: not found. */
    memset(&im, 0, sizeof(im));
    elf_build(&im, ELFCLASS32, 0x100010, &kernel_seg, 1, &off);
    h = mb2_begin(&im, 0x204);
    mb2_end(&h);
    assert_int_equal(load(&im, ""), CIVIC_EINVAL);
    assert_err_contains("not a Multiboot kernel");
}

static void test_mb2_preferred_over_mb1(void **state)
{
    struct mb2h h = mb2_elf(ELFCLASS32);
    mb2_end(&h);
    mb1_header(&im, ELF_MBHDR_OFF + 0x40, MULTIBOOT_MEMORY_INFO, NULL);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_MULTIBOOT2);
    assert_int_equal(res.boot.eax, 0x36D76289);
    /* A broken Multiboot2 checksum lets the Multiboot header be used. */
    put32(&im, ELF_MBHDR_OFF + 12, 1);
    assert_int_equal(load(&im, ""), CIVIC_OK);
    assert_int_equal(res.format, IMAGE_MULTIBOOT1);
    assert_int_equal(res.boot.eax, 0x2BADB002);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_ram)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_elf_kernel_and_info),
        T(test_elf64_kernel),
        T(test_entry_tag_overrides_elf),
        T(test_address_tag),
        T(test_information_request),
        T(test_required_and_optional_tags),
        T(test_relocatable_loads_at_link_address),
        T(test_malformed_headers),
        T(test_bad_checksum),
        T(test_search_window),
        T(test_mb2_preferred_over_mb1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
