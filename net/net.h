/*
 * The network stack: lwIP over the e1000, brought up by the `net` unit from the boot options
 * (net/net_config.h) and polled from the monitor loop. Everything here runs in the monitor loop.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"
#include "net/net_config.h"

struct netif;

/* The interface, or NULL when there is no NIC (or net=off). */
struct netif *net_netif(void);
/* Replaces the configuration: DHCP starts over, or the static address applies at once. */
civic_err net_configure(const struct net_config *cfg);
/* The configuration in force (its mode; the addresses of a static one). */
const struct net_config *net_config(void);
/* Polls the NIC and lwIP's timers, as the monitor loop does: for commands that wait on the
 * network (ping). */
bool net_poll(void);
