/*
 * The peer protocol's codec. The decoder checks a header as soon as its 32 bytes are in, so a
 * bad or oversized message is refused before its payload is waited for, and it accepts only the
 * canonical encoding of each message (reserved fields zero, names NUL padded): what it returns
 * re-encodes to the same bytes, which the fuzz target checks.
 */
#include "net/peer_msg.h"

#include "kernel/format.h"
#include "kernel/string.h"
#include "net/peer_msg_int.h"
#include "net/peer_wire.h"

/* Header field offsets (docs/protocol.md, "Header"). */
#define HDR_MAGIC 0
#define HDR_VERSION 4
#define HDR_TYPE 6
#define HDR_LENGTH 8
#define HDR_RESERVED 12
#define HDR_SEQ 16
#define HDR_SENDER 24

/* Payload layouts (docs/protocol.md, "Messages"). */
#define HELLO_HOST_ID 0
#define HELLO_CAPS 8
#define HELLO_VERSION 16
#define HELLO_PORT 18
#define HELLO_RESERVED 20
#define HELLO_NAME 24
#define HELLO_LEN 56
#define HELLO_ACK_ACCEPTED 56
#define HELLO_ACK_LEN 64
#define KEEPALIVE_LEN 8
#define BYE_REASON 0
#define BYE_RESERVED 4
#define BYE_LEN 8
#define DONE_TOTAL 0
#define DONE_CRC 8
#define DONE_RESERVED 12
#define DONE_LEN 16
#define RRQ_ID 0
#define RRQ_SIZE 8
#define RRQ_RESERVED 12
#define RRQ_LEN 16
#define RRR_ID 0
#define RRR_DATA 8
#define RRR_LEN (8 + PEER_RR_SIZE)

_Static_assert(HDR_SENDER + 8 == PEER_HDR_LEN, "header layout");
_Static_assert(HELLO_NAME + PEER_NAME_MAX == HELLO_LEN, "HELLO layout");
_Static_assert(PEER_HDR_LEN + RRR_LEN <= PEER_MSG_MAX, "RR_RESPONSE fits a message");

const char *peer_err_name(enum peer_err e)
{
    switch (e) {
    case PEER_E_NONE: return "none";
    case PEER_E_TRUNCATED: return "truncated";
    case PEER_E_MAGIC: return "bad magic";
    case PEER_E_VERSION: return "bad version";
    case PEER_E_RESERVED: return "reserved header bits set";
    case PEER_E_TOO_SHORT: return "length below header";
    case PEER_E_TOO_LONG: return "length above limit";
    case PEER_E_TYPE: return "unknown type";
    case PEER_E_LENGTH: return "wrong length for type";
    case PEER_E_HANDSHAKE: return "no handshake first";
    case PEER_E_SENDER: return "bad sender";
    case PEER_E_SEQUENCE: return "sequence gap";
    case PEER_E_FIELD: return "bad field";
    case PEER_E_COUNT: break;
    }
    return "?";
}

const char *peer_type_name(uint16_t type)
{
    switch (type) {
    case PEER_T_HELLO: return "HELLO";
    case PEER_T_HELLO_ACK: return "HELLO_ACK";
    case PEER_T_KEEPALIVE: return "KEEPALIVE";
    case PEER_T_KEEPALIVE_ACK: return "KEEPALIVE_ACK";
    case PEER_T_BYE: return "BYE";
    case PEER_T_BENCH_DATA: return "BENCH_DATA";
    case PEER_T_BENCH_DONE: return "BENCH_DONE";
    case PEER_T_RR_REQUEST: return "RR_REQUEST";
    case PEER_T_RR_RESPONSE: return "RR_RESPONSE";
    }
    return peer_page_type_name(type);
}

int peer_payload_len(uint16_t type)
{
    switch (type) {
    case PEER_T_HELLO: return HELLO_LEN;
    case PEER_T_HELLO_ACK: return HELLO_ACK_LEN;
    case PEER_T_KEEPALIVE:
    case PEER_T_KEEPALIVE_ACK: return KEEPALIVE_LEN;
    case PEER_T_BYE: return BYE_LEN;
    case PEER_T_BENCH_DONE: return DONE_LEN;
    case PEER_T_RR_REQUEST: return RRQ_LEN;
    case PEER_T_RR_RESPONSE: return RRR_LEN;
    }
    return peer_page_payload_len(type);
}

