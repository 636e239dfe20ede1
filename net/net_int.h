/* Shared between civic's lwIP glue files (the .c files in net/); not for other modules. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

struct netif;
struct e1000;

/* Set by a failed lwIP assertion: from then on the network is stopped (nothing calls lwIP). */
extern bool net_stopped;

/* Mixes per-host entropy (the MAC) into lwIP's random numbers, so two emulated hosts with the
 * same clock do not pick the same ports, sequence numbers and DHCP transaction ids. */
void net_rand_seed(uint64_t entropy);

/* The Ethernet netif over the e1000 (net/netif_e1000.c). */
civic_err netif_e1000_add(struct netif *netif, struct e1000 *nic);
/* Moves received frames into lwIP; returns whether there were any. */
bool netif_e1000_poll(struct netif *netif);
/* Frames the glue dropped: no pbuf for a received one, a full transmit ring for a sent one. */
struct netif_e1000_drops {
    uint64_t rx_no_pbuf, tx_busy, tx_too_long;
};
void netif_e1000_drops(struct netif_e1000_drops *out);
