// unit-sources: net/peer_msg.c net/peer_msg_page.c net/peer_csum.c kernel/format.c kernel/error.c
/*
 * The PAGE_* messages (docs/protocol.md, "Remote memory: PAGE_*"): layout, round trips,
 * fragmentation, and every check. The framing itself is tested in test_peer_msg.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/peer_csum.h"
#include "net/peer_msg.h"

#define HOST_A 0x1122334455667788ull
#define GFN_MAX (PEER_PAGE_GFN_LIMIT - 1)

struct stream {
    uint8_t b[64 * 1024];
    size_t n;
};

static uint8_t page[PEER_PAGE_SIZE], page2[PEER_PAGE_SIZE];

/* The tests' own big-endian writer, independent of the codec's. */
static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void fill_pages(void)
{
    for (size_t i = 0; i < PEER_PAGE_SIZE; i++) {
        page[i] = (uint8_t)(i * 7 + (i >> 8));
        page2[i] = (uint8_t)~page[i];
    }
}

static void add(struct stream *s, struct peer_tx *tx, struct peer_msg m)
{
    size_t len = 0;
    assert_int_equal(peer_tx_encode(tx, &m, s->b + s->n, sizeof(s->b) - s->n, &len), CIVIC_OK);
    s->n += len;
}

static void add_page(struct stream *s, struct peer_tx *tx, uint16_t type, struct peer_page pg)
{
    add(s, tx, (struct peer_msg){.type = type, .page = pg});
}

/* A stream that starts with A's HELLO (so page messages may follow). */
static void start(struct stream *s, struct peer_tx *tx, uint64_t seq)
{
    struct peer_msg h = {.type = PEER_T_HELLO,
                         .hello = {.host_id = HOST_A,
                                   .caps = PEER_CAP_BENCH | PEER_CAP_PAGE,
                                   .version = 1,
                                   .port = PEER_PORT}};
    strcpy(h.hello.name, "owner");
    s->n = 0;
    peer_tx_init(tx, HOST_A, seq);
    add(s, tx, h);
}

/* ---- decoding ---- */

#define MAX_MSGS 32

struct result {
    size_t count;
    struct peer_msg msg[MAX_MSGS];
    uint8_t data[MAX_MSGS][PEER_PAGE_SIZE]; /* copies: the decoder's pointers are transient */
    enum peer_rx_status last;
    enum peer_err err;
    char why[96];
};

static struct result res, res2;
static struct peer_rx rx;

/* Feeds [0, cut) then [cut, n) (cut 0: one piece), each in its own allocation for ASan. */
static void decode_split(struct result *r, const struct stream *s, size_t cut)
{
    size_t bounds[3] = {0, cut, s->n};
    int pieces = cut ? 2 : 1;
    if (!cut)
        bounds[1] = s->n;
    r->count = 0; /* not a memset: this runs once per cut of a 21 KB stream */
    peer_rx_init(&rx);
    r->last = PEER_RX_MORE;
    for (int k = 0; k < pieces && r->last != PEER_RX_ERROR; k++) {
        size_t n = bounds[k + 1] - bounds[k];
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, s->b + bounds[k], n);
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
            if ((m.type == PEER_T_PAGE_PUT || m.type == PEER_T_PAGE_DATA)) {
                assert_non_null(m.page.data);
                memcpy(r->data[r->count], m.page.data, PEER_PAGE_SIZE);
            }
            r->msg[r->count++] = m;
        }
        if (r->last == PEER_RX_MORE)
            assert_int_equal(off, n);
        free(c);
    }
    r->err = peer_rx_end(&rx);
    strcpy(r->why, peer_rx_why(&rx));
}

