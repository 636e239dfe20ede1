// unit-sources: net/peer_conn.c net/peer_msg.c net/peer_msg_page.c kernel/format.c kernel/error.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/peer_conn.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define ID_A 5ull
#define ID_B 9ull

/* One end of a connection: the state machine and the decoder of what arrives at it. */
struct side {
    struct peer_conn c;
    struct peer_rx rx;
};

static struct side a, b;
static struct peer_conn_out oa, ob;
static const struct peer_conn_config cfg = PEER_CONN_CONFIG_DEFAULT;

static struct peer_hello identity(uint64_t id, uint64_t caps, const char *name)
{
    struct peer_hello h = {.host_id = id, .caps = caps, .port = PEER_PORT};
    strcpy(h.name, name);
    return h;
}

static void side_init(struct side *s, uint64_t id, uint64_t caps, bool initiator, uint64_t now)
{
    struct peer_hello h = identity(id, caps, id == ID_A ? "alpha" : "beta");
    assert_int_equal(peer_conn_init(&s->c, &cfg, &h, initiator, now), CIVIC_OK);
    peer_rx_init(&s->rx);
}

/* Decodes the one message in out->tx (as its receiver would). */
static struct peer_msg one_msg(struct side *to, const struct peer_conn_out *out)
{
    struct peer_msg m;
    size_t used = 0;
    assert_true(out->tx_len > 0);
    assert_int_equal(peer_rx_feed(&to->rx, out->tx, out->tx_len, &used, &m), PEER_RX_MSG);
    assert_int_equal(used, out->tx_len);
    return m;
}

/* Carries the one message in `out` to `to` at time now; to's answer lands in *answer. */
static uint16_t carry(const struct peer_conn_out *out, struct side *to, uint64_t now,
                      struct peer_conn_out *answer)
{
    struct peer_msg m = one_msg(to, out);
    peer_conn_received(&to->c, &m, now, answer);
    return m.type;
}

/* A (initiator, id 5) connects to B (acceptor, id 9); both offer BENCH, B also bit 40. */
static void handshake(uint64_t t)
{
    side_init(&a, ID_A, PEER_CAP_BENCH | PEER_CAP_PAGE, true, t);
    side_init(&b, ID_B, PEER_CAP_BENCH | (1ull << 40), false, t);
    peer_conn_connected(&b.c, t, &ob);
    assert_int_equal(ob.tx_len, 0);
    assert_int_equal(b.c.state, PEER_CONN_HELLO_WAIT);
    peer_conn_connected(&a.c, t, &oa);
    assert_int_equal(a.c.state, PEER_CONN_HELLO_SENT);
    assert_int_equal(carry(&oa, &b, t + 1 * MS, &ob), PEER_T_HELLO);
    assert_true(ob.established);
    assert_int_equal(b.c.state, PEER_CONN_ESTABLISHED);
    assert_int_equal(carry(&ob, &a, t + 2 * MS, &oa), PEER_T_HELLO_ACK);
    assert_true(oa.established);
    assert_int_equal(a.c.state, PEER_CONN_ESTABLISHED);
}

/* The loss timer counts from the last message: a message from B to A at time t. */
static void b_sends_keepalive(uint64_t t)
{
    struct peer_msg m = {.type = PEER_T_KEEPALIVE, .timestamp = t};
    size_t len;
    assert_int_equal(peer_tx_encode(&b.c.tx, &m, ob.tx, sizeof(ob.tx), &len), CIVIC_OK);
    ob.tx_len = len;
    assert_int_equal(carry(&ob, &a, t, &oa), PEER_T_KEEPALIVE);
    assert_int_equal(one_msg(&b, &oa).type, PEER_T_KEEPALIVE_ACK);
}

