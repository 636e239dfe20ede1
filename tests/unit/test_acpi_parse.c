// unit-sources: arch/x86/acpi_parse.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi_parse.h"
#include "arch/x86/acpi_tables.h"

/* ---- helpers: synthetic tables with correct checksums ---- */

static void fix_checksum(void *table, size_t len, size_t checksum_off)
{
    uint8_t *b = table;
    b[checksum_off] = 0;
    b[checksum_off] = (uint8_t)(0x100 - acpi_checksum(b, len));
}

static void init_header(void *table, const char *sig, uint32_t len, uint8_t rev)
{
    struct acpi_sdt_header *h = table;
    memcpy(h->signature, sig, 4);
    h->length = len;
    h->revision = rev;
    memcpy(h->oem_id, "CIVIC ", 6);
    memcpy(h->oem_table_id, "TESTTBL ", 8);
}

static void seal(void *table)
{
    struct acpi_sdt_header *h = table;
    fix_checksum(table, h->length, offsetof(struct acpi_sdt_header, checksum));
}

static struct acpi_rsdp make_rsdp(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    struct acpi_rsdp r;
    memset(&r, 0, sizeof(r));
    memcpy(r.signature, "RSD PTR ", 8);
    memcpy(r.oem_id, "BOCHS ", 6);
    r.revision = rev;
    r.rsdt_address = rsdt;
    r.length = ACPI_RSDP_V2_LEN;
    r.xsdt_address = xsdt;
    fix_checksum(&r, ACPI_RSDP_V1_LEN, offsetof(struct acpi_rsdp, checksum));
    fix_checksum(&r, ACPI_RSDP_V2_LEN, offsetof(struct acpi_rsdp, extended_checksum));
    return r;
}

/* ---- checksum, RSDP, table header ---- */

static void test_checksum(void **state)
{
    const uint8_t zero[4] = {0};
    assert_int_equal(acpi_checksum(zero, 0), 0);
    assert_int_equal(acpi_checksum(zero, 4), 0);
    const uint8_t b[] = {0x80, 0x80, 0x01, 0xff};
    assert_int_equal(acpi_checksum(b, 2), 0); /* wraps modulo 256 */
    assert_int_equal(acpi_checksum(b, 3), 1);
    assert_int_equal(acpi_checksum(b, 4), 0);
}

static void test_rsdp_v1(void **state)
{
    struct acpi_rsdp r = make_rsdp(0, 0x7fe1000, 0);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_parse_rsdp(&r, ACPI_RSDP_V1_LEN, &info), CIVIC_OK);
    assert_int_equal(info.revision, 0);
    assert_string_equal(info.oem_id, "BOCHS");
    assert_false(info.root_is_xsdt);
    assert_int_equal(info.root_phys, 0x7fe1000);

    /* Exactly 20 readable bytes (ASan checks nothing past them is read). */
    uint8_t *exact = malloc(ACPI_RSDP_V1_LEN);
    memcpy(exact, &r, ACPI_RSDP_V1_LEN);
    assert_int_equal(acpi_parse_rsdp(exact, ACPI_RSDP_V1_LEN, &info), CIVIC_OK);
    assert_int_equal(info.root_phys, 0x7fe1000);
    free(exact);

    r.rsdt_address++; /* checksum now wrong */
    assert_int_equal(acpi_parse_rsdp(&r, ACPI_RSDP_V1_LEN, &info), CIVIC_ECORRUPT);

    r = make_rsdp(0, 0x1000, 0);
    r.signature[0] = 'X';
    assert_int_equal(acpi_parse_rsdp(&r, ACPI_RSDP_V1_LEN, &info), CIVIC_EINVAL);
    r = make_rsdp(0, 0x1000, 0);
    assert_int_equal(acpi_parse_rsdp(&r, ACPI_RSDP_V1_LEN - 1, &info), CIVIC_EINVAL);

    r = make_rsdp(0, 0, 0); /* valid but points nowhere */
    assert_int_equal(acpi_parse_rsdp(&r, ACPI_RSDP_V1_LEN, &info), CIVIC_ENOENT);
}