bool peer_type_known(uint16_t type)
{
    return type == PEER_T_BENCH_DATA || peer_payload_len(type) >= 0;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static bool name_valid(const char *name)
{
    size_t n = strnlen(name, PEER_NAME_MAX + 1);

    if (n == 0 || n > PEER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!name_char(name[i]))
            return false;
    }
    return true;
}

static bool is_hello(uint16_t type)
{
    return type == PEER_T_HELLO || type == PEER_T_HELLO_ACK;
}

enum peer_err peer_msg_check(const struct peer_msg *m)
{
    if (!peer_type_known(m->type))
        return PEER_E_TYPE;
    if (m->sender == 0)
        return PEER_E_SENDER;
    if (peer_type_is_page(m->type))
        return peer_page_check(m);
    switch (m->type) {
    case PEER_T_HELLO:
    case PEER_T_HELLO_ACK:
        if (m->hello.host_id != m->sender)
            return PEER_E_SENDER;
        if (m->hello.version < 1 || !name_valid(m->hello.name))
            return PEER_E_FIELD;
        if (m->type == PEER_T_HELLO_ACK && (m->hello.accepted & ~m->hello.caps))
            return PEER_E_FIELD;
        return PEER_E_NONE;
    case PEER_T_BENCH_DATA:
        if (m->bench.len > PEER_BENCH_MAX || (m->bench.len && !m->bench.data))
            return PEER_E_LENGTH;
        return PEER_E_NONE;
    case PEER_T_RR_REQUEST: return m->rr_req.size == PEER_RR_SIZE ? PEER_E_NONE : PEER_E_FIELD;
    case PEER_T_RR_RESPONSE: return m->rr_resp.data ? PEER_E_NONE : PEER_E_FIELD;
    }
    return PEER_E_NONE;
}

/* ---- encoding ---- */

static uint32_t payload_len_of(const struct peer_msg *m)
{
    return m->type == PEER_T_BENCH_DATA ? m->bench.len : (uint32_t)peer_payload_len(m->type);
}

civic_err peer_msg_encode(const struct peer_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
    if (peer_msg_check(m) != PEER_E_NONE)
        return trace_error(CIVIC_EINVAL);
    uint32_t total = PEER_HDR_LEN + payload_len_of(m);
    if (cap < total)
        return trace_error(CIVIC_ERANGE);

    memset(buf, 0, total);
    wire_put32(buf + HDR_MAGIC, PEER_MAGIC);
    wire_put16(buf + HDR_VERSION, PEER_VERSION);
    wire_put16(buf + HDR_TYPE, m->type);
    wire_put32(buf + HDR_LENGTH, total);
    wire_put64(buf + HDR_SEQ, m->seq);
    wire_put64(buf + HDR_SENDER, m->sender);

    uint8_t *p = buf + PEER_HDR_LEN;
    switch (m->type) {
    case PEER_T_HELLO:
    case PEER_T_HELLO_ACK:
        if (m->type == PEER_T_HELLO_ACK)
            wire_put64(p + HELLO_ACK_ACCEPTED, m->hello.accepted);
        wire_put64(p + HELLO_HOST_ID, m->hello.host_id);
        wire_put64(p + HELLO_CAPS, m->hello.caps);
        wire_put16(p + HELLO_VERSION, m->hello.version);
        wire_put16(p + HELLO_PORT, m->hello.port);
        memcpy(p + HELLO_NAME, m->hello.name, strnlen(m->hello.name, PEER_NAME_MAX));
        break;
    case PEER_T_KEEPALIVE:
    case PEER_T_KEEPALIVE_ACK: wire_put64(p, m->timestamp); break;
    case PEER_T_BYE: wire_put32(p + BYE_REASON, m->bye_reason); break;
    case PEER_T_BENCH_DATA:
        if (m->bench.len)
            memcpy(p, m->bench.data, m->bench.len);
        break;
    case PEER_T_BENCH_DONE:
        wire_put64(p + DONE_TOTAL, m->done.total_bytes);
        wire_put32(p + DONE_CRC, m->done.crc);
        break;
    case PEER_T_RR_REQUEST:
        wire_put64(p + RRQ_ID, m->rr_req.id);
        wire_put32(p + RRQ_SIZE, m->rr_req.size);
        break;
    case PEER_T_RR_RESPONSE:
        wire_put64(p + RRR_ID, m->rr_resp.id);
        memcpy(p + RRR_DATA, m->rr_resp.data, PEER_RR_SIZE);
        break;
    }
    if (peer_type_is_page(m->type))
        peer_page_encode(m, p);
    *len = total;
    return CIVIC_OK;
}