static void test_config_check(void **state)
{
    struct peer_conn_config c = PEER_CONN_CONFIG_DEFAULT;
    assert_int_equal(peer_conn_config_check(&c), CIVIC_OK);
    assert_int_equal(c.keepalive_interval_ns, 1 * SEC);
    assert_int_equal(c.lost_timeout_ns, 5 * SEC);
    c.keepalive_interval_ns = c.lost_timeout_ns;
    assert_int_equal(peer_conn_config_check(&c), CIVIC_EINVAL);
    c = PEER_CONN_CONFIG_DEFAULT;
    c.handshake_timeout_ns = 0;
    assert_int_equal(peer_conn_config_check(&c), CIVIC_EINVAL);
    c = PEER_CONN_CONFIG_DEFAULT;
    c.close_timeout_ns = 0;
    assert_int_equal(peer_conn_config_check(&c), CIVIC_EINVAL);
}

/* An identity that could not be sent in a HELLO is refused up front. */
static void test_init_refuses_bad_identity(void **state)
{
    struct peer_conn_config good = PEER_CONN_CONFIG_DEFAULT, bad = good;
    bad.lost_timeout_ns = bad.keepalive_interval_ns;
    struct peer_hello h = identity(ID_A, 0, "alpha");
    memset(&a.c, 0x77, sizeof(a.c));
    assert_int_equal(peer_conn_init(&a.c, &bad, &h, true, 0), CIVIC_EINVAL);
    assert_int_equal(a.c.tx.next_seq, 0x7777777777777777ull); /* untouched */
    h = identity(0, 0, "alpha");
    assert_int_equal(peer_conn_init(&a.c, &good, &h, true, 0), CIVIC_EINVAL);
    h = identity(ID_A, 0, "");
    assert_int_equal(peer_conn_init(&a.c, &good, &h, true, 0), CIVIC_EINVAL);
    h = identity(ID_A, 0, "has space");
    assert_int_equal(peer_conn_init(&a.c, &good, &h, true, 0), CIVIC_EINVAL);
    h = identity(ID_A, 0, "ok");
    h.version = 0; /* filled in, not the caller's business */
    assert_int_equal(peer_conn_init(&a.c, &good, &h, true, 0), CIVIC_OK);
    assert_int_equal(a.c.self.version, PEER_VERSION);
}

static void test_handshake_exchanges_ids_and_capabilities(void **state)
{
    handshake(1000);
    assert_int_equal(a.c.peer.host_id, ID_B);
    assert_int_equal(b.c.peer.host_id, ID_A);
    assert_string_equal(a.c.peer.name, "beta");
    assert_string_equal(b.c.peer.name, "alpha");
    assert_int_equal(a.c.peer.port, PEER_PORT);
    /* Only what both offered; unknown bits ignored. */
    assert_int_equal(a.c.caps, PEER_CAP_BENCH);
    assert_int_equal(b.c.caps, PEER_CAP_BENCH);
    assert_int_equal(a.c.version, 1);
    assert_int_equal(b.c.version, 1);
    assert_int_equal(b.c.established_ns, 1000 + 1 * MS);
    assert_null(oa.reason);
    /* Each side numbered its messages from 0. */
    assert_int_equal(a.c.tx.next_seq, 1);
    assert_int_equal(b.c.tx.next_seq, 1);
}

/* A peer that speaks a newer version: the lower one is used. */
static void test_newer_peer_version_negotiates_down(void **state)
{
    side_init(&b, ID_B, PEER_CAP_BENCH, false, 0);
    peer_conn_connected(&b.c, 0, &ob);
    struct peer_msg m = {.type = PEER_T_HELLO,
                         .seq = 0,
                         .sender = ID_A,
                         .hello = identity(ID_A, PEER_CAP_BENCH, "future")};
    m.hello.version = 7;
    peer_conn_received(&b.c, &m, 1, &ob);
    assert_true(ob.established);
    assert_int_equal(b.c.version, 1);
    assert_int_equal(b.c.peer.version, 7);
}

