/*
 * The arch contract for device drivers: PCI configuration space, device registers, DMA memory,
 * short delays and the ordering of memory accesses between the CPU and a device.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "kernel/pci.h"

/* The machine's PCI configuration accessor (x86: mechanism 1, ports 0xcf8/0xcfc). */
const struct pci_config_access *arch_pci_config(void);

/* Maps device registers uncached; the virtual address of phys, or NULL. Never unmapped. */
void *arch_map_mmio(uint64_t phys, size_t size);

/* Physically contiguous, zeroed, page-aligned memory a device may read and write (DMA): 2^order
 * pages, from the frame allocator, seen through the direct map (cache-coherent on x86). */
civic_err arch_dma_alloc(unsigned order, void **virt, uint64_t *phys);
void arch_dma_free(void *virt, unsigned order);

/* Routes a PCI function's INTx, as the firmware assigned it (the interrupt line register: an
 * ISA IRQ 0-15 on a PC, MADT overrides applied), to handler, which runs in interrupt context and
 * must only move data. CIVIC_ENOTSUP without an IOAPIC, CIVIC_EINVAL for an unassigned line. */
civic_err arch_irq_route_pci(uint8_t irq_line, void (*handler)(void *ctx), void *ctx);

/* Busy-waits at least us microseconds (the TSC; a rough I/O-port delay before calibration). */
void arch_delay_us(unsigned us);

/*
 * Ordering between memory a device reads by DMA and its registers. On x86 stores are not
 * reordered with older stores and uncached accesses are not reordered with older accesses
 * (SDM Vol. 3A, 9.2.2), so only the compiler must be stopped from moving accesses across:
 * arch_wmb() before a tail-register write that hands descriptors to the device, arch_rmb()
 * between reading a descriptor's done bit and the rest of it.
 */
static inline void arch_wmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void arch_rmb(void) { __asm__ volatile("" ::: "memory"); }