static void test_rsdp_v2(void **state)
{
    struct acpi_rsdp r = make_rsdp(2, 0x7fe1000, 0x17fe2000ull);
    struct acpi_rsdp_info info;
    assert_int_equal(acpi_parse_rsdp(&r, sizeof(r), &info), CIVIC_OK);
    assert_int_equal(info.revision, 2);
    assert_true(info.root_is_xsdt);
    assert_int_equal(info.root_phys, 0x17fe2000ull);

    /* Only the 20-byte part available: the RSDT. */
    assert_int_equal(acpi_parse_rsdp(&r, ACPI_RSDP_V1_LEN, &info), CIVIC_OK);
    assert_false(info.root_is_xsdt);
    assert_int_equal(info.root_phys, 0x7fe1000);

    /* Bad extended checksum: fall back to the RSDT. */
    r.extended_checksum ^= 1;
    assert_int_equal(acpi_parse_rsdp(&r, sizeof(r), &info), CIVIC_OK);
    assert_false(info.root_is_xsdt);
    assert_int_equal(info.root_phys, 0x7fe1000);

    /* Zero XSDT address: the RSDT. */
    r = make_rsdp(2, 0x7fe1000, 0);
    assert_int_equal(acpi_parse_rsdp(&r, sizeof(r), &info), CIVIC_OK);
    assert_false(info.root_is_xsdt);

    /* Length field larger than what is readable: not trusted. */
    r = make_rsdp(2, 0x7fe1000, 0x2000);
    r.length = 64;
    fix_checksum(&r, ACPI_RSDP_V1_LEN, offsetof(struct acpi_rsdp, checksum));
    assert_int_equal(acpi_parse_rsdp(&r, sizeof(r), &info), CIVIC_OK);
    assert_false(info.root_is_xsdt);

    /* Revision 1 tables (ACPI 1.0 says 0; some firmware writes 1) have no XSDT. */
    r = make_rsdp(1, 0x7fe1000, 0x2000);
    assert_int_equal(acpi_parse_rsdp(&r, sizeof(r), &info), CIVIC_OK);
    assert_false(info.root_is_xsdt);
}

static void test_check_table(void **state)
{
    uint8_t t[64];
    memset(t, 0xab, sizeof(t));
    init_header(t, "APIC", 60, 1);
    seal(t);
    uint32_t len = 0;
    assert_int_equal(acpi_check_table(t, sizeof(t), "APIC", &len), CIVIC_OK);
    assert_int_equal(len, 60);
    assert_int_equal(acpi_check_table(t, sizeof(t), NULL, NULL), CIVIC_OK);
    assert_int_equal(acpi_check_table(t, sizeof(t), "FACP", &len), CIVIC_EINVAL);
    assert_int_equal(acpi_check_table(t, 59, "APIC", &len), CIVIC_ERANGE); /* beyond avail */
    assert_int_equal(acpi_check_table(t, 35, "APIC", &len), CIVIC_ERANGE); /* no header */

    t[50] ^= 0x10;
    assert_int_equal(acpi_check_table(t, sizeof(t), "APIC", &len), CIVIC_ECORRUPT);

    init_header(t, "APIC", 35, 1); /* shorter than a header */
    seal(t);
    assert_int_equal(acpi_check_table(t, sizeof(t), "APIC", &len), CIVIC_ERANGE);

    /* A huge length is rejected before anything reads that far. */
    init_header(t, "APIC", ACPI_TABLE_MAX_LEN + 1, 1);
    assert_int_equal(acpi_check_table(t, SIZE_MAX, "APIC", &len), CIVIC_ERANGE);
}

static void test_sdt_entries(void **state)
{
    uint8_t rsdt[36 + 3 * 4];
    init_header(rsdt, "RSDT", sizeof(rsdt), 1);
    const uint32_t e32[3] = {0x1000, 0x7fe0000, 0xfffff000};
    memcpy(rsdt + 36, e32, sizeof(e32));
    seal(rsdt);
    assert_int_equal(acpi_sdt_count(rsdt, false), 3);
    assert_int_equal(acpi_sdt_entry(rsdt, false, 0), 0x1000);
    assert_int_equal(acpi_sdt_entry(rsdt, false, 2), 0xfffff000);

    /* XSDT entries are 8 bytes at a 4-byte aligned offset (36): read unaligned. */
    uint8_t xsdt[36 + 2 * 8 + 3];
    init_header(xsdt, "XSDT", 36 + 2 * 8 + 3, 1); /* trailing bytes are not an entry */
    const uint64_t e64[2] = {0x123456789000ull, 0x7fe1000};
    memcpy(xsdt + 36, e64, sizeof(e64));
    seal(xsdt);
    assert_int_equal(acpi_sdt_count(xsdt, true), 2);
    assert_int_equal(acpi_sdt_entry(xsdt, true, 0), 0x123456789000ull);
    assert_int_equal(acpi_sdt_entry(xsdt, true, 1), 0x7fe1000);
}

