// unit-sources: mm/guest_mem.c mm/page_record.c arch/x86/ept.c kernel/error.c
#include "tests/unit/fake_frames.h"

#include "mm/guest_mem.h"

static const struct slat_caps caps = {.accessed_dirty = true};

/* Frames a fresh object of n pages holds: itself, the EPT structure and PML4, the record pages
 * and their directory pages. */
static long base_frames(uint64_t npages)
{
    uint64_t recpages = (npages + 255) / 256;
    return 3 + (long)recpages + (long)((recpages + 511) / 512);
}

static struct guest_mem *make(uint64_t bytes)
{
    struct guest_mem *gm = NULL;
    assert_int_equal(guest_mem_create(&gm, bytes, &fake_guest_src, &caps), CIVIC_OK);
    assert_non_null(gm);
    return gm;
}

static struct guest_mem_stats stats(const struct guest_mem *gm)
{
    struct guest_mem_stats st;
    memset(&st, 0xa5, sizeof(st));
    guest_mem_get_stats(gm, &st);
    return st;
}

static void assert_stats(const struct guest_mem *gm, uint64_t local, uint64_t tables,
                         uint64_t faults)
{
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.ram_pages, guest_mem_size(gm) / 4096);
    assert_int_equal(st.local_pages, local);
    assert_int_equal(st.zero_pages, st.ram_pages - local);
    assert_int_equal(st.table_pages, tables);
    assert_int_equal(st.faults, faults);
}

static void test_create_arguments(void **state)
{
    struct guest_mem *gm = NULL;
    assert_int_equal(guest_mem_create(&gm, 0, &fake_guest_src, &caps), CIVIC_EINVAL);
    assert_int_equal(guest_mem_create(&gm, 4095, &fake_guest_src, &caps), CIVIC_EINVAL);
    assert_int_equal(guest_mem_create(&gm, (1 << 20) + 512, &fake_guest_src, &caps), CIVIC_EINVAL);
    assert_int_equal(guest_mem_create(&gm, GUEST_MEM_MAX + 4096, &fake_guest_src, &caps),
                     CIVIC_ERANGE);
    assert_int_equal(guest_mem_create(&gm, 4096, NULL, &caps), CIVIC_EINVAL);
    struct guest_frame_source bad = fake_guest_src;
    bad.free = NULL;
    assert_int_equal(guest_mem_create(&gm, 4096, &bad, &caps), CIVIC_EINVAL);
    assert_null(gm);
    assert_int_equal(fake.allocs, 0);
}

static void test_create_fresh(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    assert_int_equal(guest_mem_size(gm), 1 << 20);
    assert_stats(gm, 0, 1, 0);
    assert_int_equal(fake.live, base_frames(256));
    assert_int_equal(fake.live, 5);
    uint64_t eptp = guest_mem_eptp(gm);
    assert_int_equal(eptp & 0xfff, 0x5e);
    assert_true(fake_is_live(eptp & ~0xfffull));
    assert_ptr_not_equal(guest_mem_slat(gm), NULL);
    for (uint64_t g = 0; g < 256; g++) {
        const struct page_record *r = guest_mem_record(gm, g);
        assert_non_null(r);
        assert_int_equal(r->state, PAGE_ZERO);
        assert_int_equal(r->version, 0);
    }
    assert_null(guest_mem_record(gm, 256));
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
    guest_mem_destroy(NULL);
}

