/*
 * Read-ahead for network paging: on a fault on a remote page, which neighbouring pages to fetch
 * in the same round trip. One per VM. Pure policy: it knows nothing of the records, so the caller
 * requests only the pages of the returned range that are REMOTE (others are local, zero or
 * already in flight).
 *
 * The window adapts to how useful read-ahead turned out to be:
 *  - it doubles (up to the maximum) on a stream: a fault at the page just past the previous
 *    range, in the direction it went, means the guest used all of it and keeps going;
 *  - it doubles when half a window's worth of read-ahead pages were used (readahead_hit: the
 *    caller found a page local, or in flight, thanks to read-ahead where it would have faulted);
 *  - it halves (down to 1) when half a window's worth were evicted again unused
 *    (readahead_wasted).
 * A descending stream reads below the fault, anything else above it.
 */
#pragma once
#include <stdint.h>

#define READAHEAD_MAX_WINDOW 32u

struct readahead_stats {
    uint64_t faults;    /* readahead_on_fault calls on a valid gfn */
    uint64_t streams;   /* of which continued the previous range */
    uint64_t requested; /* pages in the ranges returned */
    uint64_t hits;      /* read-ahead pages used */
    uint64_t wasted;    /* read-ahead pages evicted unused */
    uint32_t window;    /* current window */
};

struct readahead {
    uint32_t window; /* pages to read ahead on the next fault, 1..max_window */
    uint32_t max_window;
    uint64_t hits_since; /* since the window last changed */
    uint64_t wasted_since;
    uint64_t next_up;   /* the fault that continues an ascending stream; READAHEAD_NONE */
    uint64_t next_down; /* the fault that continues a descending stream; READAHEAD_NONE */
    struct readahead_stats stats;
};

#define READAHEAD_NONE UINT64_MAX

/* max_window: 1..READAHEAD_MAX_WINDOW, anything else means READAHEAD_MAX_WINDOW. */
void readahead_init(struct readahead *ra, uint32_t max_window);

/* A fault on remote page gfn of a VM with `frames` frames: [*first, *first + *count) is the range
 * to fetch along with it, within [0, frames), at most the window long, never containing gfn.
 * *count is 0 (and nothing changes) when gfn >= frames. */
void readahead_on_fault(struct readahead *ra, uint64_t gfn, uint64_t frames, uint64_t *first,
                        uint64_t *count);

void readahead_hit(struct readahead *ra);
void readahead_wasted(struct readahead *ra, uint64_t n);
void readahead_get_stats(const struct readahead *ra, struct readahead_stats *st);
