/*
 * The peer layer on lwIP's raw TCP API (net/peer.h). Each connection is a kmalloc'd struct
 * holding its TCP pcb, its decoder (net/peer_msg.h), its state machine (net/peer_conn.h) and an
 * output queue (net/peer_txq.h) drained into lwIP as its send buffer frees up: nothing ever
 * waits inside an lwIP callback. A connection that ends is marked dead and freed on the next
 * poll, outside lwIP's callbacks, with everything it held.
 */
#include "net/peer.h"

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"

#include "kernel/arch.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "kernel/unit.h"
#include "mm/kmalloc.h"
#include "net/net.h"
#include "net/net_config.h"
#include "net/net_int.h"
#include "net/peer_services.h"
#include "net/peer_txq.h"

#define POLL_INTERVAL 2 /* lwIP's tcp_poll, in its coarse ticks (500 ms): a backstop for flush */

struct peer {
    uint32_t serial;
    uint32_t ip; /* host order */
    bool dead;   /* ended: freed on the next poll */
    bool announced; /* watchers were told it is up (so they hear when it goes) */
    struct tcp_pcb *pcb;
    struct peer_conn conn;
    struct peer_txq txq;
    uint64_t tx_bytes, rx_bytes;
    uint8_t *txq_store;
    struct peer_rx rx; /* last: the big one */
};

static struct peer *peers[PEER_MAX];
static struct tcp_pcb *listener;
static bool listen_tried; /* once: a failure to listen is logged once, not every turn */
static uint64_t self_id;
static uint32_t next_serial = 1;
static struct peer_conn_config config;
static struct peer_hello self_hello;
/* Set when a callback's own pcb was aborted: the callback must then return ERR_ABRT. */
static bool cb_aborted;
static uint8_t encode_buf[PEER_MSG_MAX];

uint64_t peer_self_id(void)
{
    return self_id;
}

civic_err peer_set_config(const struct peer_conn_config *cfg)
{
    if (peer_conn_config_check(cfg) != CIVIC_OK)
        return trace_error(CIVIC_EINVAL);
    config = *cfg;
    for (size_t i = 0; i < PEER_MAX; i++)
        if (peers[i])
            peers[i]->conn.cfg = config;
    return CIVIC_OK;
}

const struct peer_conn_config *peer_get_config(void)
{
    return &config;
}

static void announce(struct peer *p, enum peer_event ev, bool lost)
{
    struct peer_info info;
    peer_get_info(p, &info);
    p->announced = ev == PEER_EV_UP;
    peer_services_announce(ev, &info, lost);
}

static void fmt_ip(uint32_t ip, char buf[NET_IPV4_STR_MAX])
{
    net_format_ipv4(ip, buf);
}

/* ---- output ---- */

/* Moves queued bytes into lwIP as far as its send buffer and segment queue allow. */
static void flush(struct peer *p)
{
    if (!p->pcb)
        return;
    bool wrote = false;
    for (;;) {
        size_t n;
        const uint8_t *d = peer_txq_peek(&p->txq, &n);
        size_t room = tcp_sndbuf(p->pcb);
        if (!n || !room)
            break;
        if (n > room)
            n = room;
        if (n > 0xffff)
            n = 0xffff;
        u8_t more = n < peer_txq_len(&p->txq) ? TCP_WRITE_FLAG_MORE : 0;
        if (tcp_write(p->pcb, d, (u16_t)n, TCP_WRITE_FLAG_COPY | more) != ERR_OK)
            break; /* ERR_MEM: out of segments; the sent callback tries again */
        peer_txq_consume(&p->txq, n);
        p->tx_bytes += n;
        wrote = true;
    }
    if (wrote)
        tcp_output(p->pcb);
}

/* Detaches the pcb: lwIP finishes sending what it holds, then closes (or resets when abort). */
static void drop_pcb(struct peer *p, bool abort)
{
    struct tcp_pcb *pcb = p->pcb;
    if (!pcb)
        return;
    p->pcb = NULL;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    if (abort || tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
        cb_aborted = true;
    }
}

static void apply(struct peer *p, const struct peer_conn_out *out, const struct peer_msg *m);

static void report_end(struct peer *p, const struct peer_conn_out *out)
{
    char ip[NET_IPV4_STR_MAX];
    fmt_ip(p->ip, ip);
    const char *why = out->reason ? out->reason : p->conn.reason;
    if (out->lost) {
        static const char prefix[] = "peer lost: ";
        if (strncmp(why, prefix, sizeof prefix - 1) == 0)
            why += sizeof prefix - 1;
        log_warn("peer: %s (id 0x%llx) lost: %s", ip, (unsigned long long)p->conn.peer.host_id,
                 why);
    } else {
        log_info("peer: %s (id 0x%llx) disconnected: %s", ip,
                 (unsigned long long)p->conn.peer.host_id, why);
    }
}

