// unit-sources: net/store.c net/page_store.c net/peer_csum.c net/peer_msg.c net/peer_msg_page.c kernel/format.c kernel/error.c
/* The page store service: answers and their statuses, owners kept apart, the capacity rules,
 * fault injection, and the deferred answers (in order per connection, never lost while the
 * connection lives, dropped when it goes). The peer layer is a test double that checks every
 * message with the real encoder's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/log.h"
#include "net/peer.h"
#include "net/peer_csum.h"
#include "net/store.h"

#define PS PEER_PAGE_SIZE
#define ACK_LEN (PEER_HDR_LEN + 24)
#define DATA_LEN (PEER_HDR_LEN + 4120)
#define OWNER_A 0xa0a0a0a0a0ull
#define OWNER_B 0xb0b0b0b0b0ull

/* ---- the peer layer double ---- */
struct peer {
    uint32_t serial;
    uint64_t id;
    size_t space;
    bool up;
};

static struct peer conn_a, conn_b;

struct sent {
    uint32_t serial;
    uint16_t type;
    struct peer_page page;
    uint8_t data[PS];
    bool has_data;
};
#define SENT_MAX (STORE_DEFER_MAX + 64)
static struct sent sent[SENT_MAX];
static unsigned nsent;

struct reg {
    uint16_t first, last;
    peer_service_fn fn;
};
static struct reg regs[8];
static unsigned nregs;
static unsigned nlogs;

void klog(enum log_level level, const char *fmt, ...)
{
    nlogs++;
}

void peer_get_info(const struct peer *p, struct peer_info *out)
{
    memset(out, 0, sizeof *out);
    out->serial = p->serial;
    out->id = p->id;
    out->state = p->up ? PEER_CONN_ESTABLISHED : PEER_CONN_CLOSED;
}

struct peer *peer_by_serial(uint32_t serial)
{
    struct peer *all[] = {&conn_a, &conn_b};
    for (int i = 0; i < 2; i++) {
        if (all[i]->up && all[i]->serial == serial)
            return all[i];
    }
    return NULL;
}

size_t peer_send_space(const struct peer *p)
{
    return p->space;
}

civic_err peer_send_msg(struct peer *p, struct peer_msg *m)
{
    assert_true(p->up);
    m->seq = 1;
    m->sender = 0x5e1f;
    if (peer_msg_check(m) != PEER_E_NONE)
        return CIVIC_EINVAL;
    size_t len = PEER_HDR_LEN + (size_t)peer_payload_len(m->type);
    if (len > p->space)
        return CIVIC_EBUSY;
    p->space -= len;
    assert_true(nsent < SENT_MAX);
    struct sent *s = &sent[nsent++];
    s->serial = p->serial;
    s->type = m->type;
    s->page = m->page;
    s->has_data = m->page.data != NULL;
    if (s->has_data)
        memcpy(s->data, m->page.data, PS);
    return CIVIC_OK;
}

civic_err peer_register_service(uint16_t first, uint16_t last, peer_service_fn fn)
{
    regs[nregs++] = (struct reg){first, last, fn};
    return CIVIC_OK;
}

/* Delivers a message as the peer layer would: to the service registered for its type. */
static void deliver(struct peer *p, struct peer_msg *m)
{
    m->sender = p->id;
    m->seq = 1;
    assert_int_equal(peer_msg_check(m), PEER_E_NONE);
    for (unsigned i = 0; i < nregs; i++) {
        if (m->type >= regs[i].first && m->type <= regs[i].last) {
            regs[i].fn(p, m);
            return;
        }
    }
    fail_msg("no service for type %#x", m->type);
}

/* ---- an allocator that can fail ---- */
static long live_pages;
static int index_fails; /* index allocations left to fail */

static void *a_page(void *ctx)
{
    live_pages++;
    return aligned_alloc(4096, 4096);
}
static void f_page(void *ctx, void *p)
{
    live_pages--;
    free(p);
}
static void *a_index(void *ctx, size_t bytes)
{
    if (index_fails > 0) {
        index_fails--;
        return NULL;
    }
    return malloc(bytes);
}
static void f_index(void *ctx, void *p)
{
    free(p);
}
static const struct page_store_ops ops = {a_page, f_page, a_index, f_index, NULL};

