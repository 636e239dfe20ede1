/* Pure ACPI table decoding; see acpi_parse.h. Every read is bounded by a checked length. */
#include "arch/x86/acpi_parse.h"

#include "arch/x86/acpi_tables.h"
#include "kernel/string.h"

_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_V2_LEN, "RSDP layout");
_Static_assert(sizeof(struct acpi_sdt_header) == ACPI_SDT_HEADER_LEN, "SDT header layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags offset");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG offset");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT offset");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "FADT X_PM1a_CNT offset");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR offset");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT header layout");

uint8_t acpi_checksum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum;
}

civic_err acpi_parse_rsdp(const void *p, size_t len, struct acpi_rsdp_info *out)
{
    /* A revision 0 RSDP is only 20 bytes: work on a zero-filled copy of what is there. */
    struct acpi_rsdp r;
    memset(&r, 0, sizeof(r));
    memset(out, 0, sizeof(*out));
    if (len < ACPI_RSDP_V1_LEN)
        return trace_error(CIVIC_EINVAL);
    memcpy(&r, p, len < sizeof(r) ? len : sizeof(r));
    if (memcmp(r.signature, ACPI_RSDP_SIGNATURE, 8) != 0)
        return trace_error(CIVIC_EINVAL);
    if (acpi_checksum(p, ACPI_RSDP_V1_LEN) != 0)
        return trace_error(CIVIC_ECORRUPT);

    out->revision = r.revision;
    memcpy(out->oem_id, r.oem_id, 6);
    for (int i = 5; i >= 0 && (out->oem_id[i] == ' ' || out->oem_id[i] == '\0'); i--)
        out->oem_id[i] = '\0';

    if (r.revision >= 2 && len >= ACPI_RSDP_V2_LEN && r.length >= ACPI_RSDP_V2_LEN &&
        r.length <= len && acpi_checksum(p, r.length) == 0 && r.xsdt_address != 0) {
        out->root_phys = r.xsdt_address;
        out->root_is_xsdt = true;
        return CIVIC_OK;
    }
    if (r.rsdt_address == 0)
        return trace_error(CIVIC_ENOENT);
    out->root_phys = r.rsdt_address;
    return CIVIC_OK;
}

civic_err acpi_check_table(const void *table, size_t avail, const char *sig, uint32_t *len_out)
{
    const struct acpi_sdt_header *h = table;
    if (avail < ACPI_SDT_HEADER_LEN)
        return trace_error(CIVIC_ERANGE);
    if (sig && memcmp(h->signature, sig, 4) != 0)
        return trace_error(CIVIC_EINVAL);
    if (h->length < ACPI_SDT_HEADER_LEN || h->length > ACPI_TABLE_MAX_LEN || h->length > avail)
        return trace_error(CIVIC_ERANGE);
    if (acpi_checksum(table, h->length) != 0)
        return trace_error(CIVIC_ECORRUPT);
    if (len_out)
        *len_out = h->length;
    return CIVIC_OK;
}

size_t acpi_sdt_count(const void *sdt, bool xsdt)
{
    const struct acpi_sdt_header *h = sdt;
    return (h->length - ACPI_SDT_HEADER_LEN) / (xsdt ? 8 : 4);
}

uint64_t acpi_sdt_entry(const void *sdt, bool xsdt, size_t i)
{
    const uint8_t *e = (const uint8_t *)sdt + ACPI_SDT_HEADER_LEN;
    if (xsdt) {
        uint64_t a;
        memcpy(&a, e + 8 * i, 8);
        return a;
    }
    uint32_t a;
    memcpy(&a, e + 4 * i, 4);
    return a;
}

