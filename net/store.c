/* The page store service: see store.h for the contract. Runs in the monitor loop only. */
#include "net/store.h"

#include "kernel/log.h"
#include "kernel/string.h"
#include "net/peer.h"

#define POLL_BUDGET 32  /* replies sent per poll */
#define POLL_BLOCKED 16 /* connections found without room in one poll, remembered */

/* A reply waiting for room: a PUT_ACK with its status, or a GET answered when it is sent. */
struct deferred {
    uint64_t gfn;
    uint64_t owner;
    uint32_t serial;
    uint32_t vm;
    uint32_t version;
    uint16_t type; /* PEER_T_PAGE_PUT_ACK or PEER_T_PAGE_GET */
    uint16_t status;
};

static struct page_store store;
static struct store_stats stats;
static struct deferred defer[STORE_DEFER_MAX]; /* oldest first */
static uint32_t ndefer;
static uint8_t page_buf[PEER_PAGE_SIZE] __attribute__((aligned(16)));

static uint32_t serial_of(const struct peer *p)
{
    struct peer_info pi;
    peer_get_info(p, &pi);
    return pi.serial;
}

static size_t msg_len(uint16_t type)
{
    return PEER_HDR_LEN + (size_t)peer_payload_len(type);
}

static bool pending_for(uint32_t serial)
{
    for (uint32_t i = 0; i < ndefer; i++) {
        if (defer[i].serial == serial)
            return true;
    }
    return false;
}

static bool defer_push(const struct deferred *d)
{
    if (ndefer == STORE_DEFER_MAX)
        return false;
    defer[ndefer++] = *d;
    stats.replies_deferred++;
    return true;
}

static uint16_t put_status(civic_err e)
{
    switch (e) {
    case CIVIC_OK: return PEER_PAGE_OK;
    case CIVIC_ECORRUPT: stats.put_refused_corrupt++; return PEER_PAGE_CORRUPT;
    case CIVIC_ERANGE: stats.put_refused_stale++; return PEER_PAGE_STALE;
    default: stats.put_refused_full++; return PEER_PAGE_FULL; /* CIVIC_ENOMEM */
    }
}

/* Sends d's reply: CIVIC_EBUSY (nothing sent, nothing counted) when it does not fit now. */
static civic_err serve(struct peer *p, const struct deferred *d)
{
    struct peer_msg m = {.type = d->type == PEER_T_PAGE_GET ? PEER_T_PAGE_DATA : d->type};
    m.page.vm = d->vm;
    m.page.version = d->version;
    m.page.gfn = d->gfn;
    m.page.status = d->status;
    if (peer_send_space(p) < msg_len(m.type))
        return CIVIC_EBUSY; /* before the GET's copy and CRC, which would be wasted */
    if (d->type == PEER_T_PAGE_GET) {
        uint32_t crc = 0;
        civic_err e = page_store_get(&store, d->owner, d->vm, d->gfn, d->version, page_buf, &crc);
        m.page.status = e == CIVIC_OK         ? PEER_PAGE_OK
                        : e == CIVIC_ECORRUPT ? PEER_PAGE_CORRUPT
                                              : PEER_PAGE_ABSENT;
        m.page.crc = e == CIVIC_OK ? crc : 0;
        m.page.data = e == CIVIC_OK ? page_buf : NULL;
        if (e == CIVIC_ECORRUPT)
            log_err("store: page of 0x%llx vm %u gfn %#llx version %u no longer matches its "
                    "CRC; answered CORRUPT",
                    (unsigned long long)d->owner, d->vm, (unsigned long long)d->gfn, d->version);
    }
    civic_err e = peer_send_msg(p, &m);
    if (e == CIVIC_EBUSY)
        return e;
    if (e != CIVIC_OK) {
        log_warn("store: cannot send %s to 0x%llx: %s", peer_type_name(m.type),
                 (unsigned long long)d->owner, civic_strerror(e));
        return e;
    }
    if (m.type == PEER_T_PAGE_DATA && m.page.status == PEER_PAGE_ABSENT)
        stats.get_absent++;
    if (m.type == PEER_T_PAGE_DATA && m.page.status == PEER_PAGE_CORRUPT)
        stats.get_corrupt++;
    return CIVIC_OK;
}