static void test_handshake_timeout(void **state)
{
    /* Initiator: HELLO sent, nothing back. */
    side_init(&a, ID_A, 0, true, 0);
    side_init(&b, ID_B, 0, false, 0);
    peer_conn_connected(&a.c, 100 * MS, &oa);
    assert_int_equal(one_msg(&b, &oa).type, PEER_T_HELLO);
    peer_conn_tick(&a.c, 100 * MS + 5 * SEC - 1, &oa);
    assert_int_equal(oa.tx_len, 0);
    assert_false(oa.close);
    peer_conn_tick(&a.c, 100 * MS + 5 * SEC, &oa);
    assert_true(oa.close);
    assert_false(oa.lost);
    assert_int_equal(a.c.state, PEER_CONN_CLOSED);
    assert_string_equal(oa.reason, "handshake timed out after 5000 ms (hello-sent)");
    struct peer_msg m = one_msg(&b, &oa);
    assert_int_equal(m.type, PEER_T_BYE);
    assert_int_equal(m.bye_reason, PEER_BYE_TIMEOUT);

    /* Acceptor: no HELLO arrives. */
    side_init(&b, ID_B, 0, false, 0);
    peer_conn_connected(&b.c, 0, &ob);
    peer_conn_tick(&b.c, 4 * SEC, &ob);
    assert_false(ob.close);
    peer_conn_tick(&b.c, 6 * SEC, &ob);
    assert_true(ob.close);
    assert_non_null(strstr(ob.reason, "hello-wait"));

    /* TCP connect never completes: no transport, so no BYE. */
    side_init(&a, ID_A, 0, true, 0);
    peer_conn_tick(&a.c, 5 * SEC, &oa);
    assert_true(oa.close);
    assert_int_equal(oa.tx_len, 0);
    assert_non_null(strstr(oa.reason, "connecting"));
}

static void test_keepalives_measure_round_trips(void **state)
{
    handshake(0);
    uint64_t t0 = a.c.established_ns;
    peer_conn_tick(&a.c, t0 + 999 * MS, &oa);
    assert_int_equal(oa.tx_len, 0);
    peer_conn_tick(&a.c, t0 + 1 * SEC, &oa);
    assert_int_equal(a.c.keepalives, 1);
    struct peer_msg m = one_msg(&b, &oa);
    assert_int_equal(m.type, PEER_T_KEEPALIVE);
    assert_int_equal(m.timestamp, t0 + 1 * SEC);
    peer_conn_received(&b.c, &m, t0 + 1 * SEC + 3 * MS, &ob);
    assert_int_equal(carry(&ob, &a, t0 + 1 * SEC + 7 * MS, &oa), PEER_T_KEEPALIVE_ACK);
    assert_true(oa.rtt);
    assert_int_equal(a.c.rtt_ns, 7 * MS);
    assert_int_equal(a.c.rtt_min_ns, 7 * MS);

    /* A second one, faster. */
    peer_conn_tick(&a.c, t0 + 2 * SEC, &oa);
    carry(&oa, &b, t0 + 2 * SEC, &ob);
    carry(&ob, &a, t0 + 2 * SEC + 2 * MS, &oa);
    assert_int_equal(a.c.rtt_ns, 2 * MS);
    assert_int_equal(a.c.rtt_min_ns, 2 * MS);
    assert_false(oa.close);
}

/* B stays alive (it keeps sending) but answers no keepalive: at most PEER_CONN_KA_PENDING are
 * outstanding; late answers, in order, each match the oldest. */
static void test_unanswered_keepalives_are_bounded(void **state)
{
    handshake(0);
    uint64_t sent[16];
    size_t n = 0;
    for (uint64_t t = 100 * MS; t < 15 * SEC; t += 100 * MS) {
        if (t % SEC == 0)
            b_sends_keepalive(t);
        peer_conn_tick(&a.c, t, &oa);
        assert_false(oa.close);
        if (oa.tx_len) {
            struct peer_msg m = one_msg(&b, &oa);
            assert_int_equal(m.type, PEER_T_KEEPALIVE);
            assert_true(n < 16);
            sent[n++] = m.timestamp;
        }
    }
    assert_int_equal(n, PEER_CONN_KA_PENDING);
    for (size_t i = 0; i < n; i++) {
        struct peer_msg ack = {.type = PEER_T_KEEPALIVE_ACK, .timestamp = sent[i]};
        peer_conn_received(&a.c, &ack, 15 * SEC, &oa);
        assert_true(oa.rtt);
        assert_int_equal(a.c.rtt_ns, 15 * SEC - sent[i]);
    }
    /* Answered: keepalives flow again. */
    peer_conn_tick(&a.c, 15 * SEC + 100 * MS, &oa);
    assert_int_equal(one_msg(&b, &oa).type, PEER_T_KEEPALIVE);
}

