#include "kernel/vm_irq.h"

#include "kernel/arch_vmx.h"
#include "kernel/log.h"
#include "kernel/vm.h"
#include "kernel/vm_platform.h"
#include "kernel/vmm.h"

/* ISA IRQ 0 (the PIT) is IOAPIC pin 2; the others are wired 1:1 (guest_acpi.c says so in the
 * MADT's interrupt source override). */
static unsigned ioapic_pin(unsigned irq)
{
    return irq == 0 ? 2 : irq;
}

/* A vCPU that may have an interrupt now: wake it if it halted with interrupts enabled. */
static void kick(struct vcpu *v)
{
    if (vmm_irq_peek(v) >= 0)
        arch_vcpu_interrupt_pending(v);
}

static void accept(struct vcpu *v, uint8_t vector, bool level)
{
    if (vdev_lapic_accept(&v->lapic, vector, level))
        kick(v);
}

/* Lowest-priority delivery goes to the first APIC that matches: allowed, as the SDM leaves the
 * arbitration to the platform (Vol. 3A, 11.6.2.4). */
static void deliver_ioapic(void *ctx, const struct vdev_ioapic_msg *m)
{
    struct vm *vm = ctx;
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (!vdev_lapic_matches(&v->lapic, m->logical, m->dest, false))
            continue;
        if (m->delivery_mode == 0 || m->delivery_mode == 1) {
            accept(v, m->vector, m->level);
            if (m->delivery_mode == 1)
                return;
        } else if (!vm->irq_mode_warned) {
            vm->irq_mode_warned = true;
            log_warn("vm %s: IOAPIC delivery mode %u not modelled; interrupt dropped", vm->name,
                     m->delivery_mode);
        }
    }
}

void vm_irq_ioapic_write(struct vm *vm, unsigned offset, uint32_t value)
{
    vdev_ioapic_mmio_write(&vm->ioapic, offset, value, deliver_ioapic, vm);
}

void vm_irq_isa_line(struct vm *vm, unsigned irq, bool level)
{
    if (irq >= 16)
        return;
    vdev_pic_set_irq(&vm->pic, irq, level);
    vdev_ioapic_set_irq(&vm->ioapic, ioapic_pin(irq), level, deliver_ioapic, vm);
    kick(&vm->vcpus[0]);
}

void vm_irq_isa_pulse(struct vm *vm, unsigned irq)
{
    vm_irq_isa_line(vm, irq, true);
    vm_irq_isa_line(vm, irq, false);
}

civic_err vm_irq_inject(struct vm *vm, uint8_t vector)
{
    if (vector < 16)
        return trace_error(CIVIC_EINVAL);
    if (!vdev_lapic_accept(&vm->vcpus[0].lapic, vector, false))
        return trace_error(CIVIC_EBUSY); /* the APIC is disabled */
    kick(&vm->vcpus[0]);
    return CIVIC_OK;
}

/* INIT: the APIC's registers and the vCPU's state go back to their INIT values and the vCPU
 * waits for a STARTUP IPI (Vol. 3A, 8.4 and 11.4.7.3). The bootstrap processor is not
 * restarted this way: it has no firmware to run; civic logs it and leaves it alone. */
static void send_init(struct vcpu *v)
{
    if (v->index == 0) {
        log_warn("vm %s: INIT IPI to the bootstrap processor ignored", v->vm->name);
        return;
    }
    vdev_lapic_init_signal(&v->lapic);
    v->state = VCPU_WAIT_SIPI;
}

/* STARTUP: real mode at vector * 4 KiB (CS = vector << 8, IP = 0), only after INIT. */
static void send_startup(struct vcpu *v, uint8_t vector)
{
    if (v->state != VCPU_WAIT_SIPI)
        return; /* a second STARTUP to a running AP is ignored, as on hardware */
    struct vcpu_boot_state boot = {
        .mode = VCPU_BOOT_REAL_MODE,
        .cs_selector = (uint16_t)(vector << 8),
        .eip = 0,
    };
    if (arch_vcpu_reset(v, &boot) != CIVIC_OK) {
        vmm_stop(v, "cannot start vCPU %u for a STARTUP IPI", v->index);
        return;
    }
    v->state = VCPU_RUNNABLE;
}

