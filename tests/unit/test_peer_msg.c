// unit-sources: net/peer_msg.c net/peer_msg_page.c kernel/format.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/peer_msg.h"

#define HOST_A 0x1122334455667788ull
#define HOST_B 0x0000000000000002ull

/* ---- building streams ---- */

/* A stream under construction; the tests' own big-endian writer, independent of the codec's. */
struct stream {
    uint8_t b[64 * 1024];
    size_t n;
};

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static struct peer_hello hello_of(uint64_t id, const char *name)
{
    struct peer_hello h = {
        .host_id = id, .caps = PEER_CAP_BENCH | (1ull << 40), .version = 1, .port = PEER_PORT};
    strcpy(h.name, name);
    return h;
}

/* Appends one message encoded by tx. */
static void add(struct stream *s, struct peer_tx *tx, struct peer_msg m)
{
    size_t len = 0;
    assert_int_equal(peer_tx_encode(tx, &m, s->b + s->n, sizeof(s->b) - s->n, &len), CIVIC_OK);
    s->n += len;
}

static void add_hello(struct stream *s, struct peer_tx *tx)
{
    struct peer_msg m = {.type = PEER_T_HELLO, .hello = hello_of(tx->sender, "alpha")};
    add(s, tx, m);
}

/* A hand-made header (payload zeroed): the malformed cases. */
static uint8_t *add_raw(struct stream *s, uint32_t magic, uint16_t version, uint16_t type,
                        uint32_t length, uint32_t reserved, uint64_t seq, uint64_t sender,
                        size_t bytes)
{
    uint8_t *p = s->b + s->n;
    memset(p, 0, bytes);
    put_be(p + 0, magic, 4);
    put_be(p + 4, version, 2);
    put_be(p + 6, type, 2);
    put_be(p + 8, length, 4);
    put_be(p + 12, reserved, 4);
    put_be(p + 16, seq, 8);
    put_be(p + 24, sender, 8);
    s->n += bytes;
    return p + PEER_HDR_LEN;
}

/* A well-formed header for a message of this type following tx's. */
static uint8_t *add_next(struct stream *s, struct peer_tx *tx, uint16_t type, uint32_t length)
{
    return add_raw(s, PEER_MAGIC, PEER_VERSION, type, length, 0, tx->next_seq++, tx->sender,
                   length);
}

/* ---- decoding streams ---- */

#define MAX_MSGS 64

struct result {
    size_t count;
    struct peer_msg msg[MAX_MSGS];
    uint8_t payload[MAX_MSGS][PEER_MSG_MAX]; /* copies: the decoder's pointers are transient */
    enum peer_rx_status last;
    enum peer_err err;
    char why[96];
};

static struct result res, res2;
static struct peer_rx rx;

/* Feeds the stream in chunks of chunk[i % nchunk] bytes (0: all at once), then ends it. */
static void decode(struct result *r, const struct stream *s, const size_t *chunk, size_t nchunk,
                   bool end)
{
    memset(r, 0, sizeof(*r));
    peer_rx_init(&rx);
    size_t pos = 0, k = 0;
    r->last = PEER_RX_MORE;
    while (pos < s->n && r->last != PEER_RX_ERROR) {
        size_t n = nchunk ? chunk[k++ % nchunk] : s->n;
        if (n > s->n - pos)
            n = s->n - pos;
        /* The chunk in its own allocation, so ASan sees any read past it. */
        uint8_t *c = malloc(n);
        memcpy(c, s->b + pos, n);
        size_t off = 0;
        for (;;) {
            size_t used = 0;
            struct peer_msg m;
            r->last = peer_rx_feed(&rx, c + off, n - off, &used, &m);
            assert_true(used <= n - off);
            off += used;
            if (r->last != PEER_RX_MSG)
                break;
            assert_true(r->count < MAX_MSGS);
            const uint8_t *data = m.type == PEER_T_BENCH_DATA    ? m.bench.data
                                  : m.type == PEER_T_RR_RESPONSE ? m.rr_resp.data
                                                                 : NULL;
            size_t dlen = m.type == PEER_T_BENCH_DATA ? m.bench.len : PEER_RR_SIZE;
            if (data)
                memcpy(r->payload[r->count], data, dlen);
            r->msg[r->count++] = m;
        }
        if (r->last == PEER_RX_MORE)
            assert_int_equal(off, n);
        free(c);
        pos += n;
    }
    r->err = end ? peer_rx_end(&rx) : peer_rx_error(&rx);
    strcpy(r->why, peer_rx_why(&rx));
}