/* Logged at the 1st, 2nd, 4th, 8th... drop, so a burst cannot flood the console. */
static void dropped(const struct deferred *d, const char *why)
{
    uint64_t n = ++stats.requests_dropped;
    if ((n & (n - 1)) == 0)
        log_warn("store: %s of 0x%llx vm %u gfn %#llx dropped: %s (%llu dropped so far)",
                 d->type == PEER_T_PAGE_GET ? "PAGE_GET" : "PAGE_PUT", (unsigned long long)d->owner,
                 d->vm, (unsigned long long)d->gfn, why, (unsigned long long)n);
}

static void handle_put(struct peer *p, const struct peer_msg *m)
{
    stats.puts++;
    struct deferred d = {.gfn = m->page.gfn,
                         .owner = m->sender,
                         .serial = serial_of(p),
                         .vm = m->page.vm,
                         .version = m->page.version,
                         .type = PEER_T_PAGE_PUT_ACK};
    size_t len = msg_len(PEER_T_PAGE_PUT_ACK);
    bool now = !pending_for(d.serial) && peer_send_space(p) >= len;
    if (!now && ndefer == STORE_DEFER_MAX) {
        /* The answer can neither go now in order nor wait: do not store the page. A FULL may
         * overtake this connection's waiting answers (the owner matches answers by key). */
        d.status = PEER_PAGE_FULL;
        if (peer_send_space(p) >= len && serve(p, &d) == CIVIC_OK) {
            stats.put_refused_full++;
            return;
        }
        dropped(&d, "no room to answer it");
        return;
    }
    civic_err e = page_store_put(&store, m->sender, m->page.vm, m->page.gfn, m->page.version,
                                 m->page.data, m->page.crc);
    d.status = put_status(e);
    if (e == CIVIC_ECORRUPT)
        log_warn("store: PAGE_PUT of 0x%llx vm %u gfn %#llx: data does not match its CRC",
                 (unsigned long long)d.owner, d.vm, (unsigned long long)d.gfn);
    if (now && serve(p, &d) != CIVIC_EBUSY)
        return;
    if (!defer_push(&d))
        dropped(&d, "its answer could not wait"); /* stored; the owner retries or frees it */
}

static void handle_get(struct peer *p, const struct peer_msg *m)
{
    stats.gets++;
    struct deferred d = {.gfn = m->page.gfn,
                         .owner = m->sender,
                         .serial = serial_of(p),
                         .vm = m->page.vm,
                         .version = m->page.version,
                         .type = PEER_T_PAGE_GET};
    if (!pending_for(d.serial) && serve(p, &d) != CIVIC_EBUSY)
        return;
    if (!defer_push(&d))
        dropped(&d, "no room to answer it");
}

static void store_service(struct peer *p, const struct peer_msg *m)
{
    switch (m->type) {
    case PEER_T_PAGE_PUT: handle_put(p, m); break;
    case PEER_T_PAGE_GET: handle_get(p, m); break;
    case PEER_T_PAGE_FREE:
        if (page_store_free(&store, m->sender, m->page.vm, m->page.gfn, m->page.version) ==
            CIVIC_OK)
            stats.frees++;
        break;
    case PEER_T_PAGE_FREE_VM:
        stats.frees += m->page.vm == PEER_VM_ALL
                           ? page_store_free_owner(&store, m->sender)
                           : page_store_free_vm(&store, m->sender, m->page.vm);
        break;
    default: /* registered for these types only */ break;
    }
}