static void test_fault_lazy(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    long before = fake.live;
    assert_int_equal(guest_mem_fault(gm, 0x5123, SLAT_W), CIVIC_OK);
    assert_stats(gm, 1, 4, 1);
    assert_int_equal(fake.live, before + 4); /* the frame, PDPT, PD, PT */

    const struct page_record *r = guest_mem_record(gm, 5);
    assert_int_equal(r->state, PAGE_LOCAL);
    assert_int_equal(r->version, 1);
    uint64_t hpa = 0;
    unsigned perms = 0;
    assert_true(slat_lookup(guest_mem_slat(gm), 0x5000, &hpa, &perms));
    assert_int_equal(hpa, r->where << 12);
    assert_int_equal(perms, SLAT_RWX);
    assert_true(fake_is_live(hpa));
    const uint8_t *frame = fake_phys_to_virt(&fake, hpa);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(frame[i], 0);

    /* Only that page. */
    assert_int_equal(guest_mem_record(gm, 4)->state, PAGE_ZERO);
    assert_int_equal(guest_mem_record(gm, 6)->state, PAGE_ZERO);
    assert_false(slat_lookup(guest_mem_slat(gm), 0x6000, NULL, NULL));

    /* Mapped already: a permissions problem, nothing changes. */
    assert_int_equal(guest_mem_fault(gm, 0x5000, SLAT_X), CIVIC_EEXIST);
    assert_stats(gm, 1, 4, 1);
    assert_int_equal(r->version, 1);

    /* A second page in the same PT needs no table. */
    assert_int_equal(guest_mem_fault(gm, 0xff000, SLAT_R), CIVIC_OK);
    assert_stats(gm, 2, 4, 2);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_fault_range(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    assert_int_equal(guest_mem_fault(gm, 1 << 20, SLAT_R), CIVIC_ERANGE);
    assert_int_equal(guest_mem_fault(gm, (1 << 20) + 0xfff, SLAT_R), CIVIC_ERANGE);
    assert_int_equal(guest_mem_fault(gm, 0xfee00000, SLAT_W), CIVIC_ERANGE);
    assert_int_equal(guest_mem_fault(gm, ~0ull, SLAT_W), CIVIC_ERANGE);
    assert_stats(gm, 0, 1, 0);
    assert_int_equal(guest_mem_fault(gm, (1 << 20) - 1, SLAT_R), CIVIC_OK);
    assert_int_equal(guest_mem_record(gm, 255)->state, PAGE_LOCAL);
    assert_stats(gm, 1, 4, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* EPT is a cache: a local page whose entry is gone is mapped again, to the same frame. */
static void test_fault_refills_cache(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    assert_int_equal(guest_mem_fault(gm, 0x3000, SLAT_R), CIVIC_OK);
    uint64_t where = guest_mem_record(gm, 3)->where;
    assert_int_equal(slat_unmap(guest_mem_slat(gm), 0x3000), CIVIC_OK);
    assert_int_equal(guest_mem_fault(gm, 0x3000, SLAT_R), CIVIC_OK);
    uint64_t hpa;
    assert_true(slat_lookup(guest_mem_slat(gm), 0x3000, &hpa, NULL));
    assert_int_equal(hpa, where << 12);
    assert_int_equal(guest_mem_record(gm, 3)->version, 1);
    assert_stats(gm, 1, 4, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_read_zero_without_allocating(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    long before = fake.live;
    uint8_t buf[10000];
    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(guest_mem_read(gm, 0x1800, buf, sizeof(buf)), CIVIC_OK);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(fake.live, before);
    assert_stats(gm, 0, 1, 0);
    assert_int_equal(guest_mem_read(gm, 0, buf, 0), CIVIC_OK);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* Zeros written to untouched pages (a loader's bss) take no frame; zeros written to a mapped
 * page do overwrite it. */
static void test_zero_writes_cost_no_frames(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    static uint8_t zeros[3 * 4096 + 100];
    assert_int_equal(guest_mem_write(gm, 0x1000 - 50, zeros, sizeof(zeros)), CIVIC_OK);
    assert_stats(gm, 0, 1, 0);
    uint8_t one = 0x77;
    assert_int_equal(guest_mem_write(gm, 0x2010, &one, 1), CIVIC_OK);
    assert_stats(gm, 1, 4, 0);
    assert_int_equal(guest_mem_write(gm, 0x2000, zeros, 4096), CIVIC_OK);
    uint8_t back = 1;
    assert_int_equal(guest_mem_read(gm, 0x2010, &back, 1), CIVIC_OK);
    assert_int_equal(back, 0);
    assert_stats(gm, 1, 4, 0);
    guest_mem_destroy(gm);
}

static void test_write_across_pages(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1);
    /* 50 bytes at the end of page 2, all of page 3, 854 bytes of page 4. */
    assert_int_equal(guest_mem_write(gm, 0x3000 - 50, data, 50 + 4096 + 854), CIVIC_OK);
    assert_stats(gm, 3, 4, 0); /* writes populate, they are not faults */
    for (uint64_t g = 2; g <= 4; g++) {
        const struct page_record *r = guest_mem_record(gm, g);
        assert_int_equal(r->state, PAGE_LOCAL);
        uint64_t hpa;
        unsigned perms;
        assert_true(slat_lookup(guest_mem_slat(gm), g << 12, &hpa, &perms));
        assert_int_equal(hpa, r->where << 12);
        assert_int_equal(perms, SLAT_RWX);
    }
    assert_int_equal(guest_mem_record(gm, 1)->state, PAGE_ZERO);
    assert_int_equal(guest_mem_record(gm, 5)->state, PAGE_ZERO);

    /* Read back with a margin of zeros (page 1 untouched, rest of page 2 and 4 zeroed). */
    uint8_t back[5100];
    memset(back, 0x55, sizeof(back));
    assert_int_equal(guest_mem_read(gm, 0x3000 - 100, back, sizeof(back)), CIVIC_OK);
    for (size_t i = 0; i < 50; i++)
        assert_int_equal(back[i], 0);
    assert_memory_equal(back + 50, data, 5000);
    for (size_t i = 5050; i < sizeof(back); i++)
        assert_int_equal(back[i], 0);

    /* The bytes are in the frames the EPT maps. */
    uint64_t hpa;
    assert_true(slat_lookup(guest_mem_slat(gm), 0x3000, &hpa, NULL));
    assert_memory_equal(fake_phys_to_virt(&fake, hpa), data + 50, 4096);

    /* Writing a local page again allocates nothing. */
    long before = fake.live;
    assert_int_equal(guest_mem_write(gm, 0x3000, "x", 1), CIVIC_OK);
    assert_int_equal(fake.live, before);
    assert_int_equal(*(uint8_t *)fake_phys_to_virt(&fake, hpa), 'x');
    /* And a fault on a written page is EEXIST: it is mapped. */
    assert_int_equal(guest_mem_fault(gm, 0x3000, SLAT_W), CIVIC_EEXIST);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_access_range(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    long before = fake.live;
    uint8_t buf[16] = {1, 2, 3};
    const uint64_t end = 1 << 20;
    assert_int_equal(guest_mem_write(gm, end - 10, buf, 11), CIVIC_ERANGE);
    assert_int_equal(guest_mem_write(gm, end, buf, 1), CIVIC_ERANGE);
    assert_int_equal(guest_mem_write(gm, end + 4096, buf, 0), CIVIC_ERANGE);
    assert_int_equal(guest_mem_write(gm, ~0ull - 5, buf, 10), CIVIC_ERANGE);
    assert_int_equal(guest_mem_read(gm, end - 15, buf, 16), CIVIC_ERANGE);
    assert_int_equal(guest_mem_read(gm, ~0ull, buf, 2), CIVIC_ERANGE);
    assert_int_equal(guest_mem_write(gm, 0, buf, (size_t)end + 1), CIVIC_ERANGE);
    assert_int_equal(fake.live, before); /* refused before anything was written */
    assert_stats(gm, 0, 1, 0);

    assert_int_equal(guest_mem_write(gm, end, buf, 0), CIVIC_OK);
    assert_int_equal(guest_mem_write(gm, end - 10, buf, 10), CIVIC_OK);
    uint8_t back[10];
    assert_int_equal(guest_mem_read(gm, end - 10, back, 10), CIVIC_OK);
    assert_memory_equal(back, buf, 10);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_fault_out_of_memory(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    long before = fake.live;

    /* No frame at all. */
    fake.fail_after = 0;
    assert_int_equal(guest_mem_fault(gm, 0x7000, SLAT_W), CIVIC_ENOMEM);
    assert_int_equal(fake.live, before);
    assert_stats(gm, 0, 1, 0);
    const struct page_record *r = guest_mem_record(gm, 7);
    assert_int_equal(r->state, PAGE_ZERO);
    assert_int_equal(r->version, 0);
    assert_int_equal(r->where, 0);

    /* A frame and the PDPT, then no PD: the frame goes back, the PDPT stays (valid, empty). */
    fake.fail_after = 2;
    assert_int_equal(guest_mem_fault(gm, 0x7000, SLAT_W), CIVIC_ENOMEM);
    assert_int_equal(fake.live, before + 1);
    assert_stats(gm, 0, 2, 0);
    assert_int_equal(r->state, PAGE_ZERO);
    assert_int_equal(r->version, 0);
    assert_false(slat_lookup(guest_mem_slat(gm), 0x7000, NULL, NULL));

    /* Writes fail the same way; reads of zero pages still work. */
    fake.fail_after = 0;
    assert_int_equal(guest_mem_write(gm, 0x7000, "a", 1), CIVIC_ENOMEM);
    uint8_t z = 1;
    assert_int_equal(guest_mem_read(gm, 0x7000, &z, 1), CIVIC_OK);
    assert_int_equal(z, 0);

    /* Memory again: the same fault succeeds. */
    fake.fail_after = -1;
    assert_int_equal(guest_mem_fault(gm, 0x7000, SLAT_W), CIVIC_OK);
    assert_int_equal(r->state, PAGE_LOCAL);
    assert_int_equal(r->version, 1);
    assert_stats(gm, 1, 4, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_write_out_of_memory_midway(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    uint8_t data[4200];
    memset(data, 0x3c, sizeof(data));
    fake.fail_after = 4; /* page 0's frame and three tables; nothing for page 1 */
    assert_int_equal(guest_mem_write(gm, 0, data, sizeof(data)), CIVIC_ENOMEM);
    assert_int_equal(guest_mem_record(gm, 0)->state, PAGE_LOCAL);
    assert_int_equal(guest_mem_record(gm, 1)->state, PAGE_ZERO);
    assert_stats(gm, 1, 4, 0);
    uint8_t back[4096];
    assert_int_equal(guest_mem_read(gm, 0, back, sizeof(back)), CIVIC_OK);
    assert_memory_equal(back, data, sizeof(back));
    fake.fail_after = -1;
    assert_int_equal(guest_mem_write(gm, 0, data, sizeof(data)), CIVIC_OK);
    assert_stats(gm, 2, 4, 0);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* Running out at every allocation of create in turn leaks nothing. */
static void test_create_out_of_memory(void **state)
{
    const uint64_t bytes = (1ull << 29) + (1ull << 20); /* 2 directory pages */
    long needed = base_frames(bytes >> 12);
    assert_int_equal(needed, 3 + 513 + 2);
    for (long k = 0; k < needed; k++) {
        struct guest_mem *gm = NULL;
        fake.fail_after = k;
        assert_int_equal(guest_mem_create(&gm, bytes, &fake_guest_src, &caps), CIVIC_ENOMEM);
        assert_null(gm);
        assert_int_equal(fake.live, 0);
    }
    fake.fail_after = needed;
    struct guest_mem *gm = make(bytes);
    assert_int_equal(fake.live, needed);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* Records across record-page and directory-page boundaries are distinct, and destroy returns
 * every frame and table page. */
static void test_large_and_destroy(void **state)
{
    const uint64_t bytes = (1ull << 30) + 4096; /* 262145 pages: 1025 record pages, 3 dirs */
    struct guest_mem *gm = make(bytes);
    assert_int_equal(fake.live, base_frames(bytes >> 12));
    assert_int_equal(fake.live, 3 + 1025 + 3);

    const uint64_t gfns[] = {0, 255, 256, 131071, 131072, 262143, 262144};
    for (size_t i = 0; i < sizeof(gfns) / sizeof(gfns[0]); i++)
        assert_int_equal(guest_mem_fault(gm, gfns[i] << 12, SLAT_R), CIVIC_OK);
    assert_null(guest_mem_record(gm, 262145));
    assert_int_equal(guest_mem_fault(gm, 262145ull << 12, SLAT_R), CIVIC_ERANGE);

    /* Each record names its own frame, the one the EPT maps. */
    for (size_t i = 0; i < sizeof(gfns) / sizeof(gfns[0]); i++) {
        const struct page_record *r = guest_mem_record(gm, gfns[i]);
        assert_int_equal(r->state, PAGE_LOCAL);
        uint64_t hpa;
        assert_true(slat_lookup(guest_mem_slat(gm), gfns[i] << 12, &hpa, NULL));
        assert_int_equal(hpa, r->where << 12);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(guest_mem_record(gm, gfns[j])->where, r->where);
        /* Neighbours in other record pages are untouched. */
        if (gfns[i] + 1 < 262145 && gfns[i] + 1 != gfns[i + 1])
            assert_int_equal(guest_mem_record(gm, gfns[i] + 1)->state, PAGE_ZERO);
    }
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.local_pages, 7);
    assert_int_equal(st.zero_pages, 262145 - 7);
    assert_int_equal(st.faults, 7);
    /* 2 MiB regions touched: 0 (gfn 0, 255, 256), 255 (131071), 256 (131072), 511 (262143),
     * 512 (262144, in the second GiB): 5 PTs, 2 PDs, 1 PDPT, the PML4. */
    assert_int_equal(st.table_pages, 9);

    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
    assert_int_equal(fake.frees, fake.allocs);
}

static void test_destroy_returns_every_frame(void **state)
{
    struct guest_mem *gm = make(64ull << 20);
    uint8_t page[4096];
    memset(page, 0x99, sizeof(page));
    for (uint64_t g = 0; g < 16384; g += 37)
        assert_int_equal(guest_mem_write(gm, g << 12, page, sizeof(page)), CIVIC_OK);
    for (uint64_t g = 1; g < 16384; g += 101)
        guest_mem_fault(gm, g << 12, SLAT_R); /* some are EEXIST: written already */
    struct guest_mem_stats st = stats(gm);
    assert_true(st.local_pages > 500);
    assert_int_equal(fake.live,
                     base_frames(16384) + (long)st.local_pages + (long)st.table_pages - 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
    assert_int_equal(fake.frees, fake.allocs);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fake_frames_setup, fake_frames_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_arguments),
        T(test_create_fresh),
        T(test_fault_lazy),
        T(test_fault_range),
        T(test_fault_refills_cache),
        T(test_read_zero_without_allocating),
        T(test_zero_writes_cost_no_frames),
        T(test_write_across_pages),
        T(test_access_range),
        T(test_fault_out_of_memory),
        T(test_write_out_of_memory_midway),
        T(test_create_out_of_memory),
        T(test_large_and_destroy),
        T(test_destroy_returns_every_frame),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
