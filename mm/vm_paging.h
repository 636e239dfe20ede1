/*
 * A VM's network-paging state, kept in struct vm (kernel/vm.h) and driven by remote memory
 * (net/remote_mem.c): its local limit, the CLOCK hand that picks cold frames, the read-ahead
 * window, and what `vm stats` reports. Plain data: the page records themselves are in guest
 * memory (mm/guest_mem.h).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "mm/evict_clock.h"
#include "mm/lat_stats.h"
#include "mm/readahead.h"

#define VM_REPLICAS_MAX 2u

struct vm_paging {
    uint64_t limit_pages; /* the operator's local limit; the VM's size when none was set */
    unsigned replicas;    /* copies of each evicted page, on distinct peers: 1 or 2 */
    bool readahead_off;   /* fetch only the faulting page (to measure what read-ahead saves) */
    bool over_limit;      /* no peer could take pages: running above the limit (warned once) */
    bool over_limit_warned;
    bool single_copy_warned;
    struct evict_clock clock;
    struct readahead ra;
    struct lat_stats fault_lat; /* remote fault to resume, civic's clock, ns */
    uint64_t remote_faults;     /* faults on a page held by a peer */
    uint64_t inflight_hits;     /* faults on a page already being fetched by read-ahead */
    uint64_t readahead_pages;   /* pages requested by read-ahead */
    uint64_t pages_out;         /* copies a holder acknowledged */
    uint64_t pages_in;          /* pages installed from a holder */
    uint64_t put_refused;       /* copies refused (store full, stale) */
    uint64_t evict_cancelled;   /* the guest touched a page while its copy was on the way */
    uint64_t frame_waits;       /* faults that waited for a frame (at the limit) */
    uint64_t checksum_errors;   /* pages that arrived damaged or were damaged in a store */
    uint64_t seen_prefetch_used, seen_prefetch_wasted; /* guest_mem counters already fed to ra */
};