/* ---- MADT ---- */

struct madt_builder {
    uint8_t buf[512];
    size_t len;
};

static void madt_begin(struct madt_builder *m, uint32_t lapic)
{
    memset(m, 0, sizeof(*m));
    m->len = sizeof(struct acpi_madt);
    struct acpi_madt *h = (struct acpi_madt *)m->buf;
    h->local_apic_address = lapic;
    h->flags = 1;
}

static void madt_add(struct madt_builder *m, const void *entry, size_t len)
{
    memcpy(m->buf + m->len, entry, len);
    m->len += len;
}

static void *madt_end(struct madt_builder *m)
{
    init_header(m->buf, "APIC", (uint32_t)m->len, 3);
    seal(m->buf);
    return m->buf;
}

static void add_lapic(struct madt_builder *m, uint8_t id, uint32_t flags)
{
    struct acpi_madt_local_apic e = {{ACPI_MADT_LOCAL_APIC, sizeof(e)}, id, id, flags};
    madt_add(m, &e, sizeof(e));
}

static void add_ioapic(struct madt_builder *m, uint8_t id, uint32_t addr, uint32_t gsi)
{
    struct acpi_madt_io_apic e = {{ACPI_MADT_IO_APIC, sizeof(e)}, id, 0, addr, gsi};
    madt_add(m, &e, sizeof(e));
}

static void add_override(struct madt_builder *m, uint8_t bus, uint8_t src, uint32_t gsi,
                         uint16_t flags)
{
    struct acpi_madt_interrupt_override e = {
        {ACPI_MADT_INTERRUPT_OVERRIDE, sizeof(e)}, bus, src, gsi, flags};
    madt_add(m, &e, sizeof(e));
}

static void test_madt(void **state)
{
    struct madt_builder m;
    madt_begin(&m, 0xfee00000);
    add_lapic(&m, 0, 1);
    add_lapic(&m, 1, 1);
    add_lapic(&m, 2, 0); /* disabled */
    add_lapic(&m, 3, 2); /* online capable, not enabled */
    struct acpi_madt_local_x2apic x = {{ACPI_MADT_LOCAL_X2APIC, sizeof(x)}, 0, 300, 1, 300};
    madt_add(&m, &x, sizeof(x));
    add_ioapic(&m, 0, 0xfec00000, 0);
    add_ioapic(&m, 1, 0xfec01000, 24); /* second one ignored */
    add_override(&m, 0, 0, 2, 0);
    add_override(&m, 0, 9, 9, 0xd); /* level, active high */
    add_override(&m, 1, 5, 40, 0);  /* not ISA: ignored */
    const uint8_t unknown[6] = {0x7f, 6, 1, 2, 3, 4};
    madt_add(&m, unknown, sizeof(unknown));

    struct acpi_info info;
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_OK);
    assert_int_equal(info.lapic_phys, 0xfee00000);
    assert_int_equal(info.cpu_count, 3);
    assert_true(info.has_ioapic);
    assert_int_equal(info.ioapic_phys, 0xfec00000);
    assert_int_equal(info.ioapic_gsi_base, 0);
    assert_int_equal(info.override_count, 2);
    assert_int_equal(info.overrides[0].source_irq, 0);
    assert_int_equal(info.overrides[0].gsi, 2);
    assert_int_equal(info.overrides[0].flags, 0);
    assert_int_equal(info.overrides[1].source_irq, 9);
    assert_int_equal(info.overrides[1].gsi, 9);
    assert_int_equal(info.overrides[1].flags, 0xd);
}

