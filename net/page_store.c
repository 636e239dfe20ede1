/* The page store's bookkeeping: see page_store.h for the contract. */
#include "net/page_store.h"

#include "kernel/string.h"
#include "net/peer_csum.h"

#define NO_OWNER 0xffffu

/* splitmix64's finalizer: every key bit reaches every index bit, so the dense gfn ranges one VM
 * evicts do not cluster in the linear-probing table. */
static uint64_t default_hash(uint64_t owner, uint32_t vm, uint64_t gfn)
{
    uint64_t x = gfn ^ (owner * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)vm << 32 | vm);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint32_t home_of(const struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn)
{
    uint64_t h = s->ops->hash ? s->ops->hash(owner, vm, gfn) : default_hash(owner, vm, gfn);
    return (uint32_t)h & s->mask;
}

static uint32_t entry_home(const struct page_store *s, const struct page_store_entry *e)
{
    return home_of(s, s->owners[e->owner_idx].id, e->vm, e->gfn);
}

/* RFC 1982 serial order: true when a is b or comes after it, so 16-bit page-record versions
 * widened by the sender and long-lived 32-bit ones may both wrap. */
static int version_not_older(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}

static uint32_t owner_find(const struct page_store *s, uint64_t owner)
{
    for (uint32_t i = 0; i < PAGE_STORE_MAX_OWNERS; i++) {
        if (s->owners[i].pages && s->owners[i].id == owner)
            return i;
    }
    return NO_OWNER;
}

/* The index of the key's entry, or of the empty slot that ends its probe sequence. The table is
 * at most half full, so the probe ends. */
static uint32_t probe(const struct page_store *s, uint32_t oi, uint32_t vm, uint64_t gfn)
{
    uint32_t i = home_of(s, s->owners[oi].id, vm, gfn);
    for (;;) {
        const struct page_store_entry *e = &s->table[i];
        if (!e->page || (e->owner_idx == oi && e->vm == vm && e->gfn == gfn))
            return i;
        i = (i + 1) & s->mask;
    }
}

/* The entry for the key, or NULL. */
static struct page_store_entry *lookup(const struct page_store *s, uint64_t owner, uint32_t vm,
                                       uint64_t gfn)
{
    if (!s->table)
        return NULL;
    uint32_t oi = owner_find(s, owner);
    if (oi == NO_OWNER)
        return NULL;
    struct page_store_entry *e = &s->table[probe(s, oi, vm, gfn)];
    return e->page ? e : NULL;
}

/* Empties slot i and shifts later entries of its cluster back so that every entry stays
 * reachable from its home without tombstones (Knuth's Algorithm R for linear probing). */
static void remove_at(struct page_store *s, uint32_t i)
{
    struct page_store_entry *e = &s->table[i];
    s->ops->free_page(s->ctx, e->page);
    s->owners[e->owner_idx].pages--;
    s->used--;
    uint32_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (!s->table[j].page)
            break;
        uint32_t k = entry_home(s, &s->table[j]);
        /* j stays when its home lies cyclically in (hole, j]: moving it would put it before
         * its home. */
        int stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
        if (stays)
            continue;
        s->table[hole] = s->table[j];
        hole = j;
    }
    memset(&s->table[hole], 0, sizeof s->table[hole]);
}

static void reset(struct page_store *s)
{
    s->table = NULL;
    s->mask = 0;
    s->capacity = 0;
    s->used = 0;
    memset(s->owners, 0, sizeof s->owners);
}

civic_err page_store_init(struct page_store *s, uint32_t capacity_pages,
                          const struct page_store_ops *ops, void *ctx)
{
    s->ops = ops;
    s->ctx = ctx;
    reset(s);
    if (capacity_pages > PAGE_STORE_MAX_PAGES)
        return trace_error(CIVIC_ERANGE);
    if (capacity_pages == 0)
        return CIVIC_OK;
    uint32_t size = 2;
    while (size < 2 * capacity_pages)
        size <<= 1;
    size_t bytes = (size_t)size * sizeof(struct page_store_entry);
    struct page_store_entry *t = ops->alloc_index(ctx, bytes);
    if (!t)
        return trace_error(CIVIC_ENOMEM);
    memset(t, 0, bytes);
    s->table = t;
    s->mask = size - 1;
    s->capacity = capacity_pages;
    return CIVIC_OK;
}

void page_store_fini(struct page_store *s)
{
    if (s->table) {
        for (uint32_t i = 0; i <= s->mask; i++) {
            if (s->table[i].page)
                s->ops->free_page(s->ctx, s->table[i].page);
        }
        s->ops->free_index(s->ctx, s->table);
    }
    reset(s);
}

