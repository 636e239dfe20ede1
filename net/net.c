/*
 * The `net` unit: lwIP (NO_SYS, raw API) over the e1000, configured from the boot options and
 * the shell. Only the monitor loop calls into lwIP: this unit's poll and commands it runs.
 */
#include "net/net.h"

#include "drivers/e1000/e1000.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"

#include "kernel/arch.h"
#include "kernel/boot.h"
#include "kernel/boot_options.h"
#include "kernel/log.h"
#include "kernel/unit.h"
#include "net/net_int.h"

#define LINK_CHECK_NS 100000000ull /* link state is polled, the driver has no interrupts */

static struct netif netif;
static struct net_config cfg;
static bool attached, attach_tried;
static uint64_t next_link_check;

struct netif *net_netif(void)
{
    return attached ? &netif : NULL;
}
const struct net_config *net_config(void)
{
    return &cfg;
}

static void log_address(struct netif *n)
{
    char ip[NET_IPV4_STR_MAX], gw[NET_IPV4_STR_MAX];
    net_format_ipv4(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(n))), ip);
    net_format_ipv4(lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(n))), gw);
    int prefix = net_mask_prefix(lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(n))));
    if (ip4_addr_isany_val(*netif_ip4_addr(n)))
        return;
    log_info("net: address %s/%d gateway %s (%s)", ip, prefix, gw,
             cfg.mode == NET_MODE_DHCP ? "dhcp" : "static");
}

static void status_changed(struct netif *n)
{
    log_address(n);
}

static void link_changed(struct netif *n)
{
    log_info("net: link %s", netif_is_link_up(n) ? "up" : "down");
}

civic_err net_configure(const struct net_config *c)
{
    if (!attached)
        return trace_error(CIVIC_ENOENT);
    if (c->mode == NET_MODE_OFF)
        return trace_error(CIVIC_EINVAL);
    cfg = *c;
    dhcp_release_and_stop(&netif);
    if (cfg.mode == NET_MODE_STATIC) {
        ip4_addr_t ip, mask, gw;
        ip4_addr_set_u32(&ip, lwip_htonl(cfg.ip));
        ip4_addr_set_u32(&mask, lwip_htonl(cfg.mask));
        ip4_addr_set_u32(&gw, lwip_htonl(cfg.gw));
        netif_set_addr(&netif, &ip, &mask, &gw);
        return CIVIC_OK;
    }
    netif_set_addr(&netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
    if (dhcp_start(&netif) != ERR_OK)
        return trace_error(CIVIC_ENOMEM);
    log_info("net: asking for an address by DHCP");
    return CIVIC_OK;
}

static civic_err net_init(void)
{
    static struct boot_options opts; /* kmain reported their problems already */
    boot_options_parse(boot_info->cmdline, &opts, NULL, NULL);
    cfg = opts.net;
    lwip_init();
    if (cfg.mode == NET_MODE_OFF)
        log_info("net: off (net=off)");
    return CIVIC_OK;
}

/* The NIC is looked for on the first poll, once every unit (the e1000's too) has come up. */
static void attach(void)
{
    attach_tried = true;
    if (cfg.mode == NET_MODE_OFF)
        return;
    struct e1000 *nic = e1000_get();
    if (!nic) {
        log_info("net: no network interface; the network is off");
        return;
    }
    uint8_t mac[6];
    e1000_mac(nic, mac);
    uint64_t entropy = 0;
    for (int i = 0; i < 6; i++)
        entropy = entropy << 8 | mac[i];
    net_rand_seed(entropy);
    if (netif_e1000_add(&netif, nic) != CIVIC_OK) {
        log_err("net: cannot add the interface");
        return;
    }
    netif_set_status_callback(&netif, status_changed);
    netif_set_link_callback(&netif, link_changed);
    netif_set_default(&netif);
    netif_set_up(&netif);
    attached = true;
    if (e1000_link_up(nic))
        netif_set_link_up(&netif);
    net_configure(&cfg);
}

bool net_poll(void)
{
    if (!attach_tried)
        attach();
    if (!attached || net_stopped)
        return false;
    bool busy = netif_e1000_poll(&netif);
    uint64_t now = arch_time_ns();
    if (now >= next_link_check) {
        next_link_check = now + LINK_CHECK_NS;
        bool up = e1000_link_up(e1000_get());
        if (up && !netif_is_link_up(&netif))
            netif_set_link_up(&netif);
        else if (!up && netif_is_link_up(&netif))
            netif_set_link_down(&netif);
    }
    sys_check_timeouts();
    return busy;
}

CIVIC_UNIT(net, net_init, net_poll);
