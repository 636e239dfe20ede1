/*
 * IOAPIC registers (Intel 82093AA I/O APIC datasheet, 3.0-3.2) and the redirection-entry
 * encoding, including how ACPI's MPS INTI flags (ACPI spec 6.x, Table 5.50) choose polarity and
 * trigger mode.
 */
#pragma once
#include <stdint.h>

#define IOAPIC_MMIO_SIZE 0x20
#define IOAPIC_IOREGSEL 0x00 /* byte offsets of the two MMIO registers */
#define IOAPIC_IOWIN 0x10

#define IOAPIC_ID 0x00
#define IOAPIC_VER 0x01 /* bits 23-16: maximum redirection entry (entries - 1) */
#define IOAPIC_ARB 0x02
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n)) /* low dword; high dword at +1 */

#define IOAPIC_VER_MAX_REDIR(v) (((v) >> 16) & 0xff)

/* Redirection entry bits. */
#define IOAPIC_REDIR_DELIVERY_FIXED (0ull << 8)
#define IOAPIC_REDIR_DEST_PHYSICAL (0ull << 11)
#define IOAPIC_REDIR_ACTIVE_LOW (1ull << 13)
#define IOAPIC_REDIR_LEVEL (1ull << 15)
#define IOAPIC_REDIR_MASKED (1ull << 16)
#define IOAPIC_REDIR_DEST_SHIFT 56

/* MPS INTI flags. */
#define MPS_INTI_POLARITY_MASK 0x3u
#define MPS_INTI_POLARITY_CONFORMS 0x0u
#define MPS_INTI_POLARITY_HIGH 0x1u
#define MPS_INTI_POLARITY_LOW 0x3u
#define MPS_INTI_TRIGGER_MASK 0xcu
#define MPS_INTI_TRIGGER_CONFORMS 0x0u
#define MPS_INTI_TRIGGER_EDGE 0x4u
#define MPS_INTI_TRIGGER_LEVEL 0xcu

/* The redirection entry for an ISA interrupt with these INTI flags ("conforms" means the ISA
 * bus: edge triggered, active high), delivered fixed to APIC ID dest in physical mode,
 * unmasked. */
uint64_t ioapic_isa_redir_entry(uint8_t vector, uint16_t inti_flags, uint8_t dest);

/* Added for the guest IOAPIC model (82093AA datasheet 3.2.4, and the EOI register of the I/O
 * APICs of version 0x20, e.g. Intel ICH9 datasheet 13.5). */
#define IOAPIC_EOI 0x40 /* write: vector whose level entries get their Remote IRR cleared */
#define IOAPIC_ID_SHIFT 24
#define IOAPIC_VER_MAX_REDIR_SHIFT 16
#define IOAPIC_REDIR_VECTOR_MASK 0xffull
#define IOAPIC_REDIR_DELIVERY_SHIFT 8
#define IOAPIC_REDIR_DELIVERY_MASK (7ull << 8)
#define IOAPIC_REDIR_DEST_LOGICAL (1ull << 11)
#define IOAPIC_REDIR_DELIVS (1ull << 12)     /* delivery status, read-only */
#define IOAPIC_REDIR_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_REDIR_DEST_MASK (0xffull << 56)
/* Delivery modes (bits 10:8). 3 and 6 are reserved. */
#define IOAPIC_DELIVERY_FIXED 0
#define IOAPIC_DELIVERY_LOWEST 1
#define IOAPIC_DELIVERY_SMI 2
#define IOAPIC_DELIVERY_NMI 4
#define IOAPIC_DELIVERY_INIT 5
#define IOAPIC_DELIVERY_EXTINT 7
