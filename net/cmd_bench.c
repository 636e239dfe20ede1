/*
 * `net bench PEER [size=MiB]` and `net rr PEER [count=N]`: the link measured through the peer
 * layer, on civic's clock. Both run the monitor loop's units while they wait (like `ping`), so
 * the network, keepalives and other peers go on; Ctrl-C stops them.
 */
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"
#include "kernel/unit.h"
#include "mm/kmalloc.h"
#include "net/net_config.h"
#include "net/peer.h"
#include "net/peer_bench.h"
#include "net/peer_csum.h"
#include "net/peer_stats.h"
#include "net/peer_wire.h"

#define CTRL_C 0x03
#define MIB (1024ull * 1024)
#define BENCH_DEFAULT_MIB 16
#define BENCH_MAX_MIB 4096
#define BENCH_ANSWER_NS (30 * 1000000000ull) /* for the far side's verdict after the last byte */
#define RR_DEFAULT 100
#define RR_MAX 100000
#define RR_TIMEOUT_NS 5000000000ull /* one round trip; beyond it the peer would be lost anyway */

static uint8_t chunk[PEER_BENCH_MAX];

static bool interrupted(void)
{
    return console_getc() == CTRL_C;
}

/* PEER and the key=value options of one subcommand. */
static civic_err parse(const char *cmd, int argc, char **argv, const char *key, uint64_t def,
                       uint64_t max, uint32_t *ip, uint64_t *value)
{
    if (argc < 2 || argc > 3)
        return shell_usage_error("net", "net %s PEER [%s=N]", cmd, key);
    if (net_parse_ipv4(argv[1], ip) != CIVIC_OK)
        return shell_usage_error("net", "'%.24s' is not an IPv4 address", argv[1]);
    *value = def;
    if (argc == 3) {
        const char *v = shell_kv(argv[2], key);
        if (!v || shell_parse_u64(v, value) != CIVIC_OK || *value == 0 || *value > max)
            return shell_usage_error("net", "%s= takes 1 to %llu", key, (unsigned long long)max);
    }
    return CIVIC_OK;
}

static struct peer *bench_peer(uint32_t ip, const char *host)
{
    struct peer *p = peer_find(ip, PEER_CAP_BENCH);
    if (!p)
        shell_error(CIVIC_ENOENT, "no established peer at %s that answers bench (peer add %s)",
                    host, host);
    return p;
}

civic_err net_bench_command(int argc, char **argv)
{
    uint32_t ip;
    uint64_t mib;
    if (parse("bench", argc, argv, "size", BENCH_DEFAULT_MIB, BENCH_MAX_MIB, &ip, &mib) !=
        CIVIC_OK)
        return CIVIC_EINVAL;
    struct peer *p = bench_peer(ip, argv[1]);
    if (!p)
        return CIVIC_ENOENT;
    struct peer_info pi;
    peer_get_info(p, &pi);
    uint32_t serial = pi.serial;

    /* Content that is not all zeros, so a misplaced segment changes the CRC. */
    uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < sizeof chunk; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        chunk[i] = (uint8_t)x;
    }
    uint64_t total = mib * MIB, sent = 0, next_report = total / 4;
    uint32_t crc = PEER_CSUM_INIT;
    bool stop = false;
    uint64_t start = arch_time_ns();
    while (sent < total && !stop) {
        units_poll();
        stop = interrupted();
        if (!(p = peer_by_serial(serial)))
            break;
        uint32_t n = total - sent < sizeof chunk ? (uint32_t)(total - sent) : sizeof chunk;
        if (peer_send_space(p) < n + PEER_HDR_LEN)
            continue;
        wire_put64(chunk, sent); /* every chunk differs */
        struct peer_msg m = {.type = PEER_T_BENCH_DATA, .bench = {.data = chunk, .len = n}};
        if (peer_send_msg(p, &m) != CIVIC_OK)
            continue;
        crc = peer_csum_update(crc, chunk, n);
        sent += n;
        if (sent >= next_report && sent < total) {
            kprintf("progress_bytes=%llu\n", (unsigned long long)sent);
            next_report += total / 4;
        }
    }
    if (!peer_by_serial(serial))
        return shell_error(CIVIC_EIO, "peer %s lost after %llu bytes", argv[1],
                           (unsigned long long)sent);

    /* The end of the stream, then the far side's count and CRC. */
    peer_bench_expect_done(serial);
    struct peer_msg done = {.type = PEER_T_BENCH_DONE, .done = {.total_bytes = sent, .crc = crc}};
    uint64_t deadline = arch_time_ns() + BENCH_ANSWER_NS;
    bool queued = false, answered = false, gone = false;
    uint64_t got_bytes = 0;
    uint32_t got_crc = 0;
    while (!answered && arch_time_ns() < deadline) {
        units_poll();
        if (interrupted()) {
            stop = true;
            break;
        }
        if (!(p = peer_by_serial(serial))) {
            gone = true;
            break;
        }
        if (!queued)
            queued = peer_send_msg(p, &done) == CIVIC_OK;
        answered = peer_bench_done(&got_bytes, &got_crc);
    }
    uint64_t elapsed = arch_time_ns() - start;
    peer_bench_stop_waiting();
    if (gone)
        return shell_error(CIVIC_EIO, "peer %s lost before it answered", argv[1]);
    if (!answered && !stop)
        return shell_error(CIVIC_ETIMEDOUT, "%s did not answer BENCH_DONE", argv[1]);
    uint64_t ms = elapsed / 1000000;
    uint64_t tenths = elapsed ? sent * 80000 / elapsed : 0; /* Mbit/s x 10 */
    bool ok = answered && got_bytes == sent && got_crc == crc;
    kprintf("bytes=%llu elapsed_ms=%llu mbit_s=%llu.%llu verified=%s crc=0x%08x%s\n",
            (unsigned long long)sent, (unsigned long long)ms, (unsigned long long)(tenths / 10),
            (unsigned long long)(tenths % 10), ok ? "yes" : "no", crc,
            stop ? " interrupted=yes" : "");
    return CIVIC_OK;
}