/* ---- helpers ---- */
static uint8_t page_of(uint64_t gfn, uint8_t *buf)
{
    for (unsigned i = 0; i < PS; i++)
        buf[i] = (uint8_t)(gfn * 31 + i * 7);
    return buf[0];
}

static void put(struct peer *p, uint32_t vm, uint64_t gfn, uint32_t version, bool bad_crc)
{
    static uint8_t buf[PS];
    page_of(gfn, buf);
    struct peer_msg m = {.type = PEER_T_PAGE_PUT};
    m.page = (struct peer_page){.vm = vm,
                                .version = version,
                                .gfn = gfn,
                                .crc = peer_csum(buf, PS) ^ (bad_crc ? 1u : 0u),
                                .data = buf};
    deliver(p, &m);
}

static void get(struct peer *p, uint32_t vm, uint64_t gfn, uint32_t version)
{
    struct peer_msg m = {.type = PEER_T_PAGE_GET};
    m.page = (struct peer_page){.vm = vm, .version = version, .gfn = gfn};
    deliver(p, &m);
}

static void free_page(struct peer *p, uint32_t vm, uint64_t gfn, uint32_t version)
{
    struct peer_msg m = {.type = PEER_T_PAGE_FREE};
    m.page = (struct peer_page){.vm = vm, .version = version, .gfn = gfn};
    deliver(p, &m);
}

static void free_vm(struct peer *p, uint32_t vm)
{
    struct peer_msg m = {.type = PEER_T_PAGE_FREE_VM};
    m.page.vm = vm;
    deliver(p, &m);
}

static void assert_ack(unsigned i, struct peer *p, uint32_t vm, uint64_t gfn, uint32_t version,
                       uint32_t status)
{
    assert_true(i < nsent);
    assert_int_equal(sent[i].type, PEER_T_PAGE_PUT_ACK);
    assert_int_equal(sent[i].serial, p->serial);
    assert_int_equal(sent[i].page.vm, vm);
    assert_int_equal(sent[i].page.gfn, gfn);
    assert_int_equal(sent[i].page.version, version);
    assert_int_equal(sent[i].page.status, status);
}

static void assert_data(unsigned i, struct peer *p, uint32_t vm, uint64_t gfn, uint32_t version,
                        uint32_t status)
{
    assert_true(i < nsent);
    assert_int_equal(sent[i].type, PEER_T_PAGE_DATA);
    assert_int_equal(sent[i].serial, p->serial);
    assert_int_equal(sent[i].page.vm, vm);
    assert_int_equal(sent[i].page.gfn, gfn);
    assert_int_equal(sent[i].page.version, version);
    assert_int_equal(sent[i].page.status, status);
    if (status == PEER_PAGE_OK) {
        uint8_t want[PS];
        page_of(gfn, want);
        assert_true(sent[i].has_data);
        assert_memory_equal(sent[i].data, want, PS);
        assert_int_equal(sent[i].page.crc, peer_csum(want, PS));
    } else {
        assert_int_equal(sent[i].page.crc, 0);
    }
}

static struct store_stats stats(void)
{
    struct store_stats s;
    store_get_stats(&s);
    return s;
}

static int setup(void **state)
{
    nsent = nregs = nlogs = 0;
    live_pages = 0;
    index_fails = 0;
    conn_a = (struct peer){.serial = 1, .id = OWNER_A, .space = 1 << 20, .up = true};
    conn_b = (struct peer){.serial = 2, .id = OWNER_B, .space = 1 << 20, .up = true};
    assert_int_equal(store_init(&ops, NULL), CIVIC_OK);
    return 0;
}

static int teardown(void **state)
{
    /* Empty the store through its owners, then check nothing leaked. */
    conn_a.up = conn_b.up = true;
    conn_a.space = conn_b.space = 1 << 20;
    free_vm(&conn_a, PEER_VM_ALL);
    free_vm(&conn_b, PEER_VM_ALL);
    while (store_poll())
        ;
    assert_int_equal(store_set_capacity(0), CIVIC_OK);
    assert_int_equal(live_pages, 0);
    return 0;
}