/* Refused with e after `good` messages, in one piece and cut inside the last message. */
static void expect_refused(const struct stream *s, size_t good, enum peer_err e)
{
    decode_split(&res, s, 0);
    assert_int_equal(res.err, e);
    assert_int_equal(res.last, PEER_RX_ERROR);
    assert_int_equal(res.count, good);
    assert_non_null(strstr(res.why, peer_err_name(e)));
    decode_split(&res2, s, s->n - 1);
    assert_int_equal(res2.err, e);
    assert_int_equal(res2.count, good);
}

/* ---- the format ---- */

static void test_lengths_and_names(void **state)
{
    static const struct {
        uint16_t type;
        int len;
        const char *name;
    } types[] = {
        {PEER_T_PAGE_PUT, 4120, "PAGE_PUT"}, {PEER_T_PAGE_PUT_ACK, 24, "PAGE_PUT_ACK"},
        {PEER_T_PAGE_GET, 16, "PAGE_GET"},   {PEER_T_PAGE_DATA, 4120, "PAGE_DATA"},
        {PEER_T_PAGE_FREE, 16, "PAGE_FREE"}, {PEER_T_PAGE_FREE_VM, 8, "PAGE_FREE_VM"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_int_equal(types[i].type, 0x0200 + i);
        assert_int_equal(peer_payload_len(types[i].type), types[i].len);
        assert_true(peer_type_known(types[i].type));
        assert_string_equal(peer_type_name(types[i].type), types[i].name);
    }
    assert_int_equal(PEER_T_PAGE_FIRST, PEER_T_PAGE_PUT);
    assert_false(peer_type_known(0x0206));
    assert_false(peer_type_known(0x02ff));
    assert_string_equal(peer_type_name(0x0206), "?");
    assert_int_equal(PEER_CAP_PAGE, 2);

    static const char *const status[] = {"OK", "FULL", "CORRUPT", "ABSENT", "STALE"};
    assert_int_equal(PEER_PAGE_STATUS_COUNT, 5);
    for (uint32_t i = 0; i < PEER_PAGE_STATUS_COUNT; i++)
        assert_string_equal(peer_page_status_name(i), status[i]);
    assert_string_equal(peer_page_status_name(PEER_PAGE_STATUS_COUNT), "?");
    assert_string_equal(peer_page_status_name(0xffffffffu), "?");
}

static void test_put_bytes_are_the_documented_layout(void **state)
{
    static uint8_t buf[PEER_MSG_MAX];
    struct peer_tx tx;
    size_t len = 0;
    fill_pages();
    peer_tx_init(&tx, 0x0102030405060708ull, 0x1112131415161718ull);
    struct peer_page pg = {.vm = 0x21222324,
                           .version = 0x31323334,
                           .gfn = 0xa1a2a3a4a5ull,
                           .crc = 0xc1c2c3c4,
                           .status = 3, /* not PUT's: ignored */
                           .data = page};
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_PUT, &pg, buf, sizeof(buf), &len), CIVIC_OK);
    static const uint8_t want[56] = {
        'C',  'V',  'P',  'R',  0x00, 0x01, 0x02, 0x00, /* magic, version 1, PAGE_PUT */
        0x00, 0x00, 0x10, 0x38, 0x00, 0x00, 0x00, 0x00, /* length 4152, reserved */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* seq */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender: the owner */
        0x21, 0x22, 0x23, 0x24, 0x31, 0x32, 0x33, 0x34, /* vm, version */
        0x00, 0x00, 0x00, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, /* gfn */
        0xc1, 0xc2, 0xc3, 0xc4, 0x00, 0x00, 0x00, 0x00, /* crc, reserved */
    };
    assert_int_equal(len, 4152);
    assert_memory_equal(buf, want, sizeof(want));
    assert_memory_equal(buf + sizeof(want), page, PEER_PAGE_SIZE);
    assert_int_equal(tx.next_seq, 0x1112131415161719ull);
}

