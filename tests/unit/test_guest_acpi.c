// clang-format off
// unit-sources: kernel/guest_acpi.c arch/x86/acpi.c arch/x86/acpi_parse.c kernel/error.c kernel/format.c kernel/string.c
// clang-format on
/* The guest's ACPI tables, read back the way civic reads a real machine's: arch/x86/acpi.c
 * scanning a fake low 1 MiB of physical memory (test doubles of its direct map and log), plus
 * independent checks of every checksum, length, field and the bounds of the buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/acpi_parse.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/paging.h"
#include "kernel/arch.h"
#include "kernel/guest_acpi.h"
#include "kernel/log.h"

#define CAP (64 * 1024)

/* ---- test doubles for acpi.c: a 1 MiB physical memory, a log that counts warnings ---- */

static uint8_t phys_mem[1 << 20];
static unsigned warnings;

void *phys_to_virt(uint64_t phys)
{
    assert_true(phys < sizeof phys_mem);
    return phys_mem + phys;
}

uint64_t paging_direct_map_end(void)
{
    return sizeof phys_mem;
}

void klog(enum log_level level, const char *fmt, ...)
{
    if (level > LOG_WARN)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    warnings++;
}

/* ---- helpers ---- */

static uint8_t sum(const uint8_t *p, size_t len)
{
    unsigned s = 0;
    for (size_t i = 0; i < len; i++)
        s += p[i];
    return (uint8_t)s;
}

/* Builds into phys_mem at gpa (the rest of memory zero) and returns the size. */
static size_t build_in_memory(uint64_t gpa, unsigned cpus)
{
    memset(phys_mem, 0, sizeof phys_mem);
    struct guest_acpi_config cfg = {.cpus = cpus};
    size_t n = guest_acpi_build(phys_mem + gpa, CAP, gpa, &cfg);
    assert_true(n > 0 && n <= CAP);
    return n;
}

static const struct acpi_rsdp *rsdp_at(uint64_t gpa)
{
    return (const void *)(phys_mem + gpa);
}

/* The table at a guest-physical address inside [gpa, gpa + n), its length checked. */
static const uint8_t *table(uint64_t gpa, size_t n, uint64_t at, const char *sig)
{
    assert_true(at >= gpa && at + ACPI_SDT_HEADER_LEN <= gpa + n);
    const uint8_t *t = phys_mem + at;
    uint32_t len;
    memcpy(&len, t + 4, 4);
    assert_true(at + len <= gpa + n);
    assert_memory_equal(t, sig, 4);
    assert_int_equal(sum(t, len), 0);
    return t;
}

static const uint8_t *find_in_xsdt(uint64_t gpa, size_t n, const char *sig)
{
    const struct acpi_rsdp *r = rsdp_at(gpa);
    const uint8_t *x = table(gpa, n, r->xsdt_address, "XSDT");
    for (size_t i = 0; i < acpi_sdt_count(x, true); i++) {
        uint64_t a = acpi_sdt_entry(x, true, i);
        if (memcmp(phys_mem + a, sig, 4) == 0)
            return table(gpa, n, a, sig);
    }
    fail_msg("%s not in the XSDT", sig);
    return NULL;
}

/* ---- civic's own reader finds everything ---- */