/* Two healthy peers exchanging keepalives stay up indefinitely. */
static void test_healthy_peers_stay_up(void **state)
{
    handshake(0);
    for (uint64_t t = 10 * MS; t < 600 * SEC; t += 10 * MS) {
        peer_conn_tick(&a.c, t, &oa);
        assert_false(oa.close);
        if (oa.tx_len) {
            carry(&oa, &b, t, &ob);
            carry(&ob, &a, t + 1 * MS, &oa);
            assert_true(oa.rtt);
        }
        peer_conn_tick(&b.c, t, &ob);
        assert_false(ob.close);
        if (ob.tx_len) {
            carry(&ob, &a, t, &oa);
            carry(&oa, &b, t + 1 * MS, &ob);
        }
    }
    assert_int_equal(a.c.state, PEER_CONN_ESTABLISHED);
    assert_int_equal(b.c.state, PEER_CONN_ESTABLISHED);
    assert_true(a.c.keepalives >= 599 && a.c.keepalives <= 600);
}

/* B goes silent: A keeps sending keepalives and declares B lost after exactly 5 s. */
static void test_silent_peer_is_lost_in_bounded_time(void **state)
{
    handshake(0);
    b_sends_keepalive(1 * SEC);
    uint64_t lost_at = 0;
    int keepalives = 0;
    for (uint64_t t = 1 * SEC; t <= 20 * SEC && !lost_at; t += 100 * MS) {
        peer_conn_tick(&a.c, t, &oa);
        if (oa.close) {
            lost_at = t;
            assert_true(oa.lost);
            struct peer_msg m = one_msg(&b, &oa);
            assert_int_equal(m.type, PEER_T_BYE);
            assert_int_equal(m.bye_reason, PEER_BYE_TIMEOUT);
        } else if (oa.tx_len) {
            assert_int_equal(one_msg(&b, &oa).type, PEER_T_KEEPALIVE);
            keepalives++;
        }
    }
    assert_int_equal(lost_at, 6 * SEC);
    assert_int_equal(keepalives, 5);
    assert_int_equal(a.c.state, PEER_CONN_CLOSED);
    assert_string_equal(oa.reason, "peer lost: nothing received for 5000 ms (limit 5000 ms)");
    /* Closed is final. */
    peer_conn_tick(&a.c, 30 * SEC, &oa);
    assert_false(oa.close);
    assert_int_equal(oa.tx_len, 0);
}

/* Any message counts as a sign of life, not only keepalive answers. */
static void test_any_message_resets_the_loss_timer(void **state)
{
    handshake(0);
    for (uint64_t t = 1 * SEC; t < 30 * SEC; t += 4 * SEC) {
        struct peer_msg m = {.type = PEER_T_BENCH_DATA};
        size_t len;
        assert_int_equal(peer_tx_encode(&b.c.tx, &m, ob.tx, sizeof(ob.tx), &len), CIVIC_OK);
        ob.tx_len = len;
        carry(&ob, &a, t, &oa);
        assert_true(oa.deliver);
        peer_conn_tick(&a.c, t + 4 * SEC - 1, &oa);
        assert_false(oa.close);
    }
}

static void test_connection_to_itself_is_refused(void **state)
{
    side_init(&a, ID_A, 0, true, 0);
    side_init(&b, ID_A, 0, false, 0); /* the same host at both ends */
    peer_conn_connected(&a.c, 0, &oa);
    peer_conn_connected(&b.c, 0, &ob);
    carry(&oa, &b, 1, &ob);
    assert_true(ob.close);
    assert_false(ob.established);
    assert_non_null(strstr(ob.reason, "our own"));
    struct peer_msg m = one_msg(&a, &ob);
    assert_int_equal(m.type, PEER_T_BYE);
    assert_int_equal(m.bye_reason, PEER_BYE_SELF);
}

