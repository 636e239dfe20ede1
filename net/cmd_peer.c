/* The `peer` shell command: add, list and remove connections to other civic hosts. */
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"
#include "kernel/unit.h"
#include "net/net_config.h"
#include "net/peer.h"

#define CTRL_C 0x03
#define WAIT_SLACK_NS 1000000000ull /* beyond the protocol's own timeouts, before giving up */

static void print_peer(const struct peer_info *pi)
{
    char ip[NET_IPV4_STR_MAX];
    net_format_ipv4(pi->ip, ip);
    kprintf("id=0x%llx address=%s state=%s rtt_us=%llu tx_bytes=%llu rx_bytes=%llu caps=0x%llx "
            "dir=%s name=%s\n",
            (unsigned long long)pi->id, ip, peer_conn_state_name(pi->state),
            (unsigned long long)(pi->rtt_ns / 1000), (unsigned long long)pi->tx_bytes,
            (unsigned long long)pi->rx_bytes, (unsigned long long)pi->caps,
            pi->initiator ? "out" : "in", pi->name[0] ? pi->name : "-");
}

/* The connection to ip this command started (the newest), or false once it is gone. */
static bool find_info(uint32_t ip, struct peer_info *out)
{
    struct peer_info all[PEER_MAX];
    size_t n = peer_list(all, PEER_MAX);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (all[i].ip == ip && (!found || all[i].serial > out->serial)) {
            *out = all[i];
            found = true;
        }
    }
    return found;
}

/* Runs the monitor loop's units until done(ip) or the deadline; false on Ctrl-C. */
static bool wait_for(uint32_t ip, bool (*done)(uint32_t ip), uint64_t deadline)
{
    while (!done(ip) && arch_time_ns() < deadline) {
        units_poll();
        if (console_getc() == CTRL_C)
            return false;
    }
    return true;
}

static bool handshake_over(uint32_t ip)
{
    struct peer_info pi;
    return !find_info(ip, &pi) || pi.state >= PEER_CONN_ESTABLISHED;
}

static bool gone(uint32_t ip)
{
    return !peer_exists(ip);
}

static civic_err parse_host(const char *s, uint32_t *ip)
{
    if (net_parse_ipv4(s, ip) != CIVIC_OK || *ip == 0)
        return shell_usage_error("peer", "'%.24s' is not an IPv4 address", s);
    return CIVIC_OK;
}

static civic_err peer_cmd_add(const char *host)
{
    uint32_t ip;
    if (parse_host(host, &ip) != CIVIC_OK)
        return CIVIC_EINVAL;
    civic_err e = peer_add(ip);
    if (e == CIVIC_EEXIST)
        return shell_error(e, "already connected to %s", host);
    if (e == CIVIC_ENOENT)
        return shell_error(e, "the network is not running");
    if (e == CIVIC_EBUSY)
        return shell_error(e, "too many peers (%u at most)", PEER_MAX);
    if (e != CIVIC_OK)
        return shell_error(e, "cannot connect to %s: %s", host, civic_strerror(e));
    uint64_t limit = peer_get_config()->handshake_timeout_ns + WAIT_SLACK_NS;
    if (!wait_for(ip, handshake_over, arch_time_ns() + limit)) {
        kprintf("interrupted=yes\n"); /* the connection goes on in the background */
        return CIVIC_OK;
    }
    struct peer_info pi;
    if (!find_info(ip, &pi) || pi.state != PEER_CONN_ESTABLISHED)
        return shell_error(CIVIC_EIO, "no connection to %s (see the log)", host);
    print_peer(&pi);
    return CIVIC_OK;
}

static civic_err peer_cmd_remove(const char *host)
{
    uint32_t ip;
    if (parse_host(host, &ip) != CIVIC_OK)
        return CIVIC_EINVAL;
    if (peer_remove(ip) != CIVIC_OK)
        return shell_error(CIVIC_ENOENT, "no peer at %s", host);
    uint64_t limit = peer_get_config()->close_timeout_ns + WAIT_SLACK_NS;
    bool done = wait_for(ip, gone, arch_time_ns() + limit) && gone(ip);
    kprintf("removed=%s\n", done ? "yes" : "closing");
    return CIVIC_OK;
}

static civic_err peer_cmd_list(void)
{
    struct peer_info all[PEER_MAX];
    size_t n = peer_list(all, PEER_MAX);
    for (size_t i = 0; i < n; i++)
        print_peer(&all[i]);
    kprintf("self_id=0x%llx\nlost_ms=%llu\ncount=%u\n", (unsigned long long)peer_self_id(),
            (unsigned long long)(peer_get_config()->lost_timeout_ns / PEER_MS), (unsigned)n);
    return CIVIC_OK;
}

/* `peer set keepalive_ms=N lost_ms=N`: the loss bound is configuration (net/peer_conn.h). */
static civic_err peer_cmd_set(int argc, char **argv)
{
    struct peer_conn_config c = *peer_get_config();
    for (int i = 0; i < argc; i++) {
        const char *v;
        uint64_t ms;
        uint64_t *field = NULL;
        if ((v = shell_kv(argv[i], "keepalive_ms")))
            field = &c.keepalive_interval_ns;
        else if ((v = shell_kv(argv[i], "lost_ms")))
            field = &c.lost_timeout_ns;
        if (!field || shell_parse_u64(v, &ms) != CIVIC_OK || ms == 0 || ms > 3600000)
            return shell_usage_error("peer", "'%.32s': want keepalive_ms=N or lost_ms=N "
                                     "(1 to 3600000)", argv[i]);
        *field = ms * PEER_MS;
    }
    if (peer_set_config(&c) != CIVIC_OK)
        return shell_error(CIVIC_EINVAL, "keepalive_ms must be below lost_ms");
    kprintf("keepalive_ms=%llu\nlost_ms=%llu\n",
            (unsigned long long)(c.keepalive_interval_ns / PEER_MS),
            (unsigned long long)(c.lost_timeout_ns / PEER_MS));
    return CIVIC_OK;
}

static civic_err cmd_peer(int argc, char **argv)
{
    if (argc == 1 || (argc == 2 && strcmp(argv[1], "list") == 0))
        return peer_cmd_list();
    if (argc == 3 && strcmp(argv[1], "add") == 0)
        return peer_cmd_add(argv[2]);
    if (argc == 3 && strcmp(argv[1], "remove") == 0)
        return peer_cmd_remove(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "set") == 0)
        return peer_cmd_set(argc - 2, argv + 2);
    return shell_usage_error("peer", "unknown or incomplete subcommand");
}
SHELL_COMMAND(peer, "peer", "[list | add HOST | remove HOST | set [keepalive_ms=N] [lost_ms=N]]",
              "connections to other civic hosts (TCP port 7700): list, connect, disconnect, timing",
              cmd_peer);
