/*
 * The lwIP netif over civic's e1000 driver. Received frames are copied into pool pbufs by the
 * driver's receive handler (whoever polls the driver: the e1000 unit or this glue) and queued;
 * netif_e1000_poll hands them to lwIP after the driver's poll has returned, so lwIP's replies
 * (ARP, ACKs) never re-enter the driver.
 */
#include "drivers/e1000/e1000.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

#include "kernel/log.h"
#include "kernel/string.h"
#include "net/net_int.h"

#define RX_QUEUE_LEN 128 /* a power of two */
#define FRAME_MAX 1514   /* without the FCS */
#define FRAME_MIN 60
#define TX_BUSY_RETRIES 64 /* polls of a full TX ring before the frame is dropped */
#define RX_BUDGET 64

static struct {
    struct e1000 *nic;
    struct pbuf *queue[RX_QUEUE_LEN];
    unsigned head, tail; /* free-running: head - tail frames queued */
    struct netif_e1000_drops drops;
} glue;

/* The driver's receive handler: copy the frame out now, its buffer is reused after the call. */
static void rx_frame(void *ctx, const void *frame, size_t len)
{
    if (len > FRAME_MAX || glue.head - glue.tail == RX_QUEUE_LEN) {
        glue.drops.rx_no_pbuf++;
        LINK_STATS_INC(link.drop);
        return;
    }
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (!p) {
        glue.drops.rx_no_pbuf++;
        LINK_STATS_INC(link.memerr);
        LINK_STATS_INC(link.drop);
        return;
    }
    pbuf_take(p, frame, (u16_t)len);
    glue.queue[glue.head++ % RX_QUEUE_LEN] = p;
}

bool netif_e1000_poll(struct netif *netif)
{
    bool busy = e1000_poll(glue.nic, rx_frame, NULL, RX_BUDGET) != 0;
    while (glue.tail != glue.head && !net_stopped) {
        struct pbuf *p = glue.queue[glue.tail++ % RX_QUEUE_LEN];
        busy = true;
        LINK_STATS_INC(link.recv);
        if (netif->input(p, netif) != ERR_OK)
            pbuf_free(p);
    }
    return busy;
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
    static uint8_t frame[FRAME_MAX];
    if (p->tot_len > sizeof frame) {
        glue.drops.tx_too_long++;
        LINK_STATS_INC(link.drop);
        return ERR_BUF;
    }
    pbuf_copy_partial(p, frame, p->tot_len, 0);
    /* Padded to Ethernet's 60-byte minimum here, not trusting every emulated device's TCTL.PSP. */
    size_t len = p->tot_len;
    if (len < FRAME_MIN) {
        memset(frame + len, 0, FRAME_MIN - len);
        len = FRAME_MIN;
    }
    for (unsigned tries = 0;; tries++) {
        civic_err e = e1000_transmit(glue.nic, frame, len);
        if (e == CIVIC_OK) {
            LINK_STATS_INC(link.xmit);
            return ERR_OK;
        }
        if (e != CIVIC_EBUSY || tries == TX_BUSY_RETRIES) {
            glue.drops.tx_busy++;
            LINK_STATS_INC(link.drop);
            return ERR_IF; /* TCP retransmits; lost ARP and ICMP are lost */
        }
        /* Reclaims sent descriptors; frames received meanwhile are only queued. */
        e1000_poll(glue.nic, rx_frame, NULL, RX_BUDGET);
    }
}

static err_t netif_e1000_init(struct netif *netif)
{
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->hwaddr_len = ETH_HWADDR_LEN;
    e1000_mac(glue.nic, netif->hwaddr);
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif->output = etharp_output;
    netif->linkoutput = linkoutput;
    return ERR_OK;
}

civic_err netif_e1000_add(struct netif *netif, struct e1000 *nic)
{
    glue.nic = nic;
    if (!netif_add(netif, NULL, NULL, NULL, NULL, netif_e1000_init, ethernet_input))
        return trace_error(CIVIC_EIO);
    e1000_set_rx_handler(rx_frame, NULL);
    return CIVIC_OK;
}

void netif_e1000_drops(struct netif_e1000_drops *out)
{
    *out = glue.drops;
}