static void test_put_ack_bytes_are_the_documented_layout(void **state)
{
    uint8_t buf[128];
    struct peer_tx tx;
    size_t len = 0;
    peer_tx_init(&tx, 9, 0x100);
    struct peer_page pg = {.vm = 7,
                           .version = 0xfffffffe,
                           .gfn = GFN_MAX,
                           .status = PEER_PAGE_STALE,
                           .crc = 0x55, /* not PUT_ACK's: ignored */
                           .data = page};
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_PUT_ACK, &pg, buf, sizeof(buf), &len),
                     CIVIC_OK);
    static const uint8_t want[56] = {
        'C',  'V',  'P',  'R',  0x00, 0x01, 0x02, 0x01, /* magic, version 1, PAGE_PUT_ACK */
        0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, /* length 56, reserved */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* seq */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* sender */
        0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0xff, 0xfe, /* vm, version */
        0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, /* gfn 2^40 - 1 */
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, /* status STALE, reserved */
    };
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
}

/* The other four: their payloads after the header. */
static void test_other_payload_layouts(void **state)
{
    static uint8_t buf[PEER_MSG_MAX];
    struct peer_tx tx;
    size_t len = 0;
    fill_pages();
    peer_tx_init(&tx, 9, 0);
    struct peer_page pg = {.vm = 0x01020304, .version = 0x05060708, .gfn = 0x090a0b0c0dull};
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 10, 11, 12, 13};

    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_GET, &pg, buf, sizeof(buf), &len), CIVIC_OK);
    assert_int_equal(len, 48);
    assert_memory_equal(buf + PEER_HDR_LEN, key, 16);
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_FREE, &pg, buf, sizeof(buf), &len),
                     CIVIC_OK);
    assert_int_equal(len, 48);
    assert_int_equal(buf[7], 0x04);
    assert_memory_equal(buf + PEER_HDR_LEN, key, 16);

    pg.status = PEER_PAGE_OK;
    pg.crc = 0xdeadbeef;
    pg.data = page;
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_DATA, &pg, buf, sizeof(buf), &len),
                     CIVIC_OK);
    assert_int_equal(len, 4152);
    static const uint8_t data_tail[8] = {0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}; /* status, crc */
    assert_memory_equal(buf + PEER_HDR_LEN, key, 16);
    assert_memory_equal(buf + PEER_HDR_LEN + 16, data_tail, 8);
    assert_memory_equal(buf + PEER_HDR_LEN + 24, page, PEER_PAGE_SIZE);

    /* A refusal without data: zeros on the wire. */
    pg.status = PEER_PAGE_ABSENT;
    pg.crc = 0;
    pg.data = NULL;
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_DATA, &pg, buf, sizeof(buf), &len),
                     CIVIC_OK);
    assert_int_equal(len, 4152);
    static const uint8_t absent_tail[8] = {0, 0, 0, 3, 0, 0, 0, 0};
    assert_memory_equal(buf + PEER_HDR_LEN + 16, absent_tail, 8);
    for (size_t i = 0; i < PEER_PAGE_SIZE; i++)
        assert_int_equal(buf[PEER_HDR_LEN + 24 + i], 0);

    pg = (struct peer_page){.vm = PEER_VM_ALL, .version = 5, .gfn = 6}; /* only vm is sent */
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_FREE_VM, &pg, buf, sizeof(buf), &len),
                     CIVIC_OK);
    static const uint8_t free_vm[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    assert_int_equal(len, 40);
    assert_memory_equal(buf + PEER_HDR_LEN, free_vm, 8);
}

/* ---- round trips ---- */

static struct stream s1;