static void madt_entry(const struct acpi_madt_entry *e, struct acpi_info *info)
{
    switch (e->type) {
    case ACPI_MADT_LOCAL_APIC: {
        const struct acpi_madt_local_apic *l = (const void *)e;
        if (e->length >= sizeof(*l) && (l->flags & ACPI_MADT_LAPIC_ENABLED))
            info->cpu_count++;
        break;
    }
    case ACPI_MADT_LOCAL_X2APIC: {
        const struct acpi_madt_local_x2apic *x = (const void *)e;
        if (e->length >= sizeof(*x) && (x->flags & ACPI_MADT_LAPIC_ENABLED))
            info->cpu_count++;
        break;
    }
    case ACPI_MADT_IO_APIC: {
        const struct acpi_madt_io_apic *io = (const void *)e;
        if (e->length >= sizeof(*io) && !info->has_ioapic) {
            info->has_ioapic = true;
            info->ioapic_phys = io->address;
            info->ioapic_gsi_base = io->gsi_base;
        }
        break;
    }
    case ACPI_MADT_INTERRUPT_OVERRIDE: {
        const struct acpi_madt_interrupt_override *o = (const void *)e;
        /* Bus 0 is ISA, the only one the spec defines. */
        if (e->length >= sizeof(*o) && o->bus == 0 && info->override_count < ACPI_MAX_OVERRIDES) {
            struct acpi_irq_override *d = &info->overrides[info->override_count++];
            d->source_irq = o->source;
            d->gsi = o->gsi;
            d->flags = o->flags;
        }
        break;
    }
    case ACPI_MADT_LOCAL_APIC_OVERRIDE: {
        const struct acpi_madt_local_apic_override *a = (const void *)e;
        if (e->length >= sizeof(*a) && a->address != 0)
            info->lapic_phys = a->address;
        break;
    }
    default: break;
    }
}

civic_err acpi_parse_madt(const void *madt, struct acpi_info *info)
{
    const struct acpi_madt *m = madt;
    uint32_t len = m->header.length;
    if (len < sizeof(*m))
        return trace_error(CIVIC_ERANGE);
    info->lapic_phys = m->local_apic_address;

    const uint8_t *base = madt;
    for (uint32_t off = sizeof(*m); off < len;) {
        const struct acpi_madt_entry *e = (const void *)(base + off);
        if (len - off < sizeof(*e) || e->length < sizeof(*e) || e->length > len - off)
            return trace_error(CIVIC_ECORRUPT);
        madt_entry(e, info);
        off += e->length;
    }
    return CIVIC_OK;
}

/* Whether a FADT of len bytes holds the whole field. */
#define FADT_HAS(len, field)                                                                       \
    ((len) >= offsetof(struct acpi_fadt, field) + sizeof(((struct acpi_fadt *)0)->field))

/* An X_ block that names an I/O port civic can use in place of the 32-bit field. */
static bool gas_io_port(const struct acpi_gas *g, uint32_t *port)
{
    if (g->address == 0 || g->address_space_id != ACPI_GAS_SYSTEM_IO || g->address > 0xffff)
        return false;
    *port = (uint32_t)g->address;
    return true;
}

civic_err acpi_parse_fadt(const void *fadt, struct acpi_info *info, uint64_t *dsdt_phys)
{
    const struct acpi_sdt_header *h = fadt;
    uint32_t len = h->length;
    *dsdt_phys = 0;
    if (!FADT_HAS(len, pm_tmr_blk))
        return trace_error(CIVIC_ERANGE);
    /* Older revisions are shorter: read from a zero-filled copy of the bytes that exist. */
    struct acpi_fadt f;
    memset(&f, 0, sizeof(f));
    memcpy(&f, fadt, len < sizeof(f) ? len : sizeof(f));

    info->smi_cmd = f.smi_cmd;
    info->acpi_enable = f.acpi_enable;
    info->pm1a_cnt = f.pm1a_cnt_blk;
    info->pm1b_cnt = f.pm1b_cnt_blk;
    info->pm_tmr_blk = f.pm_tmr_blk;
    *dsdt_phys = f.dsdt;

    if (FADT_HAS(len, x_dsdt) && f.x_dsdt != 0)
        *dsdt_phys = f.x_dsdt;
    if (FADT_HAS(len, x_pm1a_cnt_blk))
        gas_io_port(&f.x_pm1a_cnt_blk, &info->pm1a_cnt);
    if (FADT_HAS(len, x_pm1b_cnt_blk))
        gas_io_port(&f.x_pm1b_cnt_blk, &info->pm1b_cnt);
    if (FADT_HAS(len, x_pm_tmr_blk))
        gas_io_port(&f.x_pm_tmr_blk, &info->pm_tmr_blk);

    info->reset_valid = false;
    if (FADT_HAS(len, reset_value) && (f.flags & ACPI_FADT_RESET_REG_SUP) &&
        f.reset_reg.address != 0 && f.reset_reg.address_space_id <= ACPI_GAS_PCI_CONFIG) {
        info->reset_valid = true;
        info->reset_space = f.reset_reg.address_space_id;
        info->reset_addr = f.reset_reg.address;
        info->reset_value = f.reset_value;
    }
    return CIVIC_OK;
}

