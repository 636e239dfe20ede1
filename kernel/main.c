/*
 * civic's bring-up, in dependency order: console, boot information, CPU tables, address space,
 * frames and heap, firmware tables, interrupts and time, then the monitor loop.
 */
#include <stdint.h>

#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "arch/x86/irq.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "boot/multiboot2.h"
#include "kernel/arch.h"
#include "kernel/boot.h"
#include "kernel/boot_options.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/monitor.h"
#include "kernel/panic.h"
#include "kernel/serial.h"
#include "kernel/unit.h"
#include "kernel/version.h"
#include "kernel/vm_boot.h"
#include "mm/kmalloc.h"
#include "mm/memmap.h"
#include "mm/pmm.h"

void kmain(uint32_t magic, uint32_t mbi_phys);

/* Linker symbols (linker.ld). */
extern char kernel_phys_start[], kernel_phys_end[];

static struct boot_info boot_info_storage;
const struct boot_info *boot_info = &boot_info_storage;

/* GRUB places the boot information below 4 GiB; the boot tables identity-map that range. */
#define MBI_READ_LIMIT (64u * 1024u * 1024u)

static void serial_irq_handler(void *ctx)
{
    (void)ctx;
    serial_irq();
}

static void boot_warn(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("boot: multiboot2: %s", msg);
}

static void boot_warn_option(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("boot: %s", msg);
}

/* Usable RAM: available memory-map entries minus the first MiB (firmware data), the kernel
 * image, the boot information and every module. */
static void usable_memory(const struct boot_info *bi, struct memmap *usable)
{
    memmap_init(usable);
    for (size_t i = 0; i < bi->mmap_count; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        if (e->type == MB2_MEMORY_AVAILABLE && e->base + e->len > e->base &&
            memmap_add(usable, e->base, e->base + e->len) != CIVIC_OK)
            log_warn("mm: memory map has too many ranges; ignoring [%#llx, %#llx)",
                     (unsigned long long)e->base, (unsigned long long)(e->base + e->len));
    }
    memmap_subtract(usable, 0, 0x100000);
    memmap_subtract(usable, (uint64_t)(uintptr_t)kernel_phys_start,
                    (uint64_t)(uintptr_t)kernel_phys_end);
    memmap_subtract(usable, bi->mbi_phys, bi->mbi_phys + bi->mbi_size);
    for (size_t i = 0; i < bi->module_count; i++)
        memmap_subtract(usable, bi->modules[i].start, bi->modules[i].end);
    memmap_align_inward(usable, 4096);
}

void kmain(uint32_t magic, uint32_t mbi_phys)
{
    serial_init(SERIAL_COM1);
    console_puts("\n");
    log_info("civic %s starting", CIVIC_VERSION);

    if (magic != MB2_BOOTLOADER_MAGIC)
        panic("boot: not started by a Multiboot2 loader (magic %#x)", magic);
    if (mb2_parse((const void *)(uintptr_t)mbi_phys, MBI_READ_LIMIT, mbi_phys, &boot_info_storage,
                  boot_warn, NULL) != CIVIC_OK)
        panic("boot: the Multiboot2 boot information at %#x is unusable", mbi_phys);

    static struct boot_options opts;
    boot_options_parse(boot_info->cmdline, &opts, boot_warn_option, NULL);
    if (opts.console_log_level >= 0)
        log_set_console_level((enum log_level)opts.console_log_level);

    gdt_init();
    idt_init();
    cpu_detect();

    static struct memmap usable;
    usable_memory(boot_info, &usable);
    if (usable.n == 0)
        panic("mm: no usable RAM in the boot memory map");
    if (paging_init(memmap_max_end(&usable)) != CIVIC_OK)
        panic("paging: cannot build the kernel address space");
    /* RAM beyond the direct map cannot be reached, so it must not be handed out. */
    memmap_subtract(&usable, paging_direct_map_end(), UINT64_MAX);
    if (pmm_init(&usable) != CIVIC_OK)
        panic("mm: cannot set up the frame allocator");
    kmalloc_init();

    if (acpi_init(boot_info->rsdp_len ? boot_info->rsdp : NULL, boot_info->rsdp_len) != CIVIC_OK)
        log_warn("acpi: no usable ACPI tables; power off falls back to emulator ports");

    pic_disable();
    lapic_init();
    if (tsc_calibrate() != CIVIC_OK)
        log_warn("time: TSC calibration failed; uptime is approximate");
    wallclock_init();
    if (lapic_timer_start(100) != CIVIC_OK)
        log_warn("time: no LAPIC timer tick");
    if (ioapic_init() == CIVIC_OK) {
        irq_set_handler(VEC_ISA_BASE + 4, serial_irq_handler, NULL);
        ioapic_route_isa_irq(4, VEC_ISA_BASE + 4);
    } else {
        log_warn("irq: no IOAPIC; the console is polled");
    }
    irq_enable();
    units_init();

    boot_report();
    vm_boot_start(&opts);
    monitor_loop();
}
