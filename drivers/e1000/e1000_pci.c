/*
 * The e1000 unit: finds the first supported 8254x among the PCI functions, maps its registers,
 * allocates the rings in DMA memory and brings it up (e1000.c), then polls it from the monitor
 * loop. Frames go to the installed receive handler (the lwIP glue), except the `nic tx` test
 * frames (EtherType 0x88B5), which are counted here whoever else listens.
 */
#include "drivers/e1000/e1000_dev.h"
#include "drivers/e1000/e1000_testframe.h"
#include "kernel/arch.h"
#include "kernel/arch_io.h"
#include "kernel/log.h"
#include "kernel/pci.h"
#include "kernel/unit.h"

/* A large receive ring absorbs bursts while the monitor loop is busy elsewhere (a vCPU's slice
 * is up to 10 ms; QEMU delivers a `nic tx` burst at ~500k frames/s). */
#define RX_DESCS 1024u
#define TX_DESCS 256u
#define RX_RING_ORDER 2u /* 1024 descriptors x 16 bytes: 4 pages */
#define TX_RING_ORDER 0u /* 256 x 16 bytes: one page */
#define RX_BUFS_ORDER 9u /* 1024 buffers x 2 KiB: 512 pages */
#define TX_BUFS_ORDER 7u /* 256 x 2 KiB: 128 pages */
#define POLL_BUDGET 64u

_Static_assert(RX_DESCS * sizeof(struct e1000_rx_desc) == 4096u << RX_RING_ORDER, "RX ring");
_Static_assert(TX_DESCS * sizeof(struct e1000_tx_desc) == 4096u << TX_RING_ORDER, "TX ring");
_Static_assert(RX_DESCS * E1000_BUF_SIZE == 4096u << RX_BUFS_ORDER, "RX buffers");
_Static_assert(TX_DESCS * E1000_BUF_SIZE == 4096u << TX_BUFS_ORDER, "TX buffers");

static struct e1000 nic;
static bool nic_up;
static uint64_t seen_link_changes;
static e1000_rx_fn rx_handler;
static void *rx_handler_ctx;
static struct nic_test_rx test_rx;
static const char *irq_mode = "none";

static const uint16_t supported[] = {
    E1000_DEV_82540EM,        E1000_DEV_82540EM_LOM,    E1000_DEV_82540EP_LOM,
    E1000_DEV_82540EP,        E1000_DEV_82540EP_LP,     E1000_DEV_82544GC_COPPER,
    E1000_DEV_82544EI_COPPER, E1000_DEV_82545EM_COPPER, E1000_DEV_82545EM_FIBER,
    E1000_DEV_82546EB_COPPER,
};

static bool is_supported(const struct pci_device *d)
{
    if (d->vendor != E1000_VENDOR_INTEL)
        return false;
    for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
        if (d->device == supported[i])
            return true;
    return false;
}

static void env_delay(void *ctx, unsigned us)
{
    (void)ctx;
    arch_delay_us(us);
}

static uint64_t env_now(void *ctx)
{
    (void)ctx;
    return arch_time_ns();
}

static civic_err alloc_mem(struct e1000_mem *m)
{
    void *v;
    uint64_t p;
    civic_err e;
    if ((e = arch_dma_alloc(RX_RING_ORDER, &v, &p)) != CIVIC_OK)
        return e;
    m->rx_ring = v, m->rx_ring_phys = p;
    if ((e = arch_dma_alloc(TX_RING_ORDER, &v, &p)) != CIVIC_OK)
        goto free_rx_ring;
    m->tx_ring = v, m->tx_ring_phys = p;
    if ((e = arch_dma_alloc(RX_BUFS_ORDER, &v, &p)) != CIVIC_OK)
        goto free_tx_ring;
    m->rx_bufs = v, m->rx_bufs_phys = p;
    if ((e = arch_dma_alloc(TX_BUFS_ORDER, &v, &p)) != CIVIC_OK)
        goto free_rx_bufs;
    m->tx_bufs = v, m->tx_bufs_phys = p;
    m->rx_count = RX_DESCS;
    m->tx_count = TX_DESCS;
    return CIVIC_OK;
free_rx_bufs:
    arch_dma_free(m->rx_bufs, RX_BUFS_ORDER);
free_tx_ring:
    arch_dma_free(m->tx_ring, TX_RING_ORDER);
free_rx_ring:
    arch_dma_free(m->rx_ring, RX_RING_ORDER);
    return e;
}