static void queue_control(struct peer *p, const uint8_t *bytes, size_t n)
{
    if (peer_txq_push(&p->txq, bytes, n) == CIVIC_OK) {
        flush(p);
        return;
    }
    /* Only a peer that stops reading while we must answer it gets here: it is as good as lost. */
    struct peer_conn_out out;
    peer_conn_rx_failed(&p->conn, "output queue full (the peer does not read)", arch_time_ns(),
                        &out);
    out.tx_len = 0;
    apply(p, &out, NULL);
}

static struct peer *conn_owner(struct peer_conn *c)
{
    return (struct peer *)((uint8_t *)c - offsetof(struct peer, conn));
}

static void on_established(struct peer *p)
{
    char ip[NET_IPV4_STR_MAX];
    fmt_ip(p->ip, ip);
    log_info("peer: %s (id 0x%llx, %s) established, caps 0x%llx", ip,
             (unsigned long long)p->conn.peer.host_id, p->conn.peer.name,
             (unsigned long long)p->conn.caps);
    for (size_t i = 0; i < PEER_MAX; i++) {
        struct peer *q = peers[i];
        if (!q || q == p || q->dead || q->conn.state != PEER_CONN_ESTABLISHED ||
            q->conn.peer.host_id != p->conn.peer.host_id)
            continue;
        struct peer *loser = conn_owner(peer_conn_duplicate_loser(&q->conn, &p->conn));
        struct peer_conn_out out;
        peer_conn_close(&loser->conn, PEER_BYE_DUPLICATE, arch_time_ns(), &out);
        apply(loser, &out, NULL);
        if (loser == p)
            return;
        break;
    }
    if (!p->dead && p->conn.state == PEER_CONN_ESTABLISHED)
        announce(p, PEER_EV_UP, false);
}

/* Carries out what the state machine answered to one event. */
static void apply(struct peer *p, const struct peer_conn_out *out, const struct peer_msg *m)
{
    if (p->dead)
        return;
    if (out->tx_len)
        queue_control(p, out->tx, out->tx_len);
    if (p->dead)
        return;
    if (out->established)
        on_established(p);
    if (out->deliver && m && p->conn.state == PEER_CONN_ESTABLISHED)
        peer_services_dispatch(p, m);
    if (out->close && !p->dead) {
        report_end(p, out);
        flush(p);
        /* A lost peer will not read our BYE: reset, so lwIP frees its buffers at once. */
        drop_pcb(p, out->lost);
        p->dead = true;
        if (p->announced)
            announce(p, PEER_EV_DOWN, out->lost);
    }
}

/* ---- input ---- */

static void feed(struct peer *p, const uint8_t *data, size_t len)
{
    struct peer_conn_out out;
    while (len && !p->dead) {
        size_t used = 0;
        struct peer_msg m;
        enum peer_rx_status st = peer_rx_feed(&p->rx, data, len, &used, &m);
        uint64_t now = arch_time_ns();
        if (st == PEER_RX_ERROR) {
            peer_conn_rx_failed(&p->conn, peer_rx_why(&p->rx), now, &out);
            apply(p, &out, NULL);
            return;
        }
        data += used;
        len -= used;
        if (st == PEER_RX_MSG) {
            peer_conn_received(&p->conn, &m, now, &out);
            apply(p, &out, &m);
        }
    }
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *pb, err_t err)
{
    struct peer *p = arg;
    cb_aborted = false;
    if (!pb) {
        if (p && !p->dead) {
            struct peer_conn_out out;
            uint64_t now = arch_time_ns();
            if (peer_rx_end(&p->rx) != PEER_E_NONE)
                peer_conn_rx_failed(&p->conn, peer_rx_why(&p->rx), now, &out);
            else
                peer_conn_transport_closed(&p->conn, now, &out);
            apply(p, &out, NULL);
        }
        return cb_aborted ? ERR_ABRT : ERR_OK;
    }
    /* Acknowledge first: the decoder copies what it keeps, and a close with unacknowledged
     * data would make lwIP reset the connection before our BYE goes out. */
    tcp_recved(pcb, pb->tot_len);
    if (p && !p->dead && err == ERR_OK) {
        p->rx_bytes += pb->tot_len;
        for (struct pbuf *q = pb; q && !p->dead; q = q->next)
            feed(p, q->payload, q->len);
    }
    pbuf_free(pb);
    return cb_aborted ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    struct peer *p = arg;
    cb_aborted = false;
    if (p && !p->dead)
        flush(p);
    return cb_aborted ? ERR_ABRT : ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    return on_sent(arg, pcb, 0);
}

