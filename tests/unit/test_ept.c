// unit-sources: arch/x86/ept.c kernel/error.c
#include "tests/unit/fake_frames.h"

#include "arch/x86/ept.h"
#include "kernel/arch_slat.h"

static const struct slat_caps with_ad = {.accessed_dirty = true};
static const struct slat_caps without_ad = {.accessed_dirty = false};

/* A guest-physical address with a different index at every level: PML4 3, PDPT 5, PD 7, PT 9. */
#define GPA_3579 ((3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12))

static struct slat *make(const struct slat_caps *caps)
{
    struct slat *s = NULL;
    assert_int_equal(slat_create(&s, &fake_slat_src, caps), CIVIC_OK);
    assert_non_null(s);
    return s;
}

static uint64_t *table(uint64_t entry)
{
    return fake_phys_to_virt(&fake, entry & EPT_ADDR_MASK);
}

/* The PT entry for gpa, walked by hand from the EPTP. */
static uint64_t *leaf_entry(const struct slat *s, uint64_t gpa)
{
    uint64_t *t = table(slat_root_pointer(s));
    const unsigned shifts[] = {EPT_PML4_SHIFT, EPT_PDPT_SHIFT, EPT_PD_SHIFT};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t e = t[EPT_INDEX(gpa, shifts[i])];
        assert_int_equal(e & ~EPT_ADDR_MASK & ~(EPT_ACCESSED), EPT_RWX);
        assert_true(fake_is_live(e & EPT_ADDR_MASK));
        t = table(e);
    }
    return &t[EPT_INDEX(gpa, EPT_PT_SHIFT)];
}

static void test_header_bits(void **state)
{
    assert_int_equal(EPT_READ | EPT_WRITE | EPT_EXECUTE, 7);
    assert_int_equal(EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT, 0x30);
    assert_int_equal(EPT_IGNORE_PAT, 0x40);
    assert_int_equal(EPT_PAGE_SIZE, 0x80);
    assert_int_equal(EPT_ACCESSED, 0x100);
    assert_int_equal(EPT_DIRTY, 0x200);
    assert_int_equal(EPTP_AD_ENABLE, 0x40);
    assert_int_equal(3ull << EPTP_WALK_LENGTH_SHIFT, 0x18);
    assert_int_equal(EPT_INDEX(GPA_3579, EPT_PML4_SHIFT), 3);
    assert_int_equal(EPT_INDEX(GPA_3579, EPT_PT_SHIFT), 9);
}

static void test_create_destroy(void **state)
{
    struct slat *s = make(&with_ad);
    assert_int_equal(slat_table_pages(s), 1);
    assert_int_equal(fake.live, 2); /* the structure and the PML4 */
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
    slat_destroy(NULL);
}

static void test_create_errors(void **state)
{
    struct slat *s = NULL;
    struct slat_frame_source bad = fake_slat_src;
    bad.phys_to_virt = NULL;
    assert_int_equal(slat_create(&s, &bad, &with_ad), CIVIC_EINVAL);
    assert_int_equal(slat_create(&s, NULL, &with_ad), CIVIC_EINVAL);
    assert_int_equal(slat_create(NULL, &fake_slat_src, &with_ad), CIVIC_EINVAL);

    fake.fail_after = 0;
    assert_int_equal(slat_create(&s, &fake_slat_src, &with_ad), CIVIC_ENOMEM);
    fake.fail_after = 1;
    assert_int_equal(slat_create(&s, &fake_slat_src, &with_ad), CIVIC_ENOMEM);
    assert_int_equal(fake.live, 0);
    assert_null(s);
}

static void test_eptp_value(void **state)
{
    /* The second frame of the source is the PML4. */
    struct slat *s = make(&with_ad);
    assert_int_equal(slat_root_pointer(s), (FAKE_FRAMES_BASE + 0x1000) | 0x5e);
    slat_destroy(s);
    assert_int_equal(fake.live, 0);

    struct slat *t = make(&without_ad);
    uint64_t eptp = slat_root_pointer(t);
    assert_int_equal(eptp & 0xfff, 0x1e); /* WB (6), walk length 4 - 1, no A/D */
    assert_true(fake_is_live(eptp & EPTP_ADDR_MASK));
    slat_destroy(t);
    assert_int_equal(fake.live, 0);
    struct slat *n = make(NULL); /* no caps: no A/D */
    assert_int_equal(slat_root_pointer(n) & EPTP_AD_ENABLE, 0);
    slat_destroy(n);
    assert_int_equal(fake.live, 0);
}

