/*
 * The peer protocol's messages: constants, the decoded form, the encoders and the incremental
 * decoder. Pure (no I/O, no allocation): compiled into the kernel, the host unit tests and the
 * fuzz target. docs/protocol.md is the specification; the numbers below are written once, here.
 *
 * Every message is a 32-byte header followed by a payload, all integers big-endian:
 *
 *   offset size field
 *        0    4 magic     PEER_MAGIC, "CVPR"
 *        4    2 version   PEER_VERSION
 *        6    2 type      enum peer_type
 *        8    4 length    whole message, header included: PEER_HDR_LEN .. PEER_MSG_MAX
 *       12    4 reserved  zero
 *       16    8 seq       the sender's message counter: exactly previous + 1 per direction
 *       24    8 sender    the sender's host id, nonzero, fixed by its handshake message
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define PEER_PORT 7700u        /* the well-known TCP port (docs/protocol.md says why) */
#define PEER_MAGIC 0x43565052u /* "CVPR": civic peer */
#define PEER_VERSION 1u
#define PEER_HDR_LEN 32u
#define PEER_MSG_MAX 8192u /* the longest message, header included */
#define PEER_NAME_MAX 32u  /* host name bytes on the wire, NUL padded */
#define PEER_RR_SIZE 4096u /* the RR_RESPONSE payload: one page */
#define PEER_BENCH_MAX (PEER_MSG_MAX - PEER_HDR_LEN)

enum peer_type {
    /* 0x0001-0x00ff: the connection itself */
    PEER_T_HELLO = 0x0001,
    PEER_T_HELLO_ACK = 0x0002,
    PEER_T_KEEPALIVE = 0x0003,
    PEER_T_KEEPALIVE_ACK = 0x0004,
    PEER_T_BYE = 0x0005,
    /* 0x0100-0x01ff: measurement (`net bench`, `net rr`), capability PEER_CAP_BENCH */
    PEER_T_BENCH_DATA = 0x0100,
    PEER_T_BENCH_DONE = 0x0101,
    PEER_T_RR_REQUEST = 0x0102,
    PEER_T_RR_RESPONSE = 0x0103,
    /* 0x0200-0x02ff: remote memory (the page store), capability PEER_CAP_PAGE */
    PEER_T_PAGE_FIRST = 0x0200,
    PEER_T_PAGE_PUT = 0x0200,     /* owner -> store: keep this page; answered by PAGE_PUT_ACK */
    PEER_T_PAGE_PUT_ACK = 0x0201, /* store -> owner */
    PEER_T_PAGE_GET = 0x0202,     /* owner -> store: send it back; answered by PAGE_DATA */
    PEER_T_PAGE_DATA = 0x0203,    /* store -> owner */
    PEER_T_PAGE_FREE = 0x0204,    /* owner -> store: drop one page; no answer */
    PEER_T_PAGE_FREE_VM = 0x0205, /* owner -> store: drop a VM's (or all) pages; no answer */
    PEER_T_PAGE_LAST = 0x02ff,    /* 0x0206-0x02ff: unassigned, refused */
    /* Reserved, unknown to version 1 decoders (so they are refused until defined). */
    PEER_T_MIGRATE_FIRST = 0x0300, /* live migration, capability PEER_CAP_MIGRATE */
    PEER_T_MIGRATE_LAST = 0x03ff,
};

/* Capabilities (HELLO): a bit per service. Unknown bits are ignored by a receiver and never
 * accepted; a service's message types may only be sent once both sides accepted its bit. */
#define PEER_CAP_BENCH (1ull << 0)
#define PEER_CAP_PAGE (1ull << 1)    /* remote memory: PAGE_* in both directions */
#define PEER_CAP_MIGRATE (1ull << 2) /* reserved: live migration */

/* BYE reasons. A receiver accepts any value (it only logs it). */
enum peer_bye_reason {
    PEER_BYE_SHUTDOWN = 0,  /* the operator or the host closed the connection */
    PEER_BYE_PROTOCOL = 1,  /* the sender received a malformed or unexpected message */
    PEER_BYE_TIMEOUT = 2,   /* the handshake did not finish in time */
    PEER_BYE_DUPLICATE = 3, /* simultaneous open: this is the connection that loses */
    PEER_BYE_SELF = 4,      /* the connection leads back to the sender itself */
};