static void decode_whole(const struct stream *s)
{
    decode(&res, s, NULL, 0, true);
}

/* Expects the stream to be refused with e after `good` messages, however it is split. */
static void expect_refused(const struct stream *s, size_t good, enum peer_err e)
{
    static const size_t bytewise[] = {1};
    static const size_t odd[] = {7, 3, 31, 1, 100};
    decode(&res, s, NULL, 0, true);
    assert_int_equal(res.err, e);
    assert_int_equal(res.last, PEER_RX_ERROR);
    assert_int_equal(res.count, good);
    assert_non_null(strstr(res.why, peer_err_name(e)));
    decode(&res2, s, bytewise, 1, true);
    assert_int_equal(res2.err, e);
    assert_int_equal(res2.count, good);
    decode(&res2, s, odd, 5, true);
    assert_int_equal(res2.err, e);
    assert_int_equal(res2.count, good);
}

/* ---- the format itself ---- */

static void test_header_bytes_are_the_documented_layout(void **state)
{
    struct peer_tx tx;
    uint8_t buf[64];
    size_t len = 0;
    peer_tx_init(&tx, 0x0102030405060708ull, 0x1112131415161718ull);
    assert_int_equal(
        peer_encode_keepalive(&tx, PEER_T_KEEPALIVE, 0xa1a2a3a4a5a6a7a8ull, buf, sizeof(buf), &len),
        CIVIC_OK);
    static const uint8_t want[40] = {
        'C',  'V',  'P',  'R',  0x00, 0x01, 0x00, 0x03, /* magic, version 1, KEEPALIVE */
        0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, /* length 40, reserved */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* seq */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender */
        0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, /* timestamp */
    };
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(tx.next_seq, 0x1112131415161719ull);
}

static void test_hello_bytes_are_the_documented_layout(void **state)
{
    struct peer_tx tx;
    uint8_t buf[128];
    size_t len = 0;
    peer_tx_init(&tx, 5, 0);
    struct peer_hello h = {
        .host_id = 5, .caps = 0x0102, .accepted = 0x02, .version = 1, .port = 7700};
    strcpy(h.name, "node-1");
    assert_int_equal(peer_encode_hello(&tx, PEER_T_HELLO_ACK, &h, buf, sizeof(buf), &len),
                     CIVIC_OK);
    assert_int_equal(len, 96);
    const uint8_t *p = buf + PEER_HDR_LEN;
    static const uint8_t want[24] = {
        0, 0, 0,    0,    0, 0, 0, 5, /* host id */
        0, 0, 0,    0,    0, 0, 1, 2, /* caps */
        0, 1, 0x1e, 0x14, 0, 0, 0, 0, /* version, port 7700, reserved */
    };
    assert_memory_equal(p, want, sizeof(want));
    assert_memory_equal(p + 24, "node-1\0\0", 8);
    for (int i = 30; i < 56; i++)
        assert_int_equal(p[i], 0);
    static const uint8_t accepted[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    assert_memory_equal(p + 56, accepted, 8);
}

static void test_payload_lengths(void **state)
{
    assert_int_equal(peer_payload_len(PEER_T_HELLO), 56);
    assert_int_equal(peer_payload_len(PEER_T_HELLO_ACK), 64);
    assert_int_equal(peer_payload_len(PEER_T_KEEPALIVE), 8);
    assert_int_equal(peer_payload_len(PEER_T_KEEPALIVE_ACK), 8);
    assert_int_equal(peer_payload_len(PEER_T_BYE), 8);
    assert_int_equal(peer_payload_len(PEER_T_BENCH_DATA), -1);
    assert_int_equal(peer_payload_len(PEER_T_BENCH_DONE), 16);
    assert_int_equal(peer_payload_len(PEER_T_RR_REQUEST), 16);
    assert_int_equal(peer_payload_len(PEER_T_RR_RESPONSE), 4104);
    assert_int_equal(peer_payload_len(PEER_T_PAGE_FREE_VM + 1), -1);
    assert_true(peer_type_known(PEER_T_BENCH_DATA));
    assert_false(peer_type_known(0));
    assert_false(peer_type_known(PEER_T_PAGE_FREE_VM + 1));
    assert_false(peer_type_known(PEER_T_PAGE_LAST));
    assert_false(peer_type_known(PEER_T_MIGRATE_LAST));
    assert_string_equal(peer_type_name(PEER_T_RR_RESPONSE), "RR_RESPONSE");
    assert_string_equal(peer_type_name(0x0300), "?");
}

/* ---- round trips ---- */

static uint8_t page[PEER_RR_SIZE];
static uint8_t bench[PEER_BENCH_MAX];

/* One of each type, then the decoder must give back exactly these. */
static void build_all_types(struct stream *s)
{
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 0xfffffffffffffffdull); /* the sequence wraps on the way */
    for (size_t i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i ^ (i >> 8));
    for (size_t i = 0; i < sizeof(bench); i++)
        bench[i] = (uint8_t)(i * 13);
    s->n = 0;
    struct peer_msg ack = {.type = PEER_T_HELLO_ACK, .hello = hello_of(HOST_A, "A.b_c-9")};
    ack.hello.accepted = PEER_CAP_BENCH;
    ack.hello.version = 3; /* a newer host: allowed, the peers use the lower */
    add(s, &tx, ack);
    add(s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 123456789});
    add(s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE_ACK, .timestamp = ~0ull});
    add(s, &tx, (struct peer_msg){.type = PEER_T_BENCH_DATA, .bench = {bench, 1000}});
    add(s, &tx, (struct peer_msg){.type = PEER_T_BENCH_DATA, .bench = {NULL, 0}});
    add(s, &tx, (struct peer_msg){.type = PEER_T_BENCH_DATA, .bench = {bench, PEER_BENCH_MAX}});
    add(s, &tx, (struct peer_msg){.type = PEER_T_BENCH_DONE, .done = {8161000, 0xdeadbeef}});
    add(s, &tx, (struct peer_msg){.type = PEER_T_RR_REQUEST, .rr_req = {77, PEER_RR_SIZE}});
    add(s, &tx, (struct peer_msg){.type = PEER_T_RR_RESPONSE, .rr_resp = {77, page}});
    add(s, &tx, (struct peer_msg){.type = PEER_T_BYE, .bye_reason = 0xabcdef01});
}