static void check_info(const struct acpi_info *in, unsigned cpus)
{
    assert_true(in->present);
    assert_int_equal(in->revision, 2);
    assert_string_equal(in->oem_id, "CIVIC");
    assert_int_equal(in->lapic_phys, 0xfee00000);
    assert_int_equal(in->cpu_count, cpus);
    assert_true(in->has_ioapic);
    assert_int_equal(in->ioapic_phys, 0xfec00000);
    assert_int_equal(in->ioapic_gsi_base, 0);
    assert_int_equal(in->override_count, 5);
    const uint8_t irq[] = {0, 5, 9, 10, 11}, gsi[] = {2, 5, 9, 10, 11};
    const uint16_t flags[] = {0, 0x000d, 0x000d, 0x000d, 0x000d};
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(in->overrides[i].source_irq, irq[i]);
        assert_int_equal(in->overrides[i].gsi, gsi[i]);
        assert_int_equal(in->overrides[i].flags, flags[i]);
    }
    assert_int_equal(in->pm1a_cnt, 0x604);
    assert_int_equal(in->pm1b_cnt, 0);
    assert_int_equal(in->pm_tmr_blk, 0x608);
    assert_int_equal(in->smi_cmd, 0);
    assert_int_equal(in->acpi_enable, 0);
    assert_true(in->reset_valid);
    assert_int_equal(in->reset_space, ACPI_GAS_SYSTEM_IO);
    assert_int_equal(in->reset_addr, 0xcf9);
    assert_int_equal(in->reset_value, 0x06);
    assert_true(in->s5_valid);
    assert_int_equal(in->slp_typa, 5);
    assert_int_equal(in->slp_typb, 5);
}

static void test_acpi_c_finds_tables_in_bios_area(void **state)
{
    const unsigned cpu_counts[] = {1, 2, 7, 32};
    for (unsigned i = 0; i < 4; i++) {
        build_in_memory(GUEST_ACPI_GPA, cpu_counts[i]);
        warnings = 0;
        assert_int_equal(acpi_init(NULL, 0), CIVIC_OK); /* the BIOS-area scan */
        assert_int_equal(warnings, 0);
        check_info(acpi_get(), cpu_counts[i]);
    }
    /* ...and from an RSDP copy, as a boot loader hands it over. */
    build_in_memory(GUEST_ACPI_GPA, 4);
    uint8_t copy[ACPI_RSDP_V2_LEN];
    memcpy(copy, phys_mem + GUEST_ACPI_GPA, sizeof copy);
    warnings = 0;
    assert_int_equal(acpi_init(copy, sizeof copy), CIVIC_OK);
    assert_int_equal(warnings, 0);
    check_info(acpi_get(), 4);
    /* A base that is 16- but not 64-byte aligned: the FACS still lands aligned. */
    build_in_memory(0xe0010, 3);
    assert_int_equal(acpi_init(NULL, 0), CIVIC_OK);
    check_info(acpi_get(), 3);
    const struct acpi_fadt *f = (const void *)find_in_xsdt(0xe0010, CAP, "FACP");
    assert_int_equal(f->firmware_ctrl % 64, 0);
}

/* ---- independent checks ---- */

static void test_rsdp_and_roots(void **state)
{
    const uint64_t gpa = GUEST_ACPI_GPA;
    size_t n = build_in_memory(gpa, 2);
    const struct acpi_rsdp *r = rsdp_at(gpa);
    assert_memory_equal(r->signature, "RSD PTR ", 8);
    assert_memory_equal(r->oem_id, "CIVIC ", 6);
    assert_int_equal(r->revision, 2);
    assert_int_equal(r->length, 36);
    assert_int_equal(sum((const uint8_t *)r, 20), 0);
    assert_int_equal(sum((const uint8_t *)r, 36), 0);
    assert_int_equal(r->reserved[0] | r->reserved[1] | r->reserved[2], 0);
    struct acpi_rsdp_info ri;
    assert_int_equal(acpi_parse_rsdp(r, 36, &ri), CIVIC_OK);
    assert_true(ri.root_is_xsdt);
    assert_int_equal(ri.root_phys, r->xsdt_address);

    const uint8_t *rsdt = table(gpa, n, r->rsdt_address, "RSDT");
    const uint8_t *xsdt = table(gpa, n, r->xsdt_address, "XSDT");
    assert_int_equal(acpi_check_table(rsdt, n, "RSDT", NULL), CIVIC_OK);
    assert_int_equal(acpi_check_table(xsdt, n, "XSDT", NULL), CIVIC_OK);
    assert_int_equal(acpi_sdt_count(rsdt, false), 2);
    assert_int_equal(acpi_sdt_count(xsdt, true), 2);
    const char *sigs[] = {"FACP", "APIC"};
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(acpi_sdt_entry(rsdt, false, i), acpi_sdt_entry(xsdt, true, i));
        table(gpa, n, acpi_sdt_entry(xsdt, true, i), sigs[i]);
    }
    /* Header fields of a table. */
    const struct acpi_sdt_header *h = (const void *)xsdt;
    assert_int_equal(h->length, 36 + 16);
    assert_memory_equal(h->oem_id, "CIVIC ", 6);
    assert_memory_equal(h->oem_table_id, "CIVICVM ", 8);
    assert_int_equal(h->oem_revision, 1);
}