static void test_map_lookup_walk(void **state)
{
    struct slat *s = make(&with_ad);
    const uint64_t hpa = 0x000fedcba9876000ull; /* the highest address bits are kept */
    assert_int_equal(slat_map(s, GPA_3579, hpa, SLAT_R | SLAT_W), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 4);
    assert_int_equal(fake.live, 5);

    uint64_t got = 0;
    unsigned perms = 0;
    assert_true(slat_lookup(s, GPA_3579, &got, &perms));
    assert_int_equal(got, hpa);
    assert_int_equal(perms, SLAT_R | SLAT_W);
    assert_true(slat_lookup(s, GPA_3579, NULL, NULL));
    /* The neighbours, and addresses that share only upper levels, are not mapped. */
    assert_false(slat_lookup(s, GPA_3579 + 0x1000, &got, &perms));
    assert_false(slat_lookup(s, GPA_3579 - 0x1000, &got, &perms));
    assert_false(slat_lookup(s, GPA_3579 ^ (1ull << 21), &got, &perms));
    assert_false(slat_lookup(s, GPA_3579 ^ (1ull << 30), &got, &perms));
    assert_false(slat_lookup(s, GPA_3579 ^ (1ull << 39), &got, &perms));
    assert_false(slat_lookup(s, 0, &got, &perms));
    assert_false(slat_lookup(s, 1ull << 48, &got, &perms));

    /* The leaf: address, write-back, read and write, no IPAT, A/D clear. */
    uint64_t *e = leaf_entry(s, GPA_3579);
    assert_int_equal(*e, hpa | (6ull << 3) | EPT_READ | EPT_WRITE);

    /* Only the indices the address selects are filled at each level. */
    uint64_t *pml4 = table(slat_root_pointer(s));
    for (unsigned i = 0; i < EPT_ENTRIES; i++)
        assert_int_equal(pml4[i] != 0, i == 3);
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
}

static void test_tables_shared_and_counted(void **state)
{
    struct slat *s = make(&with_ad);
    assert_int_equal(slat_map(s, 0x0, 0x100000, SLAT_RWX), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 4);
    assert_int_equal(slat_map(s, 0x1ff000, 0x101000, SLAT_RWX), CIVIC_OK); /* same PT */
    assert_int_equal(slat_table_pages(s), 4);
    assert_int_equal(slat_map(s, 0x200000, 0x102000, SLAT_RWX), CIVIC_OK); /* new PT */
    assert_int_equal(slat_table_pages(s), 5);
    assert_int_equal(slat_map(s, 1ull << 30, 0x103000, SLAT_RWX), CIVIC_OK); /* new PD + PT */
    assert_int_equal(slat_table_pages(s), 7);
    /* The last page of the 48-bit space: a new PDPT, PD and PT. */
    assert_int_equal(slat_map(s, (1ull << 48) - 0x1000, 0x104000, SLAT_R | SLAT_X), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 10);
    assert_int_equal(fake.live, 11);

    unsigned perms;
    uint64_t hpa;
    assert_true(slat_lookup(s, (1ull << 48) - 0x1000, &hpa, &perms));
    assert_int_equal(hpa, 0x104000);
    assert_int_equal(perms, SLAT_R | SLAT_X);
    assert_true(slat_lookup(s, 0x1ff000, &hpa, NULL));
    assert_int_equal(hpa, 0x101000);

    /* Unmapping frees the tables it leaves empty, and only those: the PT of 0x200000 goes; the
     * far page takes its PT, PD and PDPT with it; a PT still holding a mapping stays. */
    assert_int_equal(slat_unmap(s, 0x200000), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 9);
    assert_int_equal(slat_unmap(s, (1ull << 48) - 0x1000), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 6);
    assert_int_equal(fake.live, 7);
    assert_int_equal(slat_unmap(s, 0x0), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 6); /* 0x1ff000 still lives in that PT */
    assert_true(slat_lookup(s, 0x1ff000, &hpa, NULL));
    /* Mapping again rebuilds what was freed. */
    assert_int_equal(slat_map(s, 0x200000, 0x102000, SLAT_RWX), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 7);
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
    assert_int_equal(fake.frees, fake.allocs);
}