static void test_madt_lapic_override(void **state)
{
    struct madt_builder m;
    madt_begin(&m, 0xfee00000);
    add_lapic(&m, 0, 1);
    struct acpi_madt_local_apic_override o = {
        {ACPI_MADT_LOCAL_APIC_OVERRIDE, sizeof(o)}, 0, 0x123400000000ull};
    madt_add(&m, &o, sizeof(o));
    struct acpi_info info;
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_OK);
    assert_int_equal(info.lapic_phys, 0x123400000000ull);
    assert_int_equal(info.cpu_count, 1);
    assert_false(info.has_ioapic);
}

static void test_madt_override_limit(void **state)
{
    struct madt_builder m;
    madt_begin(&m, 0xfee00000);
    for (unsigned i = 0; i < ACPI_MAX_OVERRIDES + 3; i++)
        add_override(&m, 0, (uint8_t)i, i + 100, 0);
    struct acpi_info info;
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_OK);
    assert_int_equal(info.override_count, ACPI_MAX_OVERRIDES);
    assert_int_equal(info.overrides[ACPI_MAX_OVERRIDES - 1].gsi, 100 + ACPI_MAX_OVERRIDES - 1);
}

static void test_madt_malformed(void **state)
{
    struct madt_builder m;
    struct acpi_info info;

    /* An entry claiming more bytes than the table has: the earlier entries are kept. */
    madt_begin(&m, 0xfee00000);
    add_lapic(&m, 0, 1);
    const uint8_t overrun[4] = {ACPI_MADT_IO_APIC, 12, 0, 0};
    madt_add(&m, overrun, sizeof(overrun));
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_ECORRUPT);
    assert_int_equal(info.cpu_count, 1);
    assert_false(info.has_ioapic);

    /* A zero-length entry would loop forever. */
    madt_begin(&m, 0xfee00000);
    const uint8_t zero_len[2] = {ACPI_MADT_LOCAL_APIC, 0};
    madt_add(&m, zero_len, sizeof(zero_len));
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_ECORRUPT);

    /* A single trailing byte. */
    madt_begin(&m, 0xfee00000);
    add_lapic(&m, 0, 1);
    const uint8_t one = 0;
    madt_add(&m, &one, 1);
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_ECORRUPT);
    assert_int_equal(info.cpu_count, 1);

    /* An entry too short for its type is skipped, not read past. */
    madt_begin(&m, 0xfee00000);
    const uint8_t short_ioapic[4] = {ACPI_MADT_IO_APIC, 4, 0, 0};
    madt_add(&m, short_ioapic, sizeof(short_ioapic));
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_madt(madt_end(&m), &info), CIVIC_OK);
    assert_false(info.has_ioapic);
}

/* ---- FADT ---- */

static void gas(struct acpi_gas *g, uint8_t space, uint64_t addr)
{
    memset(g, 0, sizeof(*g));
    g->address_space_id = space;
    g->register_bit_width = 8;
    g->address = addr;
}

static void test_fadt_short(void **state)
{
    /* QEMU's PIIX4 FADT: revision 1, 116 bytes. Everything after `flags` must not be read:
     * the buffer ends there (ASan checks). */
    const uint32_t len = offsetof(struct acpi_fadt, reset_reg);
    struct acpi_fadt full;
    memset(&full, 0, sizeof(full));
    init_header(&full, "FACP", len, 1);
    full.dsdt = 0x7fe0040;
    full.smi_cmd = 0xb2;
    full.acpi_enable = 0xf1;
    full.pm1a_cnt_blk = 0x604;
    full.pm_tmr_blk = 0x608;
    full.flags = ACPI_FADT_RESET_REG_SUP; /* set, but the table has no reset register */
    seal(&full);
    uint8_t *f = malloc(len);
    memcpy(f, &full, len);

    struct acpi_info info;
    memset(&info, 0, sizeof(info));
    uint64_t dsdt = 1;
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_int_equal(dsdt, 0x7fe0040);
    assert_int_equal(info.smi_cmd, 0xb2);
    assert_int_equal(info.acpi_enable, 0xf1);
    assert_int_equal(info.pm1a_cnt, 0x604);
    assert_int_equal(info.pm1b_cnt, 0);
    assert_int_equal(info.pm_tmr_blk, 0x608);
    assert_false(info.reset_valid);
    free(f);

    /* Too short to hold even the PM blocks. */
    uint8_t tiny[64];
    memset(tiny, 0, sizeof(tiny));
    init_header(tiny, "FACP", sizeof(tiny), 1);
    seal(tiny);
    assert_int_equal(acpi_parse_fadt(tiny, &info, &dsdt), CIVIC_ERANGE);
}

