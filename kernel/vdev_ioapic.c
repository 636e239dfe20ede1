/*
 * Guest I/O APIC per the Intel 82093AA datasheet (registers, redirection entries) with the EOI
 * register of version 0x20 parts.
 *
 * Delivery is instantaneous, so Delivery Status always reads 0 (idle). SMI, NMI, INIT and
 * ExtINT are delivered as edge-triggered whatever the trigger bit says (the datasheet requires
 * edge for them), so only fixed and lowest-priority entries use Remote IRR. Reserved delivery
 * modes (3, 6) are not delivered. Rewriting an entry as edge-triggered (or as NMI, ...) clears
 * its Remote IRR, as QEMU does: Linux relies on it to recover a stuck level entry. The ID
 * register keeps bits 31:24 (the 82093AA has 27:24) so that IDs above 15, which the MADT gives
 * with 16 or more vCPUs, read back as the MADT says. Polarity is applied before edge
 * detection, but rewriting an edge entry's polarity does not count as an edge.
 */
#include "kernel/vdev_ioapic.h"

#include "arch/x86/ioapic_regs.h"
#include "kernel/string.h"

#define IOAPIC_STATE_VERSION 1
#define IOAPIC_MAX_REDIR (VDEV_IOAPIC_PINS - 1)
#define PIN_MASK ((1u << VDEV_IOAPIC_PINS) - 1)

/* Bits a guest can write in the low dword; Delivery Status and Remote IRR are read-only and the
 * rest reserved. */
#define REDIR_LOW_WRITABLE                                                                         \
    (IOAPIC_REDIR_VECTOR_MASK | IOAPIC_REDIR_DELIVERY_MASK | IOAPIC_REDIR_DEST_LOGICAL |           \
     IOAPIC_REDIR_ACTIVE_LOW | IOAPIC_REDIR_LEVEL | IOAPIC_REDIR_MASKED)
#define REDIR_RO (IOAPIC_REDIR_DELIVS | IOAPIC_REDIR_REMOTE_IRR)

static unsigned delivery_mode(uint64_t e)
{
    return (unsigned)((e & IOAPIC_REDIR_DELIVERY_MASK) >> IOAPIC_REDIR_DELIVERY_SHIFT);
}

/* Whether the entry behaves as level-triggered (and so uses Remote IRR). */
static bool entry_level(uint64_t e)
{
    unsigned mode = delivery_mode(e);
    return (e & IOAPIC_REDIR_LEVEL) &&
           (mode == IOAPIC_DELIVERY_FIXED || mode == IOAPIC_DELIVERY_LOWEST);
}

static bool pin_asserted(const struct vdev_ioapic *io, unsigned pin)
{
    bool high = (io->lines >> pin) & 1;
    return high != !!(io->redir[pin] & IOAPIC_REDIR_ACTIVE_LOW);
}

static void send(const struct vdev_ioapic *io, unsigned pin, vdev_ioapic_deliver_fn deliver,
                 void *ctx)
{
    uint64_t e = io->redir[pin];
    unsigned mode = delivery_mode(e);
    if (mode == 3 || mode == 6)
        return;
    struct vdev_ioapic_msg m = {
        .vector = (uint8_t)(e & IOAPIC_REDIR_VECTOR_MASK),
        .delivery_mode = (uint8_t)mode,
        .logical = (e & IOAPIC_REDIR_DEST_LOGICAL) != 0,
        .dest = (uint8_t)(e >> IOAPIC_REDIR_DEST_SHIFT),
        .level = entry_level(e),
    };
    deliver(ctx, &m);
}

/* A level entry whose pin is asserted delivers once per Remote IRR cycle. */
static void service_level(struct vdev_ioapic *io, unsigned pin, vdev_ioapic_deliver_fn deliver,
                          void *ctx)
{
    uint64_t e = io->redir[pin];
    if (!entry_level(e) || (e & (IOAPIC_REDIR_MASKED | IOAPIC_REDIR_REMOTE_IRR)) ||
        !pin_asserted(io, pin))
        return;
    io->redir[pin] |= IOAPIC_REDIR_REMOTE_IRR;
    send(io, pin, deliver, ctx);
}

void vdev_ioapic_set_irq(struct vdev_ioapic *io, unsigned pin, bool level,
                         vdev_ioapic_deliver_fn deliver, void *ctx)
{
    if (pin >= VDEV_IOAPIC_PINS)
        return;
    bool was = pin_asserted(io, pin);
    if (level)
        io->lines |= 1u << pin;
    else
        io->lines &= ~(1u << pin);
    uint64_t e = io->redir[pin];
    if (entry_level(e))
        service_level(io, pin, deliver, ctx);
    else if (!was && pin_asserted(io, pin) && !(e & IOAPIC_REDIR_MASKED))
        send(io, pin, deliver, ctx);
}