static struct stream s1;

static void check_all_types(const struct result *r)
{
    assert_int_equal(r->err, PEER_E_NONE);
    assert_int_equal(r->count, 10);
    const struct peer_msg *m = r->msg;
    for (size_t i = 0; i < r->count; i++) {
        assert_int_equal(m[i].sender, HOST_A);
        assert_int_equal(m[i].seq, 0xfffffffffffffffdull + i);
    }
    assert_int_equal(m[0].type, PEER_T_HELLO_ACK);
    assert_int_equal(m[0].length, 96);
    assert_int_equal(m[0].hello.host_id, HOST_A);
    assert_int_equal(m[0].hello.caps, PEER_CAP_BENCH | (1ull << 40));
    assert_int_equal(m[0].hello.accepted, PEER_CAP_BENCH);
    assert_int_equal(m[0].hello.version, 3);
    assert_int_equal(m[0].hello.port, PEER_PORT);
    assert_string_equal(m[0].hello.name, "A.b_c-9");
    assert_int_equal(m[1].type, PEER_T_KEEPALIVE);
    assert_int_equal(m[1].timestamp, 123456789);
    assert_int_equal(m[2].type, PEER_T_KEEPALIVE_ACK);
    assert_int_equal(m[2].timestamp, ~0ull);
    assert_int_equal(m[3].type, PEER_T_BENCH_DATA);
    assert_int_equal(m[3].bench.len, 1000);
    assert_memory_equal(r->payload[3], bench, 1000);
    assert_int_equal(m[4].bench.len, 0);
    assert_int_equal(m[5].bench.len, PEER_BENCH_MAX);
    assert_int_equal(m[5].length, PEER_MSG_MAX);
    assert_memory_equal(r->payload[5], bench, PEER_BENCH_MAX);
    assert_int_equal(m[6].type, PEER_T_BENCH_DONE);
    assert_int_equal(m[6].done.total_bytes, 8161000);
    assert_int_equal(m[6].done.crc, 0xdeadbeef);
    assert_int_equal(m[7].type, PEER_T_RR_REQUEST);
    assert_int_equal(m[7].rr_req.id, 77);
    assert_int_equal(m[7].rr_req.size, PEER_RR_SIZE);
    assert_int_equal(m[8].type, PEER_T_RR_RESPONSE);
    assert_int_equal(m[8].rr_resp.id, 77);
    assert_memory_equal(r->payload[8], page, PEER_RR_SIZE);
    assert_int_equal(m[9].type, PEER_T_BYE);
    assert_int_equal(m[9].bye_reason, 0xabcdef01);
}