/* lwIP has freed the pcb already: forget it, never touch it. */
static void on_err(void *arg, err_t err)
{
    struct peer *p = arg;
    if (!p || p->dead)
        return;
    p->pcb = NULL;
    struct peer_conn_out out;
    peer_conn_transport_closed(&p->conn, arch_time_ns(), &out);
    if (!out.reason)
        out.reason = p->conn.reason;
    log_debug("peer: lwIP reports error %d on a connection", (int)err);
    apply(p, &out, NULL);
    p->dead = true;
}

/* ---- connections ---- */

static struct peer *new_peer(uint32_t ip, bool initiator)
{
    size_t slot = PEER_MAX;
    for (size_t i = 0; i < PEER_MAX; i++) {
        if (!peers[i]) {
            slot = i;
            break;
        }
    }
    if (slot == PEER_MAX)
        return NULL;
    struct peer *p = kzalloc(sizeof *p);
    if (!p)
        return NULL;
    p->txq_store = kmalloc(PEER_TXQ_SIZE);
    if (!p->txq_store ||
        peer_conn_init(&p->conn, &config, &self_hello, initiator, arch_time_ns()) != CIVIC_OK) {
        kfree(p->txq_store);
        kfree(p);
        return NULL;
    }
    peer_txq_init(&p->txq, p->txq_store, PEER_TXQ_SIZE);
    peer_rx_init(&p->rx);
    p->ip = ip;
    p->serial = next_serial++;
    peers[slot] = p;
    return p;
}

static void free_peer(size_t slot)
{
    struct peer *p = peers[slot];
    peers[slot] = NULL;
    kfree(p->txq_store);
    kfree(p);
}

static void attach_pcb(struct peer *p, struct tcp_pcb *pcb)
{
    p->pcb = pcb;
    tcp_arg(pcb, p);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, on_poll, POLL_INTERVAL);
    tcp_nagle_disable(pcb); /* rr and keepalives are latency-bound; bulk data fills segments */
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)pcb;
    struct peer *p = arg;
    cb_aborted = false;
    if (!p || p->dead || err != ERR_OK)
        return ERR_OK;
    struct peer_conn_out out;
    peer_conn_connected(&p->conn, arch_time_ns(), &out);
    apply(p, &out, NULL);
    return cb_aborted ? ERR_ABRT : ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    uint32_t ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
    struct peer *p = new_peer(ip, false);
    if (!p) {
        char s[NET_IPV4_STR_MAX];
        fmt_ip(ip, s);
        log_warn("peer: refused a connection from %s: no room (%u peers at most)", s, PEER_MAX);
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    attach_pcb(p, pcb);
    struct peer_conn_out out;
    peer_conn_connected(&p->conn, arch_time_ns(), &out);
    apply(p, &out, NULL);
    return ERR_OK;
}

bool peer_exists(uint32_t ip)
{
    for (size_t i = 0; i < PEER_MAX; i++)
        if (peers[i] && !peers[i]->dead && peers[i]->ip == ip)
            return true;
    return false;
}

civic_err peer_add(uint32_t ip)
{
    if (!listener)
        return trace_error(CIVIC_ENOENT);
    if (peer_exists(ip))
        return trace_error(CIVIC_EEXIST);
    struct peer *p = new_peer(ip, true);
    if (!p)
        return trace_error(CIVIC_EBUSY);
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb) {
        p->dead = true; /* freed on the next poll */
        return trace_error(CIVIC_ENOMEM);
    }
    attach_pcb(p, pcb);
    ip_addr_t to;
    ip_addr_set_ip4_u32_val(to, lwip_htonl(ip));
    if (tcp_connect(pcb, &to, PEER_PORT, on_connected) != ERR_OK) {
        drop_pcb(p, false);
        p->dead = true;
        return trace_error(CIVIC_EIO);
    }
    return CIVIC_OK;
}

civic_err peer_remove(uint32_t ip)
{
    bool found = false;
    for (size_t i = 0; i < PEER_MAX; i++) {
        struct peer *p = peers[i];
        if (!p || p->dead || p->ip != ip)
            continue;
        found = true;
        struct peer_conn_out out;
        peer_conn_close(&p->conn, PEER_BYE_SHUTDOWN, arch_time_ns(), &out);
        apply(p, &out, NULL);
    }
    return found ? CIVIC_OK : trace_error(CIVIC_ENOENT);
}