static void test_wrong_handshake_messages(void **state)
{
    /* The initiator gets a HELLO instead of a HELLO_ACK. */
    side_init(&a, ID_A, 0, true, 0);
    peer_conn_connected(&a.c, 0, &oa);
    struct peer_msg m = {.type = PEER_T_HELLO, .sender = ID_B, .hello = identity(ID_B, 0, "beta")};
    m.hello.version = 1;
    peer_conn_received(&a.c, &m, 1, &oa);
    assert_true(oa.close);
    assert_false(oa.established);
    assert_non_null(strstr(oa.reason, "unexpected HELLO (0x0001) in state hello-sent"));

    /* The acceptor gets a keepalive before any HELLO. */
    side_init(&b, ID_B, 0, false, 0);
    peer_conn_connected(&b.c, 0, &ob);
    m = (struct peer_msg){.type = PEER_T_KEEPALIVE, .sender = ID_A};
    peer_conn_received(&b.c, &m, 1, &ob);
    assert_true(ob.close);
    assert_int_equal(one_msg(&a, &ob).bye_reason, PEER_BYE_PROTOCOL);

    /* A HELLO_ACK accepting what we never offered. */
    side_init(&a, ID_A, PEER_CAP_BENCH, true, 0);
    peer_conn_connected(&a.c, 0, &oa);
    m = (struct peer_msg){.type = PEER_T_HELLO_ACK,
                          .sender = ID_B,
                          .hello = identity(ID_B, PEER_CAP_BENCH | PEER_CAP_PAGE, "beta")};
    m.hello.version = 1;
    m.hello.accepted = PEER_CAP_PAGE;
    peer_conn_received(&a.c, &m, 1, &oa);
    assert_true(oa.close);
    assert_non_null(strstr(oa.reason, "accepts capabilities 0x2, offered 0x1"));

    /* Nothing can arrive before the transport is up. */
    side_init(&a, ID_A, 0, true, 0);
    peer_conn_received(&a.c, &m, 1, &oa);
    assert_true(oa.close);
    assert_int_equal(oa.tx_len, 0);
}

/* Bench messages need the BENCH capability on both sides; a second HELLO is a violation. */
static void test_services_need_their_capability(void **state)
{
    handshake(0);
    struct peer_msg m = {.type = PEER_T_RR_REQUEST, .rr_req = {1, PEER_RR_SIZE}};
    peer_conn_received(&a.c, &m, 10 * MS, &oa);
    assert_true(oa.deliver);
    assert_false(oa.close);
    m.type = PEER_T_HELLO;
    peer_conn_received(&a.c, &m, 11 * MS, &oa);
    assert_false(oa.deliver);
    assert_true(oa.close);

    side_init(&a, ID_A, 0, true, 0); /* offers nothing */
    side_init(&b, ID_B, PEER_CAP_BENCH, false, 0);
    peer_conn_connected(&a.c, 0, &oa);
    peer_conn_connected(&b.c, 0, &ob);
    carry(&oa, &b, 1, &ob);
    carry(&ob, &a, 2, &oa);
    assert_int_equal(a.c.caps, 0);
    m = (struct peer_msg){.type = PEER_T_BENCH_DATA};
    peer_conn_received(&a.c, &m, 3, &oa);
    assert_false(oa.deliver);
    assert_true(oa.close);
    assert_non_null(strstr(oa.reason, "unexpected BENCH_DATA"));

    /* PAGE_* only once both accepted PEER_CAP_PAGE: b offers bench only. */
    side_init(&a, ID_A, PEER_CAP_BENCH | PEER_CAP_PAGE, true, 0);
    side_init(&b, ID_B, PEER_CAP_BENCH, false, 0);
    peer_conn_connected(&a.c, 0, &oa);
    peer_conn_connected(&b.c, 0, &ob);
    carry(&oa, &b, 1, &ob);
    carry(&ob, &a, 2, &oa);
    assert_int_equal(a.c.caps, PEER_CAP_BENCH);
    m = (struct peer_msg){.type = PEER_T_PAGE_GET};
    peer_conn_received(&a.c, &m, 3, &oa);
    assert_false(oa.deliver);
    assert_true(oa.close);
    assert_non_null(strstr(oa.reason, "unexpected PAGE_GET"));

    /* ... and delivered when both did. */
    side_init(&a, ID_A, PEER_CAP_PAGE, true, 0);
    side_init(&b, ID_B, PEER_CAP_BENCH | PEER_CAP_PAGE, false, 0);
    peer_conn_connected(&a.c, 0, &oa);
    peer_conn_connected(&b.c, 0, &ob);
    carry(&oa, &b, 1, &ob);
    carry(&ob, &a, 2, &oa);
    assert_int_equal(a.c.caps, PEER_CAP_PAGE);
    for (uint16_t t = PEER_T_PAGE_PUT; t <= PEER_T_PAGE_FREE_VM; t++) {
        m = (struct peer_msg){.type = t};
        peer_conn_received(&a.c, &m, 3, &oa);
        assert_true(oa.deliver);
        assert_false(oa.close);
    }
}

