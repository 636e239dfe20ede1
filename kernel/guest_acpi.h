/*
 * The ACPI tables a guest finds in its BIOS area (ACPI 6.5, chapter 5), describing civic's
 * virtual PC as QEMU's PIIX machine does: RSDP, RSDT, XSDT, FADT (PM registers of
 * vdev_acpi_pm, reset through port 0xcf9), FACS, a DSDT holding only \_S5_, and a MADT (local
 * APICs, the IOAPIC of vdev_ioapic, ISA overrides, LINT1 as NMI). Pure: writes into a buffer.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Where the caller puts the tables: the BIOS area, where OSes scan for the RSDP. */
#define GUEST_ACPI_GPA 0xf0000ull
#define GUEST_ACPI_MAX_CPUS 32
#define GUEST_ACPI_SCI_IRQ 9
#define GUEST_ACPI_LAPIC_BASE 0xfee00000u
#define GUEST_ACPI_RESET_PORT 0xcf9
#define GUEST_ACPI_RESET_VALUE 0x06 /* PIIX reset control: full reset, system reset */

struct guest_acpi_config {
    unsigned cpus; /* 1..GUEST_ACPI_MAX_CPUS; APIC IDs and ACPI processor IDs 0..cpus-1 */
};

/*
 * Writes the tables into buf, which the guest will see at buf_gpa (16-byte aligned, the whole
 * of it below 4 GiB since RSDT entries are 32-bit), the RSDP at offset 0. Returns the bytes
 * used, or 0 (buf untouched) if cap is too small or cfg or buf_gpa are unusable. Never writes
 * past cap.
 */
size_t guest_acpi_build(uint8_t *buf, size_t cap, uint64_t buf_gpa,
                        const struct guest_acpi_config *cfg);