static void test_fadt_facs_dsdt(void **state)
{
    const uint64_t gpa = GUEST_ACPI_GPA;
    size_t n = build_in_memory(gpa, 1);
    const struct acpi_fadt_rev3 *f3 = (const void *)find_in_xsdt(gpa, n, "FACP");
    const struct acpi_fadt *f = &f3->base;
    assert_int_equal(f->header.length, 244);
    assert_int_equal(f->header.revision, 3);
    assert_int_equal(f->sci_int, 9);
    assert_int_equal(f->smi_cmd, 0);
    assert_int_equal(f->acpi_enable | f->acpi_disable | f->s4bios_req | f->pstate_cnt, 0);
    assert_int_equal(f->pm1a_evt_blk, 0x600);
    assert_int_equal(f->pm1b_evt_blk, 0);
    assert_int_equal(f->pm1a_cnt_blk, 0x604);
    assert_int_equal(f->pm1b_cnt_blk | f->pm2_cnt_blk | f->gpe0_blk | f->gpe1_blk, 0);
    assert_int_equal(f->pm_tmr_blk, 0x608);
    assert_int_equal(f->pm1_evt_len, 4);
    assert_int_equal(f->pm1_cnt_len, 2);
    assert_int_equal(f->pm2_cnt_len, 0);
    assert_int_equal(f->pm_tmr_len, 4);
    assert_int_equal(f->gpe0_blk_len | f->gpe1_blk_len | f->cst_cnt, 0);
    assert_true(f->p_lvl2_lat > 100);
    assert_true(f->p_lvl3_lat > 1000);
    assert_int_equal(f->century, 0x32);
    assert_int_equal(f->iapc_boot_arch, 0x0003); /* LEGACY_DEVICES | 8042 */
    /* WBINVD, PROC_C1, SLP_BUTTON, FIX_RTC, RESET_REG_SUP; TMR_VAL_EXT clear (24 bits). */
    assert_int_equal(f->flags, 0x00000465);
    assert_int_equal(f->flags & ACPI_FADT_TMR_VAL_EXT, 0);
    assert_int_equal(f->reset_reg.address_space_id, ACPI_GAS_SYSTEM_IO);
    assert_int_equal(f->reset_reg.register_bit_width, 8);
    assert_int_equal(f->reset_reg.register_bit_offset, 0);
    assert_int_equal(f->reset_reg.access_size, ACPI_GAS_ACCESS_BYTE);
    assert_int_equal(f->reset_reg.address, 0xcf9);
    assert_int_equal(f->reset_value, 6);
    /* 32-bit and X_ blocks agree. */
    const struct {
        const struct acpi_gas *g;
        uint32_t port;
        uint8_t bits, access;
    } gas[] = {{&f->x_pm1a_evt_blk, 0x600, 32, 2},
               {&f->x_pm1a_cnt_blk, 0x604, 16, 2},
               {&f->x_pm_tmr_blk, 0x608, 32, 3}};
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(gas[i].g->address_space_id, ACPI_GAS_SYSTEM_IO);
        assert_int_equal(gas[i].g->register_bit_width, gas[i].bits);
        assert_int_equal(gas[i].g->register_bit_offset, 0);
        assert_int_equal(gas[i].g->access_size, gas[i].access);
        assert_int_equal(gas[i].g->address, gas[i].port);
    }
    const struct acpi_gas zero = {0};
    assert_memory_equal(&f->x_pm1b_evt_blk, &zero, sizeof zero);
    assert_memory_equal(&f->x_pm1b_cnt_blk, &zero, sizeof zero);
    assert_memory_equal(&f->x_pm2_cnt_blk, &zero, sizeof zero);
    assert_memory_equal(&f3->x_gpe0_blk, &zero, sizeof zero);
    assert_memory_equal(&f3->x_gpe1_blk, &zero, sizeof zero);

    /* FACS through FIRMWARE_CTRL, 64-byte aligned; X_FIRMWARE_CTRL left 0. */
    assert_int_equal(f->x_firmware_ctrl, 0);
    assert_int_equal(f->firmware_ctrl % 64, 0);
    assert_true(f->firmware_ctrl >= gpa && f->firmware_ctrl + 64 <= gpa + n);
    const struct acpi_facs *facs = (const void *)(phys_mem + f->firmware_ctrl);
    assert_memory_equal(facs->signature, "FACS", 4);
    assert_int_equal(facs->length, 64);
    assert_int_equal(facs->version, 2);
    assert_int_equal(facs->firmware_waking_vector | facs->global_lock | facs->flags, 0);

    /* DSDT through both pointers; exactly the \_S5_ object. */
    assert_int_equal(f->dsdt, f->x_dsdt);
    const uint8_t *d = table(gpa, n, f->x_dsdt, "DSDT");
    const struct acpi_sdt_header *dh = (const void *)d;
    assert_int_equal(dh->revision, 2);
    const uint8_t aml[] = {0x08, '\\', '_',  'S',  '5',  '_',  0x12, 0x08,
                           0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
    assert_int_equal(dh->length, 36 + sizeof aml);
    assert_memory_equal(d + 36, aml, sizeof aml);
    uint8_t a = 0, b = 0;
    assert_int_equal(acpi_find_s5(d + 36, dh->length - 36, &a, &b), CIVIC_OK);
    assert_int_equal(a, 5);
    assert_int_equal(b, 5);
}