static void build_all_page_types(struct stream *s)
{
    struct peer_tx tx;
    fill_pages();
    start(s, &tx, 0xfffffffffffffffeull);
    uint32_t crc = peer_csum(page, PEER_PAGE_SIZE);
    add_page(s, &tx, PEER_T_PAGE_PUT,
             (struct peer_page){.vm = 1, .version = 1, .gfn = 0x1234, .crc = crc, .data = page});
    add_page(s, &tx, PEER_T_PAGE_PUT,
             (struct peer_page){.vm = 0xfffffffe,
                                .version = 0xffffffff,
                                .gfn = GFN_MAX,
                                .crc = 0x01, /* wrong: the decoder does not check it */
                                .data = page2});
    for (uint32_t st = 0; st < PEER_PAGE_STATUS_COUNT; st++)
        add_page(s, &tx, PEER_T_PAGE_PUT_ACK,
                 (struct peer_page){.vm = 1, .version = 1, .gfn = 0x1234, .status = st});
    add_page(s, &tx, PEER_T_PAGE_GET, (struct peer_page){.vm = 0, .version = 0, .gfn = 0});
    add_page(s, &tx, PEER_T_PAGE_DATA,
             (struct peer_page){.vm = 1, .version = 1, .gfn = 0x1234, .crc = crc, .data = page});
    add_page(s, &tx, PEER_T_PAGE_DATA,
             (struct peer_page){.vm = 1, .version = 2, .gfn = 0x1234, .status = PEER_PAGE_ABSENT});
    add_page(s, &tx, PEER_T_PAGE_DATA,
             (struct peer_page){.vm = 1,
                                .version = 3,
                                .gfn = 0x1234,
                                .status = PEER_PAGE_CORRUPT,
                                .data = page2}); /* sent, ignored */
    add_page(s, &tx, PEER_T_PAGE_FREE, (struct peer_page){.vm = 2, .version = 9, .gfn = 77});
    add_page(s, &tx, PEER_T_PAGE_FREE_VM, (struct peer_page){.vm = 2});
    add_page(s, &tx, PEER_T_PAGE_FREE_VM, (struct peer_page){.vm = PEER_VM_ALL});
}

#define ALL_PAGE_MSGS 15 /* HELLO + 14 */

static void check_all_page_types(const struct result *r)
{
    static const uint8_t zero[PEER_PAGE_SIZE];
    const struct peer_msg *m = r->msg;
    assert_int_equal(r->err, PEER_E_NONE);
    assert_int_equal(r->count, ALL_PAGE_MSGS);
    for (size_t i = 0; i < r->count; i++) {
        assert_int_equal(m[i].sender, HOST_A);
        assert_int_equal(m[i].seq, 0xfffffffffffffffeull + i);
    }
    assert_int_equal(m[1].type, PEER_T_PAGE_PUT);
    assert_int_equal(m[1].length, 4152);
    assert_int_equal(m[1].page.vm, 1);
    assert_int_equal(m[1].page.version, 1);
    assert_int_equal(m[1].page.gfn, 0x1234);
    assert_int_equal(m[1].page.crc, peer_csum(page, PEER_PAGE_SIZE));
    assert_int_equal(m[1].page.status, 0);
    assert_memory_equal(r->data[1], page, PEER_PAGE_SIZE);
    assert_int_equal(m[2].page.vm, 0xfffffffe);
    assert_int_equal(m[2].page.version, 0xffffffff);
    assert_int_equal(m[2].page.gfn, GFN_MAX);
    assert_int_equal(m[2].page.crc, 0x01);
    assert_memory_equal(r->data[2], page2, PEER_PAGE_SIZE);
    for (uint32_t st = 0; st < PEER_PAGE_STATUS_COUNT; st++) {
        const struct peer_msg *a = &m[3 + st];
        assert_int_equal(a->type, PEER_T_PAGE_PUT_ACK);
        assert_int_equal(a->length, 56);
        assert_int_equal(a->page.vm, 1);
        assert_int_equal(a->page.gfn, 0x1234);
        assert_int_equal(a->page.status, st);
        assert_null(a->page.data);
    }
    assert_int_equal(m[8].type, PEER_T_PAGE_GET);
    assert_int_equal(m[8].length, 48);
    assert_int_equal(m[8].page.gfn, 0);
    assert_int_equal(m[9].type, PEER_T_PAGE_DATA);
    assert_int_equal(m[9].page.status, PEER_PAGE_OK);
    assert_int_equal(m[9].page.crc, peer_csum(page, PEER_PAGE_SIZE));
    assert_memory_equal(r->data[9], page, PEER_PAGE_SIZE);
    assert_int_equal(m[10].page.status, PEER_PAGE_ABSENT);
    assert_int_equal(m[10].page.version, 2);
    assert_int_equal(m[10].page.crc, 0);
    assert_memory_equal(r->data[10], zero, PEER_PAGE_SIZE);
    assert_int_equal(m[11].page.status, PEER_PAGE_CORRUPT);
    assert_memory_equal(r->data[11], page2, PEER_PAGE_SIZE);
    assert_int_equal(m[12].type, PEER_T_PAGE_FREE);
    assert_int_equal(m[12].page.vm, 2);
    assert_int_equal(m[12].page.version, 9);
    assert_int_equal(m[12].page.gfn, 77);
    assert_int_equal(m[13].type, PEER_T_PAGE_FREE_VM);
    assert_int_equal(m[13].length, 40);
    assert_int_equal(m[13].page.vm, 2);
    assert_int_equal(m[14].page.vm, PEER_VM_ALL);
}