/* HELLO and HELLO_ACK. `accepted` is HELLO_ACK's only. */
struct peer_hello {
    uint64_t host_id;
    uint64_t caps;
    uint64_t accepted; /* HELLO_ACK: the capabilities both sides will use, a subset of caps */
    uint16_t version;  /* the highest protocol version the sender speaks, >= 1 */
    uint16_t port;     /* where the sender listens for peers (0: it does not) */
    char name[PEER_NAME_MAX + 1]; /* 1-32 of [A-Za-z0-9._-], NUL-terminated */
};

/* ---- PAGE_*: the owner of a page is the message's sender (its handshake id) ---- */

#define PEER_PAGE_SIZE 4096u
#define PEER_VM_ALL 0xffffffffu          /* PAGE_FREE_VM: every page of the sender */
#define PEER_PAGE_GFN_LIMIT (1ull << 40) /* gfn must be below: 4 PiB of guest memory */

/* PAGE_PUT_ACK and PAGE_DATA status. */
enum peer_page_status {
    PEER_PAGE_OK = 0,
    PEER_PAGE_FULL = 1,    /* PUT_ACK: no room (the owner tries another peer or keeps the page) */
    PEER_PAGE_CORRUPT = 2, /* PUT_ACK: the data did not match its CRC; DATA: the stored copy no
                            * longer does */
    PEER_PAGE_ABSENT = 3,  /* DATA: no page under this key at this version */
    PEER_PAGE_STALE = 4,   /* PUT_ACK: a newer version is stored (this one was not) */
    PEER_PAGE_STATUS_COUNT
};

const char *peer_page_status_name(uint32_t status); /* "OK", ..., "?" */

/* Every PAGE_* type's fields (each type uses those of docs/protocol.md's table; the others are
 * ignored by the encoder and zero from the decoder). */
struct peer_page {
    uint32_t vm;      /* != PEER_VM_ALL, except in FREE_VM */
    uint32_t version; /* the page's version (mm/page_record.h) */
    uint64_t gfn;     /* < PEER_PAGE_GFN_LIMIT */
    uint32_t status;  /* PUT_ACK, DATA: enum peer_page_status */
    uint32_t crc;     /* PUT, DATA: CRC-32C (net/peer_csum.h) of data, as the owner computed it;
                       * DATA with a status other than OK: 0. The receiver checks it, not the
                       * decoder. */
    /* PUT, DATA: PEER_PAGE_SIZE bytes. A DATA whose status is not OK may pass NULL (zeros are
     * sent); decoded, it points at the bytes received, which mean nothing. */
    const uint8_t *data;
};

/* One message, decoded. Payload pointers refer into the decoder's buffer or the bytes given to
 * peer_rx_feed: valid until the next peer_rx_feed call, and while those bytes are unchanged. */
struct peer_msg {
    uint16_t type;
    uint32_t length; /* header included (filled in by the decoder and the encoder) */
    uint64_t seq;
    uint64_t sender;
    union {
        struct peer_hello hello; /* HELLO, HELLO_ACK */
        uint64_t timestamp;      /* KEEPALIVE (sender's clock, ns), KEEPALIVE_ACK (echoed) */
        uint32_t bye_reason;     /* BYE: enum peer_bye_reason, or any other value */
        struct {
            const uint8_t *data;
            uint32_t len; /* 0 .. PEER_BENCH_MAX */
        } bench;          /* BENCH_DATA */
        struct {
            uint64_t total_bytes; /* BENCH_DATA payload bytes sent */
            uint32_t crc;         /* peer_csum over those bytes, in order */
        } done;                   /* BENCH_DONE */
        struct {
            uint64_t id;
            uint32_t size; /* PEER_RR_SIZE */
        } rr_req;          /* RR_REQUEST */
        struct {
            uint64_t id;
            const uint8_t *data; /* PEER_RR_SIZE bytes */
        } rr_resp;               /* RR_RESPONSE */
        struct peer_page page;   /* PAGE_* */
    };
};

/* Why a stream was refused. After one, the decoder refuses everything (docs/protocol.md). */
enum peer_err {
    PEER_E_NONE = 0,
    PEER_E_TRUNCATED, /* the stream ended inside a message */
    PEER_E_MAGIC,
    PEER_E_VERSION,
    PEER_E_RESERVED,  /* header reserved field not zero */
    PEER_E_TOO_SHORT, /* length below the header's */
    PEER_E_TOO_LONG,  /* length above PEER_MSG_MAX */
    PEER_E_TYPE,      /* unknown or reserved type */
    PEER_E_LENGTH,    /* length wrong for the type */
    PEER_E_HANDSHAKE, /* the first message not HELLO, HELLO_ACK or BYE; a second HELLO* */
    PEER_E_SENDER,    /* sender id zero, or not the handshake's */
    PEER_E_SEQUENCE,  /* seq not exactly previous + 1 */
    PEER_E_FIELD,     /* a payload field out of its range */
    PEER_E_COUNT
};

