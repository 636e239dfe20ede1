/*
 * The e1000 core: reset, MAC address, the legacy descriptor rings, polling, statistics and
 * recovery, following the 8254x manual's initialization (section 14) and descriptor rules (3.2,
 * 3.3). It sees only its register block, its DMA memory and e1000_env, so it runs on the host.
 */
#include "drivers/e1000/e1000_dev.h"
#include "drivers/e1000/e1000_ring.h"
#include "kernel/arch_io.h"
#include "kernel/string.h"

static inline uint32_t rd(const struct e1000 *nic, uint32_t reg)
{
    return *(volatile uint32_t *)(nic->regs + reg);
}

static inline void wr(struct e1000 *nic, uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(nic->regs + reg) = v;
}

static uint64_t now(const struct e1000 *nic)
{
    return nic->env.now_ns(nic->env.ctx);
}

/* EEPROM read through EERD (13.4.4); false if the part does not answer (the 82544 has no
 * EERD: its EEPROM is only reachable bit by bit through EECD). */
static bool eeprom_read(struct e1000 *nic, uint8_t addr, uint16_t *out)
{
    wr(nic, E1000_EERD, E1000_EERD_START | (uint32_t)addr << E1000_EERD_ADDR_SHIFT);
    for (unsigned waited = 0; waited <= E1000_EERD_TIMEOUT_US; waited += 10) {
        uint32_t v = rd(nic, E1000_EERD);
        if (v & E1000_EERD_DONE) {
            *out = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
            return true;
        }
        nic->env.delay_us(nic->env.ctx, 10);
    }
    return false;
}

static void read_mac(struct e1000 *nic)
{
    uint16_t w[3];
    nic->mac_from_eeprom = eeprom_read(nic, E1000_EEPROM_ETH_ADDR, &w[0]) &&
                           eeprom_read(nic, E1000_EEPROM_ETH_ADDR + 1, &w[1]) &&
                           eeprom_read(nic, E1000_EEPROM_ETH_ADDR + 2, &w[2]);
    if (nic->mac_from_eeprom) {
        for (int i = 0; i < 3; i++) {
            nic->mac[2 * i] = (uint8_t)w[i];
            nic->mac[2 * i + 1] = (uint8_t)(w[i] >> 8);
        }
        return;
    }
    /* The device loads RAL0/RAH0 from the EEPROM at reset (13.5.4). */
    uint32_t lo = rd(nic, E1000_RAL(0)), hi = rd(nic, E1000_RAH(0));
    for (int i = 0; i < 4; i++)
        nic->mac[i] = (uint8_t)(lo >> (8 * i));
    nic->mac[4] = (uint8_t)hi;
    nic->mac[5] = (uint8_t)(hi >> 8);
}

static void rx_arm_all(struct e1000 *nic)
{
    for (uint32_t i = 0; i < nic->mem.rx_count; i++) {
        struct e1000_rx_desc *d = &nic->mem.rx_ring[i];
        memset(d, 0, sizeof(*d));
        d->buffer_addr = nic->mem.rx_bufs_phys + (uint64_t)i * E1000_BUF_SIZE;
    }
    nic->rx_next = 0;
    nic->rx_discard = false;
}

/* Receive setup (14.4): every descriptor armed; RDT = size - 1 hands all but one to the
 * device (head == tail would mean "none"). */
static void rx_start(struct e1000 *nic)
{
    wr(nic, E1000_RCTL, 0);
    rx_arm_all(nic);
    wr(nic, E1000_RDBAL, (uint32_t)nic->mem.rx_ring_phys);
    wr(nic, E1000_RDBAH, (uint32_t)(nic->mem.rx_ring_phys >> 32));
    wr(nic, E1000_RDLEN, nic->mem.rx_count * (uint32_t)sizeof(struct e1000_rx_desc));
    wr(nic, E1000_RDH, 0);
    arch_wmb();
    wr(nic, E1000_RDT, nic->mem.rx_count - 1);
    wr(nic, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
                            E1000_RCTL_BSIZE_2048 | E1000_RCTL_LBM_NONE | E1000_RCTL_RDMTS_HALF);
}

