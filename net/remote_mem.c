/*
 * Remote memory (net/remote_mem.h): the holder table, eviction and its acknowledgements, and the
 * VM lifecycle hooks. The fault side is net/remote_fault.c.
 */
#include "net/remote_mem.h"

#include <stdarg.h>

#include "kernel/arch.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "kernel/types.h"
#include "kernel/unit.h"
#include "kernel/vm_registry.h"
#include "mm/guest_frames.h"
#include "mm/guest_mem.h"
#include "mm/pmm.h"
#include "net/net_config.h"
#include "net/peer_csum.h"
#include "net/remote_mem_int.h"

/* Victims asked of the CLOCK hand at a time, and frames it may pass doing so. */
#define RM_BATCH 16u
#define RM_SCAN 512u
/* Host frames below which eviction starts for every VM, whatever its limit (on top of the
 * frames kept back from guests, mm/guest_frames.h): 8 MiB. */
#define RM_HOST_LOW_FRAMES (GUEST_FRAMES_RESERVE + 2048u)

struct holder_table rm_holders;
static struct rm_pending pending[RM_INFLIGHT_MAX];
static uint32_t inflight;
static uint64_t stale_acks;

/* ---- helpers shared with remote_fault.c ---- */

struct peer *rm_holder_peer(uint8_t h)
{
    if (!holder_is_up(&rm_holders, h))
        return NULL;
    return peer_by_serial(rm_holders.h[h].serial);
}

struct vm *rm_vm_by_id(uint32_t id)
{
    for (size_t i = 0; vm_at(i); i++) {
        struct vm *vm = vm_at(i);
        if (vm->mem && vm->id == id)
            return vm;
    }
    return NULL;
}

static void send_page_ref(uint8_t h, uint16_t type, uint32_t vm_id, uint64_t gfn,
                          uint32_t version)
{
    struct peer *p = rm_holder_peer(h);
    if (!p)
        return; /* its pages stay in its store until it sees us again (docs/architecture.md) */
    struct peer_msg m = {.type = type};
    m.page.vm = vm_id;
    m.page.gfn = gfn;
    m.page.version = version;
    if (peer_send_msg(p, &m) != CIVIC_OK)
        log_warn("remote: could not send %s to holder %u; its copy stays there",
                 peer_type_name(type), h);
}

void rm_send_free(uint8_t h, uint32_t vm_id, uint64_t gfn, uint32_t version)
{
    send_page_ref(h, PEER_T_PAGE_FREE, vm_id, gfn, version);
}

void rm_pause_vm(struct vm *vm, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(vm->stop_reason, sizeof vm->stop_reason, fmt, ap);
    va_end(ap);
    log_err("vm %s: paused: %s", vm->name, vm->stop_reason);
    char err[80];
    if (vm->state == VM_RUNNING)
        vm_pause(vm, err, sizeof err);
}

/* A frame wait is over when the page can be had now: it is local, or it is untouched and the VM
 * is below its limit. A remote wait is over when the page is local; a page that went back to
 * REMOTE (an aborted fetch) is re-faulted, which asks again or pauses the VM. */
static bool wait_over(struct vm *vm, const struct vcpu *v)
{
    const struct page_record *r = guest_mem_record(vm->mem, v->wait_gfn);
    if (!r)
        return true;
    switch (r->state) {
    case PAGE_LOCAL: return true;
    case PAGE_REMOTE: return true;
    case PAGE_ZERO: return guest_mem_frames_held(vm->mem) < guest_mem_limit(vm->mem);
    default: return false;
    }
}

void rm_wake(struct vm *vm)
{
    if (!vm->mem)
        return;
    uint64_t now = arch_time_ns();
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->state != VCPU_WAIT_PAGE || !wait_over(vm, v))
            continue;
        const struct page_record *r = guest_mem_record(vm->mem, v->wait_gfn);
        if (v->wait_remote && r && r->state == PAGE_LOCAL)
            lat_stats_add(&vm->paging.fault_lat, now - v->wait_since_ns);
        v->state = VCPU_RUNNABLE;
    }
}

