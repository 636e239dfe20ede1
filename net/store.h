/*
 * The kernel's page store service (issue 6): the one struct page_store (net/page_store.h) that
 * holds other hosts' cold guest pages in this host's frames, and the peer service that answers
 * PAGE_PUT, PAGE_GET, PAGE_FREE and PAGE_FREE_VM (docs/protocol.md). The owner of every page is
 * the message's sender, so a peer reaches only its own pages.
 *
 * Replies are never lost: a PUT_ACK or DATA that does not fit the connection's output queue is
 * remembered in a bounded queue (a GET as the request, answered when sent) and sent from the
 * unit's poll, in arrival order per connection (connections are named by their serial; replies
 * for a connection that is gone are dropped). A PUT that could neither be answered now nor
 * queued is refused with FULL when the connection has room for that answer, and otherwise dropped
 * without storing it: the owner never got an ack, so its page is still local and its loss
 * detection (no answer) takes over. The capacity is the operator's: 0 (the default) refuses every
 * PUT with FULL.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"
#include "net/page_store.h"

/* Replies (or GETs) waiting for room in their connection's output queue, 40 bytes each. A
 * connection's output queue holds ~15 DATA answers, so an owner that keeps at most
 * STORE_DEFER_MAX / PEER_MAX (128) requests outstanding per store is never dropped. */
#define STORE_DEFER_MAX 1024u

struct store_stats {
    uint64_t capacity_pages, used_pages, owners;
    uint64_t puts;                /* PAGE_PUT messages received */
    uint64_t put_refused_full;    /* ... answered FULL (no room, or the answer could not wait) */
    uint64_t put_refused_corrupt; /* ... answered CORRUPT (data did not match its CRC) */
    uint64_t put_refused_stale;   /* ... answered STALE (a newer version is stored) */
    uint64_t gets;                /* PAGE_GET messages received */
    uint64_t get_absent, get_corrupt; /* DATA answers other than OK */
    uint64_t frees;                   /* pages freed by PAGE_FREE and PAGE_FREE_VM */
    uint64_t replies_deferred;        /* answers that had to wait for room */
    uint64_t deferred_now;            /* ... waiting now */
    uint64_t requests_dropped;        /* PUTs or GETs dropped: no room to answer or to wait; or
                                       * answers dropped because their connection went away */
};

/* Sets up an empty capacity-0 store with this allocator (the kernel's: net/store_mem.c) and
 * registers the PAGE_PUT, PAGE_GET and PAGE_FREE..PAGE_FREE_VM services. */
civic_err store_init(const struct page_store_ops *ops, void *ctx);
/* Sends waiting replies, a bounded number per call; true if it did any work. */
bool store_poll(void);

/*
 * The bytes lent to peers. CIVIC_EINVAL: not a multiple of 4 KiB; CIVIC_ERANGE: more than
 * PAGE_STORE_MAX_PAGES pages; CIVIC_EBUSY: the store holds pages (the owners free them first, or
 * the operator waits); CIVIC_ENOMEM: no memory for the index (the old capacity is kept). The
 * capacity is a limit, not a reservation: frames are taken as pages arrive.
 */
civic_err store_set_capacity(uint64_t bytes);
void store_get_stats(struct store_stats *st);
uint32_t store_owner_pages(uint64_t owner);
/* Calls fn once per owner holding pages. */
void store_for_each_owner(page_store_owner_fn fn, void *ctx);
/* page_store_check on the kernel's store. */
civic_err store_check(void);

/* Fault injection for tests: flips one byte in up to n stored pages without updating their CRC,
 * so the next GET of each answers CORRUPT. Returns how many pages were damaged. */
uint32_t store_corrupt(uint32_t n);