/* Transmit setup (14.5). Frames still queued are thrown away and counted. */
static void tx_start(struct e1000 *nic)
{
    wr(nic, E1000_TCTL, 0);
    nic->sw.tx_drops += e1000_ring_used(nic->tx_clean, nic->tx_tail, nic->mem.tx_count);
    for (uint32_t i = 0; i < nic->mem.tx_count; i++) {
        struct e1000_tx_desc *d = &nic->mem.tx_ring[i];
        memset(d, 0, sizeof(*d));
        d->buffer_addr = nic->mem.tx_bufs_phys + (uint64_t)i * E1000_BUF_SIZE;
    }
    nic->tx_clean = nic->tx_tail = 0;
    wr(nic, E1000_TDBAL, (uint32_t)nic->mem.tx_ring_phys);
    wr(nic, E1000_TDBAH, (uint32_t)(nic->mem.tx_ring_phys >> 32));
    wr(nic, E1000_TDLEN, nic->mem.tx_count * (uint32_t)sizeof(struct e1000_tx_desc));
    wr(nic, E1000_TDH, 0);
    wr(nic, E1000_TDT, 0);
    wr(nic, E1000_TIPG, E1000_TIPG_COPPER);
    wr(nic, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
                            E1000_TCTL_CT_IEEE << E1000_TCTL_CT_SHIFT |
                            E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
    nic->tx_progress_ns = now(nic);
}

civic_err e1000_core_init(struct e1000 *nic, volatile void *regs, uint16_t device_id,
                          const struct e1000_env *env, const struct e1000_mem *mem)
{
    if (mem->rx_count < 8 || mem->rx_count % 8 || mem->tx_count < 8 || mem->tx_count % 8)
        return trace_error(CIVIC_EINVAL);
    uint8_t bus = nic->bus, dev = nic->dev, fn = nic->fn;
    memset(nic, 0, sizeof(*nic));
    nic->bus = bus, nic->dev = dev, nic->fn = fn;
    nic->regs = regs;
    nic->device_id = device_id;
    nic->env = *env;
    nic->mem = *mem;

    /* Interrupts masked before and after the global reset (14.3); we poll. */
    wr(nic, E1000_IMC, E1000_IMC_ALL);
    wr(nic, E1000_RCTL, 0);
    wr(nic, E1000_TCTL, 0);
    wr(nic, E1000_CTRL, rd(nic, E1000_CTRL) | E1000_CTRL_RST);
    unsigned waited = 0;
    do {
        nic->env.delay_us(nic->env.ctx, E1000_RESET_POLL_US);
        waited += E1000_RESET_POLL_US;
        if (waited > E1000_RESET_TIMEOUT_US)
            return trace_error(CIVIC_ETIMEDOUT);
    } while (rd(nic, E1000_CTRL) & E1000_CTRL_RST);
    wr(nic, E1000_IMC, E1000_IMC_ALL);
    (void)rd(nic, E1000_ICR);

    /* Link: auto-speed detection, set link up; no PHY reset, no loss-of-signal inversion, no
     * VLAN mode, no flow control (14.3, 14.8). */
    uint32_t ctrl = rd(nic, E1000_CTRL);
    ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME |
              E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPLX | E1000_CTRL_RFCE | E1000_CTRL_TFCE);
    wr(nic, E1000_CTRL, ctrl | E1000_CTRL_ASDE | E1000_CTRL_SLU);
    wr(nic, E1000_FCAL, 0);
    wr(nic, E1000_FCAH, 0);
    wr(nic, E1000_FCT, 0);
    wr(nic, E1000_FCTTV, 0);

    read_mac(nic);
    wr(nic, E1000_RAL(0), (uint32_t)nic->mac[0] | (uint32_t)nic->mac[1] << 8 |
                              (uint32_t)nic->mac[2] << 16 | (uint32_t)nic->mac[3] << 24);
    wr(nic, E1000_RAH(0), (uint32_t)nic->mac[4] | (uint32_t)nic->mac[5] << 8 | E1000_RAH_AV);
    for (uint32_t i = 0; i < E1000_MTA_ENTRIES; i++)
        wr(nic, E1000_MTA + 4 * i, 0);
    /* No receive interrupt delay: we poll, and a delay would only hold DD back. */
    wr(nic, E1000_RDTR, 0);
    wr(nic, E1000_RADV, 0);
    wr(nic, E1000_TIDV, 0);

    rx_start(nic);
    tx_start(nic);
    e1000_collect_hw_stats(nic); /* clear what the counters held before the reset */
    memset(&nic->hw, 0, sizeof(nic->hw));
    return CIVIC_OK;
}

void e1000_mac(const struct e1000 *nic, uint8_t mac[6])
{
    memcpy(mac, nic->mac, 6);
}

bool e1000_link_up(struct e1000 *nic)
{
    return (rd(nic, E1000_STATUS) & E1000_STATUS_LU) != 0;
}

unsigned e1000_speed_mbps(struct e1000 *nic)
{
    uint32_t st = rd(nic, E1000_STATUS);
    if (!(st & E1000_STATUS_LU))
        return 0;
    switch ((st & E1000_STATUS_SPEED_MASK) >> E1000_STATUS_SPEED_SHIFT) {
    case E1000_STATUS_SPEED_10:
        return 10;
    case E1000_STATUS_SPEED_100:
        return 100;
    default:
        return 1000;
    }
}

