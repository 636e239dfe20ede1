/*
 * Remote memory's fault side (net/remote_mem.h): a vCPU touching a page that is not here parks
 * while the page is requested (with read-ahead of its remote neighbours), and resumes once it is
 * installed; pages arrive checked against their CRC-32C.
 */
#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "kernel/types.h"
#include "kernel/vm_registry.h"
#include "mm/guest_mem.h"
#include "net/net_config.h"
#include "net/peer_csum.h"
#include "net/remote_mem.h"
#include "net/remote_mem_int.h"

static enum exit_action park(struct vcpu *v, uint64_t gfn, bool remote)
{
    v->state = VCPU_WAIT_PAGE;
    v->wait_gfn = gfn;
    v->wait_since_ns = arch_time_ns();
    v->wait_remote = remote;
    return EXIT_PARK;
}

/* The holder to ask for r: its primary, or its replica while the primary is down. */
static uint8_t holder_to_ask(const struct page_record *r)
{
    for (int i = 0; i < 2; i++)
        if (r->holder[i] && holder_is_up(&rm_holders, r->holder[i]))
            return r->holder[i];
    return 0;
}

static civic_err request(struct vm *vm, uint64_t gfn, uint8_t h)
{
    const struct page_record *r = guest_mem_record(vm->mem, gfn);
    struct peer *p = rm_holder_peer(h);
    if (!p)
        return trace_error(CIVIC_ENOENT);
    struct peer_msg m = {.type = PEER_T_PAGE_GET};
    m.page.vm = vm->id;
    m.page.version = r->version;
    m.page.gfn = gfn;
    civic_err e = peer_send_msg(p, &m);
    if (e == CIVIC_OK)
        rm_holders.h[h].gets++;
    return e;
}

/* REMOTE -> FETCHING and the request; on failure the page stays REMOTE. */
static civic_err fetch(struct vm *vm, uint64_t gfn)
{
    const struct page_record *r = guest_mem_record(vm->mem, gfn);
    uint8_t h = holder_to_ask(r);
    if (!h)
        return trace_error(CIVIC_ENOENT);
    civic_err e = guest_mem_fetch_begin(vm->mem, gfn);
    if (e != CIVIC_OK)
        return e;
    e = request(vm, gfn, h);
    if (e != CIVIC_OK)
        guest_mem_fetch_abort(vm->mem, gfn);
    return e;
}

/* Pages being fetched, host-wide. */
static uint64_t fetching_now(void)
{
    uint64_t n = 0;
    for (size_t i = 0; vm_at(i); i++) {
        if (vm_at(i)->mem) {
            struct guest_mem_stats st;
            guest_mem_get_stats(vm_at(i)->mem, &st);
            n += st.fetching_pages;
        }
    }
    return n;
}

static void read_ahead(struct vm *vm, uint64_t gfn)
{
    struct vm_paging *pg = &vm->paging;
    if (pg->readahead_off)
        return;
    uint64_t budget = fetching_now();
    budget = budget < RM_READAHEAD_INFLIGHT_MAX ? RM_READAHEAD_INFLIGHT_MAX - budget : 0;
    uint64_t first, count;
    readahead_on_fault(&pg->ra, gfn, vm->mem_bytes / PAGE_SIZE, &first, &count);
    for (uint64_t g = first; g < first + count; g++) {
        const struct page_record *r = guest_mem_record(vm->mem, g);
        if (!budget)
            return;
        if (!r || r->state != PAGE_REMOTE || !holder_to_ask(r))
            continue;
        budget--;
        if (fetch(vm, g) != CIVIC_OK)
            return; /* the connection's queue is full: enough for now */
        pg->readahead_pages++;
    }
}

static enum exit_action lost_page(struct vcpu *v, uint64_t gfn, const struct page_record *r)
{
    struct vm *vm = v->vm;
    uint8_t h = r->holder[0] ? r->holder[0] : r->holder[1];
    char ip[NET_IPV4_STR_MAX] = "?";
    uint64_t id = 0, at_risk = 0;
    if (h) {
        net_format_ipv4(rm_holders.h[h].ip, ip);
        id = rm_holders.h[h].host_id;
        at_risk = guest_mem_pages_on_holder(vm->mem, h);
    }
    rm_pause_vm(vm,
                "guest-physical 0x%llx is on peer %s (id 0x%llx), which is %s; %llu pages of "
                "this VM are held there and at risk (resume once it is back)",
                (unsigned long long)(gfn * PAGE_SIZE), ip, (unsigned long long)id,
                h && rm_holders.h[h].lost ? "lost" : "not connected", (unsigned long long)at_risk);
    return park(v, gfn, true);
}