/* ---- the VM lifecycle ---- */

static uint32_t next_vm_id = 1;

civic_err remote_mem_vm_init(struct vm *vm, uint64_t local_bytes, unsigned replicas, char *err,
                             size_t n)
{
    uint64_t pages = vm->mem_bytes / PAGE_SIZE;
    if (replicas == 0)
        replicas = 1;
    if (replicas > VM_REPLICAS_MAX) {
        ksnprintf(err, n, "replicas must be 1 or 2, not %u", replicas);
        return trace_error(CIVIC_ERANGE);
    }
    if (local_bytes % PAGE_SIZE || (local_bytes && local_bytes < 64 * PAGE_SIZE)) {
        ksnprintf(err, n, "bad local size %llu bytes (at least 256 KiB, a multiple of 4 KiB)",
                  (unsigned long long)local_bytes);
        return trace_error(CIVIC_ERANGE);
    }
    memset(&vm->paging, 0, sizeof vm->paging); /* the caller sets readahead_off after this */
    vm->paging.limit_pages = local_bytes && local_bytes / PAGE_SIZE < pages
                                 ? local_bytes / PAGE_SIZE
                                 : pages;
    vm->paging.replicas = replicas;
    lat_stats_init(&vm->paging.fault_lat);
    return CIVIC_OK;
}

/* After guest memory is (re)built: a new id, a new hand and window over the new records. */
static void vm_built(struct vm *vm)
{
    vm->id = next_vm_id++;
    if (next_vm_id == PEER_VM_ALL)
        next_vm_id = 1;
    evict_clock_init(&vm->paging.clock, vm->mem_bytes / PAGE_SIZE);
    readahead_init(&vm->paging.ra, READAHEAD_MAX_WINDOW);
    vm->paging.seen_prefetch_used = vm->paging.seen_prefetch_wasted = 0;
    vm->paging.over_limit = false;
    guest_mem_set_limit(vm->mem, vm->paging.limit_pages);
}

void remote_mem_vm_gone(struct vm *vm)
{
    if (!vm->mem)
        return;
    for (uint32_t i = 0; i < RM_INFLIGHT_MAX; i++) {
        if (pending[i].used && pending[i].vm_id == vm->id) {
            pending[i].used = false; /* a late acknowledgement finds no VM and frees the copy */
            inflight--;
        }
    }
    for (uint8_t h = 1; h <= HOLDERS_MAX; h++)
        if (guest_mem_pages_on_holder(vm->mem, h))
            send_page_ref(h, PEER_T_PAGE_FREE_VM, vm->id, 0, 0);
}

civic_err remote_mem_set_limit(struct vm *vm, uint64_t local_bytes, char *err, size_t n)
{
    uint64_t pages = vm->mem_bytes / PAGE_SIZE;
    if (local_bytes % PAGE_SIZE || local_bytes < 64 * PAGE_SIZE) {
        ksnprintf(err, n, "bad local size %llu bytes (at least 256 KiB, a multiple of 4 KiB)",
                  (unsigned long long)local_bytes);
        return trace_error(CIVIC_ERANGE);
    }
    vm->paging.limit_pages = local_bytes / PAGE_SIZE < pages ? local_bytes / PAGE_SIZE : pages;
    vm->paging.over_limit = false;
    if (vm->mem) {
        guest_mem_set_limit(vm->mem, vm->paging.limit_pages);
        rm_wake(vm); /* a larger limit ends frame waits */
    }
    return CIVIC_OK;
}

/* ---- eviction ---- */

static bool can_take_put(void *ctx, uint8_t h)
{
    (void)ctx;
    struct peer *p = rm_holder_peer(h);
    return p && peer_send_queued(p) <= RM_QUEUED_MAX && peer_send_space(p) >= 2 * RM_PUT_BYTES;
}

