// unit-sources: mm/guest_mem.c mm/guest_mem_paging.c mm/page_record.c mm/evict_clock.c arch/x86/ept.c kernel/error.c
#include "tests/unit/fake_frames.h"

#include "arch/x86/ept.h"
#include "mm/evict_clock.h"
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
    assert_int_equal(r->version, 0); /* no copy made anywhere yet */
    assert_int_equal(r->flags, 0);
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
    assert_int_equal(r->version, 0);

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
    assert_int_equal(guest_mem_record(gm, 3)->version, 0);
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
    assert_int_equal(r->version, 0);
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

/* ---- network paging ---- */

/* The EPT leaf entry of gfn, walked by hand from the EPTP (the CPU's view, to set A/D bits). */
static uint64_t *leaf(struct guest_mem *gm, uint64_t gfn)
{
    uint64_t gpa = gfn << 12;
    uint64_t *t = fake_phys_to_virt(&fake, guest_mem_eptp(gm) & EPT_ADDR_MASK);
    const unsigned shifts[] = {EPT_PML4_SHIFT, EPT_PDPT_SHIFT, EPT_PD_SHIFT};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t e = t[EPT_INDEX(gpa, shifts[i])];
        assert_true(e & EPT_READ);
        t = fake_phys_to_virt(&fake, e & EPT_ADDR_MASK);
    }
    uint64_t *e = &t[EPT_INDEX(gpa, EPT_PT_SHIFT)];
    assert_true(*e & EPT_READ);
    return e;
}

/* What the guest does on a write: the CPU sets A and D. */
static void guest_writes(struct guest_mem *gm, uint64_t gfn)
{
    __atomic_fetch_or(leaf(gm, gfn), EPT_ACCESSED | EPT_DIRTY, __ATOMIC_SEQ_CST);
}

static void guest_reads(struct guest_mem *gm, uint64_t gfn)
{
    __atomic_fetch_or(leaf(gm, gfn), EPT_ACCESSED, __ATOMIC_SEQ_CST);
}

static bool mapped(struct guest_mem *gm, uint64_t gfn, uint64_t *hpa)
{
    unsigned perms = 0;
    bool m = slat_lookup(guest_mem_slat(gm), gfn << 12, hpa, &perms);
    if (m)
        assert_int_equal(perms, SLAT_RWX);
    return m;
}

static struct page_record record(const struct guest_mem *gm, uint64_t gfn)
{
    const struct page_record *r = guest_mem_record(gm, gfn);
    assert_non_null(r);
    return *r;
}

/* Test-only: what a pinning loader would do (there is no pinning API yet). */
static void pin(struct guest_mem *gm, uint64_t gfn)
{
    ((struct page_record *)guest_mem_record(gm, gfn))->flags |= PAGE_F_PINNED;
}

static void pattern(uint8_t *page, unsigned seed)
{
    for (unsigned i = 0; i < 4096; i++)
        page[i] = (uint8_t)(i * 131 + seed * 7 + 1 + (i >> 8));
}

/* The checksum the caller computed for a page it evicts: a CLEAN eviction keeps it. */
#define TEST_CRC 0x5eed1234u

static civic_err evict(struct guest_mem *gm, uint64_t gfn, uint8_t h0, uint8_t h1,
                       enum guest_evict_outcome *out, const void **contents, uint8_t freed[2])
{
    *out = (enum guest_evict_outcome)77;
    *contents = (const void *)&fake;
    freed[0] = freed[1] = 0xee;
    return guest_mem_evict(gm, gfn, h0, h1, TEST_CRC, out, contents, freed);
}

/* A page written with pattern(seed), evicted (SEND) to h0/h1 and acknowledged by both: REMOTE. */
static void make_remote(struct guest_mem *gm, uint64_t gfn, unsigned seed, uint8_t h0, uint8_t h1)
{
    uint8_t page[4096];
    pattern(page, seed);
    assert_int_equal(guest_mem_write(gm, gfn << 12, page, sizeof(page)), CIVIC_OK);
    const void *local = guest_mem_local_contents(gm, gfn);
    assert_non_null(local);
    assert_memory_equal(local, page, 4096);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, gfn, h0, h1, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_memory_equal(contents, page, 4096);
    assert_ptr_equal(guest_mem_local_contents(gm, gfn), NULL); /* no longer LOCAL */
    assert_int_equal(guest_mem_evict_done(gm, gfn, 3, TEST_CRC), CIVIC_OK);
    assert_int_equal(record(gm, gfn).state, PAGE_REMOTE);
    assert_int_equal(record(gm, gfn).where, TEST_CRC);
}

/* A REMOTE page fetched back with pattern(seed): LOCAL with COPY. */
static void fetch_back(struct guest_mem *gm, uint64_t gfn, unsigned seed, bool prefetched)
{
    uint8_t page[4096];
    pattern(page, seed);
    assert_int_equal(guest_mem_fetch_begin(gm, gfn), CIVIC_OK);
    assert_int_equal(guest_mem_fetch_done(gm, gfn, page, prefetched), CIVIC_OK);
    struct page_record r = record(gm, gfn);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_true(r.flags & PAGE_F_COPY);
}

