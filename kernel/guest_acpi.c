/*
 * Builds the guest's ACPI tables. Choices, where the spec leaves them open:
 * - FADT revision 3 (244 bytes, both 32-bit and X_ fields), as QEMU's PC; the MADT revision 1
 *   (all its entry types date from ACPI 1.0); the DSDT revision 2 (64-bit AML integers).
 * - The PM timer is 24 bits (TMR_VAL_EXT clear), like the PIIX4's and QEMU's.
 * - SMI_CMD = 0: always in ACPI mode, no enable handshake. No GPE block, no C2/C3.
 * - A fixed-feature power button (PWR_BUTTON clear; vdev_acpi_pm has PWRBTN_STS), no sleep
 *   button, no RTC wake status (FIX_RTC). Reset through the PIIX's 0xcf9.
 * - A FACS (mandatory outside hardware-reduced ACPI) pointed to by FIRMWARE_CTRL only, leaving
 *   X_FIRMWARE_CTRL 0 as QEMU does; the DSDT by both DSDT and X_DSDT (equal values).
 * - Interrupt source overrides as QEMU's PC: IRQ 0 on GSI 2, and the PCI interrupt lines 5, 9,
 *   10, 11 level-triggered active high.
 */
#include "kernel/guest_acpi.h"

#include "arch/x86/acpi_tables.h"
#include "arch/x86/ioapic_regs.h"
#include "kernel/string.h"
#include "kernel/vdev_acpi_pm.h"
#include "kernel/vdev_ioapic.h"
#include "kernel/vdev_rtc.h"

#define OEM_ID "CIVIC "
#define OEM_TABLE_ID "CIVICVM "
#define OEM_REVISION 1
#define CREATOR_ID "CIVC"
#define CREATOR_REVISION 1

#define SDT_ENTRIES 2 /* FADT, MADT */
#define ISA_OVERRIDES 5
#define MADT_LEN(cpus)                                                                             \
    (sizeof(struct acpi_madt) + (cpus) * sizeof(struct acpi_madt_local_apic) +                     \
     sizeof(struct acpi_madt_io_apic) +                                                            \
     ISA_OVERRIDES * sizeof(struct acpi_madt_interrupt_override) +                                 \
     sizeof(struct acpi_madt_local_apic_nmi))

/* Name(\_S5_, Package(){5, 5, 0, 0}) (ACPI 6.5, 7.4.2.5 and 20.2): SLP_TYPa, SLP_TYPb, two
 * reserved. After PackageOp: PkgLength 8 (it counts itself, NumElements and the elements),
 * NumElements 4. */
// clang-format off
static const uint8_t s5_aml[] = {
    AML_NAME_OP, AML_ROOT_CHAR, '_', 'S', '5', '_',
    AML_PACKAGE_OP, 8, 4,
    AML_BYTE_PREFIX, VDEV_ACPI_SLP_TYP_S5, AML_BYTE_PREFIX, VDEV_ACPI_SLP_TYP_S5,
    AML_ZERO_OP, AML_ZERO_OP,
};
// clang-format on
_Static_assert(sizeof(s5_aml) - 7 == 8, "\\_S5_ PkgLength");

/* ISA IRQ -> GSI and MPS INTI flags, as QEMU's PC gives them. */
static const struct {
    uint8_t irq;
    uint8_t gsi;
    uint16_t flags;
} isa_overrides[ISA_OVERRIDES] = {
    {0, 2, MPS_INTI_POLARITY_CONFORMS | MPS_INTI_TRIGGER_CONFORMS},
    {5, 5, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL},
    {9, 9, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL},
    {10, 10, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL},
    {11, 11, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL},
};

/* Byte offsets of each table in the buffer. */
struct layout {
    size_t rsdt, xsdt, facs, fadt, dsdt, madt, end;
};

static uint8_t checksum_fix(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)(0x100 - sum);
}

/* The offset at or after off whose guest-physical address is a multiple of align. */
static size_t place(uint64_t gpa, size_t off, uint64_t align)
{
    uint64_t a = (gpa + off + align - 1) & ~(align - 1);
    return (size_t)(a - gpa);
}