static void test_errors(void **state)
{
    struct slat *s = make(&with_ad);
    assert_int_equal(slat_map(s, 0x5000, 0x9000, SLAT_RWX), CIVIC_OK);
    assert_int_equal(slat_map(s, 0x5000, 0xa000, SLAT_RWX), CIVIC_EEXIST);
    uint64_t hpa;
    assert_true(slat_lookup(s, 0x5000, &hpa, NULL));
    assert_int_equal(hpa, 0x9000); /* the first mapping stays */

    assert_int_equal(slat_map(s, 1ull << 48, 0x9000, SLAT_RWX), CIVIC_ERANGE);
    assert_int_equal(slat_map(s, ~0xfffull, 0x9000, SLAT_RWX), CIVIC_ERANGE);
    assert_int_equal(slat_unmap(s, 1ull << 48), CIVIC_ERANGE);
    assert_int_equal(slat_map(s, 0x6001, 0x9000, SLAT_RWX), CIVIC_EINVAL);
    assert_int_equal(slat_map(s, 0x6000, 0x9800, SLAT_RWX), CIVIC_EINVAL);
    assert_int_equal(slat_map(s, 0x6000, 1ull << 52, SLAT_RWX), CIVIC_EINVAL);
    assert_int_equal(slat_map(s, 0x6000, 0x9000, 0), CIVIC_EINVAL);
    assert_int_equal(slat_map(s, 0x6000, 0x9000, SLAT_W), CIVIC_EINVAL); /* misconfig */
    assert_int_equal(slat_map(s, 0x6000, 0x9000, SLAT_X), CIVIC_EINVAL); /* exec-only */
    assert_int_equal(slat_map(s, 0x6000, 0x9000, SLAT_RWX | 8), CIVIC_EINVAL);
    assert_false(slat_lookup(s, 0x6000, NULL, NULL));

    assert_int_equal(slat_unmap(s, 0x6000), CIVIC_ENOENT);     /* tables exist */
    assert_int_equal(slat_unmap(s, 1ull << 40), CIVIC_ENOENT); /* tables do not */
    assert_int_equal(slat_unmap(s, 0x5000), CIVIC_OK);
    assert_int_equal(slat_unmap(s, 0x5000), CIVIC_ENOENT);
    assert_false(slat_lookup(s, 0x5000, NULL, NULL));
    assert_int_equal(slat_map(s, 0x5000, 0xb000, SLAT_R), CIVIC_OK); /* and map again */
    assert_true(slat_lookup(s, 0x5000, &hpa, NULL));
    assert_int_equal(hpa, 0xb000);

    bool a, d;
    assert_int_equal(slat_test_and_clear_ad(s, 0x6000, &a, &d), CIVIC_ENOENT);
    assert_int_equal(slat_test_and_clear_ad(s, 1ull << 40, &a, &d), CIVIC_ENOENT);
    assert_int_equal(slat_test_and_clear_ad(s, 1ull << 48, &a, &d), CIVIC_ERANGE);
    slat_invalidate(s); /* a no-op on the host */
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
}

/* A device page mapped on every access keeps its tables (slat_clear) until pruned. */
static void test_clear_keeps_tables_prune_frees(void **state)
{
    struct slat *s = make(&with_ad);
    const uint64_t apic = 0xfee00000ull;
    assert_int_equal(slat_map(s, apic, 0x9000, SLAT_R | SLAT_W), CIVIC_OK);
    uint64_t tables = slat_table_pages(s);
    assert_int_equal(tables, 4); /* PML4, PDPT, PD, PT */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(slat_clear(s, apic), CIVIC_OK);
        assert_false(slat_lookup(s, apic, NULL, NULL));
        assert_int_equal(slat_table_pages(s), tables);
        assert_int_equal(slat_map(s, apic, 0x9000, SLAT_R | SLAT_W), CIVIC_OK);
        assert_int_equal(slat_table_pages(s), tables); /* no table made again */
    }
    assert_int_equal(slat_clear(s, apic), CIVIC_OK);
    assert_int_equal(slat_clear(s, apic), CIVIC_ENOENT);
    assert_int_equal(slat_clear(s, 1ull << 40), CIVIC_ENOENT);
    assert_int_equal(slat_clear(s, 1ull << 48), CIVIC_ERANGE);

    /* Pruning keeps tables that still hold something. */
    assert_int_equal(slat_map(s, apic + 0x1000, 0xa000, SLAT_R), CIVIC_OK);
    slat_prune(s, apic);
    assert_int_equal(slat_table_pages(s), tables);
    assert_int_equal(slat_unmap(s, apic + 0x1000), CIVIC_OK); /* frees PT, PD, PDPT */
    assert_int_equal(slat_table_pages(s), 1);

    assert_int_equal(slat_map(s, apic, 0x9000, SLAT_R), CIVIC_OK);
    assert_int_equal(slat_clear(s, apic), CIVIC_OK);
    slat_prune(s, apic + 0x2000); /* same tables, nothing mapped: all go */
    assert_int_equal(slat_table_pages(s), 1);
    assert_int_equal(fake.live, 2); /* the root and the slat itself */
    slat_prune(s, apic);            /* nothing to do */
    slat_prune(s, 1ull << 48);
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
}