/* One package element that is an integer SLP_TYP value. */
static civic_err aml_small_int(const uint8_t *p, size_t *pos, size_t end, uint8_t *val)
{
    if (*pos >= end)
        return trace_error(CIVIC_ECORRUPT);
    switch (p[*pos]) {
    case AML_ZERO_OP:
        *val = 0;
        *pos += 1;
        return CIVIC_OK;
    case AML_ONE_OP:
        *val = 1;
        *pos += 1;
        return CIVIC_OK;
    case AML_BYTE_PREFIX:
        if (end - *pos < 2)
            return trace_error(CIVIC_ECORRUPT);
        *val = p[*pos + 1];
        *pos += 2;
        return CIVIC_OK;
    default: return trace_error(CIVIC_ECORRUPT);
    }
}

/* p points at the PackageOp after the name; n bytes remain in the AML. */
static civic_err s5_package(const uint8_t *p, size_t n, uint8_t *a, uint8_t *b)
{
    if (n < 3 || p[0] != AML_PACKAGE_OP)
        return trace_error(CIVIC_ECORRUPT);
    /* PkgLength (20.2.4): bits 7:6 of the lead byte count the bytes that follow; with none,
     * bits 5:0 are the length, else bits 3:0 are its low nibble. It counts itself. */
    uint8_t lead = p[1];
    size_t extra = lead >> 6;
    if (n < 2 + extra)
        return trace_error(CIVIC_ECORRUPT);
    size_t pkg_len = extra ? (lead & 0x0fu) : (lead & 0x3fu);
    for (size_t i = 0; i < extra; i++)
        pkg_len |= (size_t)p[2 + i] << (4 + 8 * i);
    size_t end = 1 + pkg_len;
    if (end > n || pkg_len < 1 + extra + 1)
        return trace_error(CIVIC_ECORRUPT);

    size_t pos = 2 + extra;
    uint8_t count = p[pos++];
    if (count == 0)
        return trace_error(CIVIC_ECORRUPT);
    if (aml_small_int(p, &pos, end, a) != CIVIC_OK)
        return trace_error(CIVIC_ECORRUPT);
    *b = 0;
    if (count >= 2 && aml_small_int(p, &pos, end, b) != CIVIC_OK)
        return trace_error(CIVIC_ECORRUPT);
    return CIVIC_OK;
}

civic_err acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb)
{
    civic_err result = CIVIC_ENOENT;
    for (size_t i = 1; i + 4 <= len; i++) {
        if (memcmp(aml + i, "_S5_", 4) != 0)
            continue;
        size_t name_op = aml[i - 1] == AML_ROOT_CHAR ? i - 1 : i;
        if (name_op == 0 || aml[name_op - 1] != AML_NAME_OP)
            continue;
        uint8_t a, b;
        if (s5_package(aml + i + 4, len - i - 4, &a, &b) == CIVIC_OK) {
            *slp_typa = a;
            *slp_typb = b;
            return CIVIC_OK;
        }
        result = CIVIC_ECORRUPT; /* keep looking: the bytes may have been inside other data */
    }
    return result == CIVIC_ENOENT ? result : trace_error(result);
}