/* ---- tests ---- */
static void test_registers_three_services(void **state)
{
    assert_int_equal(nregs, 3);
    assert_int_equal(regs[0].first, PEER_T_PAGE_PUT);
    assert_int_equal(regs[0].last, PEER_T_PAGE_PUT);
    assert_int_equal(regs[1].first, PEER_T_PAGE_GET);
    assert_int_equal(regs[1].last, PEER_T_PAGE_GET);
    assert_int_equal(regs[2].first, PEER_T_PAGE_FREE);
    assert_int_equal(regs[2].last, PEER_T_PAGE_FREE_VM);
}

static void test_capacity_zero_refuses_full(void **state)
{
    assert_int_equal(stats().capacity_pages, 0);
    put(&conn_a, 1, 5, 1, false);
    assert_int_equal(nsent, 1);
    assert_ack(0, &conn_a, 1, 5, 1, PEER_PAGE_FULL);
    struct store_stats s = stats();
    assert_int_equal(s.puts, 1);
    assert_int_equal(s.put_refused_full, 1);
    assert_int_equal(s.used_pages, 0);
    assert_int_equal(live_pages, 0);
    get(&conn_a, 1, 5, 1);
    assert_data(1, &conn_a, 1, 5, 1, PEER_PAGE_ABSENT);
    assert_int_equal(stats().get_absent, 1);
}

static void test_capacity_rules(void **state)
{
    assert_int_equal(store_set_capacity(4097), CIVIC_EINVAL);
    assert_int_equal(store_set_capacity(((uint64_t)PAGE_STORE_MAX_PAGES + 1) * 4096), CIVIC_ERANGE);
    assert_int_equal(stats().capacity_pages, 0);
    assert_int_equal(store_set_capacity(8 << 20), CIVIC_OK);
    assert_int_equal(stats().capacity_pages, 2048);
    assert_int_equal(store_set_capacity(4 << 20), CIVIC_OK); /* empty: may shrink */
    assert_int_equal(stats().capacity_pages, 1024);
    put(&conn_a, 1, 5, 1, false);
    assert_int_equal(store_set_capacity(8 << 20), CIVIC_EBUSY);
    assert_int_equal(store_set_capacity(0), CIVIC_EBUSY);
    assert_int_equal(store_set_capacity(4 << 20), CIVIC_OK); /* unchanged: fine */
    assert_int_equal(stats().capacity_pages, 1024);
    assert_int_equal(stats().used_pages, 1);
    free_page(&conn_a, 1, 5, 1);
    assert_int_equal(stats().frees, 1);
    index_fails = 1;
    assert_int_equal(store_set_capacity(16 << 20), CIVIC_ENOMEM);
    assert_int_equal(stats().capacity_pages, 1024); /* the old one is kept */
    index_fails = 2; /* not even the old one: capacity 0, still a valid store */
    assert_int_equal(store_set_capacity(16 << 20), CIVIC_ENOMEM);
    assert_int_equal(stats().capacity_pages, 0);
    assert_int_equal(store_check(), CIVIC_OK);
    assert_int_equal(store_set_capacity(16 << 20), CIVIC_OK);
    assert_int_equal(stats().capacity_pages, 4096);
    assert_int_equal(store_check(), CIVIC_OK);
}

