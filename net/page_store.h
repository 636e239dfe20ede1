/*
 * The page store: memory this host lends to its peers for their cold guest pages (issue 6).
 * Pure bookkeeping, no network: a fixed number of 4 KiB slots, allocated lazily through an
 * allocator interface (malloc in unit tests, host frames in the kernel), and an index from
 * (owner host id, VM id, guest frame) to the stored page, its version and its CRC-32C.
 *
 * The owner id is part of every key, so a peer can read back or free only pages it stored.
 * Contents are checksummed end to end: put refuses a page whose sender CRC does not match, get
 * re-verifies the stored copy. A full store refuses (CIVIC_ENOMEM) and never evicts: the sender
 * then tries another peer or keeps the page, so a page is never dropped.
 *
 * The index is open addressing with linear probing at load <= 1/2 and backward-shift deletion
 * (no tombstones, so a long-lived store never degrades): put, get and free are O(1) expected.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define PAGE_STORE_PAGE_SIZE 4096u
/* Owners are peer hosts; a handful at a time (PEER_MAX connections), with room for ones that
 * left pages behind and reconnected from elsewhere. */
#define PAGE_STORE_MAX_OWNERS 32u
/* 2^28 pages = 1 TiB: keeps index arithmetic in 32 bits with room to spare. */
#define PAGE_STORE_MAX_PAGES (1u << 28)

struct page_store_ops {
    /* One 4 KiB slot, 4 KiB aligned, or NULL when memory is short (put then refuses). */
    void *(*alloc_page)(void *ctx);
    void (*free_page)(void *ctx, void *page);
    /* The index: bytes of any contents (init clears them), or NULL. */
    void *(*alloc_index)(void *ctx, size_t bytes);
    void (*free_index)(void *ctx, void *index);
    /* Optional key hash; NULL (the kernel) selects the built-in one. Tests force collisions. */
    uint64_t (*hash)(uint64_t owner, uint32_t vm, uint64_t gfn);
};

/* One index slot: 32 bytes. Empty when page is NULL. */
struct page_store_entry {
    uint64_t gfn;
    void *page;
    uint32_t vm;
    uint32_t version;
    uint32_t crc;       /* CRC-32C of the page as the owner sent it */
    uint16_t owner_idx; /* into page_store.owners */
    uint16_t pad;
};

struct page_store_owner {
    uint64_t id;
    uint32_t pages; /* 0: this owner slot is free */
};

struct page_store {
    const struct page_store_ops *ops;
    void *ctx;
    struct page_store_entry *table;
    uint32_t mask;     /* table size - 1; the table is a power of two >= 2 * capacity */
    uint32_t capacity; /* slots lent, in pages */
    uint32_t used;
    struct page_store_owner owners[PAGE_STORE_MAX_OWNERS];
};

/*
 * Sets up an empty store of capacity_pages slots; allocates only the index (none for capacity
 * 0, a store that refuses everything). CIVIC_ERANGE above PAGE_STORE_MAX_PAGES, CIVIC_ENOMEM when
 * the index cannot be allocated (the store is then a valid capacity-0 store).
 */
civic_err page_store_init(struct page_store *s, uint32_t capacity_pages,
                          const struct page_store_ops *ops, void *ctx);

/* Frees every stored page and the index; the store is then an empty capacity-0 store. */
void page_store_fini(struct page_store *s);

/*
 * Stores page4k under (owner, vm, gfn) at version. Refuses, storing nothing:
 * CIVIC_ECORRUPT when crc_from_sender is not the CRC-32C of page4k; CIVIC_ERANGE when an older
 * version (RFC 1982 serial order, so versions may wrap) is already stored; CIVIC_ENOMEM when the
 * store is full, the allocator is out of memory, or PAGE_STORE_MAX_OWNERS other owners hold
 * pages ("full": the sender tries another peer or keeps the page). The same or a newer version of
 * a stored key replaces it in its own slot, so a replacement succeeds even in a full store.
 */
civic_err page_store_put(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                         uint32_t version, const void *page4k, uint32_t crc_from_sender);

/*
 * Copies the page stored under (owner, vm, gfn) at exactly this version into out4k and its CRC
 * into *crc. CIVIC_ENOENT when absent or stored at another version (out4k untouched);
 * CIVIC_ECORRUPT when the copy no longer matches its CRC (out4k then holds the bad copy, *crc the
 * CRC recorded at put; the entry stays until its owner frees it).
 */
civic_err page_store_get(const struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                         uint32_t version, void *out4k, uint32_t *crc);

/* Frees the page under (owner, vm, gfn) at exactly this version; CIVIC_ENOENT otherwise (a newer
 * copy stored since is kept). */
civic_err page_store_free(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                          uint32_t version);

/* Frees every page of one owner (a peer gone for good) or of one of its VMs; returns how many. */
uint32_t page_store_free_owner(struct page_store *s, uint64_t owner);
uint32_t page_store_free_vm(struct page_store *s, uint64_t owner, uint32_t vm);

static inline uint32_t page_store_capacity(const struct page_store *s)
{
    return s->capacity;
}

static inline uint32_t page_store_used(const struct page_store *s)
{
    return s->used;
}

/* Pages held for one owner (0 for an unknown one). */
uint32_t page_store_owner_pages(const struct page_store *s, uint64_t owner);

/* Calls fn once per owner holding pages, in owner-table order. */
typedef void (*page_store_owner_fn)(void *ctx, uint64_t owner, uint32_t pages);
void page_store_owners(const struct page_store *s, page_store_owner_fn fn, void *ctx);

/*
 * Checks every invariant (for tests and a debug shell command): each entry reachable from its
 * home slot without crossing an empty one, no key twice, used and per-owner counts equal to the
 * entries. CIVIC_OK or CIVIC_ECORRUPT. Scans the whole index.
 */
civic_err page_store_check(const struct page_store *s);
