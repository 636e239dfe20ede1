/*
 * The guest's ACPI fixed-feature power management registers, at the ports QEMU's PIIX4 PM
 * function uses (base 0x600): PM1a event block (status, enable), PM1a control block and the PM
 * timer. There is no SMI_CMD port: the FADT says SMI_CMD = 0, so the platform is always in ACPI
 * mode and SCI_EN reads 1. A pure model: time is passed in (`now_ns`, any monotonic nanosecond
 * clock); the guest's power-off request comes back as an event. State in one struct with
 * save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_ACPI_PM_BASE 0x600
#define VDEV_ACPI_PM1A_EVT_BLK 0x600 /* PM1 status at +0, PM1 enable at +2, 16 bits each */
#define VDEV_ACPI_PM1_EVT_LEN 4
#define VDEV_ACPI_PM1A_CNT_BLK 0x604 /* 16 bits */
#define VDEV_ACPI_PM1_CNT_LEN 2
#define VDEV_ACPI_PM_TMR_BLK 0x608 /* 32 bits, read-only; 0x606-0x607 read 0 */
#define VDEV_ACPI_PM_TMR_LEN 4
#define VDEV_ACPI_PM_PORTS 12
/* The SLP_TYP value of S5 (soft off), as guest_acpi's DSDT \_S5_ package gives it. */
#define VDEV_ACPI_SLP_TYP_S5 5

enum vdev_acpi_pm_event {
    VDEV_ACPI_PM_NONE = 0,
    VDEV_ACPI_PM_POWEROFF, /* SLP_EN written with SLP_TYP = S5 */
};

struct vdev_acpi_pm {
    uint64_t tick_base;   /* PM timer ticks since now_ns 0 at which the guest's count was 0 */
    uint64_t tmr_cleared; /* guest count (64-bit) when TMR_STS was last cleared */
    uint16_t sts;         /* PM1 status bits other than TMR_STS, which time gives */
    uint16_t en;          /* PM1 enable */
    uint16_t cnt;         /* PM1 control as stored: SLP_TYP, BM_RLD */
    uint16_t reserved;    /* 0 */
};

/* The timer count is saved relative to the save, so the destination's clock may differ. */
struct vdev_acpi_pm_state {
    uint32_t version;
    uint32_t reserved;    /* 0 */
    uint64_t saved_count; /* guest count (64-bit) at the save */
    struct vdev_acpi_pm pm;
};

/* Power-on: status, enable and control 0 (SCI_EN reads 1), the timer counting from 0 now. */
void vdev_acpi_pm_reset(struct vdev_acpi_pm *pm, uint64_t now_ns);
/*
 * Port access of size 1, 2 or 4 bytes (value in the low bits) lying wholly in 0x600-0x60b, at
 * any offset: bytes of neighbouring registers combine little-endian. Returns false (nothing
 * done) for anything else. PM1 status is write-1-to-clear; the timer is read-only, 24 bits
 * (FADT TMR_VAL_EXT clear) with bits 31:24 reading 0. *event is always set: POWEROFF when the
 * write sets SLP_EN with SLP_TYP = S5, else NONE (other sleep states are not supported and
 * are ignored).
 */
bool vdev_acpi_pm_io(struct vdev_acpi_pm *pm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value, uint64_t now_ns, enum vdev_acpi_pm_event *event);
/* The operator's power button: sets PWRBTN_STS (the guest sees an SCI if it enabled it). */
void vdev_acpi_pm_power_button(struct vdev_acpi_pm *pm);
/* Level of the SCI line (IRQ 9 per the FADT): an enabled status bit is set. The timer's
 * TMR_STS follows time, so a caller with TMR_EN set must poll this. */
bool vdev_acpi_pm_sci(const struct vdev_acpi_pm *pm, uint64_t now_ns);
void vdev_acpi_pm_save(const struct vdev_acpi_pm *pm, struct vdev_acpi_pm_state *out,
                       uint64_t now_ns);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_acpi_pm_restore(struct vdev_acpi_pm *pm, const struct vdev_acpi_pm_state *in,
                         uint64_t now_ns);
