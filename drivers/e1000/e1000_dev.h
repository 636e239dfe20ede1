/*
 * The driver's inside: the device state and the core that runs it given a register block and DMA
 * memory. The core (e1000.c) touches nothing else, so the unit tests run it against a fake
 * register block and a simulated device; e1000_pci.c finds the device and supplies the rest.
 */
#pragma once
#include "drivers/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"

#define E1000_BUF_SIZE 2048u /* one frame per buffer: RCTL.BSIZE = 2048, no jumbo frames */
#define E1000_FRAME_MIN 14u
#define E1000_FRAME_MAX 1514u
/* The device has not reclaimed a queued TX descriptor for this long: reset the transmit unit. */
#define E1000_TX_TIMEOUT_NS 500000000ull
#define E1000_RESET_POLL_US 10u
#define E1000_RESET_TIMEOUT_US 100000u
#define E1000_EERD_TIMEOUT_US 10000u

struct e1000_env {
    void (*delay_us)(void *ctx, unsigned us);
    uint64_t (*now_ns)(void *ctx);
    void *ctx;
};

/* DMA memory: rings 128-byte aligned, buffers E1000_BUF_SIZE each, physically contiguous. */
struct e1000_mem {
    struct e1000_rx_desc *rx_ring;
    uint64_t rx_ring_phys;
    struct e1000_tx_desc *tx_ring;
    uint64_t tx_ring_phys;
    uint8_t *rx_bufs;
    uint64_t rx_bufs_phys;
    uint8_t *tx_bufs;
    uint64_t tx_bufs_phys;
    uint32_t rx_count, tx_count; /* multiples of 8, at least 8 */
};

struct e1000 {
    volatile uint8_t *regs;
    struct e1000_env env;
    struct e1000_mem mem;
    uint8_t mac[6];
    bool mac_from_eeprom;
    uint16_t device_id;
    uint8_t bus, dev, fn;
    uint32_t rx_next;   /* the next RX descriptor the device will complete */
    bool rx_discard;    /* dropping the rest of a frame that spanned descriptors */
    uint32_t tx_clean;  /* the oldest TX descriptor not yet reclaimed */
    uint32_t tx_tail;   /* the next TX descriptor to fill (our copy of TDT) */
    uint64_t tx_progress_ns; /* when the device last completed a TX descriptor (or we queued
                                into an empty ring) */
    /* Interrupt causes read by the interrupt handler (ICR clears on read), for the next poll. */
    volatile uint32_t icr_pending;
    /* Sees every good frame first; true = consumed (the unit counts `nic tx` test frames). */
    bool (*tap)(void *ctx, const void *frame, size_t len);
    void *tap_ctx;
    struct e1000_stats sw;
    struct e1000_hw_stats hw;
    struct e1000_recovery rec;
};

/* Resets the device, reads the MAC (EEPROM, else RAL0/RAH0), arms both rings and enables
 * receive and transmit with interrupts masked. CIVIC_ETIMEDOUT if the reset never completes,
 * CIVIC_EINVAL for unusable ring sizes. */
civic_err e1000_core_init(struct e1000 *nic, volatile void *regs, uint16_t device_id,
                          const struct e1000_env *env, const struct e1000_mem *mem);
/* Unmasks the causes that mean "poll now" (receive timer, ring half empty, overrun, link). */
void e1000_enable_irqs(struct e1000 *nic);
/* The interrupt handler's work: read (and so clear and deassert) ICR, keep it for the poll. */
void e1000_irq(struct e1000 *nic);
/* Reads the device's statistics registers (clear on read) into nic->hw. */
void e1000_collect_hw_stats(struct e1000 *nic);