static struct rm_pending *pending_slot(void)
{
    for (uint32_t i = 0; i < RM_INFLIGHT_MAX; i++)
        if (!pending[i].used)
            return &pending[i];
    return NULL;
}

static civic_err send_put(uint8_t h, uint32_t vm_id, uint64_t gfn, uint32_t version,
                          const void *data, uint32_t crc)
{
    struct peer *p = rm_holder_peer(h);
    if (!p)
        return trace_error(CIVIC_ENOENT);
    struct peer_msg m = {.type = PEER_T_PAGE_PUT};
    m.page.vm = vm_id;
    m.page.version = version;
    m.page.gfn = gfn;
    m.page.crc = crc;
    m.page.data = data;
    civic_err e = peer_send_msg(p, &m);
    if (e == CIVIC_OK)
        rm_holders.h[h].puts++;
    return e;
}

/* Frames freed by one VM's eviction may end any VM's wait for a frame (host memory is shared). */
static void frames_freed(void)
{
    for (size_t i = 0; vm_at(i); i++)
        rm_wake(vm_at(i));
}

/* One victim: drop it (zero), unmap it (clean) or send it. False when it could not be sent
 * (no holder took it): the page stays local. */
static bool evict_one(struct vm *vm, uint64_t gfn, uint64_t now)
{
    struct vm_paging *pg = &vm->paging;
    uint8_t h0 = holders_pick(&rm_holders, now, 0, can_take_put, NULL);
    if (!h0)
        return false;
    uint8_t h1 = 0;
    if (pg->replicas > 1) {
        h1 = holders_pick(&rm_holders, now, h0, can_take_put, NULL);
        /* A second holder that is only busy is waited for; a single copy only when no second
         * holder takes pages at all. */
        if (!h1 && holders_pick(&rm_holders, now, h0, NULL, NULL))
            return false;
        if (!h1 && !pg->single_copy_warned) {
            pg->single_copy_warned = true;
            log_warn("vm %s: replicas=%u but only one peer takes pages: evicting single copies",
                     vm->name, pg->replicas);
        }
    }
    struct rm_pending *slot = pending_slot();
    if (!slot)
        return false;
    /* The checksum that travels with the copy and stays in the record: the page must match it
     * when it comes back, whatever a holder says. */
    const void *page = guest_mem_local_contents(vm->mem, gfn);
    if (!page)
        return true; /* no longer local (a concurrent change): skip it */
    uint32_t crc = peer_csum(page, PEER_PAGE_SIZE);
    enum guest_evict_outcome out;
    const void *contents = NULL;
    uint8_t freed[2] = {0, 0};
    civic_err e = guest_mem_evict(vm->mem, gfn, h0, h1, crc, &out, &contents, freed);
    if (e != CIVIC_OK)
        return e == CIVIC_EBUSY; /* pinned or changed: skip it, keep going */
    const struct page_record *r = guest_mem_record(vm->mem, gfn);
    if (out != GUEST_EVICT_SEND) {
        for (int i = 0; i < 2; i++)
            if (freed[i])
                rm_send_free(freed[i], vm->id, gfn, r->version);
        frames_freed();
        return true;
    }
    /* The previous copy, on holders not chosen again, is a version behind: free it there. */
    for (int i = 0; i < 2; i++)
        if (freed[i])
            rm_send_free(freed[i], vm->id, gfn, r->version - 1);
    *slot = (struct rm_pending){.used = true, .vm_id = vm->id, .version = r->version,
                                .gfn = gfn, .crc = crc, .holder = {h0, h1}};
    if (send_put(h0, vm->id, gfn, r->version, contents, crc) != CIVIC_OK)
        slot->answered |= 1;
    if (h1 && send_put(h1, vm->id, gfn, r->version, contents, crc) != CIVIC_OK)
        slot->answered |= 2;
    if (!h1)
        slot->answered |= 2;
    if (slot->answered == 3) { /* neither went out: the page stays */
        slot->used = false;
        guest_mem_evict_abort(vm->mem, gfn);
        return false;
    }
    inflight++;
    return true;
}

