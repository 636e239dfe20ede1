/*
 * A VM's interrupt wiring, as on a PC: each ISA line goes to the 8259 pair and to the IOAPIC
 * (IRQ 0 on IOAPIC pin 2, the MADT's override); the IOAPIC sends messages to the local APICs;
 * the PICs' INTR reaches vCPU 0 through LINT0 (ExtINT, virtual-wire mode); IPIs from the ICR go
 * APIC to APIC, INIT and STARTUP included. The arch asks vmm_irq_peek()/vmm_irq_acknowledge()
 * (kernel/vmm.h) which vector a vCPU takes next.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

struct vm;
struct vcpu;
struct vdev_lapic_effects;

/* An ISA interrupt line's level (0..15). */
void vm_irq_isa_line(struct vm *vm, unsigned irq, bool level);
/* An edge on an ISA line: asserted then released. */
void vm_irq_isa_pulse(struct vm *vm, unsigned irq);
/* A fixed interrupt to vCPU 0's local APIC, as an MSI would send (`vm irq`). CIVIC_EINVAL for
 * vectors below 16, which an APIC refuses. */
civic_err vm_irq_inject(struct vm *vm, uint8_t vector);
/* What a local APIC register write asked for: an IPI to route, an EOI for the IOAPIC. */
void vm_irq_lapic_effects(struct vcpu *from, const struct vdev_lapic_effects *fx);
/* A guest store to the IOAPIC's page (offset 0x00, 0x10 or 0x40). */
void vm_irq_ioapic_write(struct vm *vm, unsigned offset, uint32_t value);
/* Local APIC timers: raise what expired; wake halted vCPUs that have an interrupt now. */
void vm_irq_poll(struct vm *vm, uint64_t now_ns);