enum exit_action remote_mem_fault(struct vcpu *v, uint64_t gpa, civic_err why)
{
    struct vm *vm = v->vm;
    uint64_t gfn = gpa / PAGE_SIZE;
    const struct page_record *r = guest_mem_record(vm->mem, gfn);
    if (!r)
        return vmm_stop(v, "fault at %#llx outside guest memory (a civic bug)",
                        (unsigned long long)gpa);
    switch (r->state) {
    case PAGE_ZERO:
    case PAGE_LOCAL: /* no frame: wait for eviction to free one (here or host-wide) */
        if (why == CIVIC_ENOMEM && !holders_pick(&rm_holders, arch_time_ns(), 0, NULL, NULL))
            return vmm_stop(v, "out of host memory at guest-physical %#llx (no peer to page to)",
                            (unsigned long long)gpa);
        vm->paging.frame_waits++;
        return park(v, gfn, false);
    case PAGE_EVICTING: /* touched on its way out: keep it (the copy is freed when acked) */
        if (guest_mem_evict_abort(vm->mem, gfn) != CIVIC_OK)
            return vmm_stop(v, "cannot cancel the eviction of %#llx", (unsigned long long)gpa);
        vm->paging.evict_cancelled++;
        return EXIT_RESUME;
    case PAGE_FETCHING:
        vm->paging.inflight_hits++;
        return park(v, gfn, true);
    case PAGE_REMOTE: break;
    default: return vmm_stop(v, "page record of %#llx is corrupt", (unsigned long long)gpa);
    }
    if (page_is_lost(r) || !holder_to_ask(r))
        return lost_page(v, gfn, r);
    vm->paging.remote_faults++;
    civic_err e = fetch(vm, gfn);
    if (e != CIVIC_OK && e != CIVIC_EBUSY)
        return vmm_stop(v, "cannot request guest-physical %#llx: %s", (unsigned long long)gpa,
                        civic_strerror(e));
    /* EBUSY: the queue is full; the wait retries (remote_mem.c's poll). */
    if (e == CIVIC_OK)
        read_ahead(vm, gfn);
    return park(v, gfn, true);
}

static bool someone_waits(const struct vm *vm, uint64_t gfn)
{
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        if (vm->vcpus[i].state == VCPU_WAIT_PAGE && vm->vcpus[i].wait_gfn == gfn)
            return true;
    return false;
}

/* A page that cannot be used as it came: ask the other holder, or pause the VM. */
static void bad_page(struct vm *vm, uint64_t gfn, uint8_t from, const char *what)
{
    const struct page_record *r = guest_mem_record(vm->mem, gfn);
    uint8_t other = r->holder[0] == from ? r->holder[1] : r->holder[0];
    char ip[NET_IPV4_STR_MAX];
    net_format_ipv4(rm_holders.h[from].ip, ip);
    if (other && holder_is_up(&rm_holders, other) && request(vm, gfn, other) == CIVIC_OK) {
        log_warn("vm %s: page 0x%llx from %s %s; asking its replica", vm->name,
                 (unsigned long long)gfn, ip, what);
        return;
    }
    guest_mem_fetch_abort(vm->mem, gfn);
    rm_pause_vm(vm, "page 0x%llx (guest-physical 0x%llx) from peer %s %s; no good copy left",
                (unsigned long long)gfn, (unsigned long long)(gfn * PAGE_SIZE), ip, what);
}

void rm_on_data(struct peer *p, const struct peer_msg *m)
{
    struct peer_info info;
    peer_get_info(p, &info);
    uint8_t h = holders_find(&rm_holders, info.id);
    struct vm *vm = rm_vm_by_id(m->page.vm);
    const struct page_record *r = vm ? guest_mem_record(vm->mem, m->page.gfn) : NULL;
    /* Only the answer to a request of ours counts: the page in flight at that version, from
     * one of its holders. Anything else is late (a VM gone) or hostile, and changes nothing. */
    if (!h || !r || r->state != PAGE_FETCHING || r->version != m->page.version ||
        (r->holder[0] != h && r->holder[1] != h)) {
        log_debug("remote: unexpected PAGE_DATA vm=%u gfn=0x%llx v=%u from holder %u; ignored",
                  m->page.vm, (unsigned long long)m->page.gfn, m->page.version, h);
        return;
    }
    rm_holders.h[h].data++;
    if (m->page.status != PEER_PAGE_OK) {
        rm_holders.h[h].bad++;
        if (m->page.status == PEER_PAGE_CORRUPT)
            vm->paging.checksum_errors++;
        bad_page(vm, m->page.gfn, h,
                 m->page.status == PEER_PAGE_CORRUPT ? "failed its checksum in the peer's store"
                                                     : "is not in the peer's store");
        return;
    }
    /* End to end: against the checksum this host computed when the page left (kept in the
     * record), not only the one the holder sends along. */
    uint32_t crc = peer_csum(m->page.data, PEER_PAGE_SIZE);
    if (crc != m->page.crc || crc != (uint32_t)r->where) {
        rm_holders.h[h].bad++;
        vm->paging.checksum_errors++;
        bad_page(vm, m->page.gfn, h, "arrived with a bad checksum");
        return;
    }
    bool wanted = someone_waits(vm, m->page.gfn);
    civic_err e = guest_mem_fetch_done(vm->mem, m->page.gfn, m->page.data, !wanted);
    if (e != CIVIC_OK) {
        /* No frame now: the page stays with its holder; a waiting vCPU faults it again. */
        guest_mem_fetch_abort(vm->mem, m->page.gfn);
    } else {
        vm->paging.pages_in++;
    }
    rm_wake(vm);
}

void rm_fault_holder_down(uint8_t h)
{
    for (size_t i = 0; vm_at(i); i++) {
        struct vm *vm = vm_at(i);
        if (!vm->mem)
            continue;
        uint64_t pages = vm->mem_bytes / PAGE_SIZE;
        for (uint64_t g = 0; g < pages; g++) {
            const struct page_record *r = guest_mem_record(vm->mem, g);
            if (r->state != PAGE_FETCHING || (r->holder[0] != h && r->holder[1] != h))
                continue;
            /* Back to REMOTE: a vCPU waiting for it faults again and asks the replica, or
             * pauses the VM naming the lost peer. */
            guest_mem_fetch_abort(vm->mem, g);
        }
        rm_wake(vm);
    }
}
