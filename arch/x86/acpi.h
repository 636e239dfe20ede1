/*
 * ACPI tables civic reads (ACPI spec 6.x, chapter 5): RSDP -> RSDT/XSDT -> FADT (power off,
 * reset, PM timer), MADT (local APICs, IOAPIC, interrupt source overrides), DSDT (\_S5_ sleep
 * type for power off). Every table's length and checksum is checked before use.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define ACPI_MAX_OVERRIDES 16

struct acpi_irq_override {
    uint8_t source_irq; /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3 */
};

struct acpi_info {
    bool present;
    uint8_t revision;
    char oem_id[7];
    /* MADT */
    uint64_t lapic_phys;
    unsigned cpu_count;
    bool has_ioapic;
    uint64_t ioapic_phys;
    uint32_t ioapic_gsi_base;
    struct acpi_irq_override overrides[ACPI_MAX_OVERRIDES];
    unsigned override_count;
    /* FADT */
    uint32_t pm1a_cnt, pm1b_cnt; /* I/O ports, 0 if absent */
    uint32_t pm_tmr_blk;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    bool reset_valid;
    uint8_t reset_space; /* GAS address space: 0 memory, 1 I/O, 2 PCI config */
    uint64_t reset_addr;
    uint8_t reset_value;
    /* DSDT \_S5_ */
    bool s5_valid;
    uint8_t slp_typa, slp_typb;
};

/* rsdp: the copy from the boot information (len 20 or 36), or NULL to search the BIOS areas. */
civic_err acpi_init(const uint8_t *rsdp, size_t len);
const struct acpi_info *acpi_get(void);
/* The GSI and INTI flags an ISA IRQ is wired to (identity unless overridden). */
void acpi_isa_irq(unsigned isa_irq, uint32_t *gsi, uint16_t *flags);