/* Takes back the descriptors the device has sent (DD is written back because every descriptor
 * has RS set). */
static unsigned tx_reclaim(struct e1000 *nic)
{
    unsigned n = 0;
    while (nic->tx_clean != nic->tx_tail) {
        struct e1000_tx_desc *d = &nic->mem.tx_ring[nic->tx_clean];
        uint8_t status = ((volatile struct e1000_tx_desc *)d)->status;
        if (!(status & E1000_TXD_STAT_DD))
            break;
        arch_rmb();
        if (status & (E1000_TXD_STAT_EC | E1000_TXD_STAT_LC)) {
            nic->sw.tx_errors++;
        } else {
            nic->sw.tx_packets++;
            nic->sw.tx_bytes += d->length;
        }
        d->status = 0;
        nic->tx_clean = e1000_ring_next(nic->tx_clean, nic->mem.tx_count);
        n++;
    }
    if (n)
        nic->tx_progress_ns = now(nic);
    return n;
}

civic_err e1000_transmit(struct e1000 *nic, const void *frame, size_t len)
{
    if (len < E1000_FRAME_MIN || len > E1000_FRAME_MAX)
        return trace_error(CIVIC_EINVAL);
    uint32_t size = nic->mem.tx_count;
    if (e1000_ring_free(nic->tx_clean, nic->tx_tail, size) == 0 && tx_reclaim(nic) == 0) {
        nic->sw.tx_ring_full++;
        return CIVIC_EBUSY;
    }
    if (nic->tx_clean == nic->tx_tail)
        nic->tx_progress_ns = now(nic); /* the stall clock starts with the first queued frame */
    uint32_t i = nic->tx_tail;
    memcpy(nic->mem.tx_bufs + (size_t)i * E1000_BUF_SIZE, frame, len);
    struct e1000_tx_desc *d = &nic->mem.tx_ring[i];
    d->buffer_addr = nic->mem.tx_bufs_phys + (uint64_t)i * E1000_BUF_SIZE;
    d->length = (uint16_t)len;
    d->cso = 0;
    d->css = 0;
    d->special = 0;
    d->status = 0;
    d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
    nic->tx_tail = e1000_ring_next(i, size);
    arch_wmb(); /* the descriptor and the frame before the tail that hands them over */
    wr(nic, E1000_TDT, nic->tx_tail);
    return CIVIC_OK;
}

/* A transmit unit that holds queued frames without completing any for E1000_TX_TIMEOUT_NS is
 * stuck (or the link is gone): start it over so that later frames go out. */
static void tx_watchdog(struct e1000 *nic)
{
    if (nic->tx_clean == nic->tx_tail)
        return;
    if (now(nic) - nic->tx_progress_ns < E1000_TX_TIMEOUT_NS)
        return;
    nic->rec.tx_ring_resets++;
    tx_start(nic);
}

/* After an overrun the ring must still have descriptors for the device. If the device's head
 * has caught up with its tail while the descriptor we expect next is not done, the device sees
 * an empty ring that we believe full: re-arm the ring from scratch. */
static void rx_check_after_overrun(struct e1000 *nic)
{
    volatile struct e1000_rx_desc *next = &nic->mem.rx_ring[nic->rx_next];
    if (next->status & E1000_RXD_STAT_DD)
        return; /* frames waiting: the next poll takes them and returns descriptors */
    uint32_t head = rd(nic, E1000_RDH), tail = rd(nic, E1000_RDT);
    uint32_t expected_tail = e1000_ring_prev(nic->rx_next, nic->mem.rx_count);
    if (head < nic->mem.rx_count && tail == expected_tail && head != tail)
        return;
    nic->rec.rx_ring_resets++;
    rx_start(nic);
}

