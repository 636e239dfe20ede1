#include "arch/x86/irq_pending.h"

void irq_pending_set(struct irq_pending *p, uint8_t vector)
{
    p->bits[vector / 64] |= 1ull << (vector % 64);
}

void irq_pending_clear(struct irq_pending *p, uint8_t vector)
{
    p->bits[vector / 64] &= ~(1ull << (vector % 64));
}

bool irq_pending_any(const struct irq_pending *p)
{
    return (p->bits[0] | p->bits[1] | p->bits[2] | p->bits[3]) != 0;
}

int irq_pending_highest(const struct irq_pending *p)
{
    for (int w = 3; w >= 0; w--)
        if (p->bits[w])
            return w * 64 + 63 - __builtin_clzll(p->bits[w]);
    return -1;
}
