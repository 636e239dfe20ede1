/* Local APIC register access in xAPIC (MMIO) or x2APIC (MSR) mode; see lapic.h. */
#include "lapic.h"

#include "msr.h"

#define ICR_WAIT_LIMIT 1000000u

static volatile uint32_t *mmio = (volatile uint32_t *)LAPIC_DEFAULT_BASE;
static bool x2apic;

void lapic_use_xapic(uint32_t base)
{
    mmio = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
    x2apic = false;
}

void lapic_use_x2apic(void)
{
    x2apic = true;
}

bool lapic_is_x2apic(void)
{
    return x2apic;
}

uint32_t lapic_read(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(IA32_X2APIC_BASE + (reg >> 4));
    return mmio[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(IA32_X2APIC_BASE + (reg >> 4), v);
    else
        mmio[reg / 4] = v;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return x2apic ? id : id >> 24;
}

void lapic_send_ipi(uint32_t dest, uint32_t low)
{
    if (x2apic) {
        wrmsr(IA32_X2APIC_BASE + (LAPIC_ICR_LO >> 4), ((uint64_t)dest << 32) | low);
        return;
    }
    for (unsigned i = 0; i < ICR_WAIT_LIMIT && (mmio[LAPIC_ICR_LO / 4] & LAPIC_ICR_BUSY); i++)
        __asm__ volatile("pause");
    mmio[LAPIC_ICR_HI / 4] = dest << 24;
    mmio[LAPIC_ICR_LO / 4] = low;
}
