/*
 * The CPUs as firmware lists them: RSDP -> RSDT or XSDT -> the MADT ("APIC") and its Processor
 * Local APIC entries with the Enabled flag (ACPI 6.4: 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT,
 * 5.2.12 MADT, 5.2.12.2 Processor Local APIC). Paging is off, so a table is read where it lies,
 * but only below 4 GiB. Every checksum is verified: a platform that offers tables must offer
 * correct ones.
 */
#include "smp.h"

#define RSDP_SCAN_START 0xe0000u
#define RSDP_SCAN_END 0x100000u
#define BDA_EBDA_SEGMENT 0x40e /* BIOS data area word: the EBDA's segment */
#define EBDA_SCAN_LEN 1024u
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define SDT_HEADER_LEN 36
#define MADT_ENTRIES_OFFSET 44 /* header, Local Interrupt Controller Address, Flags */
#define MADT_TYPE_LOCAL_APIC 0
#define MADT_TYPE_LOCAL_X2APIC 9
#define MADT_LAPIC_ENABLED (1u << 0)
#define TABLE_MAX_LEN 0x10000u /* far more than any RSDT or MADT of a small machine */

struct rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision; /* 0: ACPI 1.0, 2: ACPI 2.0+ (length and XSDT valid) */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* over `length` bytes */
    uint8_t reserved[3];
} __attribute__((packed));

struct sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));

static uint8_t sum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + b[i]);
    return s;
}

static const struct rsdp *scan_rsdp(uint32_t from, uint32_t to)
{
    for (uint32_t a = from; a + RSDP_V1_LEN <= to; a += 16) {
        const struct rsdp *r = (const struct rsdp *)(uintptr_t)a;
        if (strncmp(r->signature, "RSD PTR ", 8) == 0 && sum(r, RSDP_V1_LEN) == 0)
            return r;
    }
    return NULL;
}

static const struct rsdp *find_rsdp(void)
{
    /* ACPI 6.4 5.2.5.1: the first KiB of the EBDA, then the BIOS area 0xe0000-0xfffff. */
    uint16_t seg;
    /* Through asm: GCC refuses a pointer made from a small constant (-Warray-bounds). */
    __asm__ volatile("movw (%1), %0" : "=r"(seg) : "r"(BDA_EBDA_SEGMENT) : "memory");
    uint32_t ebda = (uint32_t)seg << 4;
    const struct rsdp *r = NULL;
    if (ebda >= 0x400 && ebda + EBDA_SCAN_LEN <= RSDP_SCAN_START)
        r = scan_rsdp(ebda, ebda + EBDA_SCAN_LEN);
    return r ? r : scan_rsdp(RSDP_SCAN_START, RSDP_SCAN_END);
}

/* A table at addr with a sane length and a good checksum, or NULL after printing why not. */
static const struct sdt_header *table_at(uint64_t addr, const char *what)
{
    if (addr == 0 || addr + SDT_HEADER_LEN > 0x100000000ull) {
        printf("smp: acpi: %s address 0x%llx is not below 4 GiB\n", what, addr);
        return NULL;
    }
    const struct sdt_header *h = (const struct sdt_header *)(uintptr_t)addr;
    if (h->length < SDT_HEADER_LEN || h->length > TABLE_MAX_LEN ||
        addr + h->length > 0x100000000ull) {
        printf("smp: acpi: %s at 0x%llx has length %u\n", what, addr, h->length);
        return NULL;
    }
    if (sum(h, h->length) != 0) {
        printf("smp: acpi: %s at 0x%llx (%.4s) has a bad checksum\n", what, addr, h->signature);
        return NULL;
    }
    return h;
}

/* Fills out from the MADT's enabled Processor Local APIC entries. */
static enum madt_result parse_madt(const struct sdt_header *madt, struct smp_cpu_list *out)
{
    const uint8_t *p = (const uint8_t *)madt;
    unsigned x2apic = 0;
    out->n = 0;
    if (madt->length < MADT_ENTRIES_OFFSET) {
        printf("smp: acpi: MADT of %u bytes has no room for its fixed fields\n", madt->length);
        return MADT_BAD;
    }
    for (uint32_t off = MADT_ENTRIES_OFFSET; off < madt->length;) {
        uint8_t type = p[off], len = off + 2 <= madt->length ? p[off + 1] : 0;
        if (len < 2 || off + len > madt->length) {
            printf("smp: acpi: MADT entry at offset %u has length %u\n", off, len);
            return MADT_BAD;
        }
        if (type == MADT_TYPE_LOCAL_APIC && len >= 8) {
            uint8_t apic_id = p[off + 3];
            uint32_t flags = p[off + 4] | (uint32_t)p[off + 5] << 8 | (uint32_t)p[off + 6] << 16 |
                             (uint32_t)p[off + 7] << 24;
            if (flags & MADT_LAPIC_ENABLED) {
                if (out->n == SMP_MAX_CPUS) {
                    printf("smp: acpi: more than %u enabled cpus\n", SMP_MAX_CPUS);
                    return MADT_BAD;
                }
                out->apic_id[out->n++] = apic_id;
            }
        } else if (type == MADT_TYPE_LOCAL_X2APIC) {
            x2apic++;
        }
        off += len;
    }
    if (x2apic)
        printf("smp: note: ignoring %u Processor Local x2APIC entries (xAPIC only)\n", x2apic);
    return MADT_FOUND;
}

enum madt_result smp_madt_cpus(struct smp_cpu_list *out)
{
    out->n = 0;
    const struct rsdp *r = find_rsdp();
    if (r == NULL)
        return MADT_NO_TABLES;
    bool xsdt = false;
    uint64_t root = r->rsdt_address;
    if (r->revision >= 2) {
        if (r->length < RSDP_V2_LEN || r->length > 1024 || sum(r, r->length) != 0) {
            printf("smp: acpi: RSDP at %p: bad length %u or extended checksum\n", (void *)r,
                   r->length);
            return MADT_BAD;
        }
        if (r->xsdt_address != 0 && r->xsdt_address < 0x100000000ull) {
            root = r->xsdt_address;
            xsdt = true;
        }
    }
    const struct sdt_header *rt = table_at(root, xsdt ? "XSDT" : "RSDT");
    if (rt == NULL)
        return MADT_BAD;
    if (strncmp(rt->signature, xsdt ? "XSDT" : "RSDT", 4) != 0) {
        printf("smp: acpi: root table at 0x%llx has signature '%.4s'\n", root, rt->signature);
        return MADT_BAD;
    }
    unsigned entry_size = xsdt ? 8 : 4;
    unsigned n = (rt->length - SDT_HEADER_LEN) / entry_size;
    const uint8_t *e = (const uint8_t *)rt + SDT_HEADER_LEN;
    printf("smp: acpi: RSDP at %p revision %u, %s at 0x%llx with %u tables\n", (void *)r,
           r->revision, xsdt ? "XSDT" : "RSDT", root, n);
    for (unsigned i = 0; i < n; i++) {
        uint64_t addr = 0;
        for (unsigned b = 0; b < entry_size; b++)
            addr |= (uint64_t)e[i * entry_size + b] << (8 * b);
        if (addr == 0 || addr >= 0x100000000ull)
            continue;
        const struct sdt_header *h = (const struct sdt_header *)(uintptr_t)addr;
        if (strncmp(h->signature, "APIC", 4) != 0)
            continue;
        const struct sdt_header *madt = table_at(addr, "MADT");
        return madt ? parse_madt(madt, out) : MADT_BAD;
    }
    return MADT_NO_TABLES;
}