static void plan(uint64_t gpa, unsigned cpus, struct layout *l)
{
    l->rsdt = place(gpa, ACPI_RSDP_V2_LEN, 16);
    l->xsdt = place(gpa, l->rsdt + ACPI_SDT_HEADER_LEN + 4 * SDT_ENTRIES, 16);
    l->facs = place(gpa, l->xsdt + ACPI_SDT_HEADER_LEN + 8 * SDT_ENTRIES, 64);
    l->fadt = place(gpa, l->facs + ACPI_FACS_LEN, 16);
    l->dsdt = place(gpa, l->fadt + ACPI_FADT_REV3_LEN, 16);
    l->madt = place(gpa, l->dsdt + ACPI_SDT_HEADER_LEN + sizeof(s5_aml), 16);
    l->end = l->madt + MADT_LEN(cpus);
}

static void header(uint8_t *p, const char *sig, size_t len, uint8_t revision)
{
    struct acpi_sdt_header *h = (void *)p;
    memcpy(h->signature, sig, 4);
    h->length = (uint32_t)len;
    h->revision = revision;
    memcpy(h->oem_id, OEM_ID, 6);
    memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
    h->oem_revision = OEM_REVISION;
    memcpy(&h->creator_id, CREATOR_ID, 4);
    h->creator_revision = CREATOR_REVISION;
}

static void seal(uint8_t *p)
{
    struct acpi_sdt_header *h = (void *)p;
    h->checksum = checksum_fix(p, h->length);
}

static void write_rsdp(uint8_t *p, uint64_t gpa, const struct layout *l)
{
    struct acpi_rsdp *r = (void *)p;
    memcpy(r->signature, ACPI_RSDP_SIGNATURE, 8);
    memcpy(r->oem_id, OEM_ID, 6);
    r->revision = 2;
    r->rsdt_address = (uint32_t)(gpa + l->rsdt);
    r->length = ACPI_RSDP_V2_LEN;
    r->xsdt_address = gpa + l->xsdt;
    r->checksum = checksum_fix(p, ACPI_RSDP_V1_LEN);
    r->extended_checksum = checksum_fix(p, ACPI_RSDP_V2_LEN);
}

static void write_roots(uint8_t *buf, uint64_t gpa, const struct layout *l)
{
    const uint64_t tables[SDT_ENTRIES] = {gpa + l->fadt, gpa + l->madt};
    header(buf + l->rsdt, ACPI_SIG_RSDT, ACPI_SDT_HEADER_LEN + 4 * SDT_ENTRIES, 1);
    header(buf + l->xsdt, ACPI_SIG_XSDT, ACPI_SDT_HEADER_LEN + 8 * SDT_ENTRIES, 1);
    for (unsigned i = 0; i < SDT_ENTRIES; i++) {
        uint32_t a32 = (uint32_t)tables[i];
        memcpy(buf + l->rsdt + ACPI_SDT_HEADER_LEN + 4 * i, &a32, 4);
        memcpy(buf + l->xsdt + ACPI_SDT_HEADER_LEN + 8 * i, &tables[i], 8);
    }
    seal(buf + l->rsdt);
    seal(buf + l->xsdt);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes, uint8_t access)
{
    return (struct acpi_gas){.address_space_id = ACPI_GAS_SYSTEM_IO,
                             .register_bit_width = (uint8_t)(bytes * 8),
                             .access_size = access,
                             .address = port};
}

static void write_fadt(uint8_t *p, uint64_t gpa, const struct layout *l)
{
    struct acpi_fadt_rev3 *f3 = (void *)p;
    struct acpi_fadt *f = &f3->base;
    header(p, ACPI_SIG_FADT, ACPI_FADT_REV3_LEN, 3);
    f->firmware_ctrl = (uint32_t)(gpa + l->facs);
    f->dsdt = (uint32_t)(gpa + l->dsdt);
    f->sci_int = GUEST_ACPI_SCI_IRQ;
    f->pm1a_evt_blk = VDEV_ACPI_PM1A_EVT_BLK;
    f->pm1a_cnt_blk = VDEV_ACPI_PM1A_CNT_BLK;
    f->pm_tmr_blk = VDEV_ACPI_PM_TMR_BLK;
    f->pm1_evt_len = VDEV_ACPI_PM1_EVT_LEN;
    f->pm1_cnt_len = VDEV_ACPI_PM1_CNT_LEN;
    f->pm_tmr_len = VDEV_ACPI_PM_TMR_LEN;
    f->p_lvl2_lat = ACPI_FADT_P_LVL2_LAT_NONE;
    f->p_lvl3_lat = ACPI_FADT_P_LVL3_LAT_NONE;
    f->century = VDEV_RTC_CENTURY;
    f->iapc_boot_arch = ACPI_FADT_IAPC_LEGACY_DEVICES | ACPI_FADT_IAPC_8042;
    f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC |
               ACPI_FADT_RESET_REG_SUP;
    f->reset_reg = io_gas(GUEST_ACPI_RESET_PORT, 1, ACPI_GAS_ACCESS_BYTE);
    f->reset_value = GUEST_ACPI_RESET_VALUE;
    f->x_dsdt = gpa + l->dsdt;
    f->x_pm1a_evt_blk = io_gas(VDEV_ACPI_PM1A_EVT_BLK, VDEV_ACPI_PM1_EVT_LEN, ACPI_GAS_ACCESS_WORD);
    f->x_pm1a_cnt_blk = io_gas(VDEV_ACPI_PM1A_CNT_BLK, VDEV_ACPI_PM1_CNT_LEN, ACPI_GAS_ACCESS_WORD);
    f->x_pm_tmr_blk = io_gas(VDEV_ACPI_PM_TMR_BLK, VDEV_ACPI_PM_TMR_LEN, ACPI_GAS_ACCESS_DWORD);
    seal(p);
}