static void test_madt_entries(void **state)
{
    const uint64_t gpa = GUEST_ACPI_GPA;
    const unsigned cpu_counts[] = {1, 5, 32};
    for (unsigned c = 0; c < 3; c++) {
        unsigned cpus = cpu_counts[c];
        size_t n = build_in_memory(gpa, cpus);
        const uint8_t *m = find_in_xsdt(gpa, n, "APIC");
        const struct acpi_madt *mh = (const void *)m;
        assert_int_equal(mh->header.length, 44 + 8 * cpus + 12 + 5 * 10 + 6);
        assert_int_equal(mh->local_apic_address, 0xfee00000);
        assert_int_equal(mh->flags, ACPI_MADT_PCAT_COMPAT);
        const uint8_t *e = m + 44;
        for (unsigned i = 0; i < cpus; i++, e += 8) {
            const uint8_t want[8] = {0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0};
            assert_memory_equal(e, want, 8);
        }
        const uint8_t ioapic[12] = {1, 12, (uint8_t)cpus, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0};
        assert_memory_equal(e, ioapic, 12);
        e += 12;
        const uint8_t iso[5][10] = {{2, 10, 0, 0, 2, 0, 0, 0, 0x00, 0},
                                    {2, 10, 0, 5, 5, 0, 0, 0, 0x0d, 0},
                                    {2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0},
                                    {2, 10, 0, 10, 10, 0, 0, 0, 0x0d, 0},
                                    {2, 10, 0, 11, 11, 0, 0, 0, 0x0d, 0}};
        for (unsigned i = 0; i < 5; i++, e += 10)
            assert_memory_equal(e, iso[i], 10);
        const uint8_t nmi[6] = {4, 6, 0xff, 0, 0, 1};
        assert_memory_equal(e, nmi, 6);
        assert_ptr_equal(e + 6, m + mh->header.length);
    }
}