/* Frames the VM should give back now: enough that its local and incoming pages leave some
 * headroom below its limit (so a fault rarely waits for a frame), more while the host runs low.
 * Pages already on their way out do not count: they leave once acknowledged. */
static uint64_t excess(struct vm *vm, bool host_low)
{
    struct guest_mem_stats st;
    guest_mem_get_stats(vm->mem, &st);
    uint64_t limit = vm->paging.limit_pages;
    uint64_t held = st.local_pages + st.fetching_pages;
    uint64_t want = 0;
    if (limit < st.ram_pages) {
        uint64_t headroom = limit / 16 < 4 ? 4 : (limit / 16 > 64 ? 64 : limit / 16);
        if (held + headroom > limit)
            want = held + headroom - limit;
    }
    if (host_low && st.local_pages > want + RM_BATCH)
        want += RM_BATCH;
    return want;
}

static bool evict_vm(struct vm *vm, bool host_low, uint64_t now)
{
    uint64_t want = excess(vm, host_low);
    if (!want || inflight >= RM_INFLIGHT_MAX)
        return false;
    struct evict_victim victims[RM_BATCH];
    bool need_invalidate = false;
    size_t n = evict_clock_select(&vm->paging.clock, guest_mem_clock_ops(), vm->mem, victims,
                                  want < RM_BATCH ? (size_t)want : RM_BATCH, RM_SCAN,
                                  &need_invalidate);
    if (need_invalidate)
        guest_mem_invalidate(vm->mem);
    bool sent_any = false;
    for (size_t i = 0; i < n && inflight < RM_INFLIGHT_MAX; i++) {
        if (!evict_one(vm, victims[i].gfn, now))
            break;
        sent_any = true;
    }
    /* Nothing could go anywhere: the VM runs above its limit rather than stall (warned once);
     * eviction brings it down when a peer takes pages again. */
    if (n && !sent_any && !holders_pick(&rm_holders, now, 0, NULL, NULL) &&
        !vm->paging.over_limit) {
        vm->paging.over_limit = true;
        guest_mem_set_limit(vm->mem, vm->mem_bytes / PAGE_SIZE);
        rm_wake(vm);
        if (!vm->paging.over_limit_warned)
            log_warn("vm %s: no peer takes pages now; running above its local limit of %llu "
                     "pages until one does", vm->name, (unsigned long long)vm->paging.limit_pages);
        vm->paging.over_limit_warned = true;
    }
    return sent_any || n;
}

/* Feeds the read-ahead window what guest memory saw of read-ahead pages since the last turn. */
static void feed_readahead(struct vm *vm)
{
    struct guest_mem_stats st;
    guest_mem_get_stats(vm->mem, &st);
    struct vm_paging *pg = &vm->paging;
    for (; pg->seen_prefetch_used < st.prefetch_used; pg->seen_prefetch_used++)
        readahead_hit(&pg->ra);
    if (st.prefetch_wasted > pg->seen_prefetch_wasted)
        readahead_wasted(&pg->ra, st.prefetch_wasted - pg->seen_prefetch_wasted);
    pg->seen_prefetch_wasted = st.prefetch_wasted;
}

static bool rm_poll(void)
{
    bool busy = false;
    uint64_t now = arch_time_ns();
    struct frame_stats fs;
    pmm_get_stats(&fs);
    bool host_low = fs.free < RM_HOST_LOW_FRAMES;
    for (size_t i = 0; vm_at(i); i++) {
        struct vm *vm = vm_at(i);
        if (!vm->mem)
            continue;
        if (vm->paging.over_limit && holders_pick(&rm_holders, now, 0, NULL, NULL)) {
            vm->paging.over_limit = false; /* a peer takes pages again: back to the limit */
            log_debug("vm %s: a peer may take pages again; back to its local limit", vm->name);
        }
        if (!vm->paging.over_limit && vm->paging.limit_pages != guest_mem_limit(vm->mem))
            guest_mem_set_limit(vm->mem, vm->paging.limit_pages);
        feed_readahead(vm);
        if (evict_vm(vm, host_low, now))
            busy = true;
        if (vm->state == VM_RUNNING)
            rm_wake(vm); /* retries: aborted fetches, frames freed elsewhere, a resumed VM */
    }
    return busy;
}