static struct acpi_fadt *long_fadt(void)
{
    struct acpi_fadt *f = calloc(1, sizeof(*f));
    init_header(f, "FACP", sizeof(*f), 4);
    f->dsdt = 0x7fe0040;
    f->smi_cmd = 0xb2;
    f->acpi_enable = 0xf1;
    f->pm1a_cnt_blk = 0xb004;
    f->pm1b_cnt_blk = 0;
    f->pm_tmr_blk = 0xb008;
    f->flags = ACPI_FADT_RESET_REG_SUP;
    gas(&f->reset_reg, ACPI_GAS_SYSTEM_IO, 0xcf9);
    f->reset_value = 0x06;
    f->x_dsdt = 0x100000000ull;
    gas(&f->x_pm1a_cnt_blk, ACPI_GAS_SYSTEM_IO, 0x1804);
    gas(&f->x_pm1b_cnt_blk, ACPI_GAS_SYSTEM_IO, 0x1904);
    gas(&f->x_pm_tmr_blk, ACPI_GAS_SYSTEM_IO, 0x1808);
    seal(f);
    return f;
}

static void test_fadt_long(void **state)
{
    struct acpi_fadt *f = long_fadt();
    struct acpi_info info;
    memset(&info, 0, sizeof(info));
    uint64_t dsdt = 0;
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_int_equal(dsdt, 0x100000000ull); /* X_DSDT preferred */
    assert_int_equal(info.pm1a_cnt, 0x1804);
    assert_int_equal(info.pm1b_cnt, 0x1904);
    assert_int_equal(info.pm_tmr_blk, 0x1808);
    assert_true(info.reset_valid);
    assert_int_equal(info.reset_space, ACPI_GAS_SYSTEM_IO);
    assert_int_equal(info.reset_addr, 0xcf9);
    assert_int_equal(info.reset_value, 0x06);

    /* Zero X_ fields fall back to the 32-bit ones; memory-space PM blocks are not ports. */
    f->x_dsdt = 0;
    gas(&f->x_pm1a_cnt_blk, ACPI_GAS_SYSTEM_IO, 0);
    gas(&f->x_pm1b_cnt_blk, ACPI_GAS_SYSTEM_MEMORY, 0xfed00000);
    gas(&f->x_pm_tmr_blk, ACPI_GAS_SYSTEM_IO, 0x10000); /* not a 16-bit port */
    f->flags = 0;                                       /* no RESET_REG_SUP */
    seal(f);
    memset(&info, 0, sizeof(info));
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_int_equal(dsdt, 0x7fe0040);
    assert_int_equal(info.pm1a_cnt, 0xb004);
    assert_int_equal(info.pm1b_cnt, 0);
    assert_int_equal(info.pm_tmr_blk, 0xb008);
    assert_false(info.reset_valid);

    /* Memory-space reset register. */
    f->flags = ACPI_FADT_RESET_REG_SUP;
    gas(&f->reset_reg, ACPI_GAS_SYSTEM_MEMORY, 0xfed80000);
    f->reset_value = 0x0e;
    seal(f);
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_true(info.reset_valid);
    assert_int_equal(info.reset_space, ACPI_GAS_SYSTEM_MEMORY);
    assert_int_equal(info.reset_addr, 0xfed80000);
    assert_int_equal(info.reset_value, 0x0e);

    /* Unknown address space or zero address: not usable. */
    gas(&f->reset_reg, 0x7f, 0xcf9);
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_false(info.reset_valid);
    gas(&f->reset_reg, ACPI_GAS_SYSTEM_IO, 0);
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_false(info.reset_valid);
    free(f);
}