civic_err page_store_put(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                         uint32_t version, const void *page4k, uint32_t crc_from_sender)
{
    /* Checked before anything else: a page damaged in flight must not replace a good copy. */
    if (peer_csum(page4k, PAGE_STORE_PAGE_SIZE) != crc_from_sender)
        return trace_error(CIVIC_ECORRUPT);
    if (!s->table)
        return trace_error(CIVIC_ENOMEM);

    uint32_t oi = owner_find(s, owner);
    if (oi != NO_OWNER) {
        struct page_store_entry *e = &s->table[probe(s, oi, vm, gfn)];
        if (e->page) {
            if (!version_not_older(version, e->version))
                return trace_error(CIVIC_ERANGE);
            memcpy(e->page, page4k, PAGE_STORE_PAGE_SIZE);
            e->version = version;
            e->crc = crc_from_sender;
            return CIVIC_OK;
        }
    }
    if (s->used >= s->capacity)
        return trace_error(CIVIC_ENOMEM);
    if (oi == NO_OWNER) {
        for (oi = 0; oi < PAGE_STORE_MAX_OWNERS && s->owners[oi].pages; oi++)
            ;
        if (oi == PAGE_STORE_MAX_OWNERS)
            return trace_error(CIVIC_ENOMEM);
        /* A free owner slot has no entries, so taking it over cannot alias anyone's keys. */
        s->owners[oi].id = owner;
    }
    void *page = s->ops->alloc_page(s->ctx);
    if (!page)
        return trace_error(CIVIC_ENOMEM);
    memcpy(page, page4k, PAGE_STORE_PAGE_SIZE);
    struct page_store_entry *e = &s->table[probe(s, oi, vm, gfn)];
    e->gfn = gfn;
    e->page = page;
    e->vm = vm;
    e->version = version;
    e->crc = crc_from_sender;
    e->owner_idx = (uint16_t)oi;
    s->owners[oi].pages++;
    s->used++;
    return CIVIC_OK;
}

civic_err page_store_get(const struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                         uint32_t version, void *out4k, uint32_t *crc)
{
    const struct page_store_entry *e = lookup(s, owner, vm, gfn);
    if (!e || e->version != version)
        return trace_error(CIVIC_ENOENT);
    /* Verify what is handed out, not the slot before copying it. */
    memcpy(out4k, e->page, PAGE_STORE_PAGE_SIZE);
    *crc = e->crc;
    if (peer_csum(out4k, PAGE_STORE_PAGE_SIZE) != e->crc)
        return trace_error(CIVIC_ECORRUPT);
    return CIVIC_OK;
}

civic_err page_store_free(struct page_store *s, uint64_t owner, uint32_t vm, uint64_t gfn,
                          uint32_t version)
{
    struct page_store_entry *e = lookup(s, owner, vm, gfn);
    if (!e || e->version != version)
        return trace_error(CIVIC_ENOENT);
    remove_at(s, (uint32_t)(e - s->table));
    return CIVIC_OK;
}

/* Frees the owner's entries, all or those of one VM. A removal can shift a later entry into
 * slot i, so i is examined again; entries only ever move back into the hole, which starts at i,
 * so none is skipped. Stops once the owner has no pages left. */
static uint32_t free_matching(struct page_store *s, uint64_t owner, int one_vm, uint32_t vm)
{
    uint32_t oi = owner_find(s, owner);
    if (oi == NO_OWNER)
        return 0;
    uint32_t freed = 0;
    for (uint32_t i = 0; i <= s->mask && s->owners[oi].pages;) {
        const struct page_store_entry *e = &s->table[i];
        if (e->page && e->owner_idx == oi && (!one_vm || e->vm == vm)) {
            remove_at(s, i);
            freed++;
        } else {
            i++;
        }
    }
    return freed;
}

uint32_t page_store_free_owner(struct page_store *s, uint64_t owner)
{
    return free_matching(s, owner, 0, 0);
}

uint32_t page_store_free_vm(struct page_store *s, uint64_t owner, uint32_t vm)
{
    return free_matching(s, owner, 1, vm);
}

uint32_t page_store_owner_pages(const struct page_store *s, uint64_t owner)
{
    uint32_t oi = owner_find(s, owner);
    return oi == NO_OWNER ? 0 : s->owners[oi].pages;
}

void page_store_owners(const struct page_store *s, page_store_owner_fn fn, void *ctx)
{
    for (uint32_t i = 0; i < PAGE_STORE_MAX_OWNERS; i++) {
        if (s->owners[i].pages)
            fn(ctx, s->owners[i].id, s->owners[i].pages);
    }
}

civic_err page_store_check(const struct page_store *s)
{
    uint32_t per_owner[PAGE_STORE_MAX_OWNERS] = {0};
    uint32_t used = 0;
    if (!s->table)
        return s->used || s->capacity ? CIVIC_ECORRUPT : CIVIC_OK;
    for (uint32_t i = 0; i <= s->mask; i++) {
        const struct page_store_entry *e = &s->table[i];
        if (!e->page)
            continue;
        if (e->owner_idx >= PAGE_STORE_MAX_OWNERS || !s->owners[e->owner_idx].pages)
            return trace_error(CIVIC_ECORRUPT);
        /* The probe from the home must stop here: this proves reachability (no empty slot in
         * between) and uniqueness (an earlier duplicate would stop it first). */
        if (probe(s, e->owner_idx, e->vm, e->gfn) != i)
            return trace_error(CIVIC_ECORRUPT);
        per_owner[e->owner_idx]++;
        used++;
    }
    if (used != s->used || used > s->capacity || 2 * (uint64_t)s->capacity > s->mask + 1ull)
        return trace_error(CIVIC_ECORRUPT);
    for (uint32_t i = 0; i < PAGE_STORE_MAX_OWNERS; i++) {
        if (per_owner[i] != s->owners[i].pages)
            return trace_error(CIVIC_ECORRUPT);
        for (uint32_t j = i + 1; j < PAGE_STORE_MAX_OWNERS; j++) {
            if (s->owners[i].pages && s->owners[j].pages && s->owners[i].id == s->owners[j].id)
                return trace_error(CIVIC_ECORRUPT);
        }
    }
    return CIVIC_OK;
}
