// fuzz-sources: net/peer_msg.c net/peer_msg_page.c net/peer_conn.c kernel/format.c kernel/error.c
/*
 * libFuzzer target for the peer protocol's decoder (and the connection state machine behind it).
 * Input: two bytes that choose how the stream is cut into chunks, then the stream. Checked:
 *   - the decoder never reads outside the chunk it is given (each chunk is its own allocation);
 *   - it consumes at most what it was given, and all of it when it wants more;
 *   - every message it returns re-encodes to exactly the bytes it came from;
 *   - after an error it returns nothing more and consumes nothing;
 *   - the same stream in one piece gives the same messages and the same verdict;
 *   - whatever the connection state machine answers is itself a valid stream.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/peer_conn.h"
#include "net/peer_msg.h"

#define MAX_MSGS 1024

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_peer_msg: invariant failed at line %d: %s\n", __LINE__, #cond);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct verdict {
    size_t count;
    size_t ends[MAX_MSGS]; /* stream offset just past each message */
    enum peer_err err;
};

static struct peer_rx rx, echo_rx;
static struct peer_conn conn;
static uint8_t scratch[PEER_MSG_MAX];

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* What the state machine sends must decode: our own output is never malformed. */
static void check_answer(const struct peer_conn_out *out)
{
    size_t off = 0;
    CHECK(out->tx_len <= sizeof(out->tx));
    while (off < out->tx_len) {
        size_t used = 0;
        struct peer_msg m;
        enum peer_rx_status st =
            peer_rx_feed(&echo_rx, out->tx + off, out->tx_len - off, &used, &m);
        CHECK(st == PEER_RX_MSG);
        off += used;
    }
}

static void on_message(const struct peer_msg *m, const uint8_t *stream, size_t end,
                       struct verdict *v, uint64_t *now)
{
    size_t len = 0;
    CHECK(v->count < MAX_MSGS);
    CHECK(m->length >= PEER_HDR_LEN && m->length <= PEER_MSG_MAX && m->length <= end);
    CHECK(peer_msg_encode(m, scratch, sizeof(scratch), &len) == CIVIC_OK);
    CHECK(len == m->length);
    CHECK(memcmp(scratch, stream + end - len, len) == 0);
    v->ends[v->count++] = end;
    if (now) {
        struct peer_conn_out out;
        *now += (uint64_t)(m->seq & 0xff) * 100000000ull; /* time passes, by the input */
        peer_conn_received(&conn, m, *now, &out);
        check_answer(&out);
        peer_conn_tick(&conn, *now, &out);
        check_answer(&out);
    }
}

/* Feeds the stream in chunks (max_chunk 0: one piece). */
static void run(const uint8_t *stream, size_t n, uint32_t seed, size_t max_chunk, struct verdict *v,
                bool with_conn)
{
    uint64_t now = 0;
    v->count = 0;
    v->err = PEER_E_NONE;
    peer_rx_init(&rx);
    if (with_conn) {
        struct peer_conn_config cfg = PEER_CONN_CONFIG_DEFAULT;
        struct peer_hello self = {
            .host_id = 1, .caps = PEER_CAP_BENCH | PEER_CAP_PAGE, .port = PEER_PORT};
        struct peer_conn_out out;
        strcpy(self.name, "fuzz");
        CHECK(peer_conn_init(&conn, &cfg, &self, seed & 1, 0) == CIVIC_OK);
        peer_rx_init(&echo_rx);
        peer_conn_connected(&conn, 0, &out);
        check_answer(&out);
    }
    size_t pos = 0;
    bool dead = false;
    while (pos < n) {
        size_t len = max_chunk ? 1 + rnd(&seed) % max_chunk : n;
        if (len > n - pos)
            len = n - pos;
        uint8_t *chunk = malloc(len);
        CHECK(chunk);
        memcpy(chunk, stream + pos, len);
        size_t off = 0;
        for (;;) {
            size_t used = 99999;
            struct peer_msg m;
            enum peer_rx_status st = peer_rx_feed(&rx, chunk + off, len - off, &used, &m);
            CHECK(used <= len - off);
            if (dead) {
                CHECK(st == PEER_RX_ERROR && used == 0);
                break;
            }
            off += used;
            if (st == PEER_RX_ERROR) {
                dead = true;
                CHECK(peer_rx_error(&rx) != PEER_E_NONE);
                CHECK(peer_rx_why(&rx)[0] != '\0');
                continue; /* feed again: must refuse */
            }
            if (st == PEER_RX_MORE) {
                CHECK(off == len);
                break;
            }
            CHECK(st == PEER_RX_MSG);
            on_message(&m, stream, pos + off, v, with_conn ? &now : NULL);
        }
        free(chunk);
        pos += len;
    }
    enum peer_err at_end = peer_rx_end(&rx);
    if (!dead) {
        size_t last = v->count ? v->ends[v->count - 1] : 0;
        CHECK(at_end == (last == n ? PEER_E_NONE : PEER_E_TRUNCATED));
    }
    v->err = at_end;
    if (with_conn) {
        struct peer_conn_out out;
        if (dead)
            peer_conn_rx_failed(&conn, peer_rx_why(&rx), now, &out);
        else
            peer_conn_tick(&conn, now + 60000000000ull, &out);
        check_answer(&out);
    }
}

static struct verdict chunked, whole;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_chunks[8] = {1, 3, 8, 31, 33, 200, 4100, 9000};
    if (size < 2)
        return 0;
    uint32_t seed = (uint32_t)data[0] << 8 | data[1];
    size_t max_chunk = max_chunks[data[0] >> 5];
    seed = seed * 2654435761u + 1; /* xorshift needs a nonzero state */
    if (seed == 0)
        seed = 1;

    run(data + 2, size - 2, seed, max_chunk, &chunked, true);
    run(data + 2, size - 2, seed, 0, &whole, false);
    CHECK(chunked.err == whole.err);
    CHECK(chunked.count == whole.count);
    CHECK(memcmp(chunked.ends, whole.ends, whole.count * sizeof(whole.ends[0])) == 0);
    return 0;
}