static void test_bogus_keepalive_ack(void **state)
{
    static const uint64_t echoes[] = {0, 123, 2 * SEC};
    for (size_t i = 0; i < 3; i++) {
        handshake(0);
        peer_conn_tick(&a.c, 1 * SEC + 2 * MS, &oa); /* sends timestamp 1.002 s */
        struct peer_msg m = {.type = PEER_T_KEEPALIVE_ACK, .timestamp = echoes[i]};
        peer_conn_received(&a.c, &m, 1 * SEC + 5 * MS, &oa);
        assert_true(oa.close);
        assert_false(oa.rtt);
        assert_non_null(strstr(oa.reason, "KEEPALIVE_ACK echoes"));
    }
    /* Two outstanding: answering the newer first is bogus. */
    handshake(0);
    peer_conn_tick(&a.c, 1 * SEC + 2 * MS, &oa);
    peer_conn_tick(&a.c, 2 * SEC + 2 * MS, &oa);
    struct peer_msg late = {.type = PEER_T_KEEPALIVE_ACK, .timestamp = 2 * SEC + 2 * MS};
    peer_conn_received(&a.c, &late, 2 * SEC + 5 * MS, &oa);
    assert_true(oa.close);
    /* The same echo twice: the second is bogus. */
    handshake(0);
    peer_conn_tick(&a.c, 1 * SEC + 2 * MS, &oa);
    struct peer_msg m = {.type = PEER_T_KEEPALIVE_ACK, .timestamp = 1 * SEC + 2 * MS};
    peer_conn_received(&a.c, &m, 1 * SEC + 5 * MS, &oa);
    assert_true(oa.rtt);
    peer_conn_received(&a.c, &m, 1 * SEC + 6 * MS, &oa);
    assert_true(oa.close);
}

static void test_peer_says_bye(void **state)
{
    handshake(0);
    struct peer_conn_out o;
    peer_conn_close(&b.c, PEER_BYE_SHUTDOWN, 1 * SEC, &ob);
    assert_int_equal(b.c.state, PEER_CONN_CLOSING);
    assert_false(ob.close);
    assert_string_equal(ob.reason, "closed here: shutdown");
    carry(&ob, &a, 1 * SEC, &oa);
    assert_true(oa.close);
    assert_false(oa.lost);
    assert_string_equal(oa.reason, "peer closed the connection: shutdown (0)");
    /* A closes its transport; B sees it and is done. */
    peer_conn_transport_closed(&b.c, 1 * SEC + 1 * MS, &o);
    assert_true(o.close);
    assert_false(o.lost);
    assert_int_equal(b.c.state, PEER_CONN_CLOSED);
    assert_string_equal(o.reason, "closed here: shutdown");
}

