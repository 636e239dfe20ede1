/*
 * One peer connection's state machine. Pure: it is told what happened (the transport connected,
 * a decoded message arrived, the decoder refused the stream, time passed, the transport closed,
 * the host wants to close) and answers in a struct peer_conn_out (bytes to send, close the
 * transport, the handshake finished, the peer is lost, pass this message up). The caller owns
 * the TCP connection and the decoder, logs out->reason and reports lost peers on the console.
 *
 *   initiator: CONNECTING --connected/HELLO--> HELLO_SENT --HELLO_ACK--> ESTABLISHED
 *   acceptor:  CONNECTING --connected--> HELLO_WAIT --HELLO/HELLO_ACK--> ESTABLISHED
 *   ESTABLISHED --local close/BYE--> CLOSING --transport closed, BYE or timeout--> CLOSED
 *   any state --error, timeout, loss, peer's BYE--> CLOSED
 *
 * docs/protocol.md ("Connections") is the specification.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "net/peer_msg.h"

struct peer_conn_config {
    uint64_t handshake_timeout_ns;  /* connect + handshake must finish within this */
    uint64_t keepalive_interval_ns; /* a KEEPALIVE this often while established */
    uint64_t lost_timeout_ns;       /* no message at all for this long: the peer is lost */
    uint64_t close_timeout_ns;      /* after our BYE, wait this long for the peer to close */
};

#define PEER_MS 1000000ull
#define PEER_CONN_CONFIG_DEFAULT                                                                   \
    ((struct peer_conn_config){.handshake_timeout_ns = 5000 * PEER_MS,                             \
                               .keepalive_interval_ns = 1000 * PEER_MS,                            \
                               .lost_timeout_ns = 5000 * PEER_MS,                                  \
                               .close_timeout_ns = 2000 * PEER_MS})

/* CIVIC_EINVAL unless every time is nonzero and the keepalive interval is below the loss
 * timeout (otherwise a healthy idle peer would be declared lost). */
civic_err peer_conn_config_check(const struct peer_conn_config *cfg);

enum peer_conn_state {
    PEER_CONN_CONNECTING, /* transport not up yet */
    PEER_CONN_HELLO_SENT, /* initiator: HELLO sent, waiting for HELLO_ACK */
    PEER_CONN_HELLO_WAIT, /* acceptor: waiting for HELLO */
    PEER_CONN_ESTABLISHED,
    PEER_CONN_CLOSING, /* our BYE sent, waiting for the transport to close */
    PEER_CONN_CLOSED,
};

/* Keepalives awaiting their ACK; beyond this many none are sent (the loss timer decides). */
#define PEER_CONN_KA_PENDING 8

struct peer_conn {
    enum peer_conn_state state;
    bool initiator;
    struct peer_conn_config cfg;
    struct peer_hello self; /* what we announce (accepted unused) */
    struct peer_hello peer; /* what the peer announced, from ESTABLISHED on */
    uint64_t caps;          /* the accepted capabilities, from ESTABLISHED on */
    uint16_t version;       /* the protocol version in use, from ESTABLISHED on */
    struct peer_tx tx;      /* numbers everything sent on this connection, services' too */
    uint64_t state_since_ns;
    uint64_t established_ns;
    uint64_t last_rx_ns;                       /* the last message received */
    uint64_t ka_sent_ts;                       /* the last KEEPALIVE's timestamp (0: none yet) */
    uint64_t ka_pending[PEER_CONN_KA_PENDING]; /* unanswered timestamps, oldest at ka_head */
    uint8_t ka_head;
    uint8_t ka_count;
    uint64_t rtt_ns; /* the last round trip; 0 until one was measured */
    uint64_t rtt_min_ns;
    uint64_t keepalives; /* KEEPALIVEs sent */
    char reason[128];    /* why the connection ended or is ending */
};

#define PEER_CONN_TX_MAX 128 /* the most a single event sends: one HELLO_ACK */

struct peer_conn_out {
    uint8_t tx[PEER_CONN_TX_MAX]; /* send these bytes, in order */
    size_t tx_len;
    bool close;       /* then close the transport: the connection is over (state CLOSED) */
    bool established; /* the handshake finished: peer and caps are valid */
    bool lost;        /* the peer was lost (silent, or gone without BYE): report it */
    bool deliver;     /* the message belongs to a service above (bench, rr; later page, migrate) */
    bool rtt;         /* a KEEPALIVE_ACK measured a round trip: rtt_ns */
    const char *reason; /* set when the connection ends or starts ending: conn->reason */
};

/* self: host_id (nonzero), caps, port, name (valid for HELLO); version is filled in.
 * CIVIC_EINVAL (c untouched) for a bad identity or configuration. */
civic_err peer_conn_init(struct peer_conn *c, const struct peer_conn_config *cfg,
                         const struct peer_hello *self, bool initiator, uint64_t now_ns);

/* Every event fills *out afresh. */
void peer_conn_connected(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out);
void peer_conn_received(struct peer_conn *c, const struct peer_msg *m, uint64_t now_ns,
                        struct peer_conn_out *out);
void peer_conn_rx_failed(struct peer_conn *c, const char *why, uint64_t now_ns,
                         struct peer_conn_out *out);
void peer_conn_tick(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out);
void peer_conn_close(struct peer_conn *c, uint32_t bye_reason, uint64_t now_ns,
                     struct peer_conn_out *out);
void peer_conn_transport_closed(struct peer_conn *c, uint64_t now_ns, struct peer_conn_out *out);

/* Simultaneous open: a and b are established connections to the same peer host. Returns the
 * one to close (with PEER_BYE_DUPLICATE); both hosts pick the same TCP connection. */
struct peer_conn *peer_conn_duplicate_loser(struct peer_conn *a, struct peer_conn *b);

const char *peer_conn_state_name(enum peer_conn_state s);
const char *peer_bye_reason_name(uint32_t reason);