civic_err net_rr_command(int argc, char **argv)
{
    uint32_t ip;
    uint64_t count;
    if (parse("rr", argc, argv, "count", RR_DEFAULT, RR_MAX, &ip, &count) != CIVIC_OK)
        return CIVIC_EINVAL;
    struct peer *p = bench_peer(ip, argv[1]);
    if (!p)
        return CIVIC_ENOENT;
    struct peer_info pi;
    peer_get_info(p, &pi);
    uint64_t *samples = kmalloc(count * sizeof *samples);
    if (!samples)
        return shell_error(CIVIC_ENOMEM, "no memory for %llu samples", (unsigned long long)count);
    uint64_t done = 0, start = arch_time_ns();
    const char *failure = NULL;
    bool stop = false;
    for (uint64_t id = 1; id <= count && !failure && !stop; id++) {
        struct peer_msg req = {.type = PEER_T_RR_REQUEST, .rr_req = {.id = id,
                                                                     .size = PEER_RR_SIZE}};
        peer_bench_expect_response(pi.serial, id);
        bool queued = false;
        uint64_t t0 = 0, at = 0;
        while (!failure && !stop) {
            if (!(p = peer_by_serial(pi.serial))) {
                failure = "peer lost";
                break;
            }
            if (!queued && (queued = peer_send_msg(p, &req) == CIVIC_OK))
                t0 = arch_time_ns();
            units_poll();
            stop = interrupted();
            if (queued && peer_bench_response(&at))
                break;
            if (queued && arch_time_ns() - t0 > RR_TIMEOUT_NS)
                failure = "no response within 5 s";
        }
        if (!failure && !stop)
            samples[done++] = at - t0;
    }
    uint64_t elapsed = arch_time_ns() - start;
    peer_bench_stop_waiting();
    struct peer_lat_summary s;
    peer_lat_summarize(samples, done, &s);
    kfree(samples);
    if (failure)
        return shell_error(CIVIC_EIO, "%s after %llu round trips", failure,
                           (unsigned long long)done);
    kprintf("count=%llu rps=%llu min_us=%llu median_us=%llu p99_us=%llu max_us=%llu%s\n",
            (unsigned long long)done,
            (unsigned long long)(elapsed ? done * 1000000000ull / elapsed : 0),
            (unsigned long long)(s.min / 1000), (unsigned long long)(s.median / 1000),
            (unsigned long long)(s.p99 / 1000), (unsigned long long)(s.max / 1000),
            stop ? " interrupted=yes" : "");
    return CIVIC_OK;
}