const char *peer_err_name(enum peer_err e);
const char *peer_type_name(uint16_t type); /* "HELLO", ..., "?" */
bool peer_type_known(uint16_t type);

/* The payload length a type requires, or -1 when it varies (BENCH_DATA) or the type is unknown. */
int peer_payload_len(uint16_t type);

/* Checks a decoded or to-be-encoded message's fields (not seq, not the handshake order). */
enum peer_err peer_msg_check(const struct peer_msg *m);

/* Encodes m (type, seq, sender and the type's fields; length is computed) into buf. Returns
 * CIVIC_EINVAL for a message that peer_msg_check refuses, CIVIC_ERANGE when cap is too small. */
civic_err peer_msg_encode(const struct peer_msg *m, uint8_t *buf, size_t cap, size_t *len);

/* ---- sending: one peer_tx per connection numbers the messages ---- */

struct peer_tx {
    uint64_t sender;
    uint64_t next_seq;
};

void peer_tx_init(struct peer_tx *tx, uint64_t host_id, uint64_t first_seq);

/* Each encodes one message with the next sequence number (consumed only on success). */
civic_err peer_tx_encode(struct peer_tx *tx, struct peer_msg *m, uint8_t *buf, size_t cap,
                         size_t *len);
civic_err peer_encode_hello(struct peer_tx *tx, uint16_t type, const struct peer_hello *h,
                            uint8_t *buf, size_t cap, size_t *len);
civic_err peer_encode_keepalive(struct peer_tx *tx, uint16_t type, uint64_t timestamp, uint8_t *buf,
                                size_t cap, size_t *len);
civic_err peer_encode_bye(struct peer_tx *tx, uint32_t reason, uint8_t *buf, size_t cap,
                          size_t *len);
civic_err peer_encode_bench_data(struct peer_tx *tx, const void *data, uint32_t n, uint8_t *buf,
                                 size_t cap, size_t *len);
civic_err peer_encode_bench_done(struct peer_tx *tx, uint64_t total_bytes, uint32_t crc,
                                 uint8_t *buf, size_t cap, size_t *len);
civic_err peer_encode_rr_request(struct peer_tx *tx, uint64_t id, uint8_t *buf, size_t cap,
                                 size_t *len);
civic_err peer_encode_rr_response(struct peer_tx *tx, uint64_t id, const void *page, uint8_t *buf,
                                  size_t cap, size_t *len);
/* Any PAGE_* type (CIVIC_EINVAL for another type). */
civic_err peer_encode_page(struct peer_tx *tx, uint16_t type, const struct peer_page *pg,
                           uint8_t *buf, size_t cap, size_t *len);

/* ---- receiving: an incremental decoder over one direction of a TCP stream ---- */

struct peer_rx {
    enum peer_err err;
    bool started;    /* the handshake message has been accepted */
    uint32_t have;   /* bytes of the current message in buf */
    uint32_t need;   /* its length, once its header passed (else 0) */
    uint64_t sender; /* fixed by the handshake message */
    uint64_t next_seq;
    uint64_t offset;    /* stream bytes consumed */
    uint64_t msg_start; /* where the current message began, for messages about errors */
    uint64_t messages;  /* messages returned */
    char why[96];       /* the error in words, with the values involved */
    uint8_t buf[PEER_MSG_MAX];
};

enum peer_rx_status {
    PEER_RX_ERROR = -1, /* refused: peer_rx_error()/peer_rx_why() say why; nothing more ever */
    PEER_RX_MORE = 0,   /* all bytes consumed, no complete message yet */
    PEER_RX_MSG = 1,    /* *msg is a complete, validated message; *used bytes consumed */
};

void peer_rx_init(struct peer_rx *rx);

/* Consumes bytes up to the end of at most one message. Call again with the rest (data + *used)
 * until it returns PEER_RX_MORE. */
enum peer_rx_status peer_rx_feed(struct peer_rx *rx, const uint8_t *data, size_t len, size_t *used,
                                 struct peer_msg *msg);

/* The stream ended (the peer closed): PEER_E_TRUNCATED when it ended inside a message. */
enum peer_err peer_rx_end(struct peer_rx *rx);

static inline enum peer_err peer_rx_error(const struct peer_rx *rx)
{
    return rx->err;
}

static inline const char *peer_rx_why(const struct peer_rx *rx)
{
    return rx->why;
}