/* After our BYE nothing the peer sends is acted on; the linger is bounded. */
static void test_closing_ignores_messages_and_times_out(void **state)
{
    handshake(0);
    peer_conn_close(&a.c, PEER_BYE_SHUTDOWN, 1 * SEC, &oa);
    assert_int_equal(one_msg(&b, &oa).type, PEER_T_BYE);
    struct peer_msg m = {.type = PEER_T_KEEPALIVE, .timestamp = 5};
    peer_conn_received(&a.c, &m, 1 * SEC + 1, &oa);
    assert_int_equal(oa.tx_len, 0);
    m.type = PEER_T_BENCH_DATA;
    peer_conn_received(&a.c, &m, 1 * SEC + 2, &oa);
    assert_false(oa.deliver);
    peer_conn_close(&a.c, PEER_BYE_SHUTDOWN, 1 * SEC + 3, &oa); /* twice: nothing more */
    assert_int_equal(oa.tx_len, 0);
    peer_conn_tick(&a.c, 3 * SEC - 1, &oa);
    assert_false(oa.close);
    peer_conn_tick(&a.c, 3 * SEC, &oa);
    assert_true(oa.close);
    assert_false(oa.lost);
    assert_int_equal(a.c.state, PEER_CONN_CLOSED);
}

static void test_transport_closed(void **state)
{
    handshake(0);
    peer_conn_transport_closed(&a.c, 2 * SEC, &oa);
    assert_true(oa.close);
    assert_true(oa.lost);
    assert_string_equal(oa.reason, "peer lost: connection closed without BYE");
    peer_conn_transport_closed(&a.c, 2 * SEC, &oa);
    assert_false(oa.close);

    side_init(&a, ID_A, 0, true, 0);
    peer_conn_transport_closed(&a.c, 1, &oa);
    assert_true(oa.close);
    assert_false(oa.lost);
    assert_string_equal(oa.reason, "connection failed");

    side_init(&b, ID_B, 0, false, 0);
    peer_conn_connected(&b.c, 0, &ob);
    peer_conn_transport_closed(&b.c, 1, &ob);
    assert_string_equal(ob.reason, "connection closed during the handshake (hello-wait)");

    /* Local close before the transport is up: nothing to say goodbye on. */
    side_init(&a, ID_A, 0, true, 0);
    peer_conn_close(&a.c, PEER_BYE_SHUTDOWN, 1, &oa);
    assert_true(oa.close);
    assert_int_equal(oa.tx_len, 0);
}

/* The decoder refused the stream: BYE(protocol) with the decoder's words, and drop. */
static void test_decoder_error_disconnects(void **state)
{
    handshake(0);
    peer_conn_rx_failed(&a.c, "bad magic: 0x00000000", 1 * SEC, &oa);
    assert_true(oa.close);
    assert_false(oa.lost);
    assert_string_equal(oa.reason, "protocol error: bad magic: 0x00000000");
    struct peer_msg m = one_msg(&b, &oa);
    assert_int_equal(m.type, PEER_T_BYE);
    assert_int_equal(m.bye_reason, PEER_BYE_PROTOCOL);
    peer_conn_rx_failed(&a.c, "again", 2 * SEC, &oa);
    assert_false(oa.close);
}

/*
 * Simultaneous open: A (5) and B (9) connect to each other at once. X is opened by A, Y by B;
 * each host holds both. Both must close the same TCP connection: Y, opened by the higher id.
 */