static void test_round_trip_every_page_type(void **state)
{
    build_all_page_types(&s1);
    decode_split(&res, &s1, 0);
    check_all_page_types(&res);
    assert_int_equal(rx.offset, s1.n);
}

/* What the decoder returns encodes back to the very bytes (the fuzz target's invariant). */
static void test_decoded_reencodes_to_the_same_bytes(void **state)
{
    static uint8_t buf[PEER_MSG_MAX];
    build_all_page_types(&s1);
    size_t pos = 0;
    peer_rx_init(&rx);
    for (int i = 0; i < ALL_PAGE_MSGS; i++) {
        struct peer_msg m;
        size_t used = 0, len = 0;
        assert_int_equal(peer_rx_feed(&rx, s1.b + pos, s1.n - pos, &used, &m), PEER_RX_MSG);
        assert_int_equal(peer_msg_encode(&m, buf, sizeof(buf), &len), CIVIC_OK);
        assert_int_equal(len, used);
        assert_memory_equal(buf, s1.b + pos, len);
        pos += used;
    }
    assert_int_equal(pos, s1.n);
}

/* TCP may cut anywhere: every cut of every message gives the same messages. */
static void test_split_at_every_byte(void **state)
{
    build_all_page_types(&s1);
    for (size_t cut = 1; cut < s1.n; cut++) {
        decode_split(&res, &s1, cut);
        check_all_page_types(&res);
    }
}

/* In one chunk, data points at the 4096 payload bytes where they are; split, into the copy. */
static void test_data_points_at_the_payload(void **state)
{
    struct stream s;
    struct peer_tx tx;
    struct peer_msg m;
    size_t used;
    fill_pages();
    start(&s, &tx, 0);
    size_t hello_len = s.n;
    add_page(&s, &tx, PEER_T_PAGE_PUT, (struct peer_page){.vm = 1, .gfn = 2, .data = page});
    size_t put_end = s.n;
    add_page(&s, &tx, PEER_T_PAGE_DATA, (struct peer_page){.vm = 1, .gfn = 2, .data = page2});

    peer_rx_init(&rx);
    assert_int_equal(peer_rx_feed(&rx, s.b, s.n, &used, &m), PEER_RX_MSG);
    assert_int_equal(used, hello_len);
    assert_int_equal(peer_rx_feed(&rx, s.b + hello_len, s.n - hello_len, &used, &m), PEER_RX_MSG);
    assert_int_equal(m.type, PEER_T_PAGE_PUT);
    assert_ptr_equal(m.page.data, s.b + hello_len + PEER_HDR_LEN + 24);
    assert_int_equal(used, put_end - hello_len);
    assert_int_equal(peer_rx_feed(&rx, s.b + put_end, s.n - put_end, &used, &m), PEER_RX_MSG);
    assert_int_equal(m.type, PEER_T_PAGE_DATA);
    assert_ptr_equal(m.page.data, s.b + put_end + PEER_HDR_LEN + 24);
    assert_memory_equal(m.page.data, page2, PEER_PAGE_SIZE);

    /* Split: gathered in the decoder's buffer, same bytes. */
    peer_rx_init(&rx);
    assert_int_equal(peer_rx_feed(&rx, s.b, hello_len + 100, &used, &m), PEER_RX_MSG);
    assert_int_equal(peer_rx_feed(&rx, s.b + hello_len, 100, &used, &m), PEER_RX_MORE);
    assert_int_equal(peer_rx_feed(&rx, s.b + hello_len + 100, put_end - hello_len - 100, &used, &m),
                     PEER_RX_MSG);
    assert_ptr_equal(m.page.data, rx.buf + PEER_HDR_LEN + 24);
    assert_memory_equal(m.page.data, page, PEER_PAGE_SIZE);
}

