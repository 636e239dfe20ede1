/*
 * The IOAPIC that the ACPI MADT describes (one; civic's platforms have one). Everything starts
 * masked; ISA lines are routed one by one, through the MADT's interrupt source overrides, to
 * this CPU's LAPIC.
 */
#include "arch/x86/ioapic.h"

#include <stdint.h>

#include "arch/x86/acpi.h"
#include "arch/x86/ioapic_regs.h"
#include "arch/x86/irq.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "kernel/log.h"

static volatile uint32_t *regs;
static uint32_t gsi_base;
static unsigned entries;

static uint32_t ioapic_read(uint32_t reg)
{
    regs[IOAPIC_IOREGSEL / 4] = reg;
    return regs[IOAPIC_IOWIN / 4];
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    regs[IOAPIC_IOREGSEL / 4] = reg;
    regs[IOAPIC_IOWIN / 4] = v;
}

static void write_entry(unsigned pin, uint64_t e)
{
    /* Mask through the low half first, so that no half-written entry is ever live. */
    irq_state_t s = irq_save();
    ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)IOAPIC_REDIR_MASKED);
    ioapic_write(IOAPIC_REDTBL(pin) + 1, (uint32_t)(e >> 32));
    ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)e);
    irq_restore(s);
}

civic_err ioapic_init(void)
{
    const struct acpi_info *acpi = acpi_get();
    if (!acpi || !acpi->has_ioapic)
        return trace_error(CIVIC_ENOTSUP);
    regs = paging_map_mmio(acpi->ioapic_phys, IOAPIC_MMIO_SIZE);
    if (!regs) {
        log_err("ioapic: cannot map the registers at %#llx", (unsigned long long)acpi->ioapic_phys);
        return trace_error(CIVIC_ENOMEM);
    }
    gsi_base = acpi->ioapic_gsi_base;
    entries = IOAPIC_VER_MAX_REDIR(ioapic_read(IOAPIC_VER)) + 1;
    for (unsigned pin = 0; pin < entries; pin++)
        write_entry(pin, IOAPIC_REDIR_MASKED);
    log_info("ioapic: id %u at %#llx, GSIs %u-%u, all masked", (ioapic_read(IOAPIC_ID) >> 24) & 0xf,
             (unsigned long long)acpi->ioapic_phys, gsi_base, gsi_base + entries - 1);
    return CIVIC_OK;
}

civic_err ioapic_route_isa_irq(unsigned isa_irq, uint8_t vector)
{
    if (!regs)
        return trace_error(CIVIC_ENOTSUP);
    if (isa_irq >= 16)
        return trace_error(CIVIC_EINVAL);
    uint32_t gsi;
    uint16_t flags;
    acpi_isa_irq(isa_irq, &gsi, &flags);
    if (gsi < gsi_base || gsi - gsi_base >= entries) {
        log_err("ioapic: ISA IRQ %u is GSI %u, which this IOAPIC does not serve", isa_irq, gsi);
        return trace_error(CIVIC_ERANGE);
    }
    uint32_t dest = lapic_id();
    if (dest > 0xff)
        return trace_error(CIVIC_ERANGE); /* beyond physical destination mode without IR */
    unsigned pin = gsi - gsi_base;
    write_entry(pin, ioapic_isa_redir_entry(vector, flags, (uint8_t)dest));
    log_info("ioapic: ISA IRQ %u -> GSI %u (pin %u, flags %#x) -> vector %#x on APIC %u", isa_irq,
             gsi, pin, flags, vector, dest);
    return CIVIC_OK;
}
