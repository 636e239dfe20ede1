/*
 * The peer connection state machine (net/peer_conn.h). Time comes in as now_ns on every event,
 * so the tests drive hours of keepalives in microseconds and the kernel passes arch_time_ns().
 */
#include "net/peer_conn.h"

#include <stdarg.h>

#include "kernel/format.h"
#include "kernel/string.h"

_Static_assert(PEER_CONN_TX_MAX >= PEER_HDR_LEN + 64, "one HELLO_ACK fits an event's output");

civic_err peer_conn_config_check(const struct peer_conn_config *cfg)
{
    if (!cfg->handshake_timeout_ns || !cfg->keepalive_interval_ns || !cfg->lost_timeout_ns ||
        !cfg->close_timeout_ns || cfg->keepalive_interval_ns >= cfg->lost_timeout_ns)
        return trace_error(CIVIC_EINVAL);
    return CIVIC_OK;
}

const char *peer_conn_state_name(enum peer_conn_state s)
{
    switch (s) {
    case PEER_CONN_CONNECTING: return "connecting";
    case PEER_CONN_HELLO_SENT: return "hello-sent";
    case PEER_CONN_HELLO_WAIT: return "hello-wait";
    case PEER_CONN_ESTABLISHED: return "established";
    case PEER_CONN_CLOSING: return "closing";
    case PEER_CONN_CLOSED: return "closed";
    }
    return "?";
}

const char *peer_bye_reason_name(uint32_t reason)
{
    switch (reason) {
    case PEER_BYE_SHUTDOWN: return "shutdown";
    case PEER_BYE_PROTOCOL: return "protocol error";
    case PEER_BYE_TIMEOUT: return "timeout";
    case PEER_BYE_DUPLICATE: return "duplicate connection";
    case PEER_BYE_SELF: return "connection to itself";
    }
    return "unknown reason";
}

civic_err peer_conn_init(struct peer_conn *c, const struct peer_conn_config *cfg,
                         const struct peer_hello *self, bool initiator, uint64_t now_ns)
{
    /* Our own HELLO must be sendable, or the handshake would fail in silence later. */
    struct peer_msg hello = {.type = PEER_T_HELLO, .sender = self->host_id, .hello = *self};
    hello.hello.version = PEER_VERSION;
    if (peer_conn_config_check(cfg) != CIVIC_OK || peer_msg_check(&hello) != PEER_E_NONE)
        return trace_error(CIVIC_EINVAL);

    memset(c, 0, sizeof(*c));
    c->state = PEER_CONN_CONNECTING;
    c->initiator = initiator;
    c->cfg = *cfg;
    c->self = hello.hello;
    c->self.accepted = 0;
    c->state_since_ns = now_ns;
    peer_tx_init(&c->tx, self->host_id, 0);
    return CIVIC_OK;
}

static uint64_t elapsed(uint64_t since, uint64_t now)
{
    return now > since ? now - since : 0;
}

static void set_state(struct peer_conn *c, enum peer_conn_state s, uint64_t now_ns)
{
    c->state = s;
    c->state_since_ns = now_ns;
}

static void out_reset(struct peer_conn_out *out)
{
    memset(out, 0, sizeof(*out));
}

/* Appends one message. The encoders cannot fail on our own well-formed messages unless the
 * out buffer is too small, which PEER_CONN_TX_MAX rules out (checked in the tests). */
static void send_msg(struct peer_conn *c, struct peer_msg *m, struct peer_conn_out *out)
{
    size_t n = 0;

    if (peer_tx_encode(&c->tx, m, out->tx + out->tx_len, sizeof(out->tx) - out->tx_len, &n) ==
        CIVIC_OK)
        out->tx_len += n;
}

static void send_bye(struct peer_conn *c, uint32_t reason, struct peer_conn_out *out)
{
    struct peer_msg m = {.type = PEER_T_BYE, .bye_reason = reason};
    send_msg(c, &m, out);
}