/* ---- checks ---- */

/* Each case encodes a valid message after a HELLO, then overwrites one payload field. */
struct field_case {
    uint16_t type;
    size_t off;
    uint64_t value;
    int bytes;
};

static void build_patched(struct stream *s, const struct field_case *c)
{
    struct peer_tx tx;
    fill_pages();
    start(s, &tx, 0);
    size_t at = s->n + PEER_HDR_LEN;
    add_page(s, &tx, c->type, (struct peer_page){.vm = 3, .version = 4, .gfn = 5, .data = page});
    put_be(s->b + at + c->off, c->value, c->bytes);
}

static void test_bad_fields_are_refused(void **state)
{
    static const struct field_case cases[] = {
        {PEER_T_PAGE_PUT, 8, PEER_PAGE_GFN_LIMIT, 8},         /* gfn 2^40 */
        {PEER_T_PAGE_PUT, 8, ~0ull, 8},                       /* gfn */
        {PEER_T_PAGE_PUT_ACK, 8, PEER_PAGE_GFN_LIMIT, 8},     /* gfn */
        {PEER_T_PAGE_GET, 8, PEER_PAGE_GFN_LIMIT, 8},         /* gfn */
        {PEER_T_PAGE_DATA, 8, PEER_PAGE_GFN_LIMIT | 5, 8},    /* gfn */
        {PEER_T_PAGE_FREE, 8, 1ull << 63, 8},                 /* gfn */
        {PEER_T_PAGE_PUT, 0, PEER_VM_ALL, 4},                 /* vm ALL outside FREE_VM */
        {PEER_T_PAGE_PUT_ACK, 0, PEER_VM_ALL, 4},             /* vm */
        {PEER_T_PAGE_GET, 0, PEER_VM_ALL, 4},                 /* vm */
        {PEER_T_PAGE_DATA, 0, PEER_VM_ALL, 4},                /* vm */
        {PEER_T_PAGE_FREE, 0, PEER_VM_ALL, 4},                /* vm */
        {PEER_T_PAGE_PUT_ACK, 16, PEER_PAGE_STATUS_COUNT, 4}, /* status */
        {PEER_T_PAGE_PUT_ACK, 16, 0x80000000u, 4},            /* status */
        {PEER_T_PAGE_DATA, 16, PEER_PAGE_STATUS_COUNT, 4},    /* status */
        {PEER_T_PAGE_DATA, 16, (uint64_t)PEER_PAGE_ABSENT << 32 | 1, 8}, /* not OK, crc 1 */
        {PEER_T_PAGE_DATA, 16, (uint64_t)PEER_PAGE_CORRUPT << 32 | 0x80000000u, 8},
        {PEER_T_PAGE_PUT, 20, 1, 4},              /* reserved */
        {PEER_T_PAGE_PUT_ACK, 20, 0x01000000, 4}, /* reserved */
        {PEER_T_PAGE_FREE_VM, 4, 0x80, 4},        /* reserved */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stream *s = &s1;
        build_patched(s, &cases[i]);
        expect_refused(s, 1, PEER_E_FIELD);
        assert_non_null(strstr(res.why, peer_type_name(cases[i].type)));
    }
    build_patched(&s1, &cases[0]);
    decode_split(&res, &s1, 0);
    assert_non_null(strstr(res.why, "gfn 0x10000000000"));
}