static void test_map_out_of_memory(void **state)
{
    struct slat *s = make(&with_ad);
    fake.fail_after = 1; /* the PDPT, then nothing */
    assert_int_equal(slat_map(s, GPA_3579, 0x9000, SLAT_RWX), CIVIC_ENOMEM);
    assert_int_equal(slat_table_pages(s), 2);
    assert_int_equal(fake.live, 3);
    assert_false(slat_lookup(s, GPA_3579, NULL, NULL));
    assert_int_equal(slat_unmap(s, GPA_3579), CIVIC_ENOENT);

    fake.fail_after = -1; /* the tables made before stay and are used */
    assert_int_equal(slat_map(s, GPA_3579, 0x9000, SLAT_RWX), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), 4);
    assert_true(slat_lookup(s, GPA_3579, NULL, NULL));
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
}

static void test_accessed_dirty(void **state)
{
    struct slat *s = make(&with_ad);
    assert_int_equal(slat_map(s, GPA_3579, 0x77000, SLAT_RWX), CIVIC_OK);
    uint64_t *e = leaf_entry(s, GPA_3579);
    const uint64_t clean = *e;

    bool a = true, d = true;
    assert_int_equal(slat_test_and_clear_ad(s, GPA_3579, &a, &d), CIVIC_OK);
    assert_false(a);
    assert_false(d);

    /* The CPU sets A on a read ... */
    __atomic_fetch_or(e, EPT_ACCESSED, __ATOMIC_SEQ_CST);
    assert_int_equal(slat_test_and_clear_ad(s, GPA_3579, &a, &d), CIVIC_OK);
    assert_true(a);
    assert_false(d);
    assert_int_equal(*e, clean);

    /* ... and A and D on a write. */
    __atomic_fetch_or(e, EPT_ACCESSED | EPT_DIRTY, __ATOMIC_SEQ_CST);
    assert_int_equal(slat_test_and_clear_ad(s, GPA_3579, &a, &d), CIVIC_OK);
    assert_true(a);
    assert_true(d);
    assert_int_equal(*e, clean); /* address, type and rights untouched */
    assert_int_equal(slat_test_and_clear_ad(s, GPA_3579, &a, &d), CIVIC_OK);
    assert_false(a);
    assert_false(d);

    /* D alone (the CPU never does that, but the bits are independent). */
    __atomic_fetch_or(e, EPT_DIRTY, __ATOMIC_SEQ_CST);
    assert_int_equal(slat_test_and_clear_ad(s, GPA_3579, NULL, &d), CIVIC_OK);
    assert_true(d);
    assert_int_equal(*e, clean);

    uint64_t hpa;
    unsigned perms;
    assert_true(slat_lookup(s, GPA_3579, &hpa, &perms));
    assert_int_equal(hpa, 0x77000);
    assert_int_equal(perms, SLAT_RWX);

    /* A set bits on the upper levels does not make them look different to the walk. */
    uint64_t *pml4 = table(slat_root_pointer(s));
    pml4[3] |= EPT_ACCESSED;
    assert_true(slat_lookup(s, GPA_3579, NULL, NULL));
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
}

static void test_many_mappings_destroy(void **state)
{
    struct slat *s = make(&with_ad);
    uint64_t expect_tables = 1;
    /* 64 pages in each of 4 PDs under 2 PDPTs, and 8 pages in one PT. */
    for (uint64_t p = 0; p < 2; p++) {
        expect_tables++; /* PDPT */
        for (uint64_t d = 0; d < 2; d++) {
            expect_tables++; /* PD */
            for (uint64_t t = 0; t < 64; t++) {
                expect_tables++; /* PT */
                uint64_t gpa = (p << 39) | (d << 30) | (t << 21) | (t << 12);
                assert_int_equal(slat_map(s, gpa, 0x1000 * (t + 1), SLAT_RWX), CIVIC_OK);
            }
        }
    }
    for (uint64_t i = 1; i < 8; i++)
        assert_int_equal(slat_map(s, i << 12, 0x1000, SLAT_RWX), CIVIC_OK);
    assert_int_equal(slat_table_pages(s), expect_tables);
    assert_int_equal(fake.live, (long)expect_tables + 1);
    slat_destroy(s);
    assert_int_equal(fake.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bits),
        cmocka_unit_test_setup_teardown(test_create_destroy, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_create_errors, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_eptp_value, fake_frames_setup, fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_map_lookup_walk, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_tables_shared_and_counted, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_errors, fake_frames_setup, fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_clear_keeps_tables_prune_frees, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_map_out_of_memory, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_accessed_dirty, fake_frames_setup,
                                        fake_frames_teardown),
        cmocka_unit_test_setup_teardown(test_many_mappings_destroy, fake_frames_setup,
                                        fake_frames_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