static void test_simultaneous_open_is_resolved_the_same_on_both_hosts(void **state)
{
    static struct side xa, xb, ya, yb; /* connection X at A and at B, Y likewise */
    struct peer_conn_out o1, o2;
    side_init(&xa, ID_A, PEER_CAP_BENCH, true, 0);
    side_init(&xb, ID_B, PEER_CAP_BENCH, false, 0);
    side_init(&yb, ID_B, PEER_CAP_BENCH, true, 0);
    side_init(&ya, ID_A, PEER_CAP_BENCH, false, 0);
    peer_conn_connected(&xb.c, 0, &o2);
    peer_conn_connected(&xa.c, 0, &o1);
    carry(&o1, &xb, 1, &o2);
    carry(&o2, &xa, 2, &o1);
    peer_conn_connected(&ya.c, 0, &o2);
    peer_conn_connected(&yb.c, 0, &o1);
    carry(&o1, &ya, 1, &o2);
    carry(&o2, &yb, 2, &o1);
    assert_int_equal(xa.c.state, PEER_CONN_ESTABLISHED);
    assert_int_equal(ya.c.state, PEER_CONN_ESTABLISHED);

    /* In either argument order. */
    assert_ptr_equal(peer_conn_duplicate_loser(&xa.c, &ya.c), &ya.c);
    assert_ptr_equal(peer_conn_duplicate_loser(&ya.c, &xa.c), &ya.c);
    assert_ptr_equal(peer_conn_duplicate_loser(&yb.c, &xb.c), &yb.c);
    assert_ptr_equal(peer_conn_duplicate_loser(&xb.c, &yb.c), &yb.c);

    /* A closes Y; B takes the BYE calmly (not a lost peer). */
    peer_conn_close(&ya.c, PEER_BYE_DUPLICATE, 3, &o1);
    carry(&o1, &yb, 4, &o2);
    assert_true(o2.close);
    assert_false(o2.lost);
    assert_string_equal(o2.reason, "peer closed the connection: duplicate connection (3)");
    assert_int_equal(xa.c.state, PEER_CONN_ESTABLISHED);
    assert_int_equal(xb.c.state, PEER_CONN_ESTABLISHED);
}

/* The peer restarted and reconnected while the old connection still looks alive: the newer
 * connection (same opener) wins. */
static void test_reconnect_replaces_the_stale_connection(void **state)
{
    static struct side old, fresh;
    struct peer_conn_out o;
    struct peer_msg m = {.type = PEER_T_HELLO, .sender = ID_B, .hello = identity(ID_B, 0, "beta")};
    m.hello.version = 1;
    side_init(&old, ID_A, 0, false, 0);
    peer_conn_connected(&old.c, 0, &o);
    peer_conn_received(&old.c, &m, 10, &o);
    side_init(&fresh, ID_A, 0, false, 100);
    peer_conn_connected(&fresh.c, 100, &o);
    peer_conn_received(&fresh.c, &m, 110, &o);
    assert_ptr_equal(peer_conn_duplicate_loser(&old.c, &fresh.c), &old.c);
    assert_ptr_equal(peer_conn_duplicate_loser(&fresh.c, &old.c), &old.c);
}

static void test_names(void **state)
{
    assert_string_equal(peer_conn_state_name(PEER_CONN_ESTABLISHED), "established");
    assert_string_equal(peer_conn_state_name((enum peer_conn_state)99), "?");
    assert_string_equal(peer_bye_reason_name(PEER_BYE_SELF), "connection to itself");
    assert_string_equal(peer_bye_reason_name(1234), "unknown reason");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_init_refuses_bad_identity),
        cmocka_unit_test(test_handshake_exchanges_ids_and_capabilities),
        cmocka_unit_test(test_newer_peer_version_negotiates_down),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_keepalives_measure_round_trips),
        cmocka_unit_test(test_unanswered_keepalives_are_bounded),
        cmocka_unit_test(test_healthy_peers_stay_up),
        cmocka_unit_test(test_silent_peer_is_lost_in_bounded_time),
        cmocka_unit_test(test_any_message_resets_the_loss_timer),
        cmocka_unit_test(test_connection_to_itself_is_refused),
        cmocka_unit_test(test_wrong_handshake_messages),
        cmocka_unit_test(test_services_need_their_capability),
        cmocka_unit_test(test_bogus_keepalive_ack),
        cmocka_unit_test(test_peer_says_bye),
        cmocka_unit_test(test_closing_ignores_messages_and_times_out),
        cmocka_unit_test(test_transport_closed),
        cmocka_unit_test(test_decoder_error_disconnects),
        cmocka_unit_test(test_simultaneous_open_is_resolved_the_same_on_both_hosts),
        cmocka_unit_test(test_reconnect_replaces_the_stale_connection),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
