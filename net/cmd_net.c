/* Shell commands of the network: `net` (state and counters), `net set`, `net dhcp`, `ping`. */
#include "drivers/e1000/e1000.h"
#include "lwip/dhcp.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/stats.h"

#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/string.h"
#include "kernel/unit.h"
#include "net/net.h"
#include "net/net_int.h"
#include "net/peer_bench.h"

#define CTRL_C 0x03
#define PING_DATA 56                   /* bytes after the ICMP header, as ping(8) sends */
#define PING_INTERVAL_NS 1000000000ull /* between requests, and the last one's timeout */
#define PING_ID 0xc1c1

static void print_ipv4(const char *key, const ip4_addr_t *a)
{
    char s[NET_IPV4_STR_MAX];
    net_format_ipv4(lwip_ntohl(ip4_addr_get_u32(a)), s);
    kprintf("%s=%s\n", key, s);
}

static civic_err net_show(void)
{
    struct netif *n = net_netif();
    if (!n)
        return shell_error(CIVIC_ENOENT, "no network interface%s",
                           net_config()->mode == NET_MODE_OFF ? " (net=off)" : "");
    struct e1000 *nic = e1000_get();
    const uint8_t *m = n->hwaddr;
    kprintf("mac=%02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2], m[3], m[4], m[5]);
    if (net_config()->mode == NET_MODE_DHCP)
        kprintf("mode=dhcp\ndhcp=%s\n", dhcp_supplied_address(n) ? "bound" : "pending");
    else
        kprintf("mode=static\n");
    print_ipv4("ip", netif_ip4_addr(n));
    print_ipv4("mask", netif_ip4_netmask(n));
    print_ipv4("gw", netif_ip4_gw(n));
    kprintf("link=%s\nspeed_mbps=%u\n", e1000_link_up(nic) ? "up" : "down", e1000_speed_mbps(nic));
    struct e1000_stats s;
    struct netif_e1000_drops d;
    e1000_get_stats(nic, &s);
    netif_e1000_drops(&d);
    kprintf("rx_packets=%llu\nrx_bytes=%llu\nrx_drops=%llu\nrx_errors=%llu\n",
            (unsigned long long)s.rx_packets, (unsigned long long)s.rx_bytes,
            (unsigned long long)(s.rx_drops + d.rx_no_pbuf), (unsigned long long)s.rx_errors);
    kprintf("tx_packets=%llu\ntx_bytes=%llu\ntx_drops=%llu\ntx_errors=%llu\n",
            (unsigned long long)s.tx_packets, (unsigned long long)s.tx_bytes,
            (unsigned long long)(s.tx_drops + d.tx_busy + d.tx_too_long),
            (unsigned long long)s.tx_errors);
    /* Packets lwIP itself threw away (bad checksums, no listener, no route, no memory). */
    kprintf("ip_drops=%u\ntcp_drops=%u\nudp_drops=%u\nicmp_drops=%u\narp_drops=%u\n",
            (unsigned)lwip_stats.ip.drop, (unsigned)lwip_stats.tcp.drop,
            (unsigned)lwip_stats.udp.drop, (unsigned)lwip_stats.icmp.drop,
            (unsigned)lwip_stats.etharp.drop);
    kprintf("stopped=%s\n", net_stopped ? "yes" : "no");
    return CIVIC_OK;
}

static civic_err cmd_net(int argc, char **argv)
{
    if (argc == 1)
        return net_show();
    if (strcmp(argv[1], "set") == 0) {
        struct net_config c;
        char err[96];
        if (net_config_parse_set(argc - 2, argv + 2, &c, err, sizeof err) != CIVIC_OK)
            return shell_usage_error("net", "%s", err);
        civic_err e = net_configure(&c);
        return e == CIVIC_OK ? net_show() : shell_error(e, "no network interface");
    }
    if (strcmp(argv[1], "dhcp") == 0 && argc == 2) {
        struct net_config c;
        net_config_default(&c);
        civic_err e = net_configure(&c);
        if (e != CIVIC_OK)
            return shell_error(e, "no network interface");
        kprintf("dhcp=started\n");
        return CIVIC_OK;
    }
    if (strcmp(argv[1], "bench") == 0)
        return net_bench_command(argc - 1, argv + 1);
    if (strcmp(argv[1], "rr") == 0)
        return net_rr_command(argc - 1, argv + 1);
    return shell_usage_error("net", "unknown subcommand '%.24s'", argv[1]);
}
SHELL_COMMAND(net, "net",
              "[set ip=A.B.C.D/N [gw=A.B.C.D] | dhcp | bench PEER [size=MiB] | rr PEER [count=N]]",
              "network state and counters; set a static address or start DHCP; measure a peer link",
              cmd_net);

/* One ping at a time: the raw pcb's receive callback fills this. */
static struct {
    uint16_t seq; /* the request outstanding */
    bool replied;
    uint64_t sent_ns, rtt_ns;
    unsigned ttl, bytes;
    ip4_addr_t from;
} ping;

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    struct ip_hdr iph;
    struct icmp_echo_hdr echo;
    if (pbuf_copy_partial(p, &iph, sizeof iph, 0) != sizeof iph)
        return 0;
    u16_t hlen = (u16_t)(IPH_HL(&iph) * 4);
    if (pbuf_copy_partial(p, &echo, sizeof echo, hlen) != sizeof echo)
        return 0;
    if (echo.type != ICMP_ER || echo.id != lwip_htons(PING_ID) ||
        echo.seqno != lwip_htons(ping.seq) || ping.replied)
        return 0; /* someone else's: lwIP goes on with it */
    ping.replied = true;
    ping.rtt_ns = arch_time_ns() - ping.sent_ns;
    ping.ttl = IPH_TTL(&iph);
    ping.bytes = p->tot_len - hlen;
    ip4_addr_copy(ping.from, *ip_2_ip4(addr));
    pbuf_free(p);
    return 1;
}

