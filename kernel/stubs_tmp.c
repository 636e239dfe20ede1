/* TEMPORARY during bring-up: weak placeholders so the image links while modules land. Each real
 * module's strong definition replaces its placeholder. This file is deleted before the issue
 * closes. */
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "boot/multiboot2.h"
#include "kernel/arch.h"
#include "mm/kmalloc.h"
#include "mm/memmap.h"
#include "mm/pmm.h"

#define WEAK __attribute__((weak))

WEAK civic_err mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys, struct boot_info *out,
                         mb2_warn_fn warn, void *warn_ctx) { return CIVIC_OK; }
WEAK void gdt_init(void) {}
WEAK void idt_init(void) {}
WEAK void cpu_detect(void) {}
static struct cpu_info stub_cpu;
WEAK const struct cpu_info *cpu_get(void) { return &stub_cpu; }
WEAK void memmap_init(struct memmap *m) { m->n = 0; }
WEAK civic_err memmap_add(struct memmap *m, uint64_t s, uint64_t e) { return CIVIC_OK; }
WEAK civic_err memmap_subtract(struct memmap *m, uint64_t s, uint64_t e) { return CIVIC_OK; }
WEAK void memmap_align_inward(struct memmap *m, uint64_t a) {}
WEAK uint64_t memmap_total(const struct memmap *m) { return 0; }
WEAK uint64_t memmap_max_end(const struct memmap *m) { return 0; }
WEAK civic_err paging_init(uint64_t top) { return CIVIC_OK; }
WEAK void *paging_map_mmio(uint64_t phys, size_t size) { return NULL; }
WEAK uint64_t paging_direct_map_end(void) { return 0; }
WEAK void *phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)phys; }
WEAK uint64_t virt_to_phys(const void *v) { return (uint64_t)(uintptr_t)v; }
WEAK civic_err pmm_init(const struct memmap *u) { return CIVIC_OK; }
WEAK civic_err pmm_alloc(unsigned order, phys_addr_t *out) { return CIVIC_ENOMEM; }
WEAK civic_err pmm_free(phys_addr_t a, unsigned order) { return CIVIC_EINVAL; }
WEAK void pmm_get_stats(struct frame_stats *st) { *st = (struct frame_stats){ 0 }; }
WEAK uint64_t pmm_meta_bytes(void) { return 0; }
WEAK void kmalloc_init(void) {}
WEAK void *kmalloc(size_t n) { return NULL; }
WEAK void *kzalloc(size_t n) { return NULL; }
WEAK void kfree(void *p) {}
WEAK void kmalloc_get_stats(struct heap_stats *st) { *st = (struct heap_stats){ 0 }; }
static struct acpi_info stub_acpi;
WEAK civic_err acpi_init(const uint8_t *r, size_t l) { return CIVIC_ENOTSUP; }
WEAK const struct acpi_info *acpi_get(void) { return &stub_acpi; }
WEAK void acpi_isa_irq(unsigned irq, uint32_t *gsi, uint16_t *flags) { *gsi = irq; *flags = 0; }
WEAK void pic_disable(void) {}
WEAK civic_err tsc_calibrate(void) { return CIVIC_EIO; }
WEAK uint64_t tsc_hz(void) { return 0; }
WEAK void lapic_init(void) {}
WEAK uint32_t lapic_id(void) { return 0; }
WEAK void lapic_eoi(void) {}
WEAK civic_err lapic_timer_start(unsigned hz) { return CIVIC_ENOTSUP; }
WEAK uint64_t lapic_ticks(void) { return 0; }
WEAK civic_err ioapic_init(void) { return CIVIC_ENOTSUP; }
WEAK civic_err ioapic_route_isa_irq(unsigned irq, uint8_t v) { return CIVIC_ENOTSUP; }
WEAK void irq_set_handler(uint8_t v, irq_handler_fn fn, void *ctx) {}
WEAK uint64_t irq_count(uint8_t v) { return 0; }
WEAK uint64_t arch_time_ns(void) { return 0; }
WEAK void arch_idle(void) { __asm__ volatile("sti; hlt"); }
WEAK void arch_halt_cpu(void) { for (;;) __asm__ volatile("cli; hlt"); }
WEAK void arch_backtrace(void) {}
WEAK void arch_poweroff(void) {}
WEAK void arch_reboot(void) { for (;;) __asm__ volatile("cli; hlt"); }