/* ---- acknowledgements ---- */

static struct rm_pending *find_pending(uint32_t vm_id, uint64_t gfn, uint32_t version,
                                       uint8_t h, unsigned *bit)
{
    for (uint32_t i = 0; i < RM_INFLIGHT_MAX; i++) {
        struct rm_pending *q = &pending[i];
        if (!q->used || q->vm_id != vm_id || q->gfn != gfn || q->version != version)
            continue;
        for (unsigned b = 0; b < 2; b++) {
            if (q->holder[b] == h && !(q->answered & (1u << b))) {
                *bit = 1u << b;
                return q;
            }
        }
    }
    return NULL;
}

/* Every holder of q answered: the page is now remote (some stored it) or local again. */
static void settle(struct rm_pending *q)
{
    struct vm *vm = rm_vm_by_id(q->vm_id);
    q->used = false;
    inflight--;
    const struct page_record *r = vm ? guest_mem_record(vm->mem, q->gfn) : NULL;
    bool evicting = r && r->state == PAGE_EVICTING && r->version == q->version;
    if (!evicting) { /* cancelled by a touch, or the VM is gone: the copies are not needed */
        for (unsigned b = 0; b < 2; b++)
            if (q->acked & (1u << b))
                rm_send_free(q->holder[b], q->vm_id, q->gfn, q->version);
        return;
    }
    if (q->acked) {
        guest_mem_evict_done(vm->mem, q->gfn, q->acked, q->crc);
        vm->paging.pages_out++;
        frames_freed();
    } else {
        guest_mem_evict_abort(vm->mem, q->gfn);
    }
}

/* Whether the page record of m's page relies on holder h's copy at m's version. */
static bool record_names(const struct peer_msg *m, uint8_t h)
{
    struct vm *vm = rm_vm_by_id(m->page.vm);
    const struct page_record *r = vm ? guest_mem_record(vm->mem, m->page.gfn) : NULL;
    if (!r || r->version != m->page.version || (r->holder[0] != h && r->holder[1] != h))
        return false;
    return r->state != PAGE_ZERO && (r->state != PAGE_LOCAL || (r->flags & PAGE_F_COPY));
}

static void on_put_ack(struct peer *p, const struct peer_msg *m)
{
    struct peer_info info;
    peer_get_info(p, &info);
    uint8_t h = holders_find(&rm_holders, info.id);
    unsigned bit = 0;
    struct rm_pending *q = h ? find_pending(m->page.vm, m->page.gfn, m->page.version, h, &bit)
                             : NULL;
    if (!q) {
        stale_acks++;
        /* A copy nobody waits for (its eviction was cancelled, its VM is gone) is freed; never
         * one the record still counts on, whatever a confused or hostile peer repeats. */
        if (h && m->page.status == PEER_PAGE_OK && !record_names(m, h))
            rm_send_free(h, m->page.vm, m->page.gfn, m->page.version);
        return;
    }
    q->answered |= (uint8_t)bit;
    if (m->page.status == PEER_PAGE_OK) {
        q->acked |= (uint8_t)bit;
        rm_holders.h[h].acks++;
    } else {
        rm_holders.h[h].refused++;
        struct vm *vm = rm_vm_by_id(q->vm_id);
        if (vm)
            vm->paging.put_refused++;
        if (m->page.status == PEER_PAGE_FULL)
            holders_full(&rm_holders, h, arch_time_ns());
        else
            log_warn("remote: holder %u refused page 0x%llx: %s", h,
                     (unsigned long long)m->page.gfn, peer_page_status_name(m->page.status));
    }
    if (q->answered == 3)
        settle(q);
}