static civic_err ping_send(struct raw_pcb *pcb, const ip_addr_t *to)
{
    struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
    if (!p)
        return trace_error(CIVIC_ENOMEM);
    struct icmp_echo_hdr *echo = p->payload;
    ICMPH_TYPE_SET(echo, ICMP_ECHO);
    ICMPH_CODE_SET(echo, 0);
    echo->id = lwip_htons(PING_ID);
    echo->seqno = lwip_htons(ping.seq);
    echo->chksum = 0;
    uint8_t *data = (uint8_t *)(echo + 1);
    for (unsigned i = 0; i < PING_DATA; i++)
        data[i] = (uint8_t)i;
    echo->chksum = inet_chksum(echo, p->len);
    ping.replied = false;
    ping.sent_ns = arch_time_ns();
    err_t e = raw_sendto(pcb, p, to);
    pbuf_free(p);
    return e == ERR_OK ? CIVIC_OK : trace_error(CIVIC_EIO);
}

/* Runs the network (and the other units) until the deadline (or the reply, if until_reply);
 * false on Ctrl-C. The monitor loop is inside this command meanwhile, so the command polls. */
static bool ping_wait(uint64_t deadline, bool until_reply)
{
    while (arch_time_ns() < deadline && !(until_reply && ping.replied)) {
        units_poll();
        int c = console_getc();
        if (c == CTRL_C)
            return false;
    }
    return true;
}

static civic_err cmd_ping(int argc, char **argv)
{
    uint32_t host;
    unsigned count;
    char err[96];
    if (net_parse_ping(argc - 1, argv + 1, &host, &count, err, sizeof err) != CIVIC_OK)
        return shell_usage_error("ping", "%s", err);
    struct netif *n = net_netif();
    if (!n || net_stopped)
        return shell_error(CIVIC_ENOENT, "the network is not running");
    if (ip4_addr_isany_val(*netif_ip4_addr(n)))
        return shell_error(CIVIC_EBUSY, "no address yet (DHCP pending?)");
    struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
    if (!pcb)
        return shell_error(CIVIC_ENOMEM, "no raw pcb");
    raw_recv(pcb, ping_recv, NULL);
    ip_addr_t to;
    ip_addr_set_ip4_u32_val(to, lwip_htonl(host));
    char target[NET_IPV4_STR_MAX];
    net_format_ipv4(host, target);

    unsigned sent = 0, received = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    bool interrupted = false;
    for (unsigned i = 0; i < count && !interrupted; i++) {
        ping.seq = (uint16_t)(i + 1);
        uint64_t start = arch_time_ns();
        if (ping_send(pcb, &to) != CIVIC_OK) {
            kprintf("seq=%u error=send_failed\n", i + 1);
        } else {
            sent++;
        }
        interrupted = !ping_wait(start + PING_INTERVAL_NS, true);
        if (ping.replied) {
            received++;
            uint64_t us = ping.rtt_ns / 1000;
            min = us < min ? us : min;
            max = us > max ? us : max;
            sum += us;
            char from[NET_IPV4_STR_MAX];
            net_format_ipv4(lwip_ntohl(ip4_addr_get_u32(&ping.from)), from);
            kprintf("reply from=%s seq=%u bytes=%u ttl=%u time_us=%llu\n", from, i + 1, ping.bytes,
                    ping.ttl, (unsigned long long)us);
        } else if (!interrupted) {
            kprintf("timeout seq=%u\n", i + 1);
        }
        /* Keep the one-second rhythm after an early reply. */
        if (!interrupted && i + 1 < count)
            interrupted = !ping_wait(start + PING_INTERVAL_NS, false);
    }
    raw_remove(pcb);
    kprintf("ping host=%s sent=%u received=%u lost=%u", target, sent, received, sent - received);
    if (received)
        kprintf(" min_us=%llu avg_us=%llu max_us=%llu", (unsigned long long)min,
                (unsigned long long)(sum / received), (unsigned long long)max);
    kprintf("%s\n", interrupted ? " interrupted=yes" : "");
    return CIVIC_OK;
}
SHELL_COMMAND(ping, "ping", "HOST [count=N]",
              "send ICMP echo requests to an IPv4 address, one a second (Ctrl-C stops)", cmd_ping);
