/*
 * The page record: where one guest frame's contents are. The record is the truth; EPT is a cache
 * of it. Every state change goes through the functions here, which check the transition is legal
 * and change nothing when it is not, so network paging and migration reuse the same transitions:
 *
 *   ZERO --touch--> LOCAL --release--> ZERO            first access; VM destroyed, zero page
 *   LOCAL --evict_begin--> EVICTING --evict_done--> REMOTE        a copy is sent to holders
 *                          EVICTING --evict_abort--> LOCAL        refused, holder lost, touched
 *   LOCAL --evict_clean--> REMOTE                      the holders' copy is still current
 *   REMOTE --fetch_begin--> FETCHING --fetch_done--> LOCAL        fault or read-ahead
 *                           FETCHING --fetch_abort--> REMOTE
 *
 * 16 bytes per guest frame (checked at compile time).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

enum page_state {
    PAGE_ZERO = 0,     /* never touched, or found all zero at eviction: reads as zeros, no frame */
    PAGE_LOCAL = 1,    /* in a host frame: where = host frame number */
    PAGE_REMOTE = 2,   /* held by peers only: holder[], version; where = the CRC-32C of the copy
                        * as this host sent it, so a page coming back is checked against what
                        * left, not against what the holder claims */
    PAGE_EVICTING = 3, /* in flight out: the copy is being made; the frame (where) is kept until
                        * a holder acknowledges it */
    PAGE_FETCHING = 4, /* in flight in: requested from a holder; no frame yet; where as REMOTE */
};
#define PAGE_STATES 5

struct page_record {
    uint64_t where;    /* LOCAL, EVICTING: host frame number; REMOTE, FETCHING: the copy's CRC-32C;
                        * ZERO: 0 */
    uint32_t version;  /* generation of the newest copy made elsewhere (0: never copied); bumped
                        * only when a new copy is started (evict_begin), so it grows for the life
                        * of the VM (on wrap-around it skips 0). As wide as the page store's and
                        * the wire's, which compare it with wrap-around (RFC 1982). */
    uint8_t state;     /* enum page_state */
    uint8_t flags;     /* PAGE_F_* */
    uint8_t holder[2]; /* peer holders (1..255, index into remote memory's holder table; 0 =
                        * none): holder[0] primary, holder[1] replica or 0 */
};

/* LOCAL: written since its copy was made (from EPT D bits). */
#define PAGE_F_DIRTY 0x01
/* Never evicted. */
#define PAGE_F_PINNED 0x02
/* LOCAL: holder[] still hold a copy at `version` (valid unless DIRTY or the EPT D bit says
 * otherwise). */
#define PAGE_F_COPY 0x04
/* LOCAL: installed by read-ahead and not touched by the guest yet (not mapped in EPT, so the
 * first touch is seen). */
#define PAGE_F_PREFETCHED 0x08

/* Host frame numbers fit in 52-bit physical addresses. */
#define PAGE_PFN_LIMIT (1ull << 40)

/*
 * Each returns CIVIC_EINVAL and changes nothing when the record is not in the starting state or
 * an argument is invalid (NULL pointers, pfn >= PAGE_PFN_LIMIT, holders: holder0 != 0 and
 * holder1 == 0 or != holder0). Flags not named are kept.
 */
/* ZERO -> LOCAL: where = pfn, flags keep only PINNED, holders 0. */
civic_err page_touch(struct page_record *r, uint64_t pfn);
/* LOCAL -> ZERO: *pfn = the frame (the caller frees it), holders_out = the holders of a copy
 * (0, 0 without COPY: the caller frees that copy); flags keep only PINNED; version kept. */
civic_err page_release(struct page_record *r, uint64_t *pfn, uint8_t holders_out[2]);
/* LOCAL -> EVICTING (CIVIC_EBUSY if PINNED): version++, holders set, *pfn = the frame (kept until
 * evict_done); clears DIRTY, COPY, PREFETCHED. */
civic_err page_evict_begin(struct page_record *r, uint64_t *pfn, uint8_t holder0, uint8_t holder1);
/* LOCAL with COPY and without DIRTY -> REMOTE (CIVIC_EBUSY if PINNED): *pfn = the frame (the
 * caller frees it); where = crc, the contents' CRC-32C; version and holders kept; clears
 * PREFETCHED. */
civic_err page_evict_clean(struct page_record *r, uint64_t *pfn, uint32_t crc);
/* EVICTING -> REMOTE: bit i of acked_mask = holder[i] acknowledged (only bits 0 and 1 exist);
 * holders not acked are removed (a replica is promoted to primary); the mask must name at least
 * one present holder. *pfn = the frame (the caller frees it); where = crc, the CRC-32C of the
 * copy the holders acknowledged. */
civic_err page_evict_done(struct page_record *r, uint64_t *pfn, unsigned acked_mask,
                          uint32_t crc);
/* EVICTING -> LOCAL: the copy did not happen: holders 0, no COPY, DIRTY set; version kept. */
civic_err page_evict_abort(struct page_record *r);
/* REMOTE -> FETCHING (where, the copy's CRC, kept: the arriving page must match it); CIVIC_EIO
 * (nothing changed) when no holder is left: the page is lost. */
civic_err page_fetch_begin(struct page_record *r);
/* FETCHING -> LOCAL: where = pfn; COPY set when a holder is left (it keeps its copy); DIRTY
 * cleared; PREFETCHED if prefetched. */
civic_err page_fetch_done(struct page_record *r, uint64_t pfn, bool prefetched);
/* FETCHING -> REMOTE, nothing else changes. */
civic_err page_fetch_abort(struct page_record *r);
/* LOCAL: sets DIRTY. */
civic_err page_note_dirty(struct page_record *r);
/* LOCAL with PREFETCHED: the guest touched a read-ahead page; clears PREFETCHED. */
civic_err page_prefetch_used(struct page_record *r);
/*
 * Holder h (1..255) is gone: removes it from the record (a replica is promoted). CIVIC_ENOENT
 * (nothing changed) if r does not name h; CIVIC_OK if the page still has a holder or is LOCAL (a
 * LOCAL page losing its last holder loses COPY); CIVIC_EIO when a REMOTE, FETCHING or EVICTING
 * record has no holder left (REMOTE, FETCHING: the contents are lost, page_is_lost; EVICTING: the
 * caller aborts the eviction).
 */
civic_err page_holder_lost(struct page_record *r, uint8_t h);

/* REMOTE or FETCHING with no holder: the contents exist nowhere. */
bool page_is_lost(const struct page_record *r);
/* Every invariant of the record's state; CIVIC_ECORRUPT on a violation. */
civic_err page_check(const struct page_record *r);
const char *page_state_name(enum page_state s);
