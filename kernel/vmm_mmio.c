/*
 * The device pages a guest reaches with ordinary loads and stores: its local APIC (at the base in
 * IA32_APIC_BASE, xAPIC mode) and the IOAPIC. Like the all-ones hole (vmm.c), an access is run
 * as a single step against a page civic prepares, so no instruction decoder is needed: the
 * register the access touches is written into the VM's MMIO page at its offset, the page is
 * mapped for exactly one instruction, and after it a write is read back from the page and handed
 * to the device model. Also the local APIC's MSRs.
 */
#include "kernel/vmm_mmio.h"

#include "kernel/arch.h"
#include "kernel/arch_slat.h"
#include "kernel/arch_vmx.h"
#include "kernel/string.h"
#include "kernel/vm.h"
#include "kernel/vm_irq.h"
#include "kernel/vm_platform.h"
#include "mm/guest_mem.h"
#include "mm/pmm.h"

#define MSR_IA32_APIC_BASE 0x1b /* Intel SDM Vol. 4, Table 2-2 */
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

static enum vmm_mmio_device device_at(struct vcpu *v, uint64_t page)
{
    if (vdev_lapic_mmio_enabled(&v->lapic) &&
        page == (vdev_lapic_get_base(&v->lapic) & ~(uint64_t)(PAGE_SIZE - 1)))
        return VMM_MMIO_LAPIC;
    if (page == VDEV_IOAPIC_BASE)
        return VMM_MMIO_IOAPIC;
    return VMM_MMIO_NONE;
}

/* The register at a dword offset as a load would see it. The local APIC's registers are 16
 * bytes apart with only their first dword defined; the rest of the page reads 0. */
static uint32_t device_read(struct vcpu *v, enum vmm_mmio_device d, unsigned off)
{
    struct vm *vm = v->vm;
    if (d == VMM_MMIO_IOAPIC)
        return vdev_ioapic_mmio_read(&vm->ioapic, off);
    if ((off & 0xf) || off >= 0x400)
        return 0;
    return vdev_lapic_read(&v->lapic, off, vm_now_ns(vm), arch_vcpu_guest_tsc(v));
}

static void device_write(struct vcpu *v, enum vmm_mmio_device d, unsigned off, uint32_t value)
{
    struct vm *vm = v->vm;
    if (d == VMM_MMIO_IOAPIC) {
        vm_irq_ioapic_write(vm, off, value);
        return;
    }
    if ((off & 0xf) || off >= 0x400)
        return;
    struct vdev_lapic_effects fx;
    vdev_lapic_write(&v->lapic, off, value, vm_now_ns(vm), arch_vcpu_guest_tsc(v), &fx);
    vm_irq_lapic_effects(v, &fx);
}

bool vmm_mmio_access(struct vcpu *v, uint64_t gpa, unsigned access, enum exit_action *act,
                     bool *single_step)
{
    struct vm *vm = v->vm;
    uint64_t page = gpa & ~(uint64_t)(PAGE_SIZE - 1);
    enum vmm_mmio_device d = device_at(v, page);
    /* An instruction fetch from a device page gets the all-ones hole, as from nowhere. */
    if (d == VMM_MMIO_NONE || (access & SLAT_X))
        return false;
    if (vm->hole_active) {
        *act = vmm_stop(v, "device access at %#llx while another is stepped (not supported)",
                        (unsigned long long)gpa);
        return true;
    }
    unsigned off = (unsigned)(gpa & (PAGE_SIZE - 1)) & ~3u;
    uint32_t *image = phys_to_virt(vm->mmio_page);
    /* A write is prepared too: a read-modify-write instruction reads the register first. */
    image[off / 4] = device_read(v, d, off);
    if (slat_map(guest_mem_slat(vm->mem), page, vm->mmio_page, SLAT_R | SLAT_W) != CIVIC_OK) {
        *act = vmm_stop(v, "cannot map the device page at %#llx", (unsigned long long)page);
        return true;
    }
    vm->hole_gpa = page;
    vm->hole_active = true;
    vm->mmio_device = (uint8_t)d;
    vm->mmio_offset = off;
    vm->mmio_write = (access & SLAT_W) != 0;
    *single_step = true;
    *act = EXIT_RESUME;
    return true;
}

void vmm_mmio_done(struct vcpu *v)
{
    struct vm *vm = v->vm;
    uint32_t *image = phys_to_virt(vm->mmio_page);
    enum vmm_mmio_device d = (enum vmm_mmio_device)vm->mmio_device;
    unsigned off = vm->mmio_offset;
    uint32_t value = image[off / 4];
    image[off / 4] = 0; /* nothing of one vCPU's registers stays for the next access */
    /* The tables stay for the next access to the page (slat_prune when the APIC moves). */
    struct slat *s = guest_mem_slat(vm->mem);
    slat_clear(s, vm->hole_gpa);
    slat_invalidate(s);
    vm->hole_active = false;
    vm->mmio_device = VMM_MMIO_NONE;
    if (vm->mmio_write)
        device_write(v, d, off, value);
}

bool vmm_lapic_msr(struct vcpu *v, uint32_t msr, bool is_write, uint64_t *value)
{
    struct vm *vm = v->vm;
    struct vdev_lapic *l = &v->lapic;
    uint64_t now = vm_now_ns(vm), tsc = arch_vcpu_guest_tsc(v);
    if (msr == MSR_IA32_APIC_BASE) {
        if (!is_write) {
            *value = vdev_lapic_get_base(l);
            return true;
        }
        uint64_t old = vdev_lapic_get_base(l) & ~(uint64_t)(PAGE_SIZE - 1);
        if (vdev_lapic_set_base(l, *value) != 0)
            return false;
        /* A page the APIC left keeps no EPT tables (a guest moving it around must not grow
         * them); the IOAPIC's page is never pruned while it is in use. */
        if (!vdev_lapic_mmio_enabled(l) ||
            (vdev_lapic_get_base(l) & ~(uint64_t)(PAGE_SIZE - 1)) != old)
            slat_prune(guest_mem_slat(vm->mem), old);
        return true;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        if (is_write) {
            vdev_lapic_tsc_deadline_write(l, *value);
            arch_vcpu_end_slice(v);
        } else
            *value = vdev_lapic_tsc_deadline_read(l);
        return true;
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
        return false;
    if (!is_write)
        return vdev_lapic_msr_read(l, msr, value, now, tsc) == 0;
    struct vdev_lapic_effects fx;
    if (vdev_lapic_msr_write(l, msr, *value, now, tsc, &fx) != 0)
        return false;
    vm_irq_lapic_effects(v, &fx);
    return true;
}
