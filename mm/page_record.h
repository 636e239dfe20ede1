/*
 * The page record: where one guest frame's contents are. The record is the truth; EPT is a cache
 * of it. Every state change goes through the functions here, which check the transition is legal,
 * so that network paging and migration (later) reuse the same transitions:
 *
 *   ZERO --touch--> LOCAL                    first access: a zeroed host frame
 *   LOCAL --release--> ZERO                  VM destroyed (or the page discarded)
 *   LOCAL --evict_begin--> IN_FLIGHT --evict_done--> REMOTE      (network paging, later)
 *   REMOTE --fetch_begin--> IN_FLIGHT --fetch_done--> LOCAL      (faults, post-copy, later)
 *
 * 16 bytes per guest frame (checked at compile time).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

enum page_state { PAGE_ZERO = 0, PAGE_LOCAL = 1, PAGE_REMOTE = 2, PAGE_IN_FLIGHT = 3 };

struct page_record {
    uint64_t where;   /* LOCAL: host frame number; REMOTE: peer id << 32 | slot; else 0 */
    uint32_t version; /* bumped on every change of contents location, for remote copies; as
                       * wide as the page store's and the wire's (net/page_store.h), which
                       * compare it with wrap-around */
    uint8_t state;    /* enum page_state */
    uint8_t flags;    /* PAGE_F_* */
    uint16_t reserved;
};

#define PAGE_F_DIRTY 0x01 /* written since the last harvest (from EPT D bits) */
#define PAGE_F_PINNED 0x02 /* never evicted (e.g. loader-populated boot structures), later */

/* Each returns CIVIC_EINVAL (and changes nothing) when the record is not in the state the
 * transition starts from. */
civic_err page_touch(struct page_record *r, uint64_t host_pfn);         /* ZERO -> LOCAL */
civic_err page_release(struct page_record *r, uint64_t *host_pfn);      /* LOCAL -> ZERO */
civic_err page_evict_begin(struct page_record *r, uint64_t *host_pfn);  /* LOCAL -> IN_FLIGHT */
civic_err page_evict_done(struct page_record *r, uint32_t peer, uint32_t slot); /* -> REMOTE */
civic_err page_fetch_begin(struct page_record *r);                      /* REMOTE -> IN_FLIGHT */
civic_err page_fetch_done(struct page_record *r, uint64_t host_pfn);    /* IN_FLIGHT -> LOCAL */
const char *page_state_name(enum page_state s);