static void write_facs(uint8_t *p)
{
    struct acpi_facs *s = (void *)p;
    memcpy(s->signature, ACPI_SIG_FACS, 4);
    s->length = ACPI_FACS_LEN;
    s->version = ACPI_FACS_VERSION;
}

static void write_dsdt(uint8_t *p)
{
    header(p, ACPI_SIG_DSDT, ACPI_SDT_HEADER_LEN + sizeof(s5_aml), 2);
    memcpy(p + ACPI_SDT_HEADER_LEN, s5_aml, sizeof(s5_aml));
    seal(p);
}

static void write_madt(uint8_t *p, unsigned cpus)
{
    struct acpi_madt *m = (void *)p;
    header(p, ACPI_SIG_MADT, MADT_LEN(cpus), 1);
    m->local_apic_address = GUEST_ACPI_LAPIC_BASE;
    m->flags = ACPI_MADT_PCAT_COMPAT;
    uint8_t *e = p + sizeof(*m);
    for (unsigned i = 0; i < cpus; i++) {
        struct acpi_madt_local_apic *la = (void *)e;
        la->h = (struct acpi_madt_entry){ACPI_MADT_LOCAL_APIC, sizeof(*la)};
        la->processor_uid = (uint8_t)i;
        la->apic_id = (uint8_t)i;
        la->flags = ACPI_MADT_LAPIC_ENABLED;
        e += sizeof(*la);
    }
    struct acpi_madt_io_apic *io = (void *)e;
    io->h = (struct acpi_madt_entry){ACPI_MADT_IO_APIC, sizeof(*io)};
    io->io_apic_id = (uint8_t)cpus;
    io->address = (uint32_t)VDEV_IOAPIC_BASE;
    io->gsi_base = 0;
    e += sizeof(*io);
    for (unsigned i = 0; i < ISA_OVERRIDES; i++) {
        struct acpi_madt_interrupt_override *o = (void *)e;
        o->h = (struct acpi_madt_entry){ACPI_MADT_INTERRUPT_OVERRIDE, sizeof(*o)};
        o->bus = 0;
        o->source = isa_overrides[i].irq;
        o->gsi = isa_overrides[i].gsi;
        o->flags = isa_overrides[i].flags;
        e += sizeof(*o);
    }
    struct acpi_madt_local_apic_nmi *n = (void *)e;
    n->h = (struct acpi_madt_entry){ACPI_MADT_LOCAL_APIC_NMI, sizeof(*n)};
    n->processor_uid = ACPI_MADT_ALL_PROCESSORS;
    n->flags = MPS_INTI_POLARITY_CONFORMS | MPS_INTI_TRIGGER_CONFORMS;
    n->lint = 1;
    seal(p);
}

size_t guest_acpi_build(uint8_t *buf, size_t cap, uint64_t buf_gpa,
                        const struct guest_acpi_config *cfg)
{
    if (!cfg || cfg->cpus < 1 || cfg->cpus > GUEST_ACPI_MAX_CPUS || (buf_gpa & 15))
        return 0;
    struct layout l;
    plan(buf_gpa, cfg->cpus, &l);
    if (l.end > cap || buf_gpa > UINT32_MAX || l.end > UINT32_MAX - buf_gpa + 1)
        return 0;
    memset(buf, 0, l.end);
    write_rsdp(buf, buf_gpa, &l);
    write_roots(buf, buf_gpa, &l);
    write_facs(buf + l.facs);
    write_fadt(buf + l.fadt, buf_gpa, &l);
    write_dsdt(buf + l.dsdt);
    write_madt(buf + l.madt, cfg->cpus);
    return l.end;
}