static void test_put_get_roundtrip_and_statuses(void **state)
{
    assert_int_equal(store_set_capacity(2 * 4096), CIVIC_OK);
    put(&conn_a, 7, 0x123456789, 3, false);
    assert_ack(0, &conn_a, 7, 0x123456789, 3, PEER_PAGE_OK);
    get(&conn_a, 7, 0x123456789, 3);
    assert_data(1, &conn_a, 7, 0x123456789, 3, PEER_PAGE_OK);
    get(&conn_a, 7, 0x123456789, 2); /* another version */
    assert_data(2, &conn_a, 7, 0x123456789, 2, PEER_PAGE_ABSENT);
    get(&conn_b, 7, 0x123456789, 3); /* another owner sees nothing */
    assert_data(3, &conn_b, 7, 0x123456789, 3, PEER_PAGE_ABSENT);
    put(&conn_a, 7, 0x123456789, 2, false); /* older than the stored one */
    assert_ack(4, &conn_a, 7, 0x123456789, 2, PEER_PAGE_STALE);
    put(&conn_a, 7, 9, 1, true); /* damaged in flight */
    assert_ack(5, &conn_a, 7, 9, 1, PEER_PAGE_CORRUPT);
    put(&conn_b, 1, 1, 1, false);
    assert_ack(6, &conn_b, 1, 1, 1, PEER_PAGE_OK);
    put(&conn_b, 1, 2, 1, false); /* capacity 2: full */
    assert_ack(7, &conn_b, 1, 2, 1, PEER_PAGE_FULL);
    put(&conn_a, 7, 0x123456789, 4, false); /* a newer copy replaces in place, even when full */
    assert_ack(8, &conn_a, 7, 0x123456789, 4, PEER_PAGE_OK);

    struct store_stats s = stats();
    assert_int_equal(s.puts, 6);
    assert_int_equal(s.put_refused_full, 1);
    assert_int_equal(s.put_refused_corrupt, 1);
    assert_int_equal(s.put_refused_stale, 1);
    assert_int_equal(s.gets, 3);
    assert_int_equal(s.get_absent, 2);
    assert_int_equal(s.get_corrupt, 0);
    assert_int_equal(s.used_pages, 2);
    assert_int_equal(s.owners, 2);
    assert_int_equal(s.replies_deferred, 0);
    assert_int_equal(store_owner_pages(OWNER_A), 1);
    assert_int_equal(store_owner_pages(OWNER_B), 1);
    assert_int_equal(store_owner_pages(0x999), 0);
    assert_int_equal(store_check(), CIVIC_OK);
}

static void test_frees_only_own_pages(void **state)
{
    assert_int_equal(store_set_capacity(64 * 4096), CIVIC_OK);
    for (uint64_t g = 0; g < 4; g++) {
        put(&conn_a, 1, g, 1, false);
        put(&conn_a, 2, g, 1, false);
        put(&conn_b, 1, g, 1, false);
    }
    assert_int_equal(stats().used_pages, 12);
    free_page(&conn_b, 2, 0, 1); /* B has no VM 2 page 0 */
    free_page(&conn_a, 1, 0, 2); /* wrong version: kept */
    assert_int_equal(stats().frees, 0);
    free_page(&conn_a, 1, 0, 1);
    assert_int_equal(stats().frees, 1);
    free_vm(&conn_b, 2); /* B has no VM 2 */
    assert_int_equal(stats().used_pages, 11);
    free_vm(&conn_a, 2);
    assert_int_equal(stats().frees, 5);
    assert_int_equal(store_owner_pages(OWNER_A), 3);
    assert_int_equal(store_owner_pages(OWNER_B), 4);
    free_vm(&conn_b, PEER_VM_ALL);
    assert_int_equal(stats().frees, 9);
    assert_int_equal(store_owner_pages(OWNER_B), 0);
    assert_int_equal(stats().owners, 1);
    assert_int_equal(nsent, 12); /* FREE and FREE_VM are not answered */
    assert_int_equal(store_check(), CIVIC_OK);
}

