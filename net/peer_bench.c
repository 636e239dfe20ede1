/* The measurement service's message handlers (net/peer_bench.h). */
#include "net/peer_bench.h"

#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/unit.h"
#include "net/net_config.h"
#include "net/peer.h"
#include "net/peer_csum.h"

#define STREAMS 8 /* incoming streams tracked at once; the oldest is forgotten beyond that */

/* One incoming `net bench` stream, keyed by the connection's serial (never reused). */
struct stream {
    uint32_t serial;
    uint64_t bytes;
    uint32_t crc;
    uint64_t start_ns;
};

static struct stream streams[STREAMS];
static uint8_t page[PEER_RR_SIZE];

static struct {
    uint32_t serial; /* 0: not waiting */
    bool rr;
    uint64_t rr_id;
    bool arrived;
    uint64_t bytes, at_ns;
    uint32_t crc;
} wait;

void peer_bench_expect_done(uint32_t serial)
{
    wait.serial = serial;
    wait.rr = false;
    wait.arrived = false;
}

bool peer_bench_done(uint64_t *bytes, uint32_t *crc)
{
    if (!wait.arrived)
        return false;
    *bytes = wait.bytes;
    *crc = wait.crc;
    return true;
}

void peer_bench_expect_response(uint32_t serial, uint64_t id)
{
    wait.serial = serial;
    wait.rr = true;
    wait.rr_id = id;
    wait.arrived = false;
}

bool peer_bench_response(uint64_t *at_ns)
{
    if (!wait.arrived)
        return false;
    *at_ns = wait.at_ns;
    return true;
}

void peer_bench_stop_waiting(void)
{
    wait.serial = 0;
}

static struct stream *stream_for(uint32_t serial, bool create)
{
    struct stream *oldest = &streams[0];
    for (size_t i = 0; i < STREAMS; i++) {
        if (streams[i].serial == serial)
            return &streams[i];
        if (streams[i].serial < oldest->serial)
            oldest = &streams[i];
    }
    if (!create)
        return NULL;
    *oldest = (struct stream){.serial = serial, .start_ns = arch_time_ns()};
    return oldest;
}

static void on_done(struct peer *p, const struct peer_info *pi, const struct peer_msg *m)
{
    if (wait.serial == pi->serial && !wait.rr && !wait.arrived) {
        wait.bytes = m->done.total_bytes;
        wait.crc = m->done.crc;
        wait.arrived = true;
        return;
    }
    char ip[NET_IPV4_STR_MAX];
    net_format_ipv4(pi->ip, ip);
    struct stream *s = stream_for(pi->serial, false);
    if (!s) {
        /* An answer nobody waits for any more (an interrupted `net bench`): never answer an
         * answer, or two hosts would bounce BENCH_DONE forever. */
        log_info("bench: %s: BENCH_DONE without a stream; ignored", ip);
        return;
    }
    bool ok = s->bytes == m->done.total_bytes && s->crc == m->done.crc;
    uint64_t ms = (arch_time_ns() - s->start_ns) / 1000000;
    log_info("bench: %s: received %llu bytes in %llu ms, crc 0x%08x (sender: %llu bytes, crc "
             "0x%08x) verified=%s",
             ip, (unsigned long long)s->bytes, (unsigned long long)ms, s->crc,
             (unsigned long long)m->done.total_bytes, m->done.crc, ok ? "yes" : "no");
    struct peer_msg answer = {.type = PEER_T_BENCH_DONE,
                              .done = {.total_bytes = s->bytes, .crc = s->crc}};
    s->serial = 0;
    s->bytes = 0;
    if (peer_send_msg(p, &answer) != CIVIC_OK)
        log_warn("bench: %s: no room to answer BENCH_DONE", ip);
}

static void bench_service(struct peer *p, const struct peer_msg *m)
{
    struct peer_info pi;
    peer_get_info(p, &pi);
    switch (m->type) {
    case PEER_T_BENCH_DATA: {
        struct stream *s = stream_for(pi.serial, true);
        s->bytes += m->bench.len;
        s->crc = peer_csum_update(s->crc, m->bench.data, m->bench.len);
        return;
    }
    case PEER_T_BENCH_DONE: on_done(p, &pi, m); return;
    case PEER_T_RR_REQUEST: {
        struct peer_msg r = {.type = PEER_T_RR_RESPONSE, .rr_resp = {.id = m->rr_req.id,
                                                                      .data = page}};
        if (peer_send_msg(p, &r) != CIVIC_OK)
            log_warn("bench: no room to answer RR_REQUEST %llu", (unsigned long long)m->rr_req.id);
        return;
    }
    case PEER_T_RR_RESPONSE:
        if (wait.serial == pi.serial && wait.rr && m->rr_resp.id == wait.rr_id) {
            wait.at_ns = arch_time_ns();
            wait.arrived = true;
        }
        return;
    }
}

static civic_err bench_init(void)
{
    for (size_t i = 0; i < sizeof page; i++)
        page[i] = (uint8_t)(i * 7 + 3);
    return peer_register_service(PEER_T_BENCH_DATA, PEER_T_RR_RESPONSE, bench_service);
}

CIVIC_UNIT(peer_bench, bench_init, NULL);