civic_err store_init(const struct page_store_ops *ops, void *ctx)
{
    page_store_init(&store, 0, ops, ctx); /* capacity 0 allocates nothing: cannot fail */
    memset(&stats, 0, sizeof stats);
    ndefer = 0;
    civic_err e = peer_register_service(PEER_T_PAGE_PUT, PEER_T_PAGE_PUT, store_service);
    if (e == CIVIC_OK)
        e = peer_register_service(PEER_T_PAGE_GET, PEER_T_PAGE_GET, store_service);
    if (e == CIVIC_OK)
        e = peer_register_service(PEER_T_PAGE_FREE, PEER_T_PAGE_FREE_VM, store_service);
    return e;
}

static bool blocked(const uint32_t *set, unsigned n, uint32_t serial)
{
    for (unsigned i = 0; i < n; i++) {
        if (set[i] == serial)
            return true;
    }
    return false;
}

bool store_poll(void)
{
    if (ndefer == 0)
        return false;
    /* A connection without room blocks its later answers (they go in order), not others'. */
    uint32_t busy[POLL_BLOCKED];
    unsigned nbusy = 0, done = 0;
    uint32_t w = 0;
    for (uint32_t r = 0; r < ndefer; r++) {
        struct deferred d = defer[r];
        bool keep = true;
        if (done < POLL_BUDGET && nbusy < POLL_BLOCKED && !blocked(busy, nbusy, d.serial)) {
            struct peer *p = peer_by_serial(d.serial);
            if (!p) {
                dropped(&d, "the connection is gone");
                keep = false;
                done++;
            } else if (serve(p, &d) == CIVIC_EBUSY) {
                busy[nbusy++] = d.serial;
            } else {
                keep = false;
                done++;
            }
        }
        if (keep)
            defer[w++] = d;
    }
    ndefer = w;
    return done > 0;
}

civic_err store_set_capacity(uint64_t bytes)
{
    if (bytes % PAGE_STORE_PAGE_SIZE)
        return trace_error(CIVIC_EINVAL);
    uint64_t pages = bytes / PAGE_STORE_PAGE_SIZE;
    if (pages > PAGE_STORE_MAX_PAGES)
        return trace_error(CIVIC_ERANGE);
    uint32_t old = page_store_capacity(&store);
    if (pages == old)
        return CIVIC_OK;
    if (page_store_used(&store))
        return trace_error(CIVIC_EBUSY);
    const struct page_store_ops *ops = store.ops;
    void *ctx = store.ctx;
    page_store_fini(&store);
    civic_err e = page_store_init(&store, (uint32_t)pages, ops, ctx);
    if (e != CIVIC_OK) {
        /* The old index was just freed, so its size is likely to be had again. */
        if (page_store_init(&store, old, ops, ctx) != CIVIC_OK)
            log_err("store: no memory for the index; the capacity is now 0");
        return e;
    }
    return CIVIC_OK;
}

static void count_owner(void *ctx, uint64_t owner, uint32_t pages)
{
    (*(uint64_t *)ctx)++;
}

void store_get_stats(struct store_stats *st)
{
    *st = stats;
    st->capacity_pages = page_store_capacity(&store);
    st->used_pages = page_store_used(&store);
    st->owners = 0;
    page_store_owners(&store, count_owner, &st->owners);
    st->deferred_now = ndefer;
}

uint32_t store_owner_pages(uint64_t owner)
{
    return page_store_owner_pages(&store, owner);
}

void store_for_each_owner(page_store_owner_fn fn, void *ctx)
{
    page_store_owners(&store, fn, ctx);
}

civic_err store_check(void)
{
    return page_store_check(&store);
}

uint32_t store_corrupt(uint32_t n)
{
    uint32_t done = 0;
    for (uint32_t i = 0; store.table && i <= store.mask && done < n; i++) {
        uint8_t *page = store.table[i].page;
        if (page) {
            page[done % PAGE_STORE_PAGE_SIZE] ^= 0xff; /* CRC-32C catches any one-byte change */
            done++;
        }
    }
    return done;
}