static void on_client_msg(struct peer *p, const struct peer_msg *m)
{
    if (m->type == PEER_T_PAGE_PUT_ACK)
        on_put_ack(p, m);
    else
        rm_on_data(p, m);
}

/* ---- peers coming and going ---- */

static void on_peer_event(enum peer_event ev, const struct peer_info *info, bool lost)
{
    if (!(info->caps & PEER_CAP_PAGE))
        return;
    if (ev == PEER_EV_UP) {
        uint8_t h = holders_up(&rm_holders, info->id, info->ip, info->serial);
        if (!h) {
            log_warn("remote: more than %u holders; host 0x%llx not used", HOLDERS_MAX,
                     (unsigned long long)info->id);
            return;
        }
        uint64_t ours = 0;
        for (size_t i = 0; vm_at(i); i++)
            if (vm_at(i)->mem)
                ours += guest_mem_pages_on_holder(vm_at(i)->mem, h);
        /* Nothing of ours should be there: whatever is, an earlier boot of ours left. */
        if (!ours)
            send_page_ref(h, PEER_T_PAGE_FREE_VM, PEER_VM_ALL, 0, 0);
        return;
    }
    uint8_t h = holders_down(&rm_holders, info->id, info->serial, lost);
    if (!h)
        return;
    /* Copies on their way to it will not be acknowledged. */
    for (uint32_t i = 0; i < RM_INFLIGHT_MAX; i++) {
        struct rm_pending *q = &pending[i];
        for (unsigned b = 0; q->used && b < 2; b++) {
            if (q->holder[b] == h && !(q->answered & (1u << b))) {
                q->answered |= (uint8_t)(1u << b);
                if (q->answered == 3)
                    settle(q);
            }
        }
    }
    rm_fault_holder_down(h);
    uint64_t at_risk = 0;
    for (size_t i = 0; vm_at(i); i++)
        if (vm_at(i)->mem)
            at_risk += guest_mem_pages_on_holder(vm_at(i)->mem, h);
    if (at_risk) {
        char ip[NET_IPV4_STR_MAX];
        net_format_ipv4(info->ip, ip);
        log_warn("remote: holder %u (%s, id 0x%llx) %s while holding %llu pages of this host", h,
                 ip, (unsigned long long)info->id, lost ? "lost" : "disconnected",
                 (unsigned long long)at_risk);
    }
}

/* ---- statistics ---- */

void remote_mem_get_host_stats(struct remote_mem_host_stats *st)
{
    memset(st, 0, sizeof *st);
    for (uint8_t h = 1; h <= HOLDERS_MAX; h++)
        if (holder_is_up(&rm_holders, h))
            st->holders_up++;
    for (size_t i = 0; vm_at(i); i++) {
        struct vm *vm = vm_at(i);
        if (!vm->mem)
            continue;
        struct guest_mem_stats gs;
        guest_mem_get_stats(vm->mem, &gs);
        st->borrowed_pages += gs.remote_pages + gs.fetching_pages;
    }
    st->inflight_puts = inflight;
    st->stale_acks = stale_acks;
}

/* ---- the unit ---- */

static civic_err rm_init(void)
{
    holders_init(&rm_holders);
    civic_err e = peer_register_service(PEER_T_PAGE_PUT_ACK, PEER_T_PAGE_PUT_ACK, on_client_msg);
    if (e == CIVIC_OK)
        e = peer_register_service(PEER_T_PAGE_DATA, PEER_T_PAGE_DATA, on_client_msg);
    if (e == CIVIC_OK)
        e = peer_register_watcher(on_peer_event);
    return e;
}

CIVIC_UNIT(remote_mem, rm_init, rm_poll);

/* Called by vm_registry after guest memory is built (creation and every reset). */
void remote_mem_vm_built(struct vm *vm)
{
    vm_built(vm);
}