/* The edges of each rule are accepted. */
static void test_field_edges_are_accepted(void **state)
{
    static const struct field_case cases[] = {
        {PEER_T_PAGE_PUT, 8, GFN_MAX, 8},
        {PEER_T_PAGE_PUT, 0, PEER_VM_ALL - 1, 4},
        {PEER_T_PAGE_PUT, 16, 0xffffffffu, 4}, /* any crc */
        {PEER_T_PAGE_PUT, 4, 0, 4},            /* any version */
        {PEER_T_PAGE_PUT_ACK, 16, PEER_PAGE_STATUS_COUNT - 1, 4},
        {PEER_T_PAGE_DATA, 16, (uint64_t)PEER_PAGE_OK << 32 | 0xabcdef, 8}, /* OK: any crc */
        {PEER_T_PAGE_DATA, 16, (uint64_t)PEER_PAGE_FULL << 32, 8},          /* not OK, crc 0 */
        {PEER_T_PAGE_FREE_VM, 0, PEER_VM_ALL, 4},
        {PEER_T_PAGE_FREE_VM, 0, 0, 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build_patched(&s1, &cases[i]);
        decode_split(&res, &s1, 0);
        assert_int_equal(res.err, PEER_E_NONE);
        assert_int_equal(res.count, 2);
    }
    /* The CRC is the receiver's business: a PUT whose data does not match it decodes. */
    build_patched(&s1, &cases[0]);
    s1.b[s1.n - 1] ^= 1;
    decode_split(&res, &s1, 0);
    assert_int_equal(res.count, 2);
    assert_int_not_equal(res.msg[1].page.crc, peer_csum(res.data[1], PEER_PAGE_SIZE));
}

static void test_wrong_lengths_are_refused(void **state)
{
    static const struct {
        uint16_t type;
        uint32_t payload;
    } cases[] = {
        {PEER_T_PAGE_PUT, 4119},   {PEER_T_PAGE_PUT, 4121},   {PEER_T_PAGE_PUT, 4096},
        {PEER_T_PAGE_PUT_ACK, 23}, {PEER_T_PAGE_PUT_ACK, 25}, {PEER_T_PAGE_PUT_ACK, 16},
        {PEER_T_PAGE_GET, 15},     {PEER_T_PAGE_GET, 17},     {PEER_T_PAGE_GET, 24},
        {PEER_T_PAGE_DATA, 4119},  {PEER_T_PAGE_DATA, 4121},  {PEER_T_PAGE_DATA, 24},
        {PEER_T_PAGE_FREE, 15},    {PEER_T_PAGE_FREE, 17},    {PEER_T_PAGE_FREE, 0},
        {PEER_T_PAGE_FREE_VM, 7},  {PEER_T_PAGE_FREE_VM, 9},  {PEER_T_PAGE_FREE_VM, 16},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stream *s = &s1;
        struct peer_tx tx;
        start(s, &tx, 0);
        uint8_t *h = s->b + s->n;
        uint32_t length = PEER_HDR_LEN + cases[i].payload;
        memset(h, 0, length);
        put_be(h + 0, PEER_MAGIC, 4);
        put_be(h + 4, PEER_VERSION, 2);
        put_be(h + 6, cases[i].type, 2);
        put_be(h + 8, length, 4);
        put_be(h + 16, tx.next_seq, 8);
        put_be(h + 24, HOST_A, 8);
        s->n += length;
        expect_refused(s, 1, PEER_E_LENGTH);
        assert_non_null(strstr(res.why, peer_type_name(cases[i].type)));
    }
}

/* The encoder refuses what the decoder would, without using a sequence number. */
static void test_encoder_refusals(void **state)
{
    static uint8_t buf[PEER_MSG_MAX];
    struct peer_tx tx;
    size_t len = 77;
    fill_pages();
    peer_tx_init(&tx, HOST_A, 10);
    static const struct {
        uint16_t type;
        struct peer_page pg;
    } bad[] = {
        {PEER_T_PAGE_PUT, {.vm = 1, .gfn = PEER_PAGE_GFN_LIMIT, .data = page}},
        {PEER_T_PAGE_PUT, {.vm = PEER_VM_ALL, .data = page}},
        {PEER_T_PAGE_PUT, {.vm = 1, .data = NULL}},
        {PEER_T_PAGE_PUT_ACK, {.vm = 1, .status = PEER_PAGE_STATUS_COUNT}},
        {PEER_T_PAGE_PUT_ACK, {.vm = PEER_VM_ALL}},
        {PEER_T_PAGE_GET, {.gfn = PEER_PAGE_GFN_LIMIT}},
        {PEER_T_PAGE_GET, {.vm = PEER_VM_ALL}},
        {PEER_T_PAGE_DATA, {.vm = 1, .status = PEER_PAGE_OK, .data = NULL}},
        {PEER_T_PAGE_DATA, {.vm = 1, .status = PEER_PAGE_ABSENT, .crc = 5}},
        {PEER_T_PAGE_DATA, {.vm = 1, .status = PEER_PAGE_STATUS_COUNT}},
        {PEER_T_PAGE_FREE, {.vm = PEER_VM_ALL}},
        {PEER_T_PAGE_FREE, {.gfn = ~0ull}},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(peer_encode_page(&tx, bad[i].type, &bad[i].pg, buf, sizeof(buf), &len),
                         CIVIC_EINVAL);
        struct peer_msg m = {.type = bad[i].type, .sender = HOST_A, .page = bad[i].pg};
        assert_int_equal(peer_msg_check(&m), PEER_E_FIELD);
    }
    struct peer_page ok = {.vm = 1, .data = page};
    assert_int_equal(peer_encode_page(&tx, PEER_T_BYE, &ok, buf, sizeof(buf), &len), CIVIC_EINVAL);
    assert_int_equal(peer_encode_page(&tx, 0x0206, &ok, buf, sizeof(buf), &len), CIVIC_EINVAL);
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_PUT, &ok, buf, 4151, &len), CIVIC_ERANGE);
    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_FREE_VM, &ok, buf, 39, &len), CIVIC_ERANGE);
    assert_int_equal(len, 77);
    assert_int_equal(tx.next_seq, 10);

    assert_int_equal(peer_encode_page(&tx, PEER_T_PAGE_PUT, &ok, buf, 4152, &len), CIVIC_OK);
    assert_int_equal(len, 4152);
    assert_int_equal(tx.next_seq, 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths_and_names),
        cmocka_unit_test(test_put_bytes_are_the_documented_layout),
        cmocka_unit_test(test_put_ack_bytes_are_the_documented_layout),
        cmocka_unit_test(test_other_payload_layouts),
        cmocka_unit_test(test_round_trip_every_page_type),
        cmocka_unit_test(test_decoded_reencodes_to_the_same_bytes),
        cmocka_unit_test(test_split_at_every_byte),
        cmocka_unit_test(test_data_points_at_the_payload),
        cmocka_unit_test(test_bad_fields_are_refused),
        cmocka_unit_test(test_field_edges_are_accepted),
        cmocka_unit_test(test_wrong_lengths_are_refused),
        cmocka_unit_test(test_encoder_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
