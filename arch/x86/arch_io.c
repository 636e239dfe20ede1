/* The driver side of the arch contract (kernel/arch_io.h): MMIO mappings, DMA memory, delays. */
#include "kernel/arch_io.h"

#include "arch/x86/idt.h"
#include "arch/x86/io.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/paging.h"
#include "kernel/arch.h"
#include "kernel/string.h"
#include "kernel/types.h"
#include "mm/pmm.h"

void *arch_map_mmio(uint64_t phys, size_t size)
{
    return paging_map_mmio(phys, size);
}

civic_err arch_dma_alloc(unsigned order, void **virt, uint64_t *phys)
{
    phys_addr_t p;
    civic_err e = pmm_alloc(order, &p);
    if (e != CIVIC_OK)
        return e;
    *virt = phys_to_virt(p);
    *phys = p;
    memset(*virt, 0, (size_t)(PAGE_SIZE << order));
    return CIVIC_OK;
}

void arch_dma_free(void *virt, unsigned order)
{
    pmm_free(virt_to_phys(virt), order);
}

void arch_delay_us(unsigned us)
{
    uint64_t start = arch_time_ns();
    if (start == 0) { /* before TSC calibration: about 1 us per port write */
        for (unsigned i = 0; i < us; i++)
            io_delay();
        return;
    }
    while (arch_time_ns() - start < (uint64_t)us * 1000u)
        __asm__ volatile("pause");
}

civic_err arch_irq_route_pci(uint8_t irq_line, void (*handler)(void *ctx), void *ctx)
{
    if (irq_line >= 16)
        return trace_error(CIVIC_EINVAL); /* 0xff: the firmware assigned none */
    uint8_t vector = (uint8_t)(VEC_ISA_BASE + irq_line);
    irq_set_handler(vector, handler, ctx);
    civic_err e = ioapic_route_isa_irq(irq_line, vector);
    if (e != CIVIC_OK)
        irq_set_handler(vector, NULL, NULL);
    return e;
}