unsigned e1000_poll(struct e1000 *nic, e1000_rx_fn rx, void *ctx, unsigned budget)
{
    /* Causes latch whether or not they are masked; the interrupt handler may have read some. */
    uint32_t icr = rd(nic, E1000_ICR) | __atomic_exchange_n(&nic->icr_pending, 0, __ATOMIC_SEQ_CST);
    if (icr & E1000_ICR_LSC)
        nic->rec.link_changes++;
    if (icr & E1000_ICR_RXO)
        nic->sw.rx_overruns++;

    tx_reclaim(nic);
    tx_watchdog(nic);

    unsigned handed = 0;
    uint32_t size = nic->mem.rx_count;
    bool returned = false;
    while (handed < budget) {
        struct e1000_rx_desc *d = &nic->mem.rx_ring[nic->rx_next];
        uint8_t status = ((volatile struct e1000_rx_desc *)d)->status;
        if (!(status & E1000_RXD_STAT_DD))
            break;
        arch_rmb();
        uint16_t len = d->length;
        bool eop = (status & E1000_RXD_STAT_EOP) != 0;
        if (nic->rx_discard || !eop || (d->errors & E1000_RXD_ERR_FRAME) ||
            len < E1000_FRAME_MIN || len > E1000_FRAME_MAX) {
            /* Frames never span buffers here (2 KiB buffers, no long packets); one that does
             * is dropped to its last descriptor. */
            if (!nic->rx_discard)
                nic->sw.rx_errors++; /* once per frame, at its first descriptor */
            nic->rx_discard = !eop;
        } else {
            const uint8_t *buf = nic->mem.rx_bufs + (size_t)nic->rx_next * E1000_BUF_SIZE;
            nic->sw.rx_packets++;
            nic->sw.rx_bytes += len;
            if (!(nic->tap && nic->tap(nic->tap_ctx, buf, len)) && rx)
                rx(ctx, buf, len);
            handed++;
        }
        d->status = 0;
        d->errors = 0;
        d->length = 0;
        d->buffer_addr = nic->mem.rx_bufs_phys + (uint64_t)nic->rx_next * E1000_BUF_SIZE;
        nic->rx_next = e1000_ring_next(nic->rx_next, size);
        returned = true;
    }
    if (returned) {
        /* The descriptor just taken becomes the one we hold back; the device owns the rest. */
        arch_wmb();
        wr(nic, E1000_RDT, e1000_ring_prev(nic->rx_next, size));
    }
    if (icr & E1000_ICR_RXO)
        rx_check_after_overrun(nic);
    return handed;
}

void e1000_enable_irqs(struct e1000 *nic)
{
    wr(nic, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_LSC);
}

void e1000_irq(struct e1000 *nic)
{
    uint32_t icr = rd(nic, E1000_ICR);
    __atomic_or_fetch(&nic->icr_pending, icr, __ATOMIC_SEQ_CST);
}

static uint64_t rd64(struct e1000 *nic, uint32_t lo_reg, uint32_t hi_reg)
{
    uint64_t lo = rd(nic, lo_reg); /* low first: reading the high half clears both */
    return lo | (uint64_t)rd(nic, hi_reg) << 32;
}

void e1000_collect_hw_stats(struct e1000 *nic)
{
    struct e1000_hw_stats *h = &nic->hw;
    h->gprc += rd(nic, E1000_GPRC);
    h->gptc += rd(nic, E1000_GPTC);
    h->gorc += rd64(nic, E1000_GORCL, E1000_GORCH);
    h->gotc += rd64(nic, E1000_GOTCL, E1000_GOTCH);
    h->mpc += rd(nic, E1000_MPC);
    h->rnbc += rd(nic, E1000_RNBC);
    h->crcerrs += rd(nic, E1000_CRCERRS);
    h->algnerrc += rd(nic, E1000_ALGNERRC);
    h->rxerrc += rd(nic, E1000_RXERRC);
    h->rlec += rd(nic, E1000_RLEC);
    h->ruc += rd(nic, E1000_RUC);
    h->roc += rd(nic, E1000_ROC);
    h->colc += rd(nic, E1000_COLC);
    h->ecol += rd(nic, E1000_ECOL);
    h->latecol += rd(nic, E1000_LATECOL);
}

void e1000_get_hw_stats(struct e1000 *nic, struct e1000_hw_stats *out)
{
    e1000_collect_hw_stats(nic);
    *out = nic->hw;
}

void e1000_get_stats(struct e1000 *nic, struct e1000_stats *out)
{
    e1000_collect_hw_stats(nic);
    const struct e1000_hw_stats *h = &nic->hw;
    *out = nic->sw;
    out->rx_drops += h->mpc;
    out->rx_errors += h->crcerrs + h->algnerrc + h->rxerrc + h->rlec;
    out->tx_errors += h->ecol + h->latecol;
}

void e1000_get_recovery(const struct e1000 *nic, struct e1000_recovery *out)
{
    *out = nic->rec;
}

unsigned e1000_tx_pending(const struct e1000 *nic)
{
    return e1000_ring_used(nic->tx_clean, nic->tx_tail, nic->mem.tx_count);
}

void e1000_ring_sizes(const struct e1000 *nic, unsigned *rx, unsigned *tx)
{
    *rx = nic->mem.rx_count;
    *tx = nic->mem.tx_count;
}

void e1000_location(const struct e1000 *nic, uint8_t *bus, uint8_t *dev, uint8_t *fn,
                    uint16_t *device_id)
{
    *bus = nic->bus;
    *dev = nic->dev;
    *fn = nic->fn;
    *device_id = nic->device_id;
}
