/*
 * ACPI table layouts civic reads (ACPI Specification 6.5, chapter 5.2). All packed: firmware
 * places tables at arbitrary byte addresses, so fields are read through these structs only after
 * the table's length has been checked.
 */
#pragma once
#include <stdint.h>

#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_SIG_RSDT "RSDT"
#define ACPI_SIG_XSDT "XSDT"
#define ACPI_SIG_FADT "FACP"
#define ACPI_SIG_MADT "APIC"
#define ACPI_SIG_DSDT "DSDT"

/* Root System Description Pointer (5.2.5.3). Revision 0 has only the first 20 bytes. */
struct acpi_rsdp {
    char signature[8];
    uint8_t checksum; /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision; /* 0: ACPI 1.0; 2: ACPI 2.0 and later */
    uint32_t rsdt_address;
    /* ACPI 2.0+ */
    uint32_t length; /* of the whole RSDP */
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* over `length` bytes */
    uint8_t reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36

/* System Description Table header (5.2.6), at the start of every table but the RSDP. */
struct acpi_sdt_header {
    char signature[4];
    uint32_t length; /* of the whole table, header included */
    uint8_t revision;
    uint8_t checksum; /* all `length` bytes sum to 0 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));

#define ACPI_SDT_HEADER_LEN 36

/* Generic Address Structure (5.2.3.2). */
struct acpi_gas {
    uint8_t address_space_id;
    uint8_t register_bit_width;
    uint8_t register_bit_offset;
    uint8_t access_size;
    uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_PCI_CONFIG 2

/* Fixed ACPI Description Table (5.2.9, Table 5.9): the fields civic uses, at their offsets.
 * Revision 1 tables end at `flags` (116 bytes); later fields exist only if `length` covers them. */
struct acpi_fadt {
    struct acpi_sdt_header header;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved0;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint8_t acpi_disable;
    uint8_t s4bios_req;
    uint8_t pstate_cnt;
    uint32_t pm1a_evt_blk;
    uint32_t pm1b_evt_blk;
    uint32_t pm1a_cnt_blk;
    uint32_t pm1b_cnt_blk;
    uint32_t pm2_cnt_blk;
    uint32_t pm_tmr_blk;
    uint32_t gpe0_blk;
    uint32_t gpe1_blk;
    uint8_t pm1_evt_len;
    uint8_t pm1_cnt_len;
    uint8_t pm2_cnt_len;
    uint8_t pm_tmr_len;
    uint8_t gpe0_blk_len;
    uint8_t gpe1_blk_len;
    uint8_t gpe1_base;
    uint8_t cst_cnt;
    uint16_t p_lvl2_lat;
    uint16_t p_lvl3_lat;
    uint16_t flush_size;
    uint16_t flush_stride;
    uint8_t duty_offset;
    uint8_t duty_width;
    uint8_t day_alrm;
    uint8_t mon_alrm;
    uint8_t century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags; /* offset 112 */
    /* ACPI 2.0+ */
    struct acpi_gas reset_reg; /* offset 116 */
    uint8_t reset_value;       /* offset 128 */
    uint16_t arm_boot_arch;
    uint8_t fadt_minor_version;
    uint64_t x_firmware_ctrl; /* offset 132 */
    uint64_t x_dsdt;          /* offset 140 */
    struct acpi_gas x_pm1a_evt_blk;
    struct acpi_gas x_pm1b_evt_blk;
    struct acpi_gas x_pm1a_cnt_blk; /* offset 172 */
    struct acpi_gas x_pm1b_cnt_blk;
    struct acpi_gas x_pm2_cnt_blk;
    struct acpi_gas x_pm_tmr_blk; /* offset 208 */
} __attribute__((packed));

/* FADT flags (Table 5.10). */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* PM1 control register bits (4.8.3.2.1, Table 4.13). */
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

/* Multiple APIC Description Table (5.2.12): header, then variable-length entries. */
struct acpi_madt {
    struct acpi_sdt_header header;
    uint32_t local_apic_address;
    uint32_t flags;
} __attribute__((packed));

struct acpi_madt_entry {
    uint8_t type;
    uint8_t length;
} __attribute__((packed));

/* MADT entry types (Table 5.44). */
#define ACPI_MADT_LOCAL_APIC 0
#define ACPI_MADT_IO_APIC 1
#define ACPI_MADT_INTERRUPT_OVERRIDE 2
#define ACPI_MADT_LOCAL_APIC_OVERRIDE 5
#define ACPI_MADT_LOCAL_X2APIC 9

/* Processor Local APIC (5.2.12.2) and Local x2APIC (5.2.12.12) flags. */
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)

struct acpi_madt_local_apic {
    struct acpi_madt_entry h;
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags;
} __attribute__((packed));

struct acpi_madt_io_apic {
    struct acpi_madt_entry h;
    uint8_t io_apic_id;
    uint8_t reserved;
    uint32_t address;
    uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_interrupt_override {
    struct acpi_madt_entry h;
    uint8_t bus; /* 0: ISA */
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
} __attribute__((packed));

struct acpi_madt_local_apic_override {
    struct acpi_madt_entry h;
    uint16_t reserved;
    uint64_t address;
} __attribute__((packed));

struct acpi_madt_local_x2apic {
    struct acpi_madt_entry h;
    uint16_t reserved;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t processor_uid;
} __attribute__((packed));

/* AML opcodes the \_S5_ scan recognises (ACPI 6.5, 20.2). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR '\\'

/* ---- Added for the guest's own tables (kernel/guest_acpi.c) and PM registers
 * (kernel/vdev_acpi_pm.c); ACPI Specification 6.5. ---- */
#define ACPI_SIG_FACS "FACS"

/* FADT revision 3 (ACPI 2.0-4.0 layout, 244 bytes): acpi_fadt plus the two GPE blocks. */
struct acpi_fadt_rev3 {
    struct acpi_fadt base;
    struct acpi_gas x_gpe0_blk; /* offset 220 */
    struct acpi_gas x_gpe1_blk;
} __attribute__((packed));

#define ACPI_FADT_REV3_LEN 244

/* More FADT flags (Table 5.10). */
#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_PWR_BUTTON (1u << 4) /* 1: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5) /* 1: no fixed-feature sleep button */
#define ACPI_FADT_FIX_RTC (1u << 6)    /* 1: RTC_STS not in the fixed registers */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)

/* FADT IAPC_BOOT_ARCH (Table 5.11). */
#define ACPI_FADT_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_FADT_IAPC_8042 (1u << 1)

/* FADT P_LVL2_LAT above 100 / P_LVL3_LAT above 1000: the C state is not supported. */
#define ACPI_FADT_P_LVL2_LAT_NONE 0x0fff
#define ACPI_FADT_P_LVL3_LAT_NONE 0x0fff

/* GAS access sizes (5.2.3.2). */
#define ACPI_GAS_ACCESS_BYTE 1
#define ACPI_GAS_ACCESS_WORD 2
#define ACPI_GAS_ACCESS_DWORD 3

/* Firmware ACPI Control Structure (5.2.10), 64-byte aligned, no checksum. */
struct acpi_facs {
    char signature[4];
    uint32_t length; /* 64 */
    uint32_t hardware_signature;
    uint32_t firmware_waking_vector;
    uint32_t global_lock;
    uint32_t flags;
    uint64_t x_firmware_waking_vector;
    uint8_t version; /* 2 */
    uint8_t reserved0[3];
    uint32_t ospm_flags;
    uint8_t reserved1[24];
} __attribute__((packed));

#define ACPI_FACS_LEN 64
#define ACPI_FACS_VERSION 2

/* PM1 status and enable registers (4.8.3.1, Tables 4.11 and 4.12). */
#define ACPI_PM1_STS_TMR (1u << 0)
#define ACPI_PM1_STS_BM (1u << 4)
#define ACPI_PM1_STS_GBL (1u << 5)
#define ACPI_PM1_STS_PWRBTN (1u << 8)
#define ACPI_PM1_STS_SLPBTN (1u << 9)
#define ACPI_PM1_STS_RTC (1u << 10)
#define ACPI_PM1_STS_WAK (1u << 15)
#define ACPI_PM1_EN_TMR (1u << 0)
#define ACPI_PM1_EN_GBL (1u << 5)
#define ACPI_PM1_EN_PWRBTN (1u << 8)
#define ACPI_PM1_EN_SLPBTN (1u << 9)
#define ACPI_PM1_EN_RTC (1u << 10)
/* PM1 control register (Table 4.13), besides SCI_EN, SLP_TYP and SLP_EN above. */
#define ACPI_PM1_CNT_BM_RLD (1u << 1)
#define ACPI_PM1_CNT_GBL_RLS (1u << 2)

/* Power management timer (4.8.3.3): 3.579545 MHz, 24 bits unless TMR_VAL_EXT. */
#define ACPI_PM_TIMER_HZ 3579545u

/* MADT flags (Table 5.43) and the Local APIC NMI entry (5.2.12.7). */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)
#define ACPI_MADT_LOCAL_APIC_NMI 4
#define ACPI_MADT_ALL_PROCESSORS 0xff

struct acpi_madt_local_apic_nmi {
    struct acpi_madt_entry h;
    uint8_t processor_uid;
    uint16_t flags; /* MPS INTI flags */
    uint8_t lint;   /* 0 or 1 */
} __attribute__((packed));

/* AML PkgLength with no following bytes holds lengths up to 63 (20.2.4). */
#define AML_PKGLEN_1BYTE_MAX 63