static void test_round_trip_every_type(void **state)
{
    build_all_types(&s1);
    decode_whole(&s1);
    check_all_types(&res);
    assert_int_equal(rx.messages, 10);
    assert_int_equal(rx.offset, s1.n);
}

/* TCP may cut anywhere: every split gives the same messages as one chunk. */
static void test_fragmentation_gives_the_same_messages(void **state)
{
    static const size_t patterns[][5] = {
        {1}, {2}, {31}, {32}, {33}, {4095, 1, 2}, {8192}, {5, 8191, 17, 1, 64},
    };
    static const size_t lens[] = {1, 1, 1, 1, 1, 3, 1, 5};
    build_all_types(&s1);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        decode(&res, &s1, patterns[i], lens[i], true);
        check_all_types(&res);
    }
}

/* Whole messages in one chunk are returned in place (no copy); split ones from the buffer. */
static void test_payload_in_place_when_contiguous(void **state)
{
    struct stream s = {.n = 0};
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 0);
    add_hello(&s, &tx);
    add(&s, &tx, (struct peer_msg){.type = PEER_T_BENCH_DATA, .bench = {bench, 100}});
    struct peer_msg m;
    size_t used;
    peer_rx_init(&rx);
    assert_int_equal(peer_rx_feed(&rx, s.b, s.n, &used, &m), PEER_RX_MSG);
    assert_int_equal(used, 88);
    assert_int_equal(peer_rx_feed(&rx, s.b + used, s.n - used, &used, &m), PEER_RX_MSG);
    assert_ptr_equal(m.bench.data, s.b + 88 + PEER_HDR_LEN);
    assert_int_equal(used, s.n - 88);
    assert_int_equal(peer_rx_feed(&rx, NULL, 0, &used, &m), PEER_RX_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(peer_rx_end(&rx), PEER_E_NONE);
}

/* ---- every malformed class ---- */

static void test_short_header_is_not_an_error_until_the_end(void **state)
{
    struct stream s = {.n = 0};
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 0);
    add_hello(&s, &tx);
    /* Cut at every point inside the message: waiting, until the stream ends. */
    for (size_t cut = 1; cut < s.n; cut++) {
        struct stream t = s;
        t.n = cut;
        decode(&res, &t, NULL, 0, false);
        assert_int_equal(res.last, PEER_RX_MORE);
        assert_int_equal(res.err, PEER_E_NONE);
        assert_int_equal(peer_rx_end(&rx), PEER_E_TRUNCATED);
        assert_non_null(strstr(peer_rx_why(&rx), "truncated"));
    }
    peer_rx_init(&rx);
    assert_int_equal(peer_rx_end(&rx), PEER_E_NONE);
}

static void test_bad_magic(void **state)
{
    struct stream s = {.n = 0};
    add_raw(&s, 0x43565053, 1, PEER_T_HELLO, 88, 0, 0, HOST_A, 88);
    expect_refused(&s, 0, PEER_E_MAGIC);
    assert_non_null(strstr(res.why, "0x43565053"));
    /* Byte-swapped magic (a little-endian encoder) is refused too. */
    s.n = 0;
    add_raw(&s, 0x52505643, 1, PEER_T_HELLO, 88, 0, 0, HOST_A, 88);
    expect_refused(&s, 0, PEER_E_MAGIC);
}

static void test_bad_version(void **state)
{
    static const uint16_t versions[] = {0, 2, 0x0100, 0xffff};
    for (size_t i = 0; i < 4; i++) {
        struct stream s = {.n = 0};
        add_raw(&s, PEER_MAGIC, versions[i], PEER_T_HELLO, 88, 0, 0, HOST_A, 88);
        expect_refused(&s, 0, PEER_E_VERSION);
    }
}

