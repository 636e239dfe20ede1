/*
 * The VM services behind the exit handlers: port I/O to the virtual devices, guest memory faults
 * and the all-ones hole outside RAM, stopping a VM.
 */
#include "kernel/vmm.h"

#include <stdarg.h>

#include "kernel/arch.h"
#include "kernel/arch_slat.h"
#include "kernel/console_attach.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "kernel/vm.h"
#include "kernel/vm_irq.h"
#include "kernel/vm_platform.h"
#include "kernel/vmm_mmio.h"
#include "kernel/vm_registry.h"
#include "mm/guest_mem.h"
#include "mm/pmm.h"
#include "net/remote_mem.h"

/* One page of 0xff shared read-only by every VM for reads outside RAM. */
static uint64_t ones_page = ~0ull;

static civic_err ones_page_get(uint64_t *phys)
{
    if (ones_page == ~0ull) {
        uint64_t p;
        civic_err e = pmm_alloc(0, &p);
        if (e)
            return e;
        memset(phys_to_virt(p), 0xff, PAGE_SIZE);
        ones_page = p;
    }
    *phys = ones_page;
    return CIVIC_OK;
}

static void uart_tx(void *ctx, uint8_t byte)
{
    struct vm *vm = ctx;
    vm_console_put(vm, byte);
    console_attach_guest_output(vm, byte);
}

/* The reset happens in the scheduler, once this vCPU is off the CPU: its state is rebuilt. */
static enum exit_action vmm_request_reset(struct vcpu *v, uint16_t port)
{
    log_info("vm %s: the guest requested a reset (port %#x)", v->vm->name, port);
    v->vm->reset_pending = true;
    return EXIT_PARK;
}

static bool keeps_time(uint16_t port)
{
    return (port >= VDEV_PIT_BASE && port < VDEV_PIT_BASE + VDEV_PIT_PORTS) ||
           port == VDEV_PIT_PORT61 || port == VDEV_RTC_INDEX_PORT || port == VDEV_RTC_DATA_PORT ||
           (port >= VDEV_ACPI_PM_BASE && port < VDEV_ACPI_PM_BASE + VDEV_ACPI_PM_PORTS);
}

enum exit_action vmm_port_io(struct vcpu *v, uint16_t port, unsigned size, bool is_write,
                             uint32_t *value)
{
    struct vm *vm = v->vm;
    uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

    if (port >= VDEV_UART_BASE && port < VDEV_UART_BASE + VDEV_UART_PORTS) {
        /* A wider access covers consecutive registers, as on the ISA bus. */
        uint32_t result = 0;
        for (unsigned i = 0; i < size; i++) {
            unsigned reg = (unsigned)(port + i - VDEV_UART_BASE);
            if (reg >= VDEV_UART_PORTS) {
                result |= 0xffu << (8 * i);
                continue;
            }
            if (is_write)
                vdev_uart_write(&vm->uart, reg, (uint8_t)(*value >> (8 * i)), uart_tx, vm);
            else
                result |= (uint32_t)vdev_uart_read(&vm->uart, reg) << (8 * i);
        }
        if (!is_write)
            *value = result;
        return EXIT_RESUME;
    }
    bool reset = false;
    /* Reading the clock costs more than most port accesses: only the timers get it. */
    uint64_t now = keeps_time(port) ? vm_now_ns(vm) : 0;
    enum vdev_acpi_pm_event pm_event = VDEV_ACPI_PM_NONE;
    if (vdev_acpi_pm_io(&vm->pm, port, size, is_write, value, now, &pm_event)) {
        if (pm_event == VDEV_ACPI_PM_POWEROFF)
            return vmm_stop(v, "guest powered off (ACPI S5)");
        return EXIT_RESUME;
    }
    if (vdev_pci_io(&vm->pci, port, size, is_write, value) ||
        vdev_fwcfg_io(&vm->fwcfg, port, size, is_write, value))
        return EXIT_RESUME;
    if (vdev_kbc_io(&vm->kbc, port, size, is_write, value, &reset)) {
        if (reset) /* the guest asked for a reset: it must not reset civic */
            return vmm_request_reset(v, port);
        return EXIT_RESUME;
    }
    if (size == 1) {
        uint8_t b = (uint8_t)*value;
        bool pit = false;
        bool claimed = vdev_pic_io(&vm->pic, port, is_write, &b) ||
                       (pit = vdev_pit_io(&vm->pit, port, is_write, &b, now)) ||
                       vdev_rtc_io(&vm->rtc, port, is_write, &b, now);
        if (claimed) {
            /* A PIT write may move the next tick: the scheduler bounds the slice anew. */
            if (is_write && pit)
                arch_vcpu_end_slice(v);
            if (!is_write)
                *value = b;
            return EXIT_RESUME;
        }
    }
    if (port == VDEV_DEBUG_EXIT_PORT && is_write) {
        uint32_t code;
        if (vdev_debug_exit_write(&vm->debug_exit, *value & mask, &code)) {
            vm->has_exit_code = true;
            vm->exit_code = code;
            return vmm_stop(v, "guest exited with code %u", code);
        }
        return EXIT_RESUME;
    }
    /* Nothing here: reads float high, writes go nowhere. */
    if (!is_write)
        *value = mask;
    return EXIT_RESUME;
}