static void test_limit(void **state)
{
    struct guest_mem *gm = make(16 * 4096);
    assert_int_equal(guest_mem_limit(gm), 16);
    assert_int_equal(stats(gm).limit_pages, 16);
    guest_mem_set_limit(gm, 0);
    assert_int_equal(guest_mem_limit(gm), 1);
    guest_mem_set_limit(gm, 17);
    assert_int_equal(guest_mem_limit(gm), 16);
    guest_mem_set_limit(gm, ~0ull);
    assert_int_equal(guest_mem_limit(gm), 16);
    guest_mem_set_limit(gm, 3);
    assert_int_equal(guest_mem_limit(gm), 3);
    assert_int_equal(stats(gm).limit_pages, 3);

    assert_int_equal(guest_mem_frames_held(gm), 0);
    for (uint64_t g = 0; g < 3; g++) {
        assert_int_equal(guest_mem_fault(gm, g << 12, SLAT_R), CIVIC_OK);
        assert_int_equal(guest_mem_frames_held(gm), g + 1);
    }
    /* At the limit a first touch waits for an eviction; nothing is allocated. */
    long before = fake.live;
    assert_int_equal(guest_mem_fault(gm, 5 << 12, SLAT_W), CIVIC_EAGAIN);
    assert_int_equal(fake.live, before);
    assert_int_equal(record(gm, 5).state, PAGE_ZERO);
    assert_int_equal(stats(gm).faults, 3);
    /* Mapping a page that is already here again costs no frame: allowed. */
    assert_int_equal(slat_unmap(guest_mem_slat(gm), 0x1000), CIVIC_OK);
    assert_int_equal(guest_mem_fault(gm, 0x1000, SLAT_R), CIVIC_OK);

    /* An evicting page still holds its frame. */
    uint8_t one = 1;
    assert_int_equal(guest_mem_write(gm, 0, &one, 1), CIVIC_OK);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 0, 1, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_int_equal(guest_mem_frames_held(gm), 3);
    assert_int_equal(guest_mem_fault(gm, 5 << 12, SLAT_W), CIVIC_EAGAIN);
    assert_int_equal(guest_mem_evict_done(gm, 0, 1, TEST_CRC), CIVIC_OK);
    assert_int_equal(guest_mem_frames_held(gm), 2);
    assert_int_equal(guest_mem_fault(gm, 5 << 12, SLAT_W), CIVIC_OK);
    assert_int_equal(guest_mem_frames_held(gm), 3);

    /* The hypervisor's own writes (the loader) are not held back by the limit. */
    assert_int_equal(guest_mem_write(gm, 9 << 12, &one, 1), CIVIC_OK);
    assert_int_equal(guest_mem_frames_held(gm), 4);
    /* Raising the limit lets the guest go on. */
    guest_mem_set_limit(gm, 5);
    assert_int_equal(guest_mem_fault(gm, 6 << 12, SLAT_W), CIVIC_OK);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_evict_zero(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    assert_int_equal(guest_mem_fault(gm, 0x4000, SLAT_R), CIVIC_OK);
    assert_int_equal(guest_mem_fault(gm, 0x5000, SLAT_R), CIVIC_OK); /* keeps the tables */
    uint64_t hpa;
    assert_true(mapped(gm, 4, &hpa));
    long before = fake.live;
    guest_reads(gm, 4);

    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 4, 1, 2, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_ZERO);
    assert_null(contents);
    assert_int_equal(freed[0], 0);
    assert_int_equal(freed[1], 0);
    assert_false(fake_is_live(hpa));
    assert_int_equal(fake.live, before - 1);
    assert_false(mapped(gm, 4, NULL));
    struct page_record r = record(gm, 4);
    assert_int_equal(r.state, PAGE_ZERO);
    assert_int_equal(r.where, 0);
    assert_int_equal(r.version, 0);
    assert_int_equal(r.holder[0], 0);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.evict_zero, 1);
    assert_int_equal(st.evict_sent, 0);
    assert_int_equal(st.local_pages, 1);
    assert_int_equal(st.zero_pages, 255);
    assert_int_equal(guest_mem_frames_held(gm), 1);

    /* It comes back as a fresh zero page. */
    assert_int_equal(guest_mem_fault(gm, 0x4000, SLAT_R), CIVIC_OK);
    assert_int_equal(stats(gm).faults, 3);

    /* A page that became zero after its copy was made: the copy is freed too. */
    make_remote(gm, 7, 1, 5, 6);
    static const uint8_t zeros[4096];
    assert_int_equal(guest_mem_fetch_begin(gm, 7), CIVIC_OK);
    assert_int_equal(guest_mem_fetch_done(gm, 7, zeros, false), CIVIC_OK);
    assert_int_equal(evict(gm, 7, 1, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_ZERO);
    assert_int_equal(freed[0], 5);
    assert_int_equal(freed[1], 6);
    r = record(gm, 7);
    assert_int_equal(r.state, PAGE_ZERO);
    assert_int_equal(r.version, 1); /* the version of the freed copy */
    assert_int_equal(r.holder[0], 0);
    assert_int_equal(guest_mem_pages_on_holder(gm, 5), 0);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_evict_send(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    uint8_t page[4096];
    pattern(page, 3);
    assert_int_equal(guest_mem_write(gm, 0x9000, page, sizeof(page)), CIVIC_OK);
    assert_int_equal(guest_mem_fault(gm, 0xa000, SLAT_R), CIVIC_OK); /* keeps the tables */
    uint64_t hpa;
    assert_true(mapped(gm, 9, &hpa));
    long before = fake.live;

    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 9, 4, 8, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_ptr_equal(contents, fake_phys_to_virt(&fake, hpa));
    assert_memory_equal(contents, page, sizeof(page));
    assert_int_equal(freed[0], 0);
    assert_int_equal(freed[1], 0);
    struct page_record r = record(gm, 9);
    assert_int_equal(r.state, PAGE_EVICTING);
    assert_int_equal(r.where << 12, hpa);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.holder[0], 4);
    assert_int_equal(r.holder[1], 8);
    assert_int_equal(r.flags, 0);
    assert_false(mapped(gm, 9, NULL));
    assert_true(fake_is_live(hpa)); /* kept until acknowledged */
    assert_int_equal(fake.live, before);
    assert_int_equal(stats(gm).evicting_pages, 1);
    assert_int_equal(stats(gm).evict_sent, 1);

    /* Not here for the guest or the hypervisor while in flight. */
    assert_int_equal(guest_mem_fault(gm, 0x9000, SLAT_R), CIVIC_EAGAIN);
    uint8_t b;
    assert_int_equal(guest_mem_read(gm, 0x9000, &b, 1), CIVIC_EAGAIN);
    assert_int_equal(guest_mem_write(gm, 0x9000, &b, 1), CIVIC_EAGAIN);
    assert_int_equal(guest_mem_evict_done(gm, 9, 0, TEST_CRC), CIVIC_EINVAL);
    assert_int_equal(record(gm, 9).state, PAGE_EVICTING);

    /* The replica acknowledged only: promoted. The frame goes. */
    assert_int_equal(guest_mem_evict_done(gm, 9, 2, TEST_CRC), CIVIC_OK);
    r = record(gm, 9);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.where, TEST_CRC); /* the acknowledged copy's checksum */
    assert_int_equal(r.version, 1);
    assert_int_equal(r.holder[0], 8);
    assert_int_equal(r.holder[1], 0);
    assert_false(fake_is_live(hpa));
    assert_int_equal(fake.live, before - 1);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.remote_pages, 1);
    assert_int_equal(st.evicting_pages, 0);
    assert_int_equal(st.local_pages, 1);
    assert_int_equal(guest_mem_frames_held(gm), 1);
    assert_int_equal(guest_mem_evict_done(gm, 9, 1, TEST_CRC), CIVIC_EINVAL);
    assert_int_equal(guest_mem_evict_done(gm, 256, 1, TEST_CRC), CIVIC_ERANGE);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_evict_clean_and_dirty(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    make_remote(gm, 2, 5, 1, 2);
    fetch_back(gm, 2, 5, false);
    uint64_t hpa;
    assert_true(mapped(gm, 2, &hpa));
    long before = fake.live;

    /* Read by the guest but not written: the holders' copy is current. */
    guest_reads(gm, 2);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 2, 3, 4, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_CLEAN);
    assert_null(contents);
    assert_int_equal(freed[0], 0);
    assert_int_equal(freed[1], 0);
    struct page_record r = record(gm, 2);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.holder[0], 1); /* the new holders were not needed */
    assert_int_equal(r.holder[1], 2);
    assert_int_equal(r.where, TEST_CRC); /* the page is checked against it when it comes back */
    assert_false(fake_is_live(hpa));
    assert_false(mapped(gm, 2, NULL));
    assert_true(fake.live <= before - 1); /* the frame, and tables left empty */
    assert_int_equal(stats(gm).evict_clean, 1);

    /* Written by the hypervisor: sent again, at a new version. */
    fetch_back(gm, 2, 5, false);
    uint8_t x = 0x5a;
    assert_int_equal(guest_mem_write(gm, 0x2000 + 100, &x, 1), CIVIC_OK);
    assert_true(record(gm, 2).flags & PAGE_F_DIRTY);
    assert_int_equal(evict(gm, 2, 1, 2, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_int_equal(((const uint8_t *)contents)[100], 0x5a);
    assert_int_equal(record(gm, 2).version, 2);
    assert_int_equal(freed[0], 0); /* same holders: the new copy replaces the old */
    assert_int_equal(freed[1], 0);
    assert_int_equal(guest_mem_evict_done(gm, 2, 3, TEST_CRC), CIVIC_OK);

    /* Written by the guest (an EPT D bit): sent again. */
    fetch_back(gm, 2, 6, false);
    assert_int_equal(record(gm, 2).flags, PAGE_F_COPY);
    guest_writes(gm, 2);
    assert_int_equal(evict(gm, 2, 1, 2, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_int_equal(record(gm, 2).version, 3);
    assert_int_equal(guest_mem_evict_done(gm, 2, 3, TEST_CRC), CIVIC_OK);

    /* Sent to other holders: the previous copy's holders are to be freed. */
    fetch_back(gm, 2, 7, false);
    guest_writes(gm, 2);
    assert_int_equal(evict(gm, 2, 2, 9, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_int_equal(freed[0], 1);
    assert_int_equal(freed[1], 0);
    assert_int_equal(guest_mem_evict_done(gm, 2, 3, TEST_CRC), CIVIC_OK);
    fetch_back(gm, 2, 7, false);
    guest_writes(gm, 2);
    assert_int_equal(evict(gm, 2, 5, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(freed[0], 2);
    assert_int_equal(freed[1], 9);
    assert_int_equal(guest_mem_evict_done(gm, 2, 1, TEST_CRC), CIVIC_OK);

    /* Never copied: always sent, even if never written since it was populated. */
    assert_int_equal(guest_mem_write(gm, 0x7000, &x, 1), CIVIC_OK);
    assert_int_equal(record(gm, 7).flags, 0);
    assert_int_equal(evict(gm, 7, 1, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_SEND);
    assert_int_equal(record(gm, 7).version, 1);

    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.evict_sent, 6);
    assert_int_equal(st.evict_clean, 1);
    assert_int_equal(st.fetched, 5);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_evict_without_holder(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    /* Zero and clean pages need no holder. */
    assert_int_equal(guest_mem_fault(gm, 0x1000, SLAT_R), CIVIC_OK);
    assert_int_equal(evict(gm, 1, 0, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_ZERO);
    make_remote(gm, 2, 1, 3, 0);
    fetch_back(gm, 2, 1, false);
    assert_int_equal(evict(gm, 2, 0, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_CLEAN);

    /* A page to send stays, mapped again, with the D bit it had kept in the record. */
    fetch_back(gm, 2, 1, false);
    uint64_t hpa;
    assert_true(mapped(gm, 2, &hpa));
    guest_writes(gm, 2);
    assert_int_equal(evict(gm, 2, 0, 0, &out, &contents, freed), CIVIC_ENOENT);
    assert_int_equal(out, 77);
    assert_int_equal(freed[0], 0xee);
    struct page_record r = record(gm, 2);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.flags, PAGE_F_COPY | PAGE_F_DIRTY);
    assert_int_equal(r.version, 1);
    uint64_t again;
    assert_true(mapped(gm, 2, &again));
    assert_int_equal(again, hpa);
    assert_int_equal(*leaf(gm, 2) & (EPT_ACCESSED | EPT_DIRTY), 0);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.evict_sent, 1);
    assert_int_equal(st.local_pages, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_evict_refusals(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 256, 1, 0, &out, &contents, freed), CIVIC_ERANGE);
    assert_int_equal(evict(gm, 3, 1, 0, &out, &contents, freed), CIVIC_EINVAL); /* ZERO */

    uint8_t x = 9;
    assert_int_equal(guest_mem_write(gm, 0x3000, &x, 1), CIVIC_OK);
    guest_writes(gm, 3);
    const uint8_t bad[][2] = {{0, 5}, {5, 5}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(evict(gm, 3, bad[i][0], bad[i][1], &out, &contents, freed), CIVIC_EINVAL);
        assert_int_equal(out, 77);
        assert_int_equal(freed[0], 0xee);
    }
    assert_int_equal(guest_mem_evict(gm, 3, 1, 0, TEST_CRC, NULL, &contents, freed), CIVIC_EINVAL);
    assert_int_equal(guest_mem_evict(gm, 3, 1, 0, TEST_CRC, &out, NULL, freed), CIVIC_EINVAL);
    assert_int_equal(guest_mem_evict(gm, 3, 1, 0, TEST_CRC, &out, &contents, NULL), CIVIC_EINVAL);
    pin(gm, 3);
    assert_int_equal(evict(gm, 3, 1, 0, &out, &contents, freed), CIVIC_EBUSY);
    /* Nothing moved: still mapped, its D bit still in the EPT. */
    assert_true(mapped(gm, 3, NULL));
    assert_int_equal(*leaf(gm, 3) & EPT_DIRTY, EPT_DIRTY);
    struct page_record r = record(gm, 3);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.flags, PAGE_F_PINNED);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.evict_sent + st.evict_zero + st.evict_clean, 0);

    /* Not LOCAL. */
    make_remote(gm, 4, 1, 1, 0);
    assert_int_equal(evict(gm, 4, 1, 0, &out, &contents, freed), CIVIC_EINVAL);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_evict_abort(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    uint8_t page[4096];
    pattern(page, 9);
    assert_int_equal(guest_mem_write(gm, 0x6000, page, sizeof(page)), CIVIC_OK);
    uint64_t hpa;
    assert_true(mapped(gm, 6, &hpa));
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 6, 1, 2, &out, &contents, freed), CIVIC_OK);
    assert_false(mapped(gm, 6, NULL));
    long before = fake.live;

    assert_int_equal(guest_mem_evict_abort(gm, 6), CIVIC_OK);
    uint64_t again;
    assert_true(mapped(gm, 6, &again));
    assert_int_equal(again, hpa);
    struct page_record r = record(gm, 6);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.flags, PAGE_F_DIRTY);
    assert_int_equal(r.holder[0], 0);
    assert_int_equal(r.holder[1], 0);
    assert_int_equal(r.version, 1);
    assert_true(fake.live >= before); /* tables may come back; the frame was never freed */
    uint8_t back[4096];
    assert_int_equal(guest_mem_read(gm, 0x6000, back, sizeof(back)), CIVIC_OK);
    assert_memory_equal(back, page, sizeof(page));
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.local_pages, 1);
    assert_int_equal(st.evicting_pages, 0);
    assert_int_equal(guest_mem_fault(gm, 0x6000, SLAT_W), CIVIC_EEXIST);

    assert_int_equal(guest_mem_evict_abort(gm, 6), CIVIC_EINVAL);
    assert_int_equal(guest_mem_evict_abort(gm, 7), CIVIC_EINVAL);
    assert_int_equal(guest_mem_evict_abort(gm, 1 << 20), CIVIC_ERANGE);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_fetch(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    make_remote(gm, 12, 1, 1, 2);
    assert_int_equal(guest_mem_fetch_done(gm, 12, "x", false), CIVIC_EINVAL); /* not asked */
    assert_int_equal(guest_mem_fetch_abort(gm, 12), CIVIC_EINVAL);
    assert_int_equal(guest_mem_fetch_begin(gm, 12), CIVIC_OK);
    assert_int_equal(guest_mem_fetch_begin(gm, 12), CIVIC_EINVAL);
    struct page_record r = record(gm, 12);
    assert_int_equal(r.state, PAGE_FETCHING);
    assert_int_equal(stats(gm).fetching_pages, 1);
    assert_int_equal(stats(gm).remote_pages, 0);
    assert_int_equal(guest_mem_fault(gm, 12 << 12, SLAT_R), CIVIC_EAGAIN);

    /* Refused: back to REMOTE, then asked again. */
    assert_int_equal(guest_mem_fetch_abort(gm, 12), CIVIC_OK);
    assert_int_equal(record(gm, 12).state, PAGE_REMOTE);
    assert_int_equal(stats(gm).remote_pages, 1);
    assert_int_equal(guest_mem_fetch_begin(gm, 12), CIVIC_OK);

    uint8_t page[4096];
    pattern(page, 42);
    assert_int_equal(guest_mem_fetch_done(gm, 12, NULL, false), CIVIC_EINVAL);
    long before = fake.live;
    assert_int_equal(guest_mem_fetch_done(gm, 12, page, false), CIVIC_OK);
    assert_true(fake.live > before);
    uint64_t hpa;
    assert_true(mapped(gm, 12, &hpa));
    assert_memory_equal(fake_phys_to_virt(&fake, hpa), page, 4096);
    r = record(gm, 12);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.where << 12, hpa);
    assert_int_equal(r.flags, PAGE_F_COPY);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.holder[0], 1);
    assert_int_equal(r.holder[1], 2);
    assert_int_equal(guest_mem_fault(gm, 12 << 12, SLAT_R), CIVIC_EEXIST);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.fetched, 1);
    assert_int_equal(st.faults, 0);
    assert_int_equal(st.prefetch_used, 0);
    assert_int_equal(guest_mem_fetch_begin(gm, 1 << 20), CIVIC_ERANGE);
    assert_int_equal(guest_mem_fetch_done(gm, 256, page, false), CIVIC_ERANGE);
    assert_int_equal(guest_mem_fetch_abort(gm, 256), CIVIC_ERANGE);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_fetch_prefetched(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    make_remote(gm, 20, 1, 1, 0);
    make_remote(gm, 21, 2, 1, 0);
    fetch_back(gm, 20, 1, true);
    fetch_back(gm, 21, 2, true);
    /* Installed but not mapped, so that the first touch is seen. */
    assert_false(mapped(gm, 20, NULL));
    assert_int_equal(record(gm, 20).flags, PAGE_F_COPY | PAGE_F_PREFETCHED);
    uint8_t back[4096], page[4096];
    pattern(page, 1);
    assert_int_equal(guest_mem_read(gm, 20 << 12, back, sizeof(back)), CIVIC_OK);
    assert_memory_equal(back, page, 4096);

    assert_int_equal(guest_mem_fault(gm, (20 << 12) + 8, SLAT_R), CIVIC_OK);
    uint64_t hpa;
    assert_true(mapped(gm, 20, &hpa));
    assert_int_equal(hpa, record(gm, 20).where << 12);
    assert_int_equal(record(gm, 20).flags, PAGE_F_COPY);
    assert_int_equal(stats(gm).prefetch_used, 1);
    assert_int_equal(guest_mem_fault(gm, 20 << 12, SLAT_R), CIVIC_EEXIST);
    assert_int_equal(stats(gm).prefetch_used, 1);

    /* Evicted untouched: wasted read-ahead, and still clean. */
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 21, 1, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(out, GUEST_EVICT_CLEAN);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.prefetch_wasted, 1);
    assert_int_equal(st.prefetch_used, 1);
    assert_int_equal(st.fetched, 2);
    /* The used one is not wasted when evicted. */
    assert_int_equal(evict(gm, 20, 1, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(stats(gm).prefetch_wasted, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_fetch_done_out_of_memory(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    make_remote(gm, 30, 1, 1, 0); /* its EPT tables went with it */
    assert_int_equal(guest_mem_fetch_begin(gm, 30), CIVIC_OK);
    uint8_t page[4096];
    pattern(page, 1);
    long before = fake.live;
    struct page_record r = record(gm, 30);

    fake.fail_after = 0; /* no frame */
    assert_int_equal(guest_mem_fetch_done(gm, 30, page, false), CIVIC_ENOMEM);
    assert_int_equal(fake.live, before);
    assert_memory_equal(guest_mem_record(gm, 30), &r, sizeof(r));
    fake.fail_after = 1; /* a frame, no EPT table */
    assert_int_equal(guest_mem_fetch_done(gm, 30, page, false), CIVIC_ENOMEM);
    assert_memory_equal(guest_mem_record(gm, 30), &r, sizeof(r));
    assert_int_equal(stats(gm).fetching_pages, 1);
    assert_int_equal(stats(gm).fetched, 0);
    assert_false(mapped(gm, 30, NULL));
    fake.fail_after = 0; /* a prefetched page needs no table, but a frame */
    assert_int_equal(guest_mem_fetch_done(gm, 30, page, true), CIVIC_ENOMEM);
    assert_memory_equal(guest_mem_record(gm, 30), &r, sizeof(r));

    fake.fail_after = -1;
    assert_int_equal(guest_mem_fetch_done(gm, 30, page, false), CIVIC_OK);
    assert_true(mapped(gm, 30, NULL));
    assert_int_equal(stats(gm).fetched, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_fault_not_here(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    make_remote(gm, 1, 1, 1, 0);
    make_remote(gm, 2, 2, 1, 0);
    assert_int_equal(guest_mem_fetch_begin(gm, 2), CIVIC_OK);
    uint8_t x = 3;
    assert_int_equal(guest_mem_write(gm, 3 << 12, &x, 1), CIVIC_OK);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    assert_int_equal(evict(gm, 3, 1, 0, &out, &contents, freed), CIVIC_OK);

    const uint64_t gfns[] = {1, 2, 3};
    const uint8_t states[] = {PAGE_REMOTE, PAGE_FETCHING, PAGE_EVICTING};
    long before = fake.live;
    for (size_t i = 0; i < 3; i++) {
        struct page_record r = record(gm, gfns[i]);
        assert_int_equal(r.state, states[i]);
        assert_int_equal(guest_mem_fault(gm, gfns[i] << 12, SLAT_R), CIVIC_EAGAIN);
        assert_int_equal(guest_mem_fault(gm, (gfns[i] << 12) + 0xfff, SLAT_W), CIVIC_EAGAIN);
        uint8_t buf[8] = {0};
        assert_int_equal(guest_mem_read(gm, gfns[i] << 12, buf, 8), CIVIC_EAGAIN);
        assert_int_equal(guest_mem_write(gm, gfns[i] << 12, buf, 8), CIVIC_EAGAIN);
        /* A zero-filled write too: it is not a ZERO page. */
        assert_memory_equal(guest_mem_record(gm, gfns[i]), &r, sizeof(r));
    }
    assert_int_equal(fake.live, before);
    /* A read across into a page that is not here stops there. */
    uint8_t buf[2];
    assert_int_equal(guest_mem_read(gm, 0xfff, buf, 2), CIVIC_EAGAIN);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* Writes by the hypervisor to a page with a copy mark it dirty; without a copy there is nothing
 * to invalidate. */
static void test_write_marks_dirty(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    uint8_t x = 1;
    assert_int_equal(guest_mem_write(gm, 0x1000, &x, 1), CIVIC_OK);
    assert_int_equal(record(gm, 1).flags, 0);
    make_remote(gm, 2, 1, 1, 0);
    fetch_back(gm, 2, 1, false);
    assert_int_equal(record(gm, 2).flags, PAGE_F_COPY);
    uint8_t back;
    assert_int_equal(guest_mem_read(gm, 0x2000, &back, 1), CIVIC_OK);
    assert_int_equal(record(gm, 2).flags, PAGE_F_COPY); /* reading does not */
    assert_int_equal(guest_mem_write(gm, 0x2fff, &x, 1), CIVIC_OK);
    assert_int_equal(record(gm, 2).flags, PAGE_F_COPY | PAGE_F_DIRTY);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

static void test_holder_lost(void **state)
{
    struct guest_mem *gm = make(1 << 20);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    uint8_t x = 1;
    make_remote(gm, 10, 1, 1, 2); /* REMOTE on 1, 2 */
    make_remote(gm, 11, 2, 1, 0); /* REMOTE on 1 only */
    make_remote(gm, 12, 3, 2, 0); /* REMOTE on 2 only */
    make_remote(gm, 13, 4, 1, 0); /* FETCHING from 1 only */
    assert_int_equal(guest_mem_fetch_begin(gm, 13), CIVIC_OK);
    make_remote(gm, 14, 5, 1, 0); /* LOCAL with a copy on 1 */
    fetch_back(gm, 14, 5, false);
    assert_int_equal(guest_mem_write(gm, 15 << 12, &x, 1), CIVIC_OK); /* EVICTING to 1 only */
    assert_int_equal(evict(gm, 15, 1, 0, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(guest_mem_write(gm, 16 << 12, &x, 1), CIVIC_OK); /* EVICTING to 2, 1 */
    assert_int_equal(evict(gm, 16, 2, 1, &out, &contents, freed), CIVIC_OK);
    assert_int_equal(guest_mem_fault(gm, 17 << 12, SLAT_R), CIVIC_OK); /* LOCAL, no copy */

    assert_int_equal(guest_mem_pages_on_holder(gm, 1), 6);
    assert_int_equal(guest_mem_pages_on_holder(gm, 2), 3);
    assert_int_equal(guest_mem_pages_on_holder(gm, 3), 0);
    assert_int_equal(guest_mem_pages_on_holder(gm, 0), 0);
    assert_int_equal(guest_mem_holder_lost(gm, 0), 0);
    assert_int_equal(guest_mem_holder_lost(gm, 3), 0);
    long before = fake.live;

    assert_int_equal(guest_mem_holder_lost(gm, 1), 2); /* 11 and 13 */
    assert_int_equal(guest_mem_pages_on_holder(gm, 1), 0);
    assert_int_equal(guest_mem_pages_on_holder(gm, 2), 3);
    struct page_record r = record(gm, 10);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.holder[0], 2);
    assert_int_equal(r.holder[1], 0);
    r = record(gm, 11);
    assert_int_equal(r.state, PAGE_REMOTE);
    assert_int_equal(r.holder[0], 0);
    assert_true(page_is_lost(&r));
    r = record(gm, 12);
    assert_int_equal(r.holder[0], 2);
    assert_false(page_is_lost(&r));
    r = record(gm, 13);
    assert_int_equal(r.state, PAGE_FETCHING);
    assert_true(page_is_lost(&r));
    r = record(gm, 14);
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.flags, 0); /* no copy left */
    assert_int_equal(r.holder[0], 0);
    r = record(gm, 15); /* its only holder gone: aborted, the guest can use it again */
    assert_int_equal(r.state, PAGE_LOCAL);
    assert_int_equal(r.flags, PAGE_F_DIRTY);
    assert_true(mapped(gm, 15, NULL));
    r = record(gm, 16); /* the primary is left */
    assert_int_equal(r.state, PAGE_EVICTING);
    assert_int_equal(r.holder[0], 2);
    assert_int_equal(r.holder[1], 0);
    assert_int_equal(record(gm, 17).flags, 0);
    for (uint64_t g = 0; g < 256; g++)
        assert_int_equal(page_check(guest_mem_record(gm, g)), CIVIC_OK);
    assert_true(fake.live >= before); /* no frame freed */

    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.lost_pages, 2);
    assert_int_equal(st.remote_pages, 3);
    assert_int_equal(st.fetching_pages, 1);
    assert_int_equal(st.evicting_pages, 1);
    assert_int_equal(st.local_pages, 3);
    assert_int_equal(guest_mem_holder_lost(gm, 1), 0); /* again: nothing */
    assert_int_equal(stats(gm).lost_pages, 2);

    /* A lost page cannot be fetched; one whose data arrives anyway is found. */
    assert_int_equal(guest_mem_fetch_begin(gm, 11), CIVIC_EIO);
    assert_int_equal(record(gm, 11).state, PAGE_REMOTE);
    uint8_t page[4096];
    pattern(page, 4);
    assert_int_equal(guest_mem_fetch_done(gm, 13, page, false), CIVIC_OK);
    assert_int_equal(record(gm, 13).flags, 0);
    assert_int_equal(stats(gm).lost_pages, 1);

    /* The second holder goes too: everything it had is lost, the evicting one aborted. */
    assert_int_equal(guest_mem_holder_lost(gm, 2), 2); /* 10 and 12 */
    st = stats(gm);
    assert_int_equal(st.lost_pages, 3);
    assert_int_equal(st.evicting_pages, 0);
    assert_int_equal(record(gm, 16).state, PAGE_LOCAL);
    assert_int_equal(guest_mem_pages_on_holder(gm, 2), 0);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* The CLOCK policy over a real guest memory and its EPT. */
static void test_clock_ops(void **state)
{
    struct guest_mem *gm = make(16 * 4096);
    const struct evict_clock_ops *ops = guest_mem_clock_ops();
    assert_non_null(ops);
    uint8_t x = 1;
    for (uint64_t g = 0; g < 6; g++)
        assert_int_equal(guest_mem_write(gm, g << 12, &x, 1), CIVIC_OK);
    pin(gm, 5);
    make_remote(gm, 8, 1, 1, 0);
    make_remote(gm, 9, 2, 1, 0);
    fetch_back(gm, 9, 2, true); /* prefetched, unmapped: cold */
    guest_reads(gm, 0);
    guest_writes(gm, 1);
    guest_writes(gm, 2);
    guest_reads(gm, 5);
    *leaf(gm, 2) &= ~EPT_ACCESSED; /* a D without A (the CPU sets both; still honoured) */

    struct evict_clock c;
    evict_clock_init(&c, guest_mem_size(gm) / 4096);
    struct evict_victim v[16];
    bool inv = false;
    size_t n = evict_clock_select(&c, ops, gm, v, 16, 100, &inv);
    assert_true(inv);
    /* 0, 1 accessed: spared. 2: dirty, cold. 3, 4 cold. 5 pinned, 6-7 zero, 8 remote, 9 cold. */
    assert_int_equal(n, 4);
    assert_int_equal(v[0].gfn, 2);
    assert_true(v[0].dirty);
    assert_int_equal(v[1].gfn, 3);
    assert_false(v[1].dirty);
    assert_int_equal(v[2].gfn, 4);
    assert_int_equal(v[3].gfn, 9);
    assert_false(v[3].dirty);
    /* The D bits cleared were kept in the records; the pinned page's bits untouched. */
    assert_int_equal(record(gm, 1).flags, PAGE_F_DIRTY);
    assert_int_equal(record(gm, 2).flags, PAGE_F_DIRTY);
    assert_int_equal(record(gm, 0).flags, 0);
    assert_int_equal(*leaf(gm, 0) & (EPT_ACCESSED | EPT_DIRTY), 0);
    assert_int_equal(*leaf(gm, 5) & EPT_ACCESSED, EPT_ACCESSED);

    /* The victims go: 2, 3, 4 sent (never copied), 9 clean (prefetched, wasted). */
    guest_mem_invalidate(gm);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(evict(gm, v[i].gfn, 1, 0, &out, &contents, freed), CIVIC_OK);
        assert_int_equal(out, v[i].gfn == 9 ? GUEST_EVICT_CLEAN : GUEST_EVICT_SEND);
    }
    assert_int_equal(stats(gm).prefetch_wasted, 1);

    /* Next lap: 0 and 1 are cold now. */
    n = evict_clock_select(&c, ops, gm, v, 16, 100, &inv);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].gfn, 0);
    assert_false(v[0].dirty);
    assert_int_equal(v[1].gfn, 1);
    assert_true(v[1].dirty);
    assert_false(inv);

    /* Beyond RAM the ops answer safely. */
    uint8_t flags = 0xff;
    assert_int_equal(ops->state(gm, 16, &flags), PAGE_ZERO);
    assert_int_equal(flags, 0);
    bool a, d;
    assert_int_equal(ops->test_and_clear_ad(gm, 16, &a, &d), CIVIC_ERANGE);
    ops->note_dirty(gm, 16);
    assert_int_equal(ops->state(gm, 5, &flags), PAGE_LOCAL);
    assert_int_equal(flags, PAGE_F_PINNED);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
}

/* Destroying a VM with pages in every state returns every frame. */
static void test_teardown_every_state(void **state)
{
    long start = fake.live;
    struct guest_mem *gm = make(1 << 20);
    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    uint8_t x = 1;
    assert_int_equal(guest_mem_fault(gm, 0x1000, SLAT_R), CIVIC_OK); /* LOCAL */
    make_remote(gm, 2, 1, 1, 2);                                     /* REMOTE */
    make_remote(gm, 3, 2, 1, 0);
    assert_int_equal(guest_mem_fetch_begin(gm, 3), CIVIC_OK); /* FETCHING */
    assert_int_equal(guest_mem_write(gm, 4 << 12, &x, 1), CIVIC_OK);
    assert_int_equal(evict(gm, 4, 1, 0, &out, &contents, freed), CIVIC_OK); /* EVICTING */
    make_remote(gm, 5, 3, 1, 0);
    fetch_back(gm, 5, 3, true); /* prefetched */
    make_remote(gm, 6, 4, 2, 0);
    fetch_back(gm, 6, 4, false); /* LOCAL + COPY */
    make_remote(gm, 7, 5, 3, 0);
    assert_int_equal(guest_mem_holder_lost(gm, 3), 1); /* lost */
    assert_int_equal(guest_mem_write(gm, 255 << 12, &x, 1), CIVIC_OK);
    pin(gm, 255); /* pinned */
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.local_pages, 4);
    assert_int_equal(st.evicting_pages, 1);
    assert_int_equal(st.fetching_pages, 1);
    assert_int_equal(st.remote_pages, 2);
    assert_int_equal(st.lost_pages, 1);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, start);
    assert_int_equal(fake.frees, fake.allocs);
}

/* Every counter, after a known sequence; the per-state counts always add up. */
static void test_stats(void **state)
{
    struct guest_mem *gm = make(64 * 4096);
    struct guest_mem_stats st = stats(gm);
    assert_int_equal(st.ram_pages, 64);
    assert_int_equal(st.zero_pages, 64);
    assert_int_equal(st.local_pages + st.remote_pages + st.evicting_pages + st.fetching_pages +
                         st.faults + st.evict_sent + st.evict_zero + st.evict_clean + st.fetched +
                         st.prefetch_used + st.prefetch_wasted + st.lost_pages,
                     0);
    assert_int_equal(st.limit_pages, 64);
    assert_int_equal(st.table_pages, 1);

    enum guest_evict_outcome out;
    const void *contents;
    uint8_t freed[2];
    for (uint64_t g = 0; g < 4; g++)
        assert_int_equal(guest_mem_fault(gm, g << 12, SLAT_R), CIVIC_OK);
    assert_int_equal(evict(gm, 0, 1, 0, &out, &contents, freed), CIVIC_OK);  /* zero */
    make_remote(gm, 10, 1, 1, 0);                                            /* sent */
    make_remote(gm, 11, 2, 1, 0);                                            /* sent */
    fetch_back(gm, 10, 1, false);                                            /* fetched */
    fetch_back(gm, 11, 2, true);                                             /* fetched */
    assert_int_equal(guest_mem_fault(gm, 11 << 12, SLAT_R), CIVIC_OK);       /* used */
    assert_int_equal(evict(gm, 10, 1, 0, &out, &contents, freed), CIVIC_OK); /* clean */
    make_remote(gm, 12, 3, 2, 0);                                            /* sent */
    fetch_back(gm, 12, 3, true);                                             /* fetched */
    assert_int_equal(evict(gm, 12, 1, 0, &out, &contents, freed), CIVIC_OK); /* wasted */
    make_remote(gm, 13, 4, 4, 0);                                            /* sent */
    assert_int_equal(guest_mem_holder_lost(gm, 4), 1);                       /* lost */
    uint8_t x = 1;
    assert_int_equal(guest_mem_write(gm, 14 << 12, &x, 1), CIVIC_OK);
    assert_int_equal(evict(gm, 14, 1, 0, &out, &contents, freed), CIVIC_OK); /* evicting */
    make_remote(gm, 15, 5, 1, 0);
    assert_int_equal(guest_mem_fetch_begin(gm, 15), CIVIC_OK); /* fetching */
    guest_mem_set_limit(gm, 40);

    st = stats(gm);
    assert_int_equal(st.ram_pages, 64);
    assert_int_equal(st.local_pages, 4);    /* 1, 2, 3, 11 */
    assert_int_equal(st.remote_pages, 3);   /* 10, 12, 13 */
    assert_int_equal(st.evicting_pages, 1); /* 14 */
    assert_int_equal(st.fetching_pages, 1); /* 15 */
    assert_int_equal(st.zero_pages, 64 - 9);
    assert_int_equal(st.lost_pages, 1);
    assert_int_equal(st.faults, 4);
    assert_int_equal(st.evict_sent, 6);
    assert_int_equal(st.evict_zero, 1);
    assert_int_equal(st.evict_clean, 2);
    assert_int_equal(st.fetched, 3);
    assert_int_equal(st.prefetch_used, 1);
    assert_int_equal(st.prefetch_wasted, 1);
    assert_int_equal(st.limit_pages, 40);
    assert_int_equal(st.table_pages, 4);
    assert_int_equal(guest_mem_frames_held(gm), 5);

    /* The counts are what the records say. */
    uint64_t per_state[PAGE_STATES] = {0};
    for (uint64_t g = 0; g < 64; g++)
        per_state[record(gm, g).state]++;
    assert_int_equal(per_state[PAGE_ZERO], st.zero_pages);
    assert_int_equal(per_state[PAGE_LOCAL], st.local_pages);
    assert_int_equal(per_state[PAGE_REMOTE], st.remote_pages);
    assert_int_equal(per_state[PAGE_EVICTING], st.evicting_pages);
    assert_int_equal(per_state[PAGE_FETCHING], st.fetching_pages);
    guest_mem_destroy(gm);
    assert_int_equal(fake.live, 0);
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
        T(test_limit),
        T(test_evict_zero),
        T(test_evict_send),
        T(test_evict_clean_and_dirty),
        T(test_evict_without_holder),
        T(test_evict_refusals),
        T(test_evict_abort),
        T(test_fetch),
        T(test_fetch_prefetched),
        T(test_fetch_done_out_of_memory),
        T(test_fault_not_here),
        T(test_write_marks_dirty),
        T(test_holder_lost),
        T(test_clock_ops),
        T(test_teardown_every_state),
        T(test_stats),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
