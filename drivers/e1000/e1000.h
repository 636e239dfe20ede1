/*
 * The Intel 8254x (e1000) driver: the first supported NIC that PCI enumeration finds, reset and
 * brought up by the e1000 unit at boot, polled from the monitor loop (no interrupts). One
 * context: every function here runs in the monitor loop, never in an interrupt handler.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

struct e1000;

struct e1000_stats {
    uint64_t rx_packets, rx_bytes; /* frames handed to the receive handler */
    uint64_t rx_drops;    /* frames the device missed (MPC: no room, e.g. no free descriptor) */
    uint64_t rx_errors;   /* bad frames: descriptor errors, CRC, alignment, symbol, length */
    uint64_t tx_packets, tx_bytes; /* frames the device reported sent */
    uint64_t tx_drops;    /* queued frames thrown away by a transmit-ring recovery */
    uint64_t tx_errors;   /* excessive or late collisions */
    uint64_t rx_overruns; /* receiver overrun events (ICR.RXO) */
    uint64_t tx_ring_full; /* e1000_transmit calls answered CIVIC_EBUSY */
};

/* The device's own counters (8254x manual, 13.7), accumulated since the driver came up. */
struct e1000_hw_stats {
    uint64_t gprc, gptc, gorc, gotc; /* good packets and octets received and sent */
    uint64_t mpc, rnbc;              /* missed packets; no receive buffers */
    uint64_t crcerrs, algnerrc, rxerrc, rlec, ruc, roc;
    uint64_t colc, ecol, latecol;
};

/* What the driver did to keep the interface going. */
struct e1000_recovery {
    uint64_t rx_ring_resets; /* receive ring re-armed after an overrun left it inconsistent */
    uint64_t tx_ring_resets; /* transmit unit reset after the device stopped taking frames */
    uint64_t link_changes;   /* ICR.LSC events */
};

/* The first supported NIC found by PCI enumeration, reset and up (rings armed, RX enabled);
 * NULL if none. */
struct e1000 *e1000_get(void);
void e1000_mac(const struct e1000 *nic, uint8_t mac[6]);
bool e1000_link_up(struct e1000 *nic);
/* 10, 100 or 1000 (Mb/s, from STATUS), 0 without link. */
unsigned e1000_speed_mbps(struct e1000 *nic);
/* Copies one frame (14..1514 bytes, without FCS) into the TX ring. CIVIC_EBUSY when the ring is
 * full (the caller may retry after e1000_poll), CIVIC_EINVAL for a bad length. */
civic_err e1000_transmit(struct e1000 *nic, const void *frame, size_t len);
/* Reclaims sent TX descriptors and hands at most budget received frames to rx (called from the
 * monitor loop, never from an interrupt handler); returns the number of frames handed over.
 * The frame buffer is valid only during the call. rx may be NULL (frames are counted, then
 * dropped). The `nic tx` test frames (EtherType 0x88B5) are taken by the driver itself, never
 * reach rx, and count in the result. */
typedef void (*e1000_rx_fn)(void *ctx, const void *frame, size_t len);
unsigned e1000_poll(struct e1000 *nic, e1000_rx_fn rx, void *ctx, unsigned budget);
void e1000_get_stats(struct e1000 *nic, struct e1000_stats *out);
void e1000_get_hw_stats(struct e1000 *nic, struct e1000_hw_stats *out);
void e1000_get_recovery(const struct e1000 *nic, struct e1000_recovery *out);
/* Frames queued in the TX ring that the device has not yet reported sent. */
unsigned e1000_tx_pending(const struct e1000 *nic);
void e1000_ring_sizes(const struct e1000 *nic, unsigned *rx, unsigned *tx);
/* PCI location, for reports. */
void e1000_location(const struct e1000 *nic, uint8_t *bus, uint8_t *dev, uint8_t *fn,
                    uint16_t *device_id);

/* Who receives frames when the e1000 unit polls: the lwIP glue installs itself here. NULL fn
 * restores the default handler (which counts the `nic tx` test frames). */
void e1000_set_rx_handler(e1000_rx_fn fn, void *ctx);
bool e1000_rx_handler_installed(void);
/* "intx" (interrupts wake the monitor loop; the work is still polled) or "poll". */
const char *e1000_irq_mode(void);
/* One poll of the e1000 unit (what the monitor loop runs): receive to the installed handler,
 * count test frames, log link changes. True if frames arrived. */
bool e1000_service(void);

/* The `nic tx` test frames received so far (drivers/e1000/e1000_testframe.h), and clearing them. */
struct nic_test_rx;
void e1000_test_rx_get(struct nic_test_rx *out);
void e1000_test_rx_reset(void);