static void test_corrupt_answers_corrupt(void **state)
{
    assert_int_equal(store_corrupt(5), 0); /* nothing stored */
    assert_int_equal(store_set_capacity(16 * 4096), CIVIC_OK);
    put(&conn_a, 1, 10, 1, false);
    put(&conn_a, 1, 11, 1, false);
    put(&conn_a, 1, 12, 1, false);
    assert_int_equal(store_corrupt(2), 2);
    unsigned base = nsent, corrupt = 0, ok = 0;
    for (uint64_t g = 10; g <= 12; g++) {
        get(&conn_a, 1, g, 1);
        if (sent[nsent - 1].page.status == PEER_PAGE_CORRUPT) {
            assert_data(nsent - 1, &conn_a, 1, g, 1, PEER_PAGE_CORRUPT);
            assert_false(sent[nsent - 1].has_data);
            corrupt++;
        } else {
            assert_data(nsent - 1, &conn_a, 1, g, 1, PEER_PAGE_OK);
            ok++;
        }
    }
    assert_int_equal(nsent - base, 3);
    assert_int_equal(corrupt, 2);
    assert_int_equal(ok, 1);
    assert_int_equal(stats().get_corrupt, 2);
    assert_int_equal(store_corrupt(100), 3);
    assert_int_equal(store_check(), CIVIC_OK); /* the index is intact, only contents differ */
    /* a new copy from the owner heals it */
    put(&conn_a, 1, 10, 2, false);
    get(&conn_a, 1, 10, 2);
    assert_data(nsent - 1, &conn_a, 1, 10, 2, PEER_PAGE_OK);
}

static void test_deferred_in_order_per_connection(void **state)
{
    assert_int_equal(store_set_capacity(16 * 4096), CIVIC_OK);
    conn_a.space = ACK_LEN - 1; /* not even an ack fits */
    put(&conn_a, 1, 1, 1, false);
    assert_int_equal(nsent, 0);
    assert_int_equal(stats().used_pages, 1); /* stored; the ack waits */
    conn_a.space = 1 << 20;
    get(&conn_a, 1, 1, 1); /* room now, but it must not overtake the ack */
    put(&conn_a, 1, 2, 1, false);
    assert_int_equal(nsent, 0);
    get(&conn_b, 1, 1, 1); /* another connection is not held up */
    assert_data(0, &conn_b, 1, 1, 1, PEER_PAGE_ABSENT);
    struct store_stats s = stats();
    assert_int_equal(s.replies_deferred, 3);
    assert_int_equal(s.deferred_now, 3);
    assert_true(store_poll());
    assert_int_equal(nsent, 4);
    assert_ack(1, &conn_a, 1, 1, 1, PEER_PAGE_OK);
    assert_data(2, &conn_a, 1, 1, 1, PEER_PAGE_OK);
    assert_ack(3, &conn_a, 1, 2, 1, PEER_PAGE_OK);
    assert_int_equal(stats().deferred_now, 0);
    assert_false(store_poll());
    /* once the queue is empty, answers go out at once again */
    get(&conn_a, 1, 2, 1);
    assert_data(4, &conn_a, 1, 2, 1, PEER_PAGE_OK);
}

static void test_deferred_partial_room(void **state)
{
    assert_int_equal(store_set_capacity(16 * 4096), CIVIC_OK);
    put(&conn_a, 1, 1, 1, false);
    conn_a.space = 0;
    get(&conn_a, 1, 1, 1);
    put(&conn_a, 1, 2, 1, false);
    assert_int_equal(nsent, 1);
    conn_a.space = DATA_LEN - 1; /* the DATA does not fit: nothing behind it may go */
    assert_false(store_poll());
    assert_int_equal(nsent, 1);
    assert_int_equal(stats().deferred_now, 2);
    conn_a.space = DATA_LEN + ACK_LEN - 1; /* DATA fits, the ack after it not */
    assert_true(store_poll());
    assert_int_equal(nsent, 2);
    assert_data(1, &conn_a, 1, 1, 1, PEER_PAGE_OK);
    assert_int_equal(stats().deferred_now, 1);
    conn_a.space = ACK_LEN;
    assert_true(store_poll());
    assert_ack(2, &conn_a, 1, 2, 1, PEER_PAGE_OK);
    assert_int_equal(stats().deferred_now, 0);
    assert_int_equal(stats().requests_dropped, 0);
}

