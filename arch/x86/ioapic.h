/* IOAPIC (82093AA datasheet; base and overrides from the ACPI MADT). */
#pragma once
#include <stdint.h>

#include "kernel/error.h"

civic_err ioapic_init(void); /* masks every redirection entry; CIVIC_ENOTSUP without a MADT IOAPIC */
/* Routes an ISA IRQ (after MADT overrides) to vector on this CPU, unmasked. */
civic_err ioapic_route_isa_irq(unsigned isa_irq, uint8_t vector);
