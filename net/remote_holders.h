/*
 * The peers that hold this host's evicted pages, numbered 1..HOLDERS_MAX as page records name
 * them (struct page_record.holder[]). A holder is a peer *host* (its host id), not a connection:
 * a peer that reconnects keeps its number and the pages it holds. Pure bookkeeping, unit-tested;
 * net/remote_mem.c maps a holder to its live connection through `serial`.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define HOLDERS_MAX 32u
/* A holder that refused a page as full is not asked again for this long (or until it frees). */
#define HOLDER_FULL_BACKOFF_NS 2000000000ull

struct holder {
    uint64_t host_id; /* 0: the slot is free */
    uint32_t ip;      /* host order, of the last connection */
    uint32_t serial;  /* the established connection (peer.h), 0 while down */
    bool lost;        /* went down by loss (not a clean close) */
    uint64_t full_until_ns;
    uint64_t puts, acks, refused, gets, data, bad; /* messages, for `remote` */
};

struct holder_table {
    struct holder h[HOLDERS_MAX + 1]; /* [0] unused: holder 0 means none */
    uint32_t cursor;                  /* round robin for pick */
};

void holders_init(struct holder_table *t);
/* A connection to host_id is up: its holder (created if new; 0 when the table is full). */
uint8_t holders_up(struct holder_table *t, uint64_t host_id, uint32_t ip, uint32_t serial);
/* The connection `serial` to host_id ended; a later connection's serial is left alone. Returns
 * the holder that went down, or 0. */
uint8_t holders_down(struct holder_table *t, uint64_t host_id, uint32_t serial, bool lost);
/* The holder number of host_id, or 0. */
uint8_t holders_find(const struct holder_table *t, uint64_t host_id);
static inline bool holder_is_up(const struct holder_table *t, uint8_t i)
{
    return i >= 1 && i <= HOLDERS_MAX && t->h[i].host_id && t->h[i].serial;
}
/* Refused a page as full at now: skipped by pick until the backoff passes. */
void holders_full(struct holder_table *t, uint8_t i, uint64_t now_ns);
/* The next holder in round-robin order that is up, not backing off, not `exclude`, and for which
 * usable(ctx, i) says yes (send space); 0 if none. */
typedef bool (*holder_usable_fn)(void *ctx, uint8_t i);
uint8_t holders_pick(struct holder_table *t, uint64_t now_ns, uint8_t exclude,
                     holder_usable_fn usable, void *ctx);
