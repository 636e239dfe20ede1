#include "kernel/vm_platform.h"

#include "kernel/arch.h"
#include "kernel/arch_vmx.h"
#include "kernel/format.h"
#include "kernel/guest_acpi.h"
#include "kernel/loader.h"
#include "kernel/log.h"
#include "kernel/vm.h"
#include "kernel/vm_irq.h"
#include "mm/guest_mem.h"
#include "mm/kmalloc.h"

/* The ACPI tables sit in the BIOS area, where guests scan for the RSDP (ACPI 6.4, 5.2.5.1) and
 * the multiboot memory map already says "reserved". */
#define ACPI_TABLES_GPA 0xf0000ull
#define ACPI_TABLES_MAX 0x10000ull

uint64_t vm_now_ns(const struct vm *vm)
{
    uint64_t now = vm->state == VM_RUNNING ? arch_time_ns() : vm->pause_start_ns;
    return now - vm->paused_ns;
}

uint64_t vm_guest_tsc(struct vcpu *v)
{
    const struct vm *vm = v->vm;
    uint64_t tsc = arch_vcpu_guest_tsc(v);
    if (vm->state == VM_RUNNING)
        return tsc;
    /* The offset catches up at resume; until then the TSC reads as when the clock stopped. */
    uint64_t held = arch_time_ns() - vm->pause_start_ns, hz = arch_tsc_hz();
    return tsc - ((held / 1000000000u) * hz + (held % 1000000000u) * hz / 1000000000u);
}

void vm_platform_reset(struct vm *vm, uint64_t now_ns, bool power_on)
{
    uint64_t t = now_ns - vm->paused_ns;
    vdev_uart_reset(&vm->uart);
    vdev_pic_reset(&vm->pic);
    vdev_pit_reset(&vm->pit, t);
    if (power_on)
        vdev_rtc_reset(&vm->rtc, t, arch_wallclock_seconds(), vm->mem_bytes);
    vdev_pci_reset(&vm->pci);
    vdev_kbc_reset(&vm->kbc);
    vdev_fwcfg_reset(&vm->fwcfg, vm->mem_bytes, vm->vcpu_count);
    /* The IOAPIC's ID follows the processors' (the MADT says the same). */
    vdev_ioapic_reset(&vm->ioapic, (uint8_t)vm->vcpu_count);
    vdev_acpi_pm_reset(&vm->pm, t);
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        vdev_lapic_reset(&vm->vcpus[i].lapic, i, i == 0, arch_tsc_hz());
    vm->irq_mode_warned = false;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

civic_err vm_platform_firmware(struct vm *vm, const struct loader_result *image, char *err,
                               size_t err_size)
{
    /* A firmware-style image that owns the BIOS area keeps it: no tables then. */
    if (vm->mem_bytes < ACPI_TABLES_GPA + ACPI_TABLES_MAX ||
        overlaps(image->load_start, image->load_end, ACPI_TABLES_GPA,
                 ACPI_TABLES_GPA + ACPI_TABLES_MAX) ||
        (image->info_end > image->info_start &&
         overlaps(image->info_start, image->info_end, ACPI_TABLES_GPA,
                  ACPI_TABLES_GPA + ACPI_TABLES_MAX))) {
        log_info("vm %s: the image covers the BIOS area; no ACPI tables", vm->name);
        return CIVIC_OK;
    }
    uint8_t *buf = kzalloc(ACPI_TABLES_MAX);
    if (!buf) {
        ksnprintf(err, err_size, "not enough memory to build the ACPI tables");
        return trace_error(CIVIC_ENOMEM);
    }
    struct guest_acpi_config cfg = {.cpus = vm->vcpu_count};
    size_t n = guest_acpi_build(buf, ACPI_TABLES_MAX, ACPI_TABLES_GPA, &cfg);
    civic_err e = n ? guest_mem_write(vm->mem, ACPI_TABLES_GPA, buf, n) : CIVIC_ERANGE;
    kfree(buf);
    if (e != CIVIC_OK) {
        ksnprintf(err, err_size, "cannot write the ACPI tables: %s", civic_strerror(e));
        return trace_error(e);
    }
    return CIVIC_OK;
}

void vm_platform_poll(struct vm *vm)
{
    uint64_t now = vm_now_ns(vm);
    /* Many edges since the last poll are one request: the PIC latches one per line. */
    if (vdev_pit_irq0_edges(&vm->pit, now))
        vm_irq_isa_pulse(vm, 0);
    if (vdev_rtc_irq8_pending(&vm->rtc, now))
        vm_irq_isa_pulse(vm, 8);
    vm_irq_poll(vm, now);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t vm_platform_next_event_ns(struct vm *vm)
{
    uint64_t now = vm_now_ns(vm);
    uint64_t next =
        min64(vdev_pit_next_event_ns(&vm->pit, now), vdev_rtc_next_event_ns(&vm->rtc, now));
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->state != VCPU_WAIT_SIPI && v->state != VCPU_STOPPED)
            next = min64(next, vdev_lapic_next_event_ns(&v->lapic, now, arch_vcpu_guest_tsc(v)));
    }
    if (next == UINT64_MAX)
        return UINT64_MAX;
    return next + vm->paused_ns; /* host time */
}