void peer_tx_init(struct peer_tx *tx, uint64_t host_id, uint64_t first_seq)
{
    tx->sender = host_id;
    tx->next_seq = first_seq;
}

civic_err peer_tx_encode(struct peer_tx *tx, struct peer_msg *m, uint8_t *buf, size_t cap,
                         size_t *len)
{
    m->seq = tx->next_seq;
    m->sender = tx->sender;
    civic_err e = peer_msg_encode(m, buf, cap, len);
    if (e == CIVIC_OK) {
        m->length = (uint32_t)*len;
        tx->next_seq++;
    }
    return e;
}

civic_err peer_encode_hello(struct peer_tx *tx, uint16_t type, const struct peer_hello *h,
                            uint8_t *buf, size_t cap, size_t *len)
{
    if (!is_hello(type))
        return trace_error(CIVIC_EINVAL);
    struct peer_msg m = {.type = type, .hello = *h};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

civic_err peer_encode_keepalive(struct peer_tx *tx, uint16_t type, uint64_t timestamp, uint8_t *buf,
                                size_t cap, size_t *len)
{
    if (type != PEER_T_KEEPALIVE && type != PEER_T_KEEPALIVE_ACK)
        return trace_error(CIVIC_EINVAL);
    struct peer_msg m = {.type = type, .timestamp = timestamp};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

civic_err peer_encode_bye(struct peer_tx *tx, uint32_t reason, uint8_t *buf, size_t cap,
                          size_t *len)
{
    struct peer_msg m = {.type = PEER_T_BYE, .bye_reason = reason};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

civic_err peer_encode_bench_data(struct peer_tx *tx, const void *data, uint32_t n, uint8_t *buf,
                                 size_t cap, size_t *len)
{
    struct peer_msg m = {.type = PEER_T_BENCH_DATA, .bench = {.data = data, .len = n}};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

civic_err peer_encode_bench_done(struct peer_tx *tx, uint64_t total_bytes, uint32_t crc,
                                 uint8_t *buf, size_t cap, size_t *len)
{
    struct peer_msg m = {.type = PEER_T_BENCH_DONE,
                         .done = {.total_bytes = total_bytes, .crc = crc}};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

civic_err peer_encode_rr_request(struct peer_tx *tx, uint64_t id, uint8_t *buf, size_t cap,
                                 size_t *len)
{
    struct peer_msg m = {.type = PEER_T_RR_REQUEST, .rr_req = {.id = id, .size = PEER_RR_SIZE}};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

civic_err peer_encode_rr_response(struct peer_tx *tx, uint64_t id, const void *page, uint8_t *buf,
                                  size_t cap, size_t *len)
{
    struct peer_msg m = {.type = PEER_T_RR_RESPONSE, .rr_resp = {.id = id, .data = page}};
    return peer_tx_encode(tx, &m, buf, cap, len);
}

/* ---- decoding ---- */

void peer_rx_init(struct peer_rx *rx)
{
    memset(rx, 0, sizeof(*rx) - sizeof(rx->buf));
}

static enum peer_rx_status refuse(struct peer_rx *rx, enum peer_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error; the decoder is dead from here on. */
static enum peer_rx_status refuse(struct peer_rx *rx, enum peer_err e, const char *fmt, ...)
{
    char detail[64];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    rx->err = e;
    ksnprintf(rx->why, sizeof(rx->why), "%s: %s (message %llu at stream byte %llu)",
              peer_err_name(e), detail, (unsigned long long)rx->messages + 1,
              (unsigned long long)rx->msg_start);
    return PEER_RX_ERROR;
}

/* Everything the header alone can tell, in the order docs/protocol.md lists. */
static enum peer_rx_status check_header(struct peer_rx *rx)
{
    const uint8_t *h = rx->buf;
    uint32_t magic = wire_get32(h + HDR_MAGIC);
    uint16_t version = wire_get16(h + HDR_VERSION);
    uint16_t type = wire_get16(h + HDR_TYPE);
    uint32_t length = wire_get32(h + HDR_LENGTH);
    uint32_t reserved = wire_get32(h + HDR_RESERVED);
    uint64_t seq = wire_get64(h + HDR_SEQ);
    uint64_t sender = wire_get64(h + HDR_SENDER);

    if (magic != PEER_MAGIC)
        return refuse(rx, PEER_E_MAGIC, "0x%08x", magic);
    if (version != PEER_VERSION)
        return refuse(rx, PEER_E_VERSION, "%u, this host speaks %u", version, PEER_VERSION);
    if (reserved)
        return refuse(rx, PEER_E_RESERVED, "0x%08x", reserved);
    if (length < PEER_HDR_LEN)
        return refuse(rx, PEER_E_TOO_SHORT, "%u < %u", length, PEER_HDR_LEN);
    if (length > PEER_MSG_MAX)
        return refuse(rx, PEER_E_TOO_LONG, "%u > %u", length, PEER_MSG_MAX);
    if (!peer_type_known(type))
        return refuse(rx, PEER_E_TYPE, "0x%04x", type);
    int want = peer_payload_len(type);
    if (want >= 0 && length != PEER_HDR_LEN + (uint32_t)want)
        return refuse(rx, PEER_E_LENGTH, "%s of %u bytes, not %u", peer_type_name(type), length,
                      PEER_HDR_LEN + (uint32_t)want);
    /* A BYE may come first: an acceptor refusing a HELLO answers with nothing else. */
    if (!rx->started && !is_hello(type) && type != PEER_T_BYE)
        return refuse(rx, PEER_E_HANDSHAKE, "%s", peer_type_name(type));
    if (rx->started && is_hello(type))
        return refuse(rx, PEER_E_HANDSHAKE, "second %s", peer_type_name(type));
    if (sender == 0)
        return refuse(rx, PEER_E_SENDER, "sender id 0");
    if (rx->started && sender != rx->sender)
        return refuse(rx, PEER_E_SENDER, "%016llx, handshake said %016llx",
                      (unsigned long long)sender, (unsigned long long)rx->sender);
    if (rx->started && seq != rx->next_seq)
        return refuse(rx, PEER_E_SEQUENCE, "seq %llu, expected %llu", (unsigned long long)seq,
                      (unsigned long long)rx->next_seq);
    rx->need = length;
    return PEER_RX_MORE;
}

static void parse_name(char *dst, const uint8_t *src)
{
    memcpy(dst, src, PEER_NAME_MAX);
    dst[PEER_NAME_MAX] = '\0';
}

/* Fills msg from the checked header (rx->buf) and the payload, and checks the payload. */
static enum peer_rx_status parse(struct peer_rx *rx, const uint8_t *p, struct peer_msg *m)
{
    const uint8_t *h = rx->buf;
    uint32_t plen = rx->need - PEER_HDR_LEN;

    memset(m, 0, sizeof(*m));
    m->type = wire_get16(h + HDR_TYPE);
    m->length = rx->need;
    m->seq = wire_get64(h + HDR_SEQ);
    m->sender = wire_get64(h + HDR_SENDER);
    switch (m->type) {
    case PEER_T_HELLO:
    case PEER_T_HELLO_ACK:
        if (m->type == PEER_T_HELLO_ACK)
            m->hello.accepted = wire_get64(p + HELLO_ACK_ACCEPTED);
        m->hello.host_id = wire_get64(p + HELLO_HOST_ID);
        m->hello.caps = wire_get64(p + HELLO_CAPS);
        m->hello.version = wire_get16(p + HELLO_VERSION);
        m->hello.port = wire_get16(p + HELLO_PORT);
        if (wire_get32(p + HELLO_RESERVED))
            return refuse(rx, PEER_E_FIELD, "HELLO reserved field set");
        parse_name(m->hello.name, p + HELLO_NAME);
        /* Canonical padding: nothing but NULs after the name. */
        for (size_t i = strnlen(m->hello.name, PEER_NAME_MAX); i < PEER_NAME_MAX; i++) {
            if (p[HELLO_NAME + i])
                return refuse(rx, PEER_E_FIELD, "host name not NUL padded");
        }
        break;
    case PEER_T_KEEPALIVE:
    case PEER_T_KEEPALIVE_ACK: m->timestamp = wire_get64(p); break;
    case PEER_T_BYE:
        m->bye_reason = wire_get32(p + BYE_REASON);
        if (wire_get32(p + BYE_RESERVED))
            return refuse(rx, PEER_E_FIELD, "BYE reserved field set");
        break;
    case PEER_T_BENCH_DATA:
        m->bench.data = p;
        m->bench.len = plen;
        break;
    case PEER_T_BENCH_DONE:
        m->done.total_bytes = wire_get64(p + DONE_TOTAL);
        m->done.crc = wire_get32(p + DONE_CRC);
        if (wire_get32(p + DONE_RESERVED))
            return refuse(rx, PEER_E_FIELD, "BENCH_DONE reserved field set");
        break;
    case PEER_T_RR_REQUEST:
        m->rr_req.id = wire_get64(p + RRQ_ID);
        m->rr_req.size = wire_get32(p + RRQ_SIZE);
        if (wire_get32(p + RRQ_RESERVED))
            return refuse(rx, PEER_E_FIELD, "RR_REQUEST reserved field set");
        break;
    case PEER_T_RR_RESPONSE:
        m->rr_resp.id = wire_get64(p + RRR_ID);
        m->rr_resp.data = p + RRR_DATA;
        break;
    }
    if (peer_type_is_page(m->type)) {
        const char *bad = peer_page_parse(p, m);
        if (bad)
            return refuse(rx, PEER_E_FIELD, "%s %s", peer_type_name(m->type), bad);
    }
    enum peer_err e = peer_msg_check(m);
    if (e != PEER_E_NONE && peer_type_is_page(m->type))
        return refuse(rx, e, "%s vm %u gfn 0x%llx status %u", peer_type_name(m->type), m->page.vm,
                      (unsigned long long)m->page.gfn, m->page.status);
    if (e != PEER_E_NONE)
        return refuse(rx, e, "%s fields", peer_type_name(m->type));
    return PEER_RX_MSG;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

enum peer_rx_status peer_rx_feed(struct peer_rx *rx, const uint8_t *data, size_t len, size_t *used,
                                 struct peer_msg *msg)
{
    size_t pos = 0;
    enum peer_rx_status st = PEER_RX_MORE;

    *used = 0;
    if (rx->err != PEER_E_NONE)
        return PEER_RX_ERROR;
    if (rx->have == 0)
        rx->msg_start = rx->offset;

    if (rx->have < PEER_HDR_LEN) {
        size_t take = min_size(PEER_HDR_LEN - rx->have, len);
        if (take) {
            memcpy(rx->buf + rx->have, data, take);
            rx->have += (uint32_t)take;
            pos = take;
        }
        if (rx->have < PEER_HDR_LEN)
            goto out;
        if (check_header(rx) == PEER_RX_ERROR) {
            st = PEER_RX_ERROR;
            goto out;
        }
    }

    /* The payload: in place when it is all in this call's bytes, else gathered in buf. */
    const uint8_t *payload = rx->buf + PEER_HDR_LEN;
    uint32_t plen = rx->need - PEER_HDR_LEN;
    if (plen && rx->have == PEER_HDR_LEN && len - pos >= plen) {
        payload = data + pos;
        pos += plen;
    } else {
        size_t take = min_size(rx->need - rx->have, len - pos);
        if (take) {
            memcpy(rx->buf + rx->have, data + pos, take);
            rx->have += (uint32_t)take;
            pos += take;
        }
        if (rx->have < rx->need)
            goto out;
    }

    st = parse(rx, payload, msg);
    if (st == PEER_RX_MSG) {
        rx->started = true;
        rx->sender = msg->sender;
        rx->next_seq = msg->seq + 1;
        rx->messages++;
    }
    rx->have = 0;
    rx->need = 0;
out:
    rx->offset += pos;
    *used = pos;
    return st;
}

enum peer_err peer_rx_end(struct peer_rx *rx)
{
    if (rx->err == PEER_E_NONE && rx->have)
        refuse(rx, PEER_E_TRUNCATED, "%u bytes of a message", rx->have);
    return rx->err;
}
