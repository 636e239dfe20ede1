/*
 * Finds the ACPI tables in physical memory (through the direct map, so after paging_init) and
 * keeps what civic uses from them in one struct acpi_info. Decoding is in acpi_parse.c.
 */
#include "arch/x86/acpi.h"

#include "arch/x86/acpi_parse.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/paging.h"
#include "kernel/arch.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"

/* Where a BIOS may put the RSDP (ACPI 6.5, 5.2.5.1): the first KiB of the EBDA, whose real-mode
 * segment is the word at 0x40E, and the BIOS read-only area; on 16-byte boundaries. */
#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SEARCH_LEN 1024
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000
#define RSDP_ALIGN 16

static struct acpi_info info;

const struct acpi_info *acpi_get(void)
{
    return &info;
}

void acpi_isa_irq(unsigned isa_irq, uint32_t *gsi, uint16_t *flags)
{
    *gsi = isa_irq;
    *flags = 0;
    for (unsigned i = 0; i < info.override_count; i++) {
        if (info.overrides[i].source_irq == isa_irq) {
            *gsi = info.overrides[i].gsi;
            *flags = info.overrides[i].flags;
        }
    }
}

/* Bytes the direct map lets us read from phys on, capped at the largest table size. */
static size_t readable(uint64_t phys)
{
    uint64_t end = paging_direct_map_end();
    if (phys >= end)
        return 0;
    return end - phys > ACPI_TABLE_MAX_LEN ? ACPI_TABLE_MAX_LEN : (size_t)(end - phys);
}

static const uint8_t *rsdp_scan(uint64_t start, uint64_t end)
{
    struct acpi_rsdp_info ri;
    for (uint64_t p = start; p + ACPI_RSDP_V2_LEN <= end; p += RSDP_ALIGN) {
        const uint8_t *r = phys_to_virt(p);
        if (memcmp(r, ACPI_RSDP_SIGNATURE, 8) == 0 &&
            acpi_parse_rsdp(r, ACPI_RSDP_V2_LEN, &ri) == CIVIC_OK)
            return r;
    }
    return NULL;
}

static const uint8_t *rsdp_search(void)
{
    uint16_t seg;
    memcpy(&seg, phys_to_virt(BDA_EBDA_SEGMENT), sizeof(seg));
    uint64_t ebda = (uint64_t)seg << 4;
    const uint8_t *r = NULL;
    /* The EBDA sits just below 640 KiB; anything else is not a real pointer. */
    if (ebda >= 0x80000 && ebda + EBDA_SEARCH_LEN <= 0xa0000)
        r = rsdp_scan(ebda, ebda + EBDA_SEARCH_LEN);
    return r ? r : rsdp_scan(BIOS_AREA_START, BIOS_AREA_END);
}

/* The table at phys if its length and checksum hold (and its signature, if sig); else a
 * warning and NULL. */
static const void *table_at(uint64_t phys, const char *sig, uint32_t *len)
{
    size_t avail = readable(phys);
    if (avail < ACPI_SDT_HEADER_LEN) {
        log_warn("acpi: table at %#llx is outside the direct map; skipped",
                 (unsigned long long)phys);
        return NULL;
    }
    const struct acpi_sdt_header *h = phys_to_virt(phys);
    char name[5];
    for (int i = 0; i < 4; i++)
        name[i] = h->signature[i] >= 0x20 && h->signature[i] < 0x7f ? h->signature[i] : '?';
    name[4] = '\0';
    switch (acpi_check_table(h, avail, sig, len)) {
    case CIVIC_OK: return h;
    case CIVIC_EINVAL:
        log_warn("acpi: expected %s at %#llx, found '%s'; skipped", sig, (unsigned long long)phys,
                 name);
        return NULL;
    case CIVIC_ERANGE:
        log_warn("acpi: %s at %#llx has a bad length (%u); skipped", name, (unsigned long long)phys,
                 h->length);
        return NULL;
    default:
        log_warn("acpi: %s at %#llx fails its checksum; skipped", name, (unsigned long long)phys);
        return NULL;
    }
}

/* Signature of the table at phys without checking it yet; false if unreadable. */
static bool peek_signature(uint64_t phys, char sig[4])
{
    if (readable(phys) < ACPI_SDT_HEADER_LEN)
        return false;
    memcpy(sig, phys_to_virt(phys), 4);
    return true;
}