static void test_deferred_dropped_when_connection_gone(void **state)
{
    assert_int_equal(store_set_capacity(16 * 4096), CIVIC_OK);
    conn_a.space = 0;
    put(&conn_a, 1, 1, 1, false);
    get(&conn_a, 1, 1, 1);
    conn_b.space = 0;
    get(&conn_b, 1, 1, 1);
    assert_int_equal(stats().deferred_now, 3);
    conn_a.up = false;
    conn_b.space = 1 << 20;
    assert_true(store_poll());
    assert_int_equal(nsent, 1);
    assert_data(0, &conn_b, 1, 1, 1, PEER_PAGE_ABSENT);
    struct store_stats s = stats();
    assert_int_equal(s.deferred_now, 0);
    assert_int_equal(s.requests_dropped, 2);
    assert_int_equal(s.used_pages, 1); /* the page stays for its owner */
    /* a reconnection (a new serial) starts clean */
    conn_a = (struct peer){.serial = 3, .id = OWNER_A, .space = 1 << 20, .up = true};
    get(&conn_a, 1, 1, 1);
    assert_data(1, &conn_a, 1, 1, 1, PEER_PAGE_OK);
}

static void test_queue_full(void **state)
{
    assert_int_equal(store_set_capacity(16 * 4096), CIVIC_OK);
    conn_a.space = 0;
    for (unsigned i = 0; i < STORE_DEFER_MAX; i++)
        get(&conn_a, 1, i, 1);
    assert_int_equal(stats().deferred_now, STORE_DEFER_MAX);
    assert_int_equal(stats().requests_dropped, 0);
    /* no room to answer or to wait: not stored, nothing sent */
    put(&conn_a, 1, 1000, 1, false);
    assert_int_equal(stats().used_pages, 0);
    assert_int_equal(stats().requests_dropped, 1);
    get(&conn_a, 1, 1000, 1);
    assert_int_equal(stats().requests_dropped, 2);
    assert_int_equal(nsent, 0);
    /* room on the wire but the answer would have to wait: refused with FULL, not stored */
    conn_a.space = ACK_LEN;
    put(&conn_a, 1, 1001, 1, false);
    assert_int_equal(nsent, 1);
    assert_ack(0, &conn_a, 1, 1001, 1, PEER_PAGE_FULL);
    assert_int_equal(stats().used_pages, 0);
    assert_int_equal(stats().put_refused_full, 1);
    /* another connection with room is answered directly and stores */
    put(&conn_b, 1, 1002, 1, false);
    assert_ack(1, &conn_b, 1, 1002, 1, PEER_PAGE_OK);
    assert_int_equal(stats().used_pages, 1);
    /* the poll sends at most its budget per call, in order */
    conn_a.space = 2 * STORE_DEFER_MAX * DATA_LEN;
    assert_true(store_poll());
    assert_int_equal(nsent, 2 + 32);
    for (unsigned i = 0; i < 32; i++)
        assert_data(2 + i, &conn_a, 1, i, 1, PEER_PAGE_ABSENT);
    assert_int_equal(stats().deferred_now, STORE_DEFER_MAX - 32);
    while (store_poll())
        ;
    assert_int_equal(nsent, 2 + STORE_DEFER_MAX);
    assert_data(1 + STORE_DEFER_MAX, &conn_a, 1, STORE_DEFER_MAX - 1, 1, PEER_PAGE_ABSENT);
    assert_int_equal(stats().get_absent, STORE_DEFER_MAX);
}

static void count_owners(void *ctx, uint64_t owner, uint32_t pages)
{
    uint64_t *sum = ctx;
    sum[0]++;
    sum[1] += pages;
    assert_true(owner == OWNER_A || owner == OWNER_B);
}

static void test_owner_iteration(void **state)
{
    assert_int_equal(store_set_capacity(16 * 4096), CIVIC_OK);
    put(&conn_a, 1, 1, 1, false);
    put(&conn_a, 1, 2, 1, false);
    put(&conn_b, 1, 1, 1, false);
    uint64_t sum[2] = {0};
    store_for_each_owner(count_owners, sum);
    assert_int_equal(sum[0], 2);
    assert_int_equal(sum[1], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers_three_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capacity_zero_refuses_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capacity_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_roundtrip_and_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frees_only_own_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_answers_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_in_order_per_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_partial_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_dropped_when_connection_gone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_iteration, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