static void set_reason(struct peer_conn *c, struct peer_conn_out *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_reason(struct peer_conn *c, struct peer_conn_out *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    out->reason = c->reason;
}

/* Ends the connection now: the BYE (if any) goes out, then the transport closes. */
static void finish(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out)
{
    set_state(c, PEER_CONN_CLOSED, now_ns);
    out->close = true;
    if (!out->reason)
        out->reason = c->reason;
}

static bool transport_up(const struct peer_conn *c)
{
    return c->state == PEER_CONN_HELLO_SENT || c->state == PEER_CONN_HELLO_WAIT ||
           c->state == PEER_CONN_ESTABLISHED;
}

/* The peer broke the protocol: tell it why, and drop it. Nothing it sent is acted on. */
static void violation(struct peer_conn *c, const struct peer_msg *m, uint64_t now_ns,
                      struct peer_conn_out *out)
{
    set_reason(c, out, "protocol error: unexpected %s (0x%04x) in state %s",
               peer_type_name(m->type), m->type, peer_conn_state_name(c->state));
    if (transport_up(c))
        send_bye(c, PEER_BYE_PROTOCOL, out);
    finish(c, now_ns, out);
}

void peer_conn_connected(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out)
{
    out_reset(out);
    if (c->state != PEER_CONN_CONNECTING)
        return;
    if (!c->initiator) {
        set_state(c, PEER_CONN_HELLO_WAIT, now_ns);
        return;
    }
    struct peer_msg m = {.type = PEER_T_HELLO, .hello = c->self};
    send_msg(c, &m, out);
    set_state(c, PEER_CONN_HELLO_SENT, now_ns);
}

static void establish(struct peer_conn *c, const struct peer_hello *h, uint64_t caps,
                      uint64_t now_ns, struct peer_conn_out *out)
{
    c->peer = *h;
    c->caps = caps;
    c->version = h->version < PEER_VERSION ? h->version : PEER_VERSION;
    c->established_ns = now_ns;
    c->ka_sent_ts = 0;
    c->ka_head = 0;
    c->ka_count = 0;
    set_state(c, PEER_CONN_ESTABLISHED, now_ns);
    out->established = true;
}

static void on_handshake(struct peer_conn *c, const struct peer_msg *m, uint64_t now_ns,
                         struct peer_conn_out *out)
{
    const struct peer_hello *h = &m->hello;
    uint16_t want = c->initiator ? PEER_T_HELLO_ACK : PEER_T_HELLO;

    if (m->type != want) {
        violation(c, m, now_ns, out);
        return;
    }
    if (h->host_id == c->self.host_id) {
        set_reason(c, out, "host id %016llx is our own: the connection leads back here",
                   (unsigned long long)h->host_id);
        send_bye(c, PEER_BYE_SELF, out);
        finish(c, now_ns, out);
        return;
    }
    if (!c->initiator) {
        uint64_t caps = c->self.caps & h->caps;
        struct peer_msg ack = {.type = PEER_T_HELLO_ACK, .hello = c->self};
        ack.hello.accepted = caps;
        send_msg(c, &ack, out);
        establish(c, h, caps, now_ns, out);
        return;
    }
    /* The acceptor may only accept what both of us offered. */
    if (h->accepted & ~(c->self.caps & h->caps)) {
        set_reason(c, out, "protocol error: HELLO_ACK accepts capabilities 0x%llx, offered 0x%llx",
                   (unsigned long long)h->accepted, (unsigned long long)(c->self.caps & h->caps));
        send_bye(c, PEER_BYE_PROTOCOL, out);
        finish(c, now_ns, out);
        return;
    }
    establish(c, h, h->accepted, now_ns, out);
}

static bool service_allowed(const struct peer_conn *c, uint16_t type)
{
    if (type >= PEER_T_BENCH_DATA && type <= PEER_T_RR_RESPONSE)
        return c->caps & PEER_CAP_BENCH;
    if (type >= PEER_T_PAGE_FIRST && type <= PEER_T_PAGE_LAST)
        return c->caps & PEER_CAP_PAGE;
    return false;
}

static void on_established(struct peer_conn *c, const struct peer_msg *m, uint64_t now_ns,
                           struct peer_conn_out *out)
{
    switch (m->type) {
    case PEER_T_KEEPALIVE: {
        struct peer_msg ack = {.type = PEER_T_KEEPALIVE_ACK, .timestamp = m->timestamp};
        send_msg(c, &ack, out);
        return;
    }
    case PEER_T_KEEPALIVE_ACK:
        /* TCP keeps order, so each ACK echoes the oldest unanswered KEEPALIVE exactly. */
        if (c->ka_count == 0 || m->timestamp != c->ka_pending[c->ka_head]) {
            set_reason(c, out, "protocol error: KEEPALIVE_ACK echoes %llu, not a timestamp sent",
                       (unsigned long long)m->timestamp);
            send_bye(c, PEER_BYE_PROTOCOL, out);
            finish(c, now_ns, out);
            return;
        }
        c->ka_head = (uint8_t)((c->ka_head + 1) % PEER_CONN_KA_PENDING);
        c->ka_count--;
        c->rtt_ns = elapsed(m->timestamp, now_ns);
        if (c->rtt_min_ns == 0 || c->rtt_ns < c->rtt_min_ns)
            c->rtt_min_ns = c->rtt_ns;
        out->rtt = true;
        return;
    }
    if (service_allowed(c, m->type)) {
        out->deliver = true;
        return;
    }
    violation(c, m, now_ns, out);
}

void peer_conn_received(struct peer_conn *c, const struct peer_msg *m, uint64_t now_ns,
                        struct peer_conn_out *out)
{
    out_reset(out);
    if (c->state == PEER_CONN_CLOSED)
        return;
    if (m->type == PEER_T_BYE) {
        bool was_closing = c->state == PEER_CONN_CLOSING;
        if (!was_closing)
            set_reason(c, out, "peer closed the connection: %s (%u)",
                       peer_bye_reason_name(m->bye_reason), m->bye_reason);
        finish(c, now_ns, out);
        return;
    }
    /* After our BYE nothing the peer sends is acted on. */
    if (c->state == PEER_CONN_CLOSING)
        return;
    if (c->state == PEER_CONN_CONNECTING) {
        violation(c, m, now_ns, out);
        return;
    }
    c->last_rx_ns = now_ns;
    if (c->state == PEER_CONN_ESTABLISHED)
        on_established(c, m, now_ns, out);
    else
        on_handshake(c, m, now_ns, out);
}

void peer_conn_rx_failed(struct peer_conn *c, const char *why, uint64_t now_ns,
                         struct peer_conn_out *out)
{
    out_reset(out);
    if (c->state == PEER_CONN_CLOSED)
        return;
    if (c->state != PEER_CONN_CLOSING) {
        set_reason(c, out, "protocol error: %s", why);
        if (transport_up(c))
            send_bye(c, PEER_BYE_PROTOCOL, out);
    }
    finish(c, now_ns, out);
}

void peer_conn_tick(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out)
{
    out_reset(out);
    uint64_t in_state = elapsed(c->state_since_ns, now_ns);

    switch (c->state) {
    case PEER_CONN_CONNECTING:
    case PEER_CONN_HELLO_SENT:
    case PEER_CONN_HELLO_WAIT:
        if (in_state < c->cfg.handshake_timeout_ns)
            return;
        set_reason(c, out, "handshake timed out after %llu ms (%s)",
                   (unsigned long long)(in_state / PEER_MS), peer_conn_state_name(c->state));
        if (transport_up(c))
            send_bye(c, PEER_BYE_TIMEOUT, out);
        finish(c, now_ns, out);
        return;
    case PEER_CONN_ESTABLISHED: {
        uint64_t silent = elapsed(c->last_rx_ns, now_ns);
        if (silent >= c->cfg.lost_timeout_ns) {
            set_reason(c, out, "peer lost: nothing received for %llu ms (limit %llu ms)",
                       (unsigned long long)(silent / PEER_MS),
                       (unsigned long long)(c->cfg.lost_timeout_ns / PEER_MS));
            out->lost = true;
            send_bye(c, PEER_BYE_TIMEOUT, out); /* in case it is alive and merely stuck */
            finish(c, now_ns, out);
            return;
        }
        uint64_t last = c->ka_sent_ts ? c->ka_sent_ts : c->established_ns;
        if (elapsed(last, now_ns) < c->cfg.keepalive_interval_ns ||
            c->ka_count == PEER_CONN_KA_PENDING)
            return;
        /* Strictly increasing, so the echo identifies it even if the clock stood still. */
        uint64_t ts = now_ns > c->ka_sent_ts ? now_ns : c->ka_sent_ts + 1;
        struct peer_msg ka = {.type = PEER_T_KEEPALIVE, .timestamp = ts};
        send_msg(c, &ka, out);
        c->ka_sent_ts = ts;
        c->ka_pending[(c->ka_head + c->ka_count) % PEER_CONN_KA_PENDING] = ts;
        c->ka_count++;
        c->keepalives++;
        return;
    }
    case PEER_CONN_CLOSING:
        if (in_state >= c->cfg.close_timeout_ns)
            finish(c, now_ns, out);
        return;
    case PEER_CONN_CLOSED: return;
    }
}

void peer_conn_close(struct peer_conn *c, uint32_t bye_reason, uint64_t now_ns,
                     struct peer_conn_out *out)
{
    out_reset(out);
    if (c->state == PEER_CONN_CLOSING || c->state == PEER_CONN_CLOSED)
        return;
    set_reason(c, out, "closed here: %s", peer_bye_reason_name(bye_reason));
    if (c->state == PEER_CONN_CONNECTING) {
        finish(c, now_ns, out);
        return;
    }
    send_bye(c, bye_reason, out);
    set_state(c, PEER_CONN_CLOSING, now_ns);
}

void peer_conn_transport_closed(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out)
{
    out_reset(out);
    switch (c->state) {
    case PEER_CONN_CONNECTING: set_reason(c, out, "connection failed"); break;
    case PEER_CONN_HELLO_SENT:
    case PEER_CONN_HELLO_WAIT:
        set_reason(c, out, "connection closed during the handshake (%s)",
                   peer_conn_state_name(c->state));
        break;
    case PEER_CONN_ESTABLISHED:
        set_reason(c, out, "peer lost: connection closed without BYE");
        out->lost = true;
        break;
    case PEER_CONN_CLOSING: break;
    case PEER_CONN_CLOSED: return;
    }
    finish(c, now_ns, out);
}

/* The host id of the side that opened this TCP connection: the same from both ends. */
static uint64_t opener(const struct peer_conn *c)
{
    return c->initiator ? c->self.host_id : c->peer.host_id;
}

struct peer_conn *peer_conn_duplicate_loser(struct peer_conn *a, struct peer_conn *b)
{
    uint64_t oa = opener(a), ob = opener(b);

    if (oa != ob)
        return oa < ob ? b : a; /* the connection opened by the lower host id survives */
    /* Both opened by the same host: it reconnected, so the older connection is stale. */
    return a->established_ns <= b->established_ns ? a : b;
}
