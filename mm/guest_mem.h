/*
 * A VM's guest-physical memory: RAM of a given size at [0, size), one page record per guest
 * frame (mm/page_record.h), and the EPT that caches the records. Frames are allocated lazily on
 * first touch and zeroed; destroying the object returns every frame and table page.
 *
 * For network paging it keeps a local limit (frames held: LOCAL + EVICTING pages) and the
 * primitives remote memory drives: evict a page (to ZERO, REMOTE, or EVICTING while its copy is
 * sent), fetch one back, and forget a holder that is gone. The caller runs them between guest
 * runs: the VM's vCPUs do not execute while they work on its EPT.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch_slat.h"
#include "kernel/error.h"
#include "mm/page_record.h"

struct guest_mem;
struct evict_clock_ops;

/* Where guest frames come from (the PMM in the kernel, malloc in tests): zeroed 4 KiB frames. */
struct guest_frame_source {
    void *(*alloc)(void *ctx, uint64_t *phys); /* NULL when out of memory */
    void (*free)(void *ctx, uint64_t phys);
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    void *ctx;
};

struct guest_mem_stats {
    uint64_t ram_pages;   /* guest RAM size in pages */
    uint64_t local_pages; /* per state */
    uint64_t zero_pages;
    uint64_t remote_pages;
    uint64_t evicting_pages;
    uint64_t fetching_pages;
    uint64_t lost_pages;                          /* REMOTE or FETCHING with no holder left */
    uint64_t table_pages;                         /* EPT table pages */
    uint64_t faults;                              /* first-touch faults (ZERO -> LOCAL) */
    uint64_t evict_sent, evict_zero, evict_clean; /* guest_mem_evict outcomes */
    uint64_t fetched;                             /* fetch_done */
    uint64_t prefetch_used, prefetch_wasted;
    uint64_t limit_pages;
};

/* ram_bytes: a positive multiple of 4 KiB, at most GUEST_MEM_MAX. */
#define GUEST_MEM_MAX (64ull << 30)
civic_err guest_mem_create(struct guest_mem **out, uint64_t ram_bytes,
                           const struct guest_frame_source *src, const struct slat_caps *caps);
/* Frees LOCAL and EVICTING frames, the records and the EPT. Copies held by peers are freed by
 * remote memory (PAGE_FREE_VM to every holder). */
void guest_mem_destroy(struct guest_mem *gm);
uint64_t guest_mem_size(const struct guest_mem *gm);
uint64_t guest_mem_eptp(const struct guest_mem *gm);

void guest_mem_set_limit(struct guest_mem *gm, uint64_t pages); /* clamped to 1..npages */
uint64_t guest_mem_limit(const struct guest_mem *gm);           /* default: npages */
uint64_t guest_mem_frames_held(const struct guest_mem *gm);     /* LOCAL + EVICTING pages */

/*
 * An EPT violation at gpa. CIVIC_OK: mapped, resume the guest (a ZERO page populated; a LOCAL
 * page missing from EPT mapped again; a PREFETCHED page mapped, flag cleared,
 * stats.prefetch_used++). CIVIC_ERANGE: gpa is not RAM (the caller emulates a device or the
 * all-ones hole). CIVIC_ENOMEM: no host frame (or EPT table). CIVIC_EEXIST: already mapped (a
 * permissions violation). CIVIC_EAGAIN: the page is not here: REMOTE, EVICTING or FETCHING
 * (guest_mem_record says which), or ZERO while frames_held >= limit; remote memory handles these.
 */
civic_err guest_mem_fault(struct guest_mem *gm, uint64_t gpa, unsigned access);

/*
 * Loader and device access: copies into guest RAM, allocating frames as needed (the limit does
 * not apply: the caller evicts afterwards); reads return zeros for untouched pages without
 * allocating. A write to a LOCAL page with a copy elsewhere sets PAGE_F_DIRTY (it changes the
 * contents without an EPT D bit). CIVIC_ERANGE when [gpa, gpa+len) leaves RAM; CIVIC_EAGAIN at
 * a page that is not LOCAL or ZERO (the pages before it are done).
 */
civic_err guest_mem_write(struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);
civic_err guest_mem_read(struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);