static void test_reserved_header_field(void **state)
{
    struct stream s = {.n = 0};
    add_raw(&s, PEER_MAGIC, 1, PEER_T_HELLO, 88, 0x80000000u, 0, HOST_A, 88);
    expect_refused(&s, 0, PEER_E_RESERVED);
}

static void test_length_below_header(void **state)
{
    static const uint32_t lens[] = {0, 1, 31};
    for (size_t i = 0; i < 3; i++) {
        struct stream s = {.n = 0};
        add_raw(&s, PEER_MAGIC, 1, PEER_T_BENCH_DATA, lens[i], 0, 0, HOST_A, 32);
        expect_refused(&s, 0, PEER_E_TOO_SHORT);
    }
}

/* Refused from the header alone: nothing waits for (or buffers) the claimed payload. */
static void test_length_above_limit(void **state)
{
    static const uint32_t lens[] = {PEER_MSG_MAX + 1, 65536, 0xffffffffu};
    for (size_t i = 0; i < 3; i++) {
        struct stream s = {.n = 0};
        add_raw(&s, PEER_MAGIC, 1, PEER_T_BENCH_DATA, lens[i], 0, 0, HOST_A, 32);
        expect_refused(&s, 0, PEER_E_TOO_LONG);
    }
    /* Exactly the limit is fine (after a handshake). */
    struct stream s = {.n = 0};
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 9);
    add_hello(&s, &tx);
    add_next(&s, &tx, PEER_T_BENCH_DATA, PEER_MSG_MAX);
    decode_whole(&s);
    assert_int_equal(res.err, PEER_E_NONE);
    assert_int_equal(res.count, 2);
}

static void test_unknown_types(void **state)
{
    static const uint16_t types[] = {
        0x0000, 0x0006, 0x00ff, 0x0104, 0x0206, PEER_T_PAGE_LAST, PEER_T_MIGRATE_FIRST, 0xffff};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct stream s = {.n = 0};
        struct peer_tx tx;
        peer_tx_init(&tx, HOST_A, 0);
        add_hello(&s, &tx);
        add_next(&s, &tx, types[i], 40);
        expect_refused(&s, 1, PEER_E_TYPE);
    }
}

static void test_wrong_length_for_type(void **state)
{
    static const struct {
        uint16_t type;
        uint32_t length;
    } cases[] = {
        {PEER_T_KEEPALIVE, 39},         {PEER_T_KEEPALIVE, 41},
        {PEER_T_KEEPALIVE_ACK, 32},     {PEER_T_BYE, 36},
        {PEER_T_BENCH_DONE, 40},        {PEER_T_RR_REQUEST, 52},
        {PEER_T_RR_RESPONSE, 4136 + 1}, {PEER_T_RR_RESPONSE, 4096 + 32},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stream s = {.n = 0};
        struct peer_tx tx;
        peer_tx_init(&tx, HOST_A, 0);
        add_hello(&s, &tx);
        add_next(&s, &tx, cases[i].type, cases[i].length);
        expect_refused(&s, 1, PEER_E_LENGTH);
    }
    struct stream s = {.n = 0};
    add_raw(&s, PEER_MAGIC, 1, PEER_T_HELLO, 87, 0, 0, HOST_A, 87);
    expect_refused(&s, 0, PEER_E_LENGTH);
}

static void test_sequence_gap(void **state)
{
    static const int64_t deltas[] = {2, 0, -1, 1000};
    for (size_t i = 0; i < 4; i++) {
        struct stream s = {.n = 0};
        struct peer_tx tx;
        peer_tx_init(&tx, HOST_A, 500);
        add_hello(&s, &tx);
        add(&s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 1});
        tx.next_seq = (uint64_t)((int64_t)tx.next_seq - 1 + deltas[i]);
        add(&s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 2});
        expect_refused(&s, 2, PEER_E_SEQUENCE);
        assert_non_null(strstr(res.why, "expected 502"));
    }
}

