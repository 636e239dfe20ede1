#include "arch/x86/ioapic_regs.h"

uint64_t ioapic_isa_redir_entry(uint8_t vector, uint16_t inti_flags, uint8_t dest)
{
    uint64_t e = vector | IOAPIC_REDIR_DELIVERY_FIXED | IOAPIC_REDIR_DEST_PHYSICAL |
                 ((uint64_t)dest << IOAPIC_REDIR_DEST_SHIFT);
    /* The reserved encodings (10b) are treated as the bus default. */
    if ((inti_flags & MPS_INTI_POLARITY_MASK) == MPS_INTI_POLARITY_LOW)
        e |= IOAPIC_REDIR_ACTIVE_LOW;
    if ((inti_flags & MPS_INTI_TRIGGER_MASK) == MPS_INTI_TRIGGER_LEVEL)
        e |= IOAPIC_REDIR_LEVEL;
    return e;
}
