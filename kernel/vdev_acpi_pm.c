/*
 * ACPI fixed-feature PM registers (ACPI 6.5, 4.8.3) at the PIIX4 PM function's layout (Intel
 * 82371AB data sheet, 7.2: PMSTS, PMEN, PMCNTRL, PMTMR).
 *
 * The block is handled as 12 bytes so that any access of 1, 2 or 4 bytes inside it works the
 * way byte-wise decoding hardware would. The timer count is computed from now_ns, never
 * stored; TMR_STS is "bit 23 of the count toggled since the guest last cleared it", also
 * computed. Only PWRBTN_STS is a stored status bit (the operator's power button); the other
 * status bits report events this platform never has. Sleep states other than S5 are ignored:
 * without firmware to resume through, S1-S4 cannot be entered.
 */
#include "kernel/vdev_acpi_pm.h"

#include "arch/x86/acpi_tables.h"
#include "kernel/string.h"

#define PM_STATE_VERSION 1
#define NS_PER_SEC 1000000000ull
#define TMR_BITS 24
#define TMR_MASK ((1u << TMR_BITS) - 1)
#define TMR_STS_BIT (TMR_BITS - 1) /* TMR_STS is set when bit 23 toggles */

#define STS_STORED ACPI_PM1_STS_PWRBTN
/* PIIX4 PMEN: TMROF_EN, GBL_EN, PWRBTN_EN, RTC_EN are implemented. */
#define EN_WRITABLE (ACPI_PM1_EN_TMR | ACPI_PM1_EN_GBL | ACPI_PM1_EN_PWRBTN | ACPI_PM1_EN_RTC)
#define CNT_STORED (ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP_MASK)

/* Offsets in the block. */
enum {
    OFF_STS = 0,
    OFF_EN = 2,
    OFF_CNT = VDEV_ACPI_PM1A_CNT_BLK - VDEV_ACPI_PM_BASE,
    OFF_TMR = VDEV_ACPI_PM_TMR_BLK - VDEV_ACPI_PM_BASE,
};

/* Timer ticks in now_ns, exactly floor(now_ns * HZ / 1e9): split at whole seconds so that no
 * product exceeds 64 bits (the fraction's product is below 3.6e15). */
static uint64_t ns_to_ticks(uint64_t now_ns)
{
    return now_ns / NS_PER_SEC * ACPI_PM_TIMER_HZ +
           now_ns % NS_PER_SEC * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

static uint64_t count(const struct vdev_acpi_pm *pm, uint64_t now_ns)
{
    return ns_to_ticks(now_ns) - pm->tick_base;
}

static uint16_t status(const struct vdev_acpi_pm *pm, uint64_t now_ns)
{
    uint16_t s = pm->sts;
    if ((count(pm, now_ns) >> TMR_STS_BIT) != (pm->tmr_cleared >> TMR_STS_BIT))
        s |= ACPI_PM1_STS_TMR;
    return s;
}

static uint8_t read_byte(const struct vdev_acpi_pm *pm, unsigned off, uint64_t now_ns)
{
    uint32_t reg;
    unsigned shift = (off & 1) * 8;
    switch (off & ~1u) {
    case OFF_STS: reg = status(pm, now_ns); break;
    case OFF_EN: reg = pm->en; break;
    case OFF_CNT: reg = pm->cnt | ACPI_PM1_CNT_SCI_EN; break;
    case OFF_TMR:
    case OFF_TMR + 2:
        reg = (uint32_t)count(pm, now_ns) & TMR_MASK;
        shift = (off - OFF_TMR) * 8;
        break;
    default: reg = 0; break; /* 0x606-0x607: nothing there */
    }
    return (uint8_t)(reg >> shift);
}

/* Returns whether the byte sets SLP_EN. */
static bool write_byte(struct vdev_acpi_pm *pm, unsigned off, uint8_t b, uint64_t now_ns)
{
    unsigned shift = (off & 1) * 8;
    uint16_t bits = (uint16_t)(b << shift);
    switch (off & ~1u) {
    case OFF_STS:
        if (bits & ACPI_PM1_STS_TMR)
            pm->tmr_cleared = count(pm, now_ns);
        pm->sts &= (uint16_t)~bits;
        return false;
    case OFF_EN:
        pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) | (bits & EN_WRITABLE));
        return false;
    case OFF_CNT:
        pm->cnt = (uint16_t)((pm->cnt & ~(0xffu << shift)) | (bits & CNT_STORED));
        return (bits & ACPI_PM1_CNT_SLP_EN) != 0;
    default: return false; /* the timer is read-only */
    }
}

bool vdev_acpi_pm_io(struct vdev_acpi_pm *pm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value, uint64_t now_ns, enum vdev_acpi_pm_event *event)
{
    *event = VDEV_ACPI_PM_NONE;
    if ((size != 1 && size != 2 && size != 4) || port < VDEV_ACPI_PM_BASE ||
        port - VDEV_ACPI_PM_BASE + size > VDEV_ACPI_PM_PORTS)
        return false;
    unsigned off = port - VDEV_ACPI_PM_BASE;
    if (!is_write) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)read_byte(pm, off + i, now_ns) << (8 * i);
        *value = v;
        return true;
    }
    bool sleep = false;
    for (unsigned i = 0; i < size; i++)
        sleep |= write_byte(pm, off + i, (uint8_t)(*value >> (8 * i)), now_ns);
    unsigned typ = (pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
    if (sleep && typ == VDEV_ACPI_SLP_TYP_S5)
        *event = VDEV_ACPI_PM_POWEROFF;
    return true;
}

void vdev_acpi_pm_power_button(struct vdev_acpi_pm *pm)
{
    pm->sts |= ACPI_PM1_STS_PWRBTN;
}

bool vdev_acpi_pm_sci(const struct vdev_acpi_pm *pm, uint64_t now_ns)
{
    return (status(pm, now_ns) & pm->en) != 0;
}

void vdev_acpi_pm_reset(struct vdev_acpi_pm *pm, uint64_t now_ns)
{
    memset(pm, 0, sizeof *pm);
    pm->tick_base = ns_to_ticks(now_ns);
}

void vdev_acpi_pm_save(const struct vdev_acpi_pm *pm, struct vdev_acpi_pm_state *out,
                       uint64_t now_ns)
{
    memset(out, 0, sizeof *out);
    out->version = PM_STATE_VERSION;
    out->saved_count = count(pm, now_ns);
    out->pm = *pm;
}

int vdev_acpi_pm_restore(struct vdev_acpi_pm *pm, const struct vdev_acpi_pm_state *in,
                         uint64_t now_ns)
{
    const struct vdev_acpi_pm *p = &in->pm;
    if (in->version != PM_STATE_VERSION || in->reserved || p->reserved || (p->sts & ~STS_STORED) ||
        (p->en & ~EN_WRITABLE) || (p->cnt & ~CNT_STORED) || p->tmr_cleared > in->saved_count)
        return -1;
    *pm = *p;
    pm->tick_base = ns_to_ticks(now_ns) - in->saved_count;
    return 0;
}