void vdev_ioapic_eoi(struct vdev_ioapic *io, uint8_t vector, vdev_ioapic_deliver_fn deliver,
                     void *ctx)
{
    for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if (!entry_level(e) || (e & IOAPIC_REDIR_VECTOR_MASK) != vector)
            continue;
        io->redir[pin] &= ~IOAPIC_REDIR_REMOTE_IRR;
        service_level(io, pin, deliver, ctx);
    }
}

static uint32_t read_register(const struct vdev_ioapic *io)
{
    unsigned reg = io->ioregsel;
    switch (reg) {
    case IOAPIC_ID:
    case IOAPIC_ARB: /* the datasheet loads ARB from the ID when the ID is written */
        return (uint32_t)io->id << IOAPIC_ID_SHIFT;
    case IOAPIC_VER: return VDEV_IOAPIC_VERSION | (IOAPIC_MAX_REDIR << IOAPIC_VER_MAX_REDIR_SHIFT);
    default: break;
    }
    if (reg < IOAPIC_REDTBL(0) || reg > IOAPIC_REDTBL(IOAPIC_MAX_REDIR) + 1)
        return 0;
    uint64_t e = io->redir[(reg - IOAPIC_REDTBL(0)) / 2];
    return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
}

static void write_register(struct vdev_ioapic *io, uint32_t value, vdev_ioapic_deliver_fn deliver,
                           void *ctx)
{
    unsigned reg = io->ioregsel;
    if (reg == IOAPIC_ID) {
        io->id = (uint8_t)(value >> IOAPIC_ID_SHIFT);
        return;
    }
    if (reg < IOAPIC_REDTBL(0) || reg > IOAPIC_REDTBL(IOAPIC_MAX_REDIR) + 1)
        return; /* VER, ARB and unimplemented registers are read-only */
    unsigned pin = (reg - IOAPIC_REDTBL(0)) / 2;
    uint64_t e = io->redir[pin];
    if (reg & 1) {
        io->redir[pin] =
            (e & ~IOAPIC_REDIR_DEST_MASK) | ((uint64_t)value << 32 & IOAPIC_REDIR_DEST_MASK);
        return;
    }
    e = (e & ~REDIR_LOW_WRITABLE) | (value & REDIR_LOW_WRITABLE);
    if (!entry_level(e))
        e &= ~IOAPIC_REDIR_REMOTE_IRR;
    io->redir[pin] = e;
    /* Unmasking (or switching to level) while the pin is asserted delivers now. */
    service_level(io, pin, deliver, ctx);
}

uint32_t vdev_ioapic_mmio_read(struct vdev_ioapic *io, unsigned offset)
{
    switch (offset) {
    case IOAPIC_IOREGSEL: return io->ioregsel;
    case IOAPIC_IOWIN: return read_register(io);
    default: return 0; /* EOI is write-only */
    }
}

void vdev_ioapic_mmio_write(struct vdev_ioapic *io, unsigned offset, uint32_t value,
                            vdev_ioapic_deliver_fn deliver, void *ctx)
{
    switch (offset) {
    case IOAPIC_IOREGSEL: io->ioregsel = (uint8_t)value; break;
    case IOAPIC_IOWIN: write_register(io, value, deliver, ctx); break;
    case IOAPIC_EOI: vdev_ioapic_eoi(io, (uint8_t)value, deliver, ctx); break;
    default: break;
    }
}

void vdev_ioapic_reset(struct vdev_ioapic *io, uint8_t id)
{
    memset(io, 0, sizeof *io);
    io->id = id;
    for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++)
        io->redir[pin] = IOAPIC_REDIR_MASKED;
}

void vdev_ioapic_save(const struct vdev_ioapic *io, struct vdev_ioapic_state *out)
{
    memset(out, 0, sizeof *out);
    out->version = IOAPIC_STATE_VERSION;
    out->io = *io;
}

static bool entry_valid(const struct vdev_ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    if (e & ~(REDIR_LOW_WRITABLE | IOAPIC_REDIR_REMOTE_IRR | IOAPIC_REDIR_DEST_MASK))
        return false; /* reserved bits, or Delivery Status (never left busy) */
    if ((e & IOAPIC_REDIR_REMOTE_IRR) && !entry_level(e))
        return false;
    /* An unmasked asserted level entry without Remote IRR would already have delivered. */
    return !(entry_level(e) && !(e & (IOAPIC_REDIR_MASKED | IOAPIC_REDIR_REMOTE_IRR)) &&
             pin_asserted(io, pin));
}

int vdev_ioapic_restore(struct vdev_ioapic *io, const struct vdev_ioapic_state *in)
{
    const struct vdev_ioapic *s = &in->io;
    if (in->version != IOAPIC_STATE_VERSION || in->reserved || (s->lines & ~PIN_MASK) ||
        s->reserved[0] || s->reserved[1])
        return -1;
    for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++)
        if (!entry_valid(s, pin))
            return -1;
    *io = *s;
    return 0;
}