static void deliver_ipi(struct vcpu *to, const struct vdev_lapic_ipi *ipi)
{
    switch (ipi->delivery_mode) {
    case 0: /* fixed */
    case 1: /* lowest priority */ accept(to, ipi->vector, ipi->trigger_level); break;
    case 5: /* INIT; the level de-assert form only synchronises arbitration IDs */
        if (ipi->level_assert || !ipi->trigger_level)
            send_init(to);
        break;
    case 6: send_startup(to, ipi->vector); break;
    default:
        if (!to->vm->irq_mode_warned) {
            to->vm->irq_mode_warned = true;
            log_warn("vm %s: IPI delivery mode %u (NMI/SMI) not modelled; dropped", to->vm->name,
                     ipi->delivery_mode);
        }
        break;
    }
}

void vm_irq_lapic_effects(struct vcpu *from, const struct vdev_lapic_effects *fx)
{
    struct vm *vm = from->vm;
    /* A reprogrammed timer, an EOI (that may uncover the next vector) or an IPI: the scheduler
     * re-reads the next event and the arch re-checks what to inject. */
    if (fx->timer_changed)
        arch_vcpu_end_slice(from);
    if (fx->eoi_vector >= 0)
        vdev_ioapic_eoi(&vm->ioapic, (uint8_t)fx->eoi_vector, deliver_ioapic, vm);
    const struct vdev_lapic_ipi *ipi = &fx->ipi;
    if (!ipi->valid)
        return;
    bool x2apic = vdev_lapic_x2apic_mode(&from->lapic);
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *to = &vm->vcpus[i];
        bool self = to == from, hit;
        switch (ipi->shorthand) {
        case 1: hit = self; break;
        case 2: hit = true; break;
        case 3: hit = !self; break;
        default: hit = vdev_lapic_matches(&to->lapic, ipi->logical, ipi->dest, x2apic); break;
        }
        if (!hit)
            continue;
        deliver_ipi(to, ipi);
        if (ipi->delivery_mode == 1 && ipi->shorthand == 0)
            break;
    }
}

void vm_irq_poll(struct vm *vm, uint64_t now_ns)
{
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->state == VCPU_WAIT_SIPI || v->state == VCPU_STOPPED)
            continue;
        vdev_lapic_tick(&v->lapic, now_ns, arch_vcpu_guest_tsc(v));
        kick(v);
    }
}

/* Asked at every VM entry: the common answer (nothing) must be cheap. No unmasked request on
 * the master 8259 means no INTR, whatever the rest of its state. */
static bool pic_may_interrupt(const struct vdev_pic *pic)
{
    return (pic->chip[0].irr & ~pic->chip[0].imr) != 0;
}

int vmm_irq_peek(struct vcpu *v)
{
    struct vm *vm = v->vm;
    if (v->index == 0 && pic_may_interrupt(&vm->pic) && vdev_lapic_extint_enabled(&v->lapic)) {
        int vector = vdev_pic_pending_vector(&vm->pic);
        if (vector >= 0)
            return vector;
    }
    return vdev_lapic_pending(&v->lapic);
}

int vmm_irq_acknowledge(struct vcpu *v)
{
    struct vm *vm = v->vm;
    /* An 8259 request through LINT0 bypasses the APIC's priority (ExtINT, Vol. 3A 11.6.1). */
    if (v->index == 0 && pic_may_interrupt(&vm->pic) && vdev_lapic_extint_enabled(&v->lapic) &&
        vdev_pic_pending_vector(&vm->pic) >= 0)
        return vdev_pic_acknowledge(&vm->pic);
    return vdev_lapic_acknowledge(&v->lapic);
}
