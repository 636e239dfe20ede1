/*
 * Pure ACPI table decoding (ACPI 6.5, chapter 5 and the AML grammar of chapter 20): no memory
 * mapping, no I/O, so every function runs in host unit tests on synthetic tables. acpi.c finds
 * the tables in physical memory and calls these.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/acpi.h"
#include "kernel/error.h"

/* The largest table civic accepts (no real firmware table comes close; a bigger length is a
 * corrupt header). */
#define ACPI_TABLE_MAX_LEN (1u << 20)

/* Sum of len bytes modulo 256; a valid table or RSDP sums to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

struct acpi_rsdp_info {
    uint8_t revision;
    char oem_id[7];     /* trailing spaces removed */
    uint64_t root_phys; /* the XSDT when usable, else the RSDT */
    bool root_is_xsdt;
};

/* Validates an RSDP of len readable bytes (signature, checksum, and for revision >= 2 the
 * extended checksum) and picks the root table: the XSDT when the revision is >= 2, its checksum
 * holds and its address is non-zero, else the RSDT. */
civic_err acpi_parse_rsdp(const void *p, size_t len, struct acpi_rsdp_info *out);

/* Checks a table of which avail bytes are readable: header length in [36, 1 MiB] and within
 * avail, checksum zero, and the signature if sig is not NULL. On success *len_out is the
 * table's length. */
civic_err acpi_check_table(const void *table, size_t avail, const char *sig, uint32_t *len_out);

/* Entries of a checked RSDT (32-bit addresses) or XSDT (64-bit). */
size_t acpi_sdt_count(const void *sdt, bool xsdt);
uint64_t acpi_sdt_entry(const void *sdt, bool xsdt, size_t i);

/* Walks a checked MADT into info: local APIC address (and its 64-bit override), enabled CPUs
 * (local APIC and x2APIC entries), the first IOAPIC, ISA interrupt source overrides. Returns
 * CIVIC_ECORRUPT if an entry overruns the table (what came before it is kept). */
civic_err acpi_parse_madt(const void *madt, struct acpi_info *info);

/* Extracts from a checked FADT the PM1a/PM1b control and PM timer ports, SMI_CMD/ACPI_ENABLE,
 * the reset register and the DSDT address, reading only fields the table's length covers and
 * preferring the X_ fields when present and non-zero. */
civic_err acpi_parse_fadt(const void *fadt, struct acpi_info *info, uint64_t *dsdt_phys);

/* Scans AML (a DSDT's body) for Name(\_S5_, Package(){SLP_TYPa, SLP_TYPb, ...}).
 * CIVIC_ENOENT: no \_S5_; CIVIC_ECORRUPT: found but malformed, truncated or in an encoding
 * this scanner does not know. */
civic_err acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);