static void test_fadt_revision3_length(void **state)
{
    /* Length up to X_DSDT only (ends at 148): X_DSDT used, X_ PM blocks not read. */
    const uint32_t len = offsetof(struct acpi_fadt, x_pm1a_evt_blk);
    struct acpi_fadt *full = long_fadt();
    full->header.length = len;
    seal(full);
    uint8_t *f = malloc(len);
    memcpy(f, full, len);
    struct acpi_info info;
    memset(&info, 0, sizeof(info));
    uint64_t dsdt = 0;
    assert_int_equal(acpi_parse_fadt(f, &info, &dsdt), CIVIC_OK);
    assert_int_equal(dsdt, 0x100000000ull);
    assert_int_equal(info.pm1a_cnt, 0xb004);
    assert_int_equal(info.pm_tmr_blk, 0xb008);
    assert_true(info.reset_valid);
    free(f);
    free(full);
}

/* ---- \_S5_ in AML ---- */

static civic_err s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
    /* Copy into an exactly sized heap buffer so that ASan catches any over-read. */
    uint8_t *p = malloc(len ? len : 1);
    if (len)
        memcpy(p, aml, len);
    civic_err e = acpi_find_s5(p, len, a, b);
    free(p);
    return e;
}

static void test_s5_bochs(void **state)
{
    /* Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero }) after some other AML. */
    const uint8_t aml[] = {0x10, 0x05, 0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f, /* noise */
                           0x08, '\\', '_',  'S',  '5',  '_',  0x12, 0x06,
                           0x04, 0x00, 0x00, 0x00, 0x00};
    uint8_t a = 9, b = 9;
    assert_int_equal(s5(aml, sizeof(aml), &a, &b), CIVIC_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
}

static void test_s5_byte_prefix_no_root(void **state)
{
    /* Name (_S5_, Package () { 0x05, 0x05, Zero, Zero }) as a real board encodes it. */
    const uint8_t aml[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
                           0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
    uint8_t a = 0, b = 0;
    assert_int_equal(s5(aml, sizeof(aml), &a, &b), CIVIC_OK);
    assert_int_equal(a, 5);
    assert_int_equal(b, 5);
}

static void test_s5_one_op_and_mixed(void **state)
{
    const uint8_t aml[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x01, 0x0a, 0x07};
    uint8_t a = 0, b = 0;
    assert_int_equal(s5(aml, sizeof(aml), &a, &b), CIVIC_OK);
    assert_int_equal(a, 1);
    assert_int_equal(b, 7);

    /* A single element: SLP_TYPb is 0. */
    const uint8_t one[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x03};
    assert_int_equal(s5(one, sizeof(one), &a, &b), CIVIC_OK);
    assert_int_equal(a, 3);
    assert_int_equal(b, 0);
}

static void test_s5_pkglength_two_bytes(void **state)
{
    /* PkgLength 0x42 0x01: 2 - 1 = 1 extra byte, length = 0x2 | 0x01 << 4 = 18. */
    uint8_t aml[32];
    memset(aml, 0x00, sizeof(aml));
    const uint8_t head[] = {0x08, '\\', '_',  'S',  '5',  '_',  0x12, 0x42,
                            0x01, 0x04, 0x0a, 0x02, 0x01, 0x00, 0x00};
    memcpy(aml, head, sizeof(head));
    uint8_t a = 0, b = 0;
    /* The package ends 1 + 18 bytes after the PackageOp at offset 6: 25 bytes needed. */
    assert_int_equal(s5(aml, 25, &a, &b), CIVIC_OK);
    assert_int_equal(a, 2);
    assert_int_equal(b, 1);
    /* One byte short of the declared package: truncated. */
    assert_int_equal(s5(aml, 24, &a, &b), CIVIC_ECORRUPT);
}

static void test_s5_pkglength_four_bytes(void **state)
{
    /* Three extra PkgLength bytes: 0xc7 0x00 0x00 0x00 = 7 (an unusual but legal encoding). */
    const uint8_t aml[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0xc7,
                           0x00, 0x00, 0x00, 0x01, 0x0a, 0x06};
    uint8_t a = 0, b = 0;
    assert_int_equal(s5(aml, sizeof(aml), &a, &b), CIVIC_OK);
    assert_int_equal(a, 6);
    assert_int_equal(b, 0);
}

static void test_s5_not_found(void **state)
{
    uint8_t a = 0, b = 0;
    assert_int_equal(s5(NULL, 0, &a, &b), CIVIC_ENOENT);
    const uint8_t s4[] = {0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x0a, 0x02};
    assert_int_equal(s5(s4, sizeof(s4), &a, &b), CIVIC_ENOENT);
    /* "_S5_" without NameOp (e.g. a method name reference) does not count. */
    const uint8_t ref[] = {0x14, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05};
    assert_int_equal(s5(ref, sizeof(ref), &a, &b), CIVIC_ENOENT);
    /* Name at offset 0 with no room for NameOp before it. */
    assert_int_equal(s5((const uint8_t *)"_S5_", 4, &a, &b), CIVIC_ENOENT);
}

static void test_s5_malformed(void **state)
{
    uint8_t a = 0, b = 0;
    /* Not a package. */
    const uint8_t not_pkg[] = {0x08, '_', 'S', '5', '_', 0x0a, 0x05};
    assert_int_equal(s5(not_pkg, sizeof(not_pkg), &a, &b), CIVIC_ECORRUPT);
    /* WordPrefix element: an encoding the scanner does not take. */
    const uint8_t word[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x01, 0x0b, 0x05, 0x00};
    assert_int_equal(s5(word, sizeof(word), &a, &b), CIVIC_ECORRUPT);
    /* Zero elements. */
    const uint8_t empty[] = {0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00};
    assert_int_equal(s5(empty, sizeof(empty), &a, &b), CIVIC_ECORRUPT);
    /* Element count larger than the package holds. */
    const uint8_t short_pkg[] = {0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x02, 0x00, 0x00};
    assert_int_equal(s5(short_pkg, sizeof(short_pkg), &a, &b), CIVIC_ECORRUPT);
    /* A first malformed match, then a good one: the good one wins. */
    const uint8_t two[] = {0x08, '_', 'S', '5',  '_',  0x0a, 0x05, 0x08, '_',
                           'S',  '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05};
    assert_int_equal(s5(two, sizeof(two), &a, &b), CIVIC_OK);
    assert_int_equal(a, 5);
}

static void test_s5_truncated_dsdt(void **state)
{
    const uint8_t full[] = {0x08, '\\', '_',  'S',  '5',  '_',  0x12, 0x08,
                            0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
    uint8_t a, b;
    assert_int_equal(s5(full, sizeof(full), &a, &b), CIVIC_OK);
    /* Every shorter prefix that still contains the name must fail cleanly, never over-read. */
    for (size_t len = 6; len < sizeof(full); len++)
        assert_int_equal(s5(full, len, &a, &b), CIVIC_ECORRUPT);
    for (size_t len = 0; len < 6; len++)
        assert_int_equal(s5(full, len, &a, &b), CIVIC_ENOENT);

    /* A two-byte PkgLength cut inside the length itself. */
    const uint8_t cut[] = {0x08, '_', 'S', '5', '_', 0x12, 0x42};
    assert_int_equal(s5(cut, sizeof(cut), &a, &b), CIVIC_ECORRUPT);
    /* A BytePrefix as the last byte. */
    const uint8_t cut2[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a};
    assert_int_equal(s5(cut2, sizeof(cut2), &a, &b), CIVIC_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_rsdp_v1),
        cmocka_unit_test(test_rsdp_v2),
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_sdt_entries),
        cmocka_unit_test(test_madt),
        cmocka_unit_test(test_madt_lapic_override),
        cmocka_unit_test(test_madt_override_limit),
        cmocka_unit_test(test_madt_malformed),
        cmocka_unit_test(test_fadt_short),
        cmocka_unit_test(test_fadt_long),
        cmocka_unit_test(test_fadt_revision3_length),
        cmocka_unit_test(test_s5_bochs),
        cmocka_unit_test(test_s5_byte_prefix_no_root),
        cmocka_unit_test(test_s5_one_op_and_mixed),
        cmocka_unit_test(test_s5_pkglength_two_bytes),
        cmocka_unit_test(test_s5_pkglength_four_bytes),
        cmocka_unit_test(test_s5_not_found),
        cmocka_unit_test(test_s5_malformed),
        cmocka_unit_test(test_s5_truncated_dsdt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
