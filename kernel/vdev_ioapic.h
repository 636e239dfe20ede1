/*
 * The guest's I/O APIC: 24 pins, version 0x20 (82093AA register set plus the EOI register at
 * MMIO offset 0x40, as QEMU's default IOAPIC). A pure model: the caller routes 32-bit MMIO
 * accesses in the page at VDEV_IOAPIC_BASE here, drives the pins, and forwards local APIC EOIs;
 * interrupts leave through a delivery callback, synchronously. State in one struct with
 * save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_IOAPIC_BASE 0xfec00000ull
#define VDEV_IOAPIC_PINS 24
#define VDEV_IOAPIC_VERSION 0x20

/* An interrupt message as the IOAPIC sends it to the local APICs. */
struct vdev_ioapic_msg {
    uint8_t vector;
    uint8_t delivery_mode; /* 0 fixed, 1 lowest prio, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT */
    bool logical;          /* destination mode */
    uint8_t dest;
    bool level; /* level-triggered: the local APIC must send its EOI back (vdev_ioapic_eoi) */
};

typedef void (*vdev_ioapic_deliver_fn)(void *ctx, const struct vdev_ioapic_msg *m);

struct vdev_ioapic {
    uint64_t redir[VDEV_IOAPIC_PINS]; /* redirection table, read-only bits included */
    uint32_t lines;                   /* electrical pin levels, bit n = pin n */
    uint8_t id;                       /* ID register bits 31:24 */
    uint8_t ioregsel;
    uint8_t reserved[2]; /* 0 */
};

struct vdev_ioapic_state {
    uint32_t version;
    uint32_t reserved; /* 0 */
    struct vdev_ioapic io;
};

/* Power-on: the given ID, IOREGSEL 0, every entry masked (all other bits 0), all pins low. */
void vdev_ioapic_reset(struct vdev_ioapic *io, uint8_t id);
/* 32-bit accesses at offset from VDEV_IOAPIC_BASE: 0x00 IOREGSEL, 0x10 IOWIN, 0x40 EOI
 * (write-only). Any other offset reads 0 and ignores writes. deliver must not be NULL: unmasking
 * an asserted level pin, or an EOI write, may deliver at once. */
uint32_t vdev_ioapic_mmio_read(struct vdev_ioapic *io, unsigned offset);
void vdev_ioapic_mmio_write(struct vdev_ioapic *io, unsigned offset, uint32_t value,
                            vdev_ioapic_deliver_fn deliver, void *ctx);
/* Drives pin (0..23, others ignored) to the electrical level given; an active-low entry is
 * asserted while the pin is low. Edge entries deliver on the asserting edge, level entries
 * while asserted with Remote IRR clear (and set it). Masked entries ignore the pin. */
void vdev_ioapic_set_irq(struct vdev_ioapic *io, unsigned pin, bool level,
                         vdev_ioapic_deliver_fn deliver, void *ctx);
/* A local APIC's EOI for vector: clears Remote IRR of level entries with that vector and
 * delivers again those whose pin is still asserted. */
void vdev_ioapic_eoi(struct vdev_ioapic *io, uint8_t vector, vdev_ioapic_deliver_fn deliver,
                     void *ctx);
void vdev_ioapic_save(const struct vdev_ioapic *io, struct vdev_ioapic_state *out);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_ioapic_restore(struct vdev_ioapic *io, const struct vdev_ioapic_state *in);