void peer_get_info(const struct peer *p, struct peer_info *out)
{
    memset(out, 0, sizeof *out);
    out->serial = p->serial;
    out->ip = p->ip;
    out->state = p->conn.state;
    out->initiator = p->conn.initiator;
    out->tx_bytes = p->tx_bytes;
    out->rx_bytes = p->rx_bytes;
    out->rtt_ns = p->conn.rtt_ns;
    if (p->conn.state >= PEER_CONN_ESTABLISHED) {
        out->id = p->conn.peer.host_id;
        out->caps = p->conn.caps;
        memcpy(out->name, p->conn.peer.name, sizeof out->name);
    }
}

size_t peer_list(struct peer_info *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < PEER_MAX && n < max; i++)
        if (peers[i] && !peers[i]->dead)
            peer_get_info(peers[i], &out[n++]);
    return n;
}

struct peer *peer_find(uint32_t ip, uint64_t caps)
{
    for (size_t i = 0; i < PEER_MAX; i++) {
        struct peer *p = peers[i];
        if (p && !p->dead && p->ip == ip && p->conn.state == PEER_CONN_ESTABLISHED &&
            (p->conn.caps & caps) == caps)
            return p;
    }
    return NULL;
}

struct peer *peer_by_serial(uint32_t serial)
{
    for (size_t i = 0; i < PEER_MAX; i++) {
        struct peer *p = peers[i];
        if (p && !p->dead && p->serial == serial && p->conn.state == PEER_CONN_ESTABLISHED)
            return p;
    }
    return NULL;
}

size_t peer_send_space(const struct peer *p)
{
    size_t space = peer_txq_space(&p->txq);
    return space > PEER_TXQ_RESERVE ? space - PEER_TXQ_RESERVE : 0;
}

size_t peer_send_queued(const struct peer *p)
{
    return peer_txq_len(&p->txq);
}

civic_err peer_send_msg(struct peer *p, struct peer_msg *m)
{
    if (p->dead || p->conn.state != PEER_CONN_ESTABLISHED)
        return trace_error(CIVIC_ENOENT);
    struct peer_tx tx = p->conn.tx; /* the sequence number is used only if the message goes */
    size_t len = 0;
    civic_err e = peer_tx_encode(&tx, m, encode_buf, sizeof encode_buf, &len);
    if (e != CIVIC_OK)
        return e;
    if (len > peer_send_space(p))
        return CIVIC_EBUSY; /* the caller waits: not an error worth tracing */
    peer_txq_push(&p->txq, encode_buf, len);
    p->conn.tx = tx;
    flush(p);
    return CIVIC_OK;
}

/* ---- the unit ---- */

static void start_listening(struct netif *n)
{
    uint64_t id = 0;
    for (int i = 0; i < 6; i++)
        id = id << 8 | n->hwaddr[i];
    self_id = id ? id : 1;
    memset(&self_hello, 0, sizeof self_hello);
    self_hello.host_id = self_id;
    self_hello.caps = PEER_CAPS_OFFERED;
    self_hello.port = PEER_PORT;
    ksnprintf(self_hello.name, sizeof self_hello.name, "civic-%012llx",
              (unsigned long long)self_id);

    struct tcp_pcb *pcb = tcp_new();
    if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, PEER_PORT) != ERR_OK) {
        if (pcb)
            tcp_close(pcb);
        log_err("peer: cannot bind TCP port %u; peers are off", PEER_PORT);
        return;
    }
    listener = tcp_listen(pcb);
    if (!listener) {
        log_err("peer: cannot listen on TCP port %u; peers are off", PEER_PORT);
        return;
    }
    tcp_accept(listener, on_accept);
    log_info("peer: host id 0x%llx listening on TCP port %u", (unsigned long long)self_id,
             PEER_PORT);
}

static bool peer_poll(void)
{
    if (net_stopped)
        return false;
    if (!listen_tried) {
        struct netif *n = net_netif();
        if (!n)
            return false;
        listen_tried = true;
        start_listening(n);
    }
    bool busy = false;
    uint64_t now = arch_time_ns();
    for (size_t i = 0; i < PEER_MAX; i++) {
        struct peer *p = peers[i];
        if (!p)
            continue;
        if (!p->dead) {
            struct peer_conn_out out;
            cb_aborted = false;
            peer_conn_tick(&p->conn, now, &out);
            apply(p, &out, NULL);
            if (!p->dead && peer_txq_len(&p->txq)) {
                flush(p);
                busy = true;
            }
        }
        if (p->dead) {
            free_peer(i);
            busy = true;
        }
    }
    return busy;
}

static civic_err peer_init(void)
{
    config = PEER_CONN_CONFIG_DEFAULT;
    return peer_conn_config_check(&config);
}

CIVIC_UNIT(peer, peer_init, peer_poll);