static void test_handshake_must_come_first_and_once(void **state)
{
    struct stream s = {.n = 0};
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 0);
    add(&s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 1});
    expect_refused(&s, 0, PEER_E_HANDSHAKE);

    s.n = 0;
    peer_tx_init(&tx, HOST_A, 0);
    add_hello(&s, &tx);
    add_hello(&s, &tx);
    expect_refused(&s, 1, PEER_E_HANDSHAKE);

    /* A BYE may come first (an acceptor refusing a HELLO); nothing handshakes after it. */
    s.n = 0;
    peer_tx_init(&tx, HOST_A, 40);
    add(&s, &tx, (struct peer_msg){.type = PEER_T_BYE, .bye_reason = PEER_BYE_SELF});
    decode_whole(&s);
    assert_int_equal(res.err, PEER_E_NONE);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.msg[0].bye_reason, PEER_BYE_SELF);
    add_hello(&s, &tx);
    expect_refused(&s, 1, PEER_E_HANDSHAKE);
}

static void test_sender_zero_or_changed(void **state)
{
    struct stream s = {.n = 0};
    add_raw(&s, PEER_MAGIC, 1, PEER_T_HELLO, 88, 0, 0, 0, 88);
    expect_refused(&s, 0, PEER_E_SENDER);

    /* HELLO's host id must be the header's sender. */
    s.n = 0;
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 0);
    add_hello(&s, &tx);
    put_be(s.b + PEER_HDR_LEN, HOST_B, 8);
    expect_refused(&s, 0, PEER_E_SENDER);

    s.n = 0;
    peer_tx_init(&tx, HOST_A, 0);
    add_hello(&s, &tx);
    tx.sender = HOST_B;
    add(&s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 1});
    expect_refused(&s, 1, PEER_E_SENDER);
}

/* Payload fields: each case corrupts one field of an otherwise valid message. */
static void test_bad_fields(void **state)
{
    static const struct {
        uint16_t type;
        size_t off; /* payload offset to overwrite */
        uint64_t value;
        int bytes;
    } cases[] = {
        {PEER_T_HELLO, 16, 0, 2},             /* version 0 */
        {PEER_T_HELLO, 20, 1, 4},             /* reserved */
        {PEER_T_HELLO, 24, 0, 1},             /* empty name */
        {PEER_T_HELLO, 25, ' ', 1},           /* space in the name */
        {PEER_T_HELLO, 25, 0x1b, 1},          /* escape in the name */
        {PEER_T_HELLO, 31, 'x', 1},           /* garbage after the NUL */
        {PEER_T_HELLO_ACK, 56, 1ull << 5, 8}, /* accepts what it did not offer */
        {PEER_T_BYE, 4, 1, 4},                /* reserved */
        {PEER_T_BENCH_DONE, 12, 1, 4},        /* reserved */
        {PEER_T_RR_REQUEST, 8, 4095, 4},      /* size */
        {PEER_T_RR_REQUEST, 12, 1, 4},        /* reserved */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stream s = {.n = 0};
        struct peer_tx tx;
        peer_tx_init(&tx, HOST_A, 0);
        struct peer_msg m = {.type = PEER_T_HELLO_ACK, .hello = hello_of(HOST_A, "abcdef")};
        size_t at = s.n + PEER_HDR_LEN;
        bool first = cases[i].type == PEER_T_HELLO || cases[i].type == PEER_T_HELLO_ACK;
        if (first) {
            m.type = cases[i].type;
        } else {
            add(&s, &tx, m);
            at = s.n + PEER_HDR_LEN;
            m = (struct peer_msg){.type = cases[i].type};
            if (m.type == PEER_T_RR_REQUEST)
                m.rr_req.size = PEER_RR_SIZE;
        }
        add(&s, &tx, m);
        put_be(s.b + at + cases[i].off, cases[i].value, cases[i].bytes);
        expect_refused(&s, first ? 0 : 1, PEER_E_FIELD);
    }
}

/* After an error the decoder takes nothing, not even a perfect message. */
static void test_dead_after_error(void **state)
{
    struct stream s = {.n = 0};
    struct peer_tx tx;
    peer_tx_init(&tx, HOST_A, 0);
    add_hello(&s, &tx);
    add_next(&s, &tx, 0x0206, 40);
    size_t bad_end = s.n;
    tx.next_seq--;
    add(&s, &tx, (struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 1});

    struct peer_msg m;
    size_t used;
    peer_rx_init(&rx);
    assert_int_equal(peer_rx_feed(&rx, s.b, s.n, &used, &m), PEER_RX_MSG);
    assert_int_equal(peer_rx_feed(&rx, s.b + used, s.n - used, &used, &m), PEER_RX_ERROR);
    assert_true(used <= bad_end);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(peer_rx_feed(&rx, s.b + bad_end, s.n - bad_end, &used, &m), PEER_RX_ERROR);
        assert_int_equal(used, 0);
    }
    assert_int_equal(peer_rx_end(&rx), PEER_E_TYPE);
    assert_int_equal(peer_rx_error(&rx), PEER_E_TYPE);
    assert_int_equal(rx.messages, 1);
    assert_non_null(strstr(peer_rx_why(&rx), "0x0206"));
    assert_non_null(strstr(peer_rx_why(&rx), "message 2 at stream byte 88"));
}

