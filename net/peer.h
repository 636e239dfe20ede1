/*
 * The peer layer: civic's connections to other civic hosts over lwIP's raw TCP API, running the
 * protocol of docs/protocol.md (net/peer_msg.h, net/peer_conn.h). The `peer` unit listens on
 * PEER_PORT once the network is up, ticks every connection from the monitor loop (keepalive,
 * loss), and reports lost and disconnected peers on the console. Services (net bench and rr now;
 * remote memory and migration later) register a handler for their message types and send
 * through peer_send_msg. Everything runs in the monitor loop.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "net/peer_conn.h"
#include "net/peer_msg.h"

#define PEER_MAX 8                    /* connections at a time */
#define PEER_TXQ_SIZE (64 * 1024)     /* a connection's output queue, beyond lwIP's send buffer */
#define PEER_TXQ_RESERVE 1024         /* kept free of service messages for the connection's own */
#define PEER_CAPS_OFFERED (PEER_CAP_BENCH | PEER_CAP_PAGE)
#define PEER_WATCHERS_MAX 4

struct peer; /* one connection; its address is valid only within the current callback or poll */

struct peer_info {
    uint32_t serial; /* numbers connections from 1, never reused: a stable handle */
    uint32_t ip;     /* the peer's IPv4 address, host order */
    uint64_t id;     /* the peer's host id (0 before the handshake) */
    enum peer_conn_state state;
    bool initiator;
    uint64_t rtt_ns; /* last keepalive round trip (0: none yet) */
    uint64_t tx_bytes, rx_bytes;
    uint64_t caps; /* accepted capabilities */
    char name[PEER_NAME_MAX + 1];
};

/* The connection timing (net/peer_conn.h): new connections take it, established ones too.
 * CIVIC_EINVAL (nothing changed) when peer_conn_config_check refuses it. */
civic_err peer_set_config(const struct peer_conn_config *cfg);
const struct peer_conn_config *peer_get_config(void);

/* This host's id (from the NIC's MAC); 0 until the network is up. */
uint64_t peer_self_id(void);
/* Connects to HOST:PEER_PORT. CIVIC_EEXIST if a connection to ip exists, CIVIC_ENOENT without a
 * network, CIVIC_EBUSY when PEER_MAX connections exist. */
civic_err peer_add(uint32_t ip);
/* Starts closing every connection to ip (BYE, shutdown); CIVIC_ENOENT if there is none. */
civic_err peer_remove(uint32_t ip);
/* Whether any connection to ip still exists (closing ones included). */
bool peer_exists(uint32_t ip);
/* Up to max connections, in table order; returns how many. */
size_t peer_list(struct peer_info *out, size_t max);

/* An established connection to ip whose accepted capabilities include caps, or NULL. */
struct peer *peer_find(uint32_t ip, uint64_t caps);
/* The connection with this serial if it still exists and is established, or NULL. */
struct peer *peer_by_serial(uint32_t serial);
void peer_get_info(const struct peer *p, struct peer_info *out);

/* Bytes a service may queue now (the reserve for the connection's own messages excluded). */
size_t peer_send_space(const struct peer *p);
/* Encodes m with the connection's sequence numbers and queues it: CIVIC_EBUSY (nothing sent,
 * no sequence number used) when it does not fit peer_send_space, CIVIC_EINVAL for a message
 * the encoder refuses, CIVIC_ENOENT when the connection is not established. */
civic_err peer_send_msg(struct peer *p, struct peer_msg *m);

/* A service's handler for the message types [first, last]; m is valid during the call only.
 * The connection layer has checked the capability. The handler may send and may close. */
typedef void (*peer_service_fn)(struct peer *p, const struct peer_msg *m);
civic_err peer_register_service(uint16_t first, uint16_t last, peer_service_fn fn);

/* Bytes queued for this connection that lwIP has not taken yet: a bulk sender (eviction) keeps
 * this small, so a message sent after it (a page request) waits behind little. */
size_t peer_send_queued(const struct peer *p);

/* Connection events for services that keep state per peer host (remote memory): UP once the
 * handshake is done, DOWN when an announced connection ends (lost: it stopped answering, as
 * opposed to closing). info is valid during the call only; the connection may not be used from a
 * DOWN callback. */
enum peer_event { PEER_EV_UP, PEER_EV_DOWN };
typedef void (*peer_watch_fn)(enum peer_event ev, const struct peer_info *info, bool lost);
civic_err peer_register_watcher(peer_watch_fn fn);