enum exit_action vmm_ept_violation(struct vcpu *v, uint64_t gpa, unsigned access, bool *single_step)
{
    struct vm *vm = v->vm;
    *single_step = false;
    enum exit_action act;
    /* Device pages first: they win over RAM at the same address, as on a PC. */
    if (vmm_mmio_access(v, gpa, access, &act, single_step))
        return act;
    civic_err e = guest_mem_fault(vm->mem, gpa, access);
    switch (e) {
    case CIVIC_OK: return EXIT_RESUME;
    case CIVIC_EAGAIN: /* elsewhere (a peer, in flight) or the VM is at its local limit */
    case CIVIC_ENOMEM: return remote_mem_fault(v, gpa, e);
    case CIVIC_EEXIST:
        return vmm_stop(v, "EPT violation on mapped RAM at %#llx (access %#x): a civic bug",
                        (unsigned long long)gpa, access);
    case CIVIC_ERANGE: break;
    default:
        return vmm_stop(v, "guest memory fault at %#llx failed: %s", (unsigned long long)gpa,
                        civic_strerror(e));
    }

    /* Outside RAM: show a page of 0xff for exactly one instruction. */
    if (vm->hole_active)
        return vmm_stop(v,
                        "access outside RAM at %#llx while another is stepped "
                        "(not supported)",
                        (unsigned long long)gpa);
    uint64_t page = gpa & ~(PAGE_SIZE - 1);
    uint64_t hpa;
    unsigned perms;
    if (access & SLAT_W) {
        hpa = vm->scratch_page;
        perms = SLAT_R | SLAT_W;
    } else {
        if (ones_page_get(&hpa) != CIVIC_OK)
            return vmm_stop(v, "out of host memory for the all-ones page");
        perms = SLAT_R | SLAT_X;
    }
    struct slat *s = guest_mem_slat(vm->mem);
    if (slat_map(s, page, hpa, perms) != CIVIC_OK)
        return vmm_stop(v, "cannot map the hole page at %#llx", (unsigned long long)page);
    vm->hole_gpa = page;
    vm->hole_active = true;
    *single_step = true;
    return EXIT_RESUME;
}

void vmm_hole_write_done(struct vcpu *v)
{
    struct vm *vm = v->vm;
    if (!vm->hole_active)
        return;
    if (vm->mmio_device != VMM_MMIO_NONE) {
        vmm_mmio_done(v);
        return;
    }
    struct slat *s = guest_mem_slat(vm->mem);
    slat_unmap(s, vm->hole_gpa);
    slat_invalidate(s);
    memset(phys_to_virt(vm->scratch_page), 0xff, PAGE_SIZE);
    vm->hole_active = false;
}

enum exit_action vmm_stop(struct vcpu *v, const char *fmt, ...)
{
    struct vm *vm = v->vm;
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(vm->stop_reason, sizeof vm->stop_reason, fmt, ap);
    va_end(ap);
    v->state = VCPU_STOPPED;
    vm->state = VM_STOPPED;
    vm->pause_start_ns = arch_time_ns();
    log_info("vm %s: stopped: %s", vm->name, vm->stop_reason);
    return EXIT_STOP;
}

void vmm_count_exit(struct vcpu *v, unsigned reason)
{
    v->exits++;
    if (reason < ARCH_EXIT_REASONS)
        v->exits_by_reason[reason]++;
}