static civic_err bring_up(const struct pci_device *d)
{
    const struct pci_bar *bar = &d->bars[0];
    if ((bar->kind != PCI_BAR_KIND_MEM32 && bar->kind != PCI_BAR_KIND_MEM64) || bar->addr == 0 ||
        bar->size < E1000_REG_SPACE) {
        log_warn("e1000: %02x:%02x.%x: BAR0 is not a usable register window", d->bus, d->dev,
                 d->fn);
        return trace_error(CIVIC_ENOTSUP);
    }
    volatile void *regs = arch_map_mmio(bar->addr, E1000_REG_SPACE);
    if (!regs)
        return trace_error(CIVIC_ENOMEM);
    /* Memory decode and bus mastering on; INTx off, since we poll. */
    const struct pci_config_access *acc = arch_pci_config();
    uint16_t cmd = pci_read16(acc, d->bus, d->dev, d->fn, PCI_COMMAND);
    pci_write16(acc, d->bus, d->dev, d->fn, PCI_COMMAND,
                cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);

    struct e1000_mem mem;
    civic_err e = alloc_mem(&mem);
    if (e != CIVIC_OK) {
        log_warn("e1000: no memory for the rings");
        return e;
    }
    const struct e1000_env env = {.delay_us = env_delay, .now_ns = env_now, .ctx = NULL};
    nic.bus = d->bus, nic.dev = d->dev, nic.fn = d->fn;
    e = e1000_core_init(&nic, regs, d->device, &env, &mem);
    if (e != CIVIC_OK) {
        log_warn("e1000: %02x:%02x.%x: reset failed: %s", d->bus, d->dev, d->fn,
                 civic_strerror(e));
        return e;
    }
    return CIVIC_OK;
}

/* The core's tap: test frames are counted here, whoever polls the driver. */
static bool tap_test_frames(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    if (nic_frame_ethertype(frame) != NIC_TEST_ETHERTYPE)
        return false;
    nic_test_rx_account(&test_rx, frame, len);
    return true;
}

static void count_other(void *ctx, const void *frame, size_t len)
{
    (void)ctx, (void)frame, (void)len;
    test_rx.other++;
}

/* Interrupts only wake the monitor loop from its idle HLT (a burst at QEMU's speed fills the
 * ring within one 10 ms tick); the work stays in the poll. */
static void nic_irq(void *ctx)
{
    (void)ctx;
    e1000_irq(&nic);
}

static civic_err e1000_unit_init(void)
{
    size_t n;
    const struct pci_device *devs = pci_system_devices(&n);
    for (size_t i = 0; i < n; i++) {
        const struct pci_device *d = &devs[i];
        if (!is_supported(d))
            continue;
        if (bring_up(d) != CIVIC_OK)
            continue;
        nic_up = true;
        nic.tap = tap_test_frames;
        irq_mode = "poll";
        if (d->irq_pin && arch_irq_route_pci(d->irq_line, nic_irq, NULL) == CIVIC_OK) {
            const struct pci_config_access *acc = arch_pci_config();
            uint16_t cmd = pci_read16(acc, d->bus, d->dev, d->fn, PCI_COMMAND);
            pci_write16(acc, d->bus, d->dev, d->fn, PCI_COMMAND,
                        cmd & (uint16_t)~PCI_COMMAND_INTX_DISABLE);
            e1000_enable_irqs(&nic);
            irq_mode = "intx";
        }
        const uint8_t *m = nic.mac;
        log_info("e1000: %02x:%02x.%x mac=%02x:%02x:%02x:%02x:%02x:%02x link=%s irq=%s", d->bus,
                 d->dev, d->fn, m[0], m[1], m[2], m[3], m[4], m[5],
                 e1000_link_up(&nic) ? "up" : "down", irq_mode);
        return CIVIC_OK;
    }
    log_info("e1000: no supported NIC");
    return CIVIC_OK; /* no NIC is not a failure: the unit just has nothing to poll */
}

bool e1000_service(void)
{
    if (!nic_up)
        return false;
    unsigned n = e1000_poll(&nic, rx_handler ? rx_handler : count_other,
                            rx_handler ? rx_handler_ctx : NULL, POLL_BUDGET);
    if (nic.rec.link_changes != seen_link_changes) {
        seen_link_changes = nic.rec.link_changes;
        unsigned speed = e1000_speed_mbps(&nic);
        if (speed)
            log_info("e1000: link up, %u Mb/s", speed);
        else
            log_info("e1000: link down");
    }
    return n > 0;
}

CIVIC_UNIT(e1000, e1000_unit_init, e1000_service);

struct e1000 *e1000_get(void)
{
    return nic_up ? &nic : NULL;
}

void e1000_set_rx_handler(e1000_rx_fn fn, void *ctx)
{
    rx_handler = fn;
    rx_handler_ctx = ctx;
}

const char *e1000_irq_mode(void)
{
    return irq_mode;
}

bool e1000_rx_handler_installed(void)
{
    return rx_handler != NULL;
}

void e1000_test_rx_get(struct nic_test_rx *out)
{
    *out = test_rx;
}

void e1000_test_rx_reset(void)
{
    test_rx = (struct nic_test_rx){0};
}