static void test_layout_checksums_and_bounds(void **state)
{
    const uint64_t gpa = GUEST_ACPI_GPA;
    size_t n = build_in_memory(gpa, 32);
    assert_true(n < 1024);
    const struct acpi_rsdp *r = rsdp_at(gpa);
    const struct acpi_fadt *f = (const void *)find_in_xsdt(gpa, n, "FACP");
    /* Every table: inside the buffer, 16-aligned, checksum 0, no two overlapping. */
    uint64_t at[6] = {r->rsdt_address,
                      r->xsdt_address,
                      acpi_sdt_entry(phys_mem + r->xsdt_address, true, 0),
                      acpi_sdt_entry(phys_mem + r->xsdt_address, true, 1),
                      f->dsdt,
                      f->firmware_ctrl};
    uint32_t len[6];
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(at[i] % 16, 0);
        assert_true(at[i] >= gpa + 36 && at[i] < gpa + n);
        memcpy(&len[i], phys_mem + at[i] + 4, 4);
        assert_true(at[i] + len[i] <= gpa + n);
        if (i < 5)
            assert_int_equal(sum(phys_mem + at[i], len[i]), 0);
        for (unsigned j = 0; j < i; j++)
            assert_true(at[i] + len[i] <= at[j] || at[j] + len[j] <= at[i]);
    }
    /* The last table ends exactly at the size returned. */
    uint64_t end = 0;
    for (unsigned i = 0; i < 6; i++)
        end = at[i] + len[i] > end ? at[i] + len[i] : end;
    assert_int_equal(end, gpa + n);
    /* Corrupting any byte of a table breaks its checksum. */
    phys_mem[f->dsdt + 40] ^= 1;
    assert_int_equal(acpi_check_table(phys_mem + f->dsdt, n, "DSDT", NULL), CIVIC_ECORRUPT);
}

static void test_small_cap_and_bad_args(void **state)
{
    static uint8_t big[CAP + 64];
    struct guest_acpi_config cfg = {.cpus = 32};
    size_t need = guest_acpi_build(big, CAP, GUEST_ACPI_GPA, &cfg);
    assert_true(need > 0);
    static uint8_t canary[CAP + 64];
    for (size_t cap = 0; cap < need; cap++) {
        memset(canary, 0xa5, need + 64);
        assert_int_equal(guest_acpi_build(canary, cap, GUEST_ACPI_GPA, &cfg), 0);
        for (size_t i = 0; i < need + 64; i++)
            assert_int_equal(canary[i], 0xa5);
    }
    /* Exactly enough: everything written, nothing past it. */
    memset(canary, 0xa5, need + 64);
    assert_int_equal(guest_acpi_build(canary, need, GUEST_ACPI_GPA, &cfg), need);
    assert_memory_equal(canary, big, need);
    for (size_t i = need; i < need + 64; i++)
        assert_int_equal(canary[i], 0xa5);

    /* Unusable arguments: nothing written. */
    memset(canary, 0xa5, sizeof canary);
    struct guest_acpi_config zero = {.cpus = 0}, many = {.cpus = 33};
    assert_int_equal(guest_acpi_build(canary, CAP, GUEST_ACPI_GPA, &zero), 0);
    assert_int_equal(guest_acpi_build(canary, CAP, GUEST_ACPI_GPA, &many), 0);
    assert_int_equal(guest_acpi_build(canary, CAP, GUEST_ACPI_GPA, NULL), 0);
    assert_int_equal(guest_acpi_build(canary, CAP, GUEST_ACPI_GPA + 8, &cfg), 0); /* RSDP align */
    assert_int_equal(guest_acpi_build(canary, CAP, 0xfffffe00, &cfg), 0); /* crosses 4 GiB */
    assert_int_equal(guest_acpi_build(canary, CAP, 0x100000000ull, &cfg), 0);
    for (size_t i = 0; i < sizeof canary; i++)
        assert_int_equal(canary[i], 0xa5);
    /* Just below 4 GiB fits. */
    assert_int_equal(guest_acpi_build(canary, CAP, 0x100000000ull - 1024, &cfg), need);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acpi_c_finds_tables_in_bios_area),
        cmocka_unit_test(test_rsdp_and_roots),
        cmocka_unit_test(test_fadt_facs_dsdt),
        cmocka_unit_test(test_madt_entries),
        cmocka_unit_test(test_layout_checksums_and_bounds),
        cmocka_unit_test(test_small_cap_and_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