/* ---- the encoders refuse what the decoder would refuse ---- */

static void test_encoder_refusals(void **state)
{
    struct peer_tx tx;
    uint8_t buf[PEER_MSG_MAX + 16];
    size_t len = 77;
    peer_tx_init(&tx, HOST_A, 10);

    assert_int_equal(peer_encode_keepalive(&tx, PEER_T_KEEPALIVE, 1, buf, 39, &len), CIVIC_ERANGE);
    assert_int_equal(peer_encode_bench_data(&tx, bench, PEER_BENCH_MAX + 1, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    assert_int_equal(peer_encode_keepalive(&tx, PEER_T_BYE, 1, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    assert_int_equal(peer_encode_hello(&tx, PEER_T_KEEPALIVE, NULL, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    struct peer_hello h = hello_of(HOST_B, "x"); /* not our id */
    assert_int_equal(peer_encode_hello(&tx, PEER_T_HELLO, &h, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    h = hello_of(HOST_A, "bad name");
    assert_int_equal(peer_encode_hello(&tx, PEER_T_HELLO, &h, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    memset(h.name, 'n', sizeof(h.name)); /* 33 characters, no NUL */
    assert_int_equal(peer_encode_hello(&tx, PEER_T_HELLO, &h, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    h = hello_of(HOST_A, "y");
    h.accepted = 1ull << 63;
    assert_int_equal(peer_encode_hello(&tx, PEER_T_HELLO_ACK, &h, buf, sizeof(buf), &len),
                     CIVIC_EINVAL);
    struct peer_msg m = {.type = PEER_T_PAGE_FREE_VM + 1};
    assert_int_equal(peer_tx_encode(&tx, &m, buf, sizeof(buf), &len), CIVIC_EINVAL);
    assert_int_equal(peer_encode_rr_response(&tx, 1, NULL, buf, sizeof(buf), &len), CIVIC_EINVAL);
    assert_int_equal(len, 77);
    assert_int_equal(tx.next_seq, 10); /* nothing consumed a number */

    peer_tx_init(&tx, 0, 0);
    assert_int_equal(peer_encode_bye(&tx, 0, buf, sizeof(buf), &len), CIVIC_EINVAL);

    /* A name of exactly 32 characters is the longest. */
    peer_tx_init(&tx, HOST_A, 0);
    h = hello_of(HOST_A, "abcdefghijklmnopqrstuvwxyz012345");
    assert_int_equal(peer_encode_hello(&tx, PEER_T_HELLO, &h, buf, sizeof(buf), &len), CIVIC_OK);
    struct stream s = {.n = len};
    memcpy(s.b, buf, len);
    decode_whole(&s);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.msg[0].hello.name, "abcdefghijklmnopqrstuvwxyz012345");
}

static void test_error_names(void **state)
{
    for (int e = 0; e < PEER_E_COUNT; e++)
        assert_string_not_equal(peer_err_name((enum peer_err)e), "?");
    assert_string_equal(peer_err_name(PEER_E_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bytes_are_the_documented_layout),
        cmocka_unit_test(test_hello_bytes_are_the_documented_layout),
        cmocka_unit_test(test_payload_lengths),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_fragmentation_gives_the_same_messages),
        cmocka_unit_test(test_payload_in_place_when_contiguous),
        cmocka_unit_test(test_short_header_is_not_an_error_until_the_end),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_reserved_header_field),
        cmocka_unit_test(test_length_below_header),
        cmocka_unit_test(test_length_above_limit),
        cmocka_unit_test(test_unknown_types),
        cmocka_unit_test(test_wrong_length_for_type),
        cmocka_unit_test(test_sequence_gap),
        cmocka_unit_test(test_handshake_must_come_first_and_once),
        cmocka_unit_test(test_sender_zero_or_changed),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_dead_after_error),
        cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
