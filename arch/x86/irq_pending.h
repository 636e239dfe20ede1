/*
 * A set of pending external-interrupt vectors (0..255), highest vector first as a local APIC
 * would deliver them (SDM Vol. 3A, 11.8.3: the priority class is vector / 16). Pure, so the unit
 * test covers it.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct irq_pending {
    uint64_t bits[4];
};

void irq_pending_set(struct irq_pending *p, uint8_t vector);
bool irq_pending_any(const struct irq_pending *p);
/* The highest pending vector, or -1 when none is pending. */
int irq_pending_highest(const struct irq_pending *p);
void irq_pending_clear(struct irq_pending *p, uint8_t vector);
