/*
 * The network configuration and its textual forms, pure and host-tested. One parser for the
 * GRUB command line (kernel/boot_options.c hands it the words) and the shell:
 *   net=dhcp (the default) | net=off      how the address is obtained (off: no network)
 *   ip=A.B.C.D/N                          a static address and prefix length (implies static)
 *   gw=A.B.C.D                            the default gateway (with ip= only; on its subnet)
 * Addresses are held in host byte order (10.0.2.15 is 0x0a00020f).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

enum net_mode { NET_MODE_DHCP, NET_MODE_STATIC, NET_MODE_OFF };

struct net_config {
    enum net_mode mode;
    bool mode_given;       /* net= appeared: ip= then conflicts with it */
    uint32_t ip, mask, gw; /* static only; gw 0: none */
};

#define NET_PING_COUNT_DEFAULT 4
#define NET_PING_COUNT_MAX 100000
#define NET_IPV4_STR_MAX 16 /* "255.255.255.255" and its NUL */

void net_config_default(struct net_config *c);

/* Applies one word. CIVIC_ENOENT: not a network option (c unchanged, err untouched);
 * CIVIC_EINVAL: a network option with a bad value or one that conflicts with an earlier word
 * (c unchanged, err says why). */
civic_err net_config_word(struct net_config *c, const char *word, char *err, size_t errlen);

/* Checks the words together once all are applied: gw= needs ip=, and must lie on its subnet. */
civic_err net_config_check(const struct net_config *c, char *err, size_t errlen);

/* The shell's `net set ip=A.B.C.D/N [gw=A.B.C.D]` (words after "set"): a complete static
 * configuration, checked. */
civic_err net_config_parse_set(int argc, char **argv, struct net_config *out, char *err,
                               size_t errlen);

/* `ping HOST [count=N]` (words after "ping"); HOST is a dotted IPv4 address. */
civic_err net_parse_ping(int argc, char **argv, uint32_t *host, unsigned *count, char *err,
                         size_t errlen);

/* A strict dotted quad: four decimal numbers 0-255, no leading zeros, nothing else. */
civic_err net_parse_ipv4(const char *s, uint32_t *out);
/* A.B.C.D/N with N in 1-32; the mask is the prefix's. */
civic_err net_parse_cidr(const char *s, uint32_t *ip, uint32_t *mask);
uint32_t net_prefix_mask(unsigned prefix);
/* The prefix length of a contiguous mask, or -1. */
int net_mask_prefix(uint32_t mask);
void net_format_ipv4(uint32_t ip, char buf[NET_IPV4_STR_MAX]);