enum guest_evict_outcome {
    GUEST_EVICT_ZERO,  /* all zero: now ZERO, frame freed; freed_holders name a stale copy */
    GUEST_EVICT_CLEAN, /* unchanged since its copy: now REMOTE, frame freed, nothing to send */
    GUEST_EVICT_SEND,  /* now EVICTING: send *contents (4 KiB, valid until done/abort) at the
                        * record's version to holder0 (and holder1) */
};
/*
 * Takes LOCAL page gfn out of the guest's reach: reads and clears its EPT A/D bits and unmaps it,
 * invalidates the EPT (before any frame is freed), and then decides as above. The page counts as
 * dirty if the D bit, PAGE_F_DIRTY or the absence of a COPY says so. An evicted PREFETCHED page
 * counts stats.prefetch_wasted.
 * freed_holders is always written on success, naming copies that are now stale (remote memory
 * frees them): ZERO: the holders of a copy, made at the record's version; SEND: the holders of the
 * previous copy, made at the version before this eviction's bump, that do not get the new one;
 * CLEAN: 0, 0.
 * holder0 == holder1 == 0 means "no holder available": only ZERO and CLEAN are possible, and a
 * page that must be sent is mapped again and CIVIC_ENOENT returned (a D bit read is kept in
 * PAGE_F_DIRTY). CIVIC_ERANGE: gfn is not RAM; CIVIC_EINVAL: not LOCAL or bad holders;
 * CIVIC_EBUSY: PINNED. On an error nothing else changes.
 * crc: the page's CRC-32C (guest_mem_local_contents), kept in the record by a CLEAN eviction so
 * the page is checked against it when it comes back.
 */
civic_err guest_mem_evict(struct guest_mem *gm, uint64_t gfn, uint8_t holder0, uint8_t holder1,
                          uint32_t crc, enum guest_evict_outcome *out, const void **contents,
                          uint8_t freed_holders[2]);
/* EVICTING -> REMOTE (page_evict_done's acked_mask; crc: the CRC-32C of the copy sent), frees
 * the frame. */
civic_err guest_mem_evict_done(struct guest_mem *gm, uint64_t gfn, unsigned acked_mask,
                               uint32_t crc);
/* A LOCAL page's contents (read only, valid while it stays LOCAL and the guest does not run),
 * or NULL: for the checksum of a page about to be evicted. */
const void *guest_mem_local_contents(const struct guest_mem *gm, uint64_t gfn);
/* EVICTING -> LOCAL, mapped again RWX (if EPT lacks a table page the next fault maps it). */
civic_err guest_mem_evict_abort(struct guest_mem *gm, uint64_t gfn);
/* REMOTE -> FETCHING; CIVIC_EIO if the page is lost. */
civic_err guest_mem_fetch_begin(struct guest_mem *gm, uint64_t gfn);
/* FETCHING -> LOCAL with page4k's contents in a new frame; mapped RWX unless prefetched. The
 * limit does not apply (the caller evicts to get back under it). CIVIC_ENOMEM: no frame or EPT
 * table (nothing changed, still FETCHING). */
civic_err guest_mem_fetch_done(struct guest_mem *gm, uint64_t gfn, const void *page4k,
                               bool prefetched);
civic_err guest_mem_fetch_abort(struct guest_mem *gm, uint64_t gfn); /* FETCHING -> REMOTE */
/* Holder h is gone: applies page_holder_lost to every record; EVICTING records left without a
 * holder are aborted (back to LOCAL, mapped). Returns the number of pages this call left lost
 * (REMOTE or FETCHING without a holder); stats.lost_pages has the total. */
uint64_t guest_mem_holder_lost(struct guest_mem *gm, uint8_t h);
/* Pages naming holder h (any state), for "pages at risk" messages and the `mem` command. */
uint64_t guest_mem_pages_on_holder(const struct guest_mem *gm, uint8_t h);
/* The CLOCK policy's view of this VM (mm/evict_clock.h); ctx = gm, frames = RAM pages. */
const struct evict_clock_ops *guest_mem_clock_ops(void);
void guest_mem_invalidate(struct guest_mem *gm); /* slat_invalidate */

/* The EPT behind the records, for device emulation that maps pages outside RAM briefly. */
struct slat *guest_mem_slat(struct guest_mem *gm);

void guest_mem_get_stats(const struct guest_mem *gm, struct guest_mem_stats *st);
const struct page_record *guest_mem_record(const struct guest_mem *gm, uint64_t gfn);