static void read_dsdt(uint64_t phys)
{
    uint32_t len;
    const uint8_t *dsdt = phys ? table_at(phys, ACPI_SIG_DSDT, &len) : NULL;
    if (!dsdt)
        return;
    uint8_t a, b;
    civic_err e = acpi_find_s5(dsdt + ACPI_SDT_HEADER_LEN, len - ACPI_SDT_HEADER_LEN, &a, &b);
    if (e == CIVIC_OK) {
        info.s5_valid = true;
        info.slp_typa = a;
        info.slp_typb = b;
    } else if (e == CIVIC_ECORRUPT) {
        log_warn("acpi: DSDT names \\_S5_ in an encoding civic cannot read");
    }
}

static void read_tables(const void *root, bool xsdt)
{
    bool have_fadt = false, have_madt = false;
    uint64_t dsdt_phys = 0;
    size_t n = acpi_sdt_count(root, xsdt);
    for (size_t i = 0; i < n; i++) {
        uint64_t phys = acpi_sdt_entry(root, xsdt, i);
        char sig[4];
        if (!peek_signature(phys, sig))
            continue;
        const void *t;
        if (!have_fadt && memcmp(sig, ACPI_SIG_FADT, 4) == 0 &&
            (t = table_at(phys, ACPI_SIG_FADT, NULL)) != NULL) {
            have_fadt = acpi_parse_fadt(t, &info, &dsdt_phys) == CIVIC_OK;
            if (!have_fadt)
                log_warn("acpi: FADT at %#llx is too short; skipped", (unsigned long long)phys);
        } else if (!have_madt && memcmp(sig, ACPI_SIG_MADT, 4) == 0 &&
                   (t = table_at(phys, ACPI_SIG_MADT, NULL)) != NULL) {
            have_madt = true;
            if (acpi_parse_madt(t, &info) != CIVIC_OK)
                log_warn("acpi: MADT at %#llx has a malformed entry; entries after it ignored",
                         (unsigned long long)phys);
        }
    }
    if (!have_fadt)
        log_warn("acpi: no usable FADT: no ACPI power off or reset register");
    if (!have_madt)
        log_warn("acpi: no usable MADT: no IOAPIC or CPU list from ACPI");
    read_dsdt(dsdt_phys);
}

civic_err acpi_init(const uint8_t *rsdp, size_t len)
{
    memset(&info, 0, sizeof(info));
    if (!rsdp) {
        rsdp = rsdp_search();
        len = ACPI_RSDP_V2_LEN;
        if (!rsdp) {
            log_warn("acpi: no RSDP from the boot loader, in the EBDA or in the BIOS area");
            return trace_error(CIVIC_ENOENT);
        }
    }
    struct acpi_rsdp_info ri;
    civic_err e = acpi_parse_rsdp(rsdp, len, &ri);
    if (e != CIVIC_OK) {
        log_warn("acpi: the RSDP is invalid (%s)", civic_strerror(e));
        return e;
    }
    const char *root_sig = ri.root_is_xsdt ? ACPI_SIG_XSDT : ACPI_SIG_RSDT;
    const void *root = table_at(ri.root_phys, root_sig, NULL);
    if (!root)
        return trace_error(CIVIC_ECORRUPT);

    info.revision = ri.revision;
    memcpy(info.oem_id, ri.oem_id, sizeof(info.oem_id));
    read_tables(root, ri.root_is_xsdt);
    info.present = true;

    char ioapic[40] = "no IOAPIC";
    if (info.has_ioapic)
        ksnprintf(ioapic, sizeof(ioapic), "IOAPIC at %#llx", (unsigned long long)info.ioapic_phys);
    char s5[40] = "S5 not found";
    if (info.s5_valid)
        ksnprintf(s5, sizeof(s5), "S5 found (SLP_TYP %u/%u)", info.slp_typa, info.slp_typb);
    log_info("acpi: OEM '%s' revision %u (%s), %u CPU%s, %s, %u override%s, %s", info.oem_id,
             info.revision, root_sig, info.cpu_count, info.cpu_count == 1 ? "" : "s", ioapic,
             info.override_count, info.override_count == 1 ? "" : "s", s5);
    return CIVIC_OK;
}
