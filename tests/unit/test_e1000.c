// unit-sources: drivers/e1000/e1000.c drivers/e1000/e1000_ring.c drivers/e1000/e1000_testframe.c kernel/error.c
/*
 * The e1000 core against a fake register block and a simulated device that consumes transmit
 * descriptors and fills receive ones (DMA addresses are host pointers here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/e1000/e1000_dev.h"
#include "drivers/e1000/e1000_testframe.h"

#define RING 8

struct fake {
    uint32_t *regs; /* E1000_REG_SPACE bytes */
    bool reset_completes;
    bool has_eerd;
    uint16_t eeprom[64];
    uint64_t now;
    struct e1000_rx_desc rx_ring[RING] __attribute__((aligned(128)));
    struct e1000_tx_desc tx_ring[RING] __attribute__((aligned(128)));
    uint8_t rx_bufs[RING][E1000_BUF_SIZE];
    uint8_t tx_bufs[RING][E1000_BUF_SIZE];
    uint8_t sent[64][E1000_BUF_SIZE]; /* frames the device put on the wire */
    size_t sent_len[64];
    unsigned sent_count;
    struct e1000 nic;
};

static uint32_t *reg(struct fake *f, uint32_t off) { return &f->regs[off / 4]; }

/* The delay hook is where the simulated device advances its own state machines. */
static void fake_delay(void *ctx, unsigned us)
{
    struct fake *f = ctx;
    f->now += us * 1000ull;
    if (f->reset_completes)
        *reg(f, E1000_CTRL) &= ~E1000_CTRL_RST;
    uint32_t eerd = *reg(f, E1000_EERD);
    if (f->has_eerd && (eerd & E1000_EERD_START)) {
        unsigned a = (eerd >> E1000_EERD_ADDR_SHIFT) & 0xff;
        *reg(f, E1000_EERD) = E1000_EERD_DONE | (uint32_t)f->eeprom[a % 64] << 16;
    }
}

static uint64_t fake_now(void *ctx) { return ((struct fake *)ctx)->now; }

static struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    f->regs = calloc(1, E1000_REG_SPACE);
    f->reset_completes = true;
    f->has_eerd = true;
    f->eeprom[0] = 0x5452, f->eeprom[1] = 0x1200, f->eeprom[2] = 0x5634;
    return f;
}

static void fake_free(struct fake *f)
{
    free(f->regs);
    free(f);
}

static civic_err fake_init(struct fake *f)
{
    struct e1000_env env = {.delay_us = fake_delay, .now_ns = fake_now, .ctx = f};
    struct e1000_mem mem = {
        .rx_ring = f->rx_ring, .rx_ring_phys = (uint64_t)(uintptr_t)f->rx_ring,
        .tx_ring = f->tx_ring, .tx_ring_phys = (uint64_t)(uintptr_t)f->tx_ring,
        .rx_bufs = &f->rx_bufs[0][0], .rx_bufs_phys = (uint64_t)(uintptr_t)f->rx_bufs,
        .tx_bufs = &f->tx_bufs[0][0], .tx_bufs_phys = (uint64_t)(uintptr_t)f->tx_bufs,
        .rx_count = RING, .tx_count = RING,
    };
    *reg(f, E1000_CTRL) = 0;
    return e1000_core_init(&f->nic, (volatile void *)f->regs, E1000_DEV_82540EM, &env, &mem);
}

/* The device's transmit side: sends up to n descriptors between TDH and TDT. */
static unsigned dev_tx(struct fake *f, unsigned n)
{
    unsigned done = 0;
    while (done < n && *reg(f, E1000_TDH) != *reg(f, E1000_TDT)) {
        uint32_t h = *reg(f, E1000_TDH);
        struct e1000_tx_desc *base =
            (void *)(uintptr_t)((uint64_t)*reg(f, E1000_TDBAH) << 32 | *reg(f, E1000_TDBAL));
        struct e1000_tx_desc *d = &base[h];
        assert_true(d->cmd & E1000_TXD_CMD_EOP);
        assert_true(d->cmd & E1000_TXD_CMD_RS);
        memcpy(f->sent[f->sent_count % 64], (void *)(uintptr_t)d->buffer_addr, d->length);
        f->sent_len[f->sent_count % 64] = d->length;
        f->sent_count++;
        d->status |= E1000_TXD_STAT_DD;
        *reg(f, E1000_TDH) = (h + 1) % (*reg(f, E1000_TDLEN) / 16);
        done++;
    }
    return done;
}

/* The device's receive side: one frame into the descriptor at RDH, or a miss (MPC, RNBC,
 * ICR.RXO) when the ring holds no free descriptor. */
static bool dev_rx(struct fake *f, const void *frame, uint16_t len, uint8_t status, uint8_t errors)
{
    uint32_t h = *reg(f, E1000_RDH), size = *reg(f, E1000_RDLEN) / 16;
    if (h == *reg(f, E1000_RDT)) {
        (*reg(f, E1000_MPC))++;
        (*reg(f, E1000_RNBC))++;
        *reg(f, E1000_ICR) |= E1000_ICR_RXO;
        return false;
    }
    struct e1000_rx_desc *base =
        (void *)(uintptr_t)((uint64_t)*reg(f, E1000_RDBAH) << 32 | *reg(f, E1000_RDBAL));
    struct e1000_rx_desc *d = &base[h];
    memcpy((void *)(uintptr_t)d->buffer_addr, frame, len);
    d->length = len;
    d->errors = errors;
    d->status = status;
    *reg(f, E1000_RDH) = (h + 1) % size;
    return true;
}

static bool dev_rx_frame(struct fake *f, uint32_t seq)
{
    static const uint8_t src[6] = {2, 0, 0, 0, 0, 9};
    uint8_t frame[NIC_TEST_MIN];
    nic_testframe_build(frame, sizeof(frame), src, seq);
    frame[12] = 0x08, frame[13] = 0x00; /* an IPv4 frame for the handler, not a test frame */
    return dev_rx(f, frame, sizeof(frame), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0);
}

struct rx_log {
    unsigned frames;
    size_t last_len;
    uint8_t last[E1000_BUF_SIZE];
};

static void rx_collect(void *ctx, const void *frame, size_t len)
{
    struct rx_log *l = ctx;
    l->frames++;
    l->last_len = len;
    memcpy(l->last, frame, len);
}

static void test_init_programs_device(void **state)
{
    struct fake *f = fake_new();
    *reg(f, E1000_CTRL) = E1000_CTRL_PHY_RST | E1000_CTRL_ILOS;
    assert_int_equal(fake_init(f), CIVIC_OK);
    uint8_t mac[6];
    e1000_mac(&f->nic, mac);
    const uint8_t want[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    assert_memory_equal(mac, want, 6);
    assert_true(f->nic.mac_from_eeprom);
    assert_int_equal(*reg(f, E1000_RAL(0)), 0x12005452);
    assert_int_equal(*reg(f, E1000_RAH(0)), 0x5634 | E1000_RAH_AV);
    uint32_t ctrl = *reg(f, E1000_CTRL);
    assert_true(ctrl & E1000_CTRL_SLU);
    assert_true(ctrl & E1000_CTRL_ASDE);
    assert_false(ctrl & (E1000_CTRL_RST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS));
    assert_int_equal(*reg(f, E1000_IMC), E1000_IMC_ALL);
    assert_int_equal(*reg(f, E1000_RDLEN), RING * 16);
    assert_int_equal(*reg(f, E1000_TDLEN), RING * 16);
    assert_int_equal(*reg(f, E1000_RDBAL), (uint32_t)(uintptr_t)f->rx_ring);
    assert_int_equal(*reg(f, E1000_RDH), 0);
    assert_int_equal(*reg(f, E1000_RDT), RING - 1);
    assert_int_equal(*reg(f, E1000_TDH), 0);
    assert_int_equal(*reg(f, E1000_TDT), 0);
    uint32_t rctl = *reg(f, E1000_RCTL);
    assert_true(rctl & E1000_RCTL_EN);
    assert_true(rctl & E1000_RCTL_SECRC);
    assert_true(rctl & E1000_RCTL_BAM);
    assert_false(rctl & (E1000_RCTL_LPE | E1000_RCTL_UPE | E1000_RCTL_BSEX));
    assert_true(*reg(f, E1000_TCTL) & E1000_TCTL_EN);
    assert_int_equal(*reg(f, E1000_TIPG), E1000_TIPG_COPPER);
    for (int i = 0; i < RING; i++)
        assert_int_equal(f->rx_ring[i].buffer_addr, (uint64_t)(uintptr_t)f->rx_bufs[i]);
    fake_free(f);
}

static void test_mac_from_ral_without_eerd(void **state)
{
    struct fake *f = fake_new();
    f->has_eerd = false; /* the 82544: EERD never completes */
    *reg(f, E1000_RAL(0)) = 0x03020100;
    *reg(f, E1000_RAH(0)) = 0x0504 | E1000_RAH_AV;
    assert_int_equal(fake_init(f), CIVIC_OK);
    assert_false(f->nic.mac_from_eeprom);
    const uint8_t want[6] = {0, 1, 2, 3, 4, 5};
    assert_memory_equal(f->nic.mac, want, 6);
    fake_free(f);
}

static void test_reset_timeout_and_bad_rings(void **state)
{
    struct fake *f = fake_new();
    f->reset_completes = false;
    assert_int_equal(fake_init(f), CIVIC_ETIMEDOUT);
    struct e1000_env env = {.delay_us = fake_delay, .now_ns = fake_now, .ctx = f};
    struct e1000_mem mem = {.rx_count = 12, .tx_count = 8};
    assert_int_equal(e1000_core_init(&f->nic, f->regs, 0, &env, &mem), CIVIC_EINVAL);
    mem.rx_count = 8, mem.tx_count = 0;
    assert_int_equal(e1000_core_init(&f->nic, f->regs, 0, &env, &mem), CIVIC_EINVAL);
    fake_free(f);
}

static void test_transmit_and_reclaim(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    uint8_t frame[1515];
    memset(frame, 0xab, sizeof(frame));
    assert_int_equal(e1000_transmit(&f->nic, frame, 13), CIVIC_EINVAL);
    assert_int_equal(e1000_transmit(&f->nic, frame, 1515), CIVIC_EINVAL);
    assert_int_equal(e1000_transmit(&f->nic, frame, 14), CIVIC_OK);
    assert_int_equal(e1000_transmit(&f->nic, frame, 1514), CIVIC_OK);
    assert_int_equal(e1000_transmit(&f->nic, frame, 60), CIVIC_OK);
    assert_int_equal(*reg(f, E1000_TDT), 3);
    assert_int_equal(e1000_tx_pending(&f->nic), 3);
    assert_int_equal(dev_tx(f, 10), 3);
    assert_int_equal(f->sent_len[1], 1514);
    assert_memory_equal(f->sent[1], frame, 1514);
    e1000_poll(&f->nic, NULL, NULL, 16);
    assert_int_equal(e1000_tx_pending(&f->nic), 0);
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.tx_packets, 3);
    assert_int_equal(s.tx_bytes, 14 + 1514 + 60);
    assert_int_equal(s.tx_errors, 0);
    fake_free(f);
}

static void test_full_tx_ring(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    uint8_t frame[60] = {0};
    for (int i = 0; i < RING - 1; i++) {
        frame[0] = (uint8_t)i;
        assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_OK);
    }
    assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_EBUSY);
    assert_int_equal(*reg(f, E1000_TDT), RING - 1);
    /* The device sends two: the next transmit reclaims them itself. */
    assert_int_equal(dev_tx(f, 2), 2);
    frame[0] = 0xaa;
    assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_OK);
    assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_OK);
    assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_EBUSY);
    assert_int_equal(*reg(f, E1000_TDT), 1); /* wrapped */
    assert_int_equal(dev_tx(f, 100), RING - 1);
    assert_int_equal(f->sent[7][0], 0xaa); /* the wrapped frame went out in order */
    assert_int_equal(f->sent[6][0], 6);
    e1000_poll(&f->nic, NULL, NULL, 16);
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.tx_ring_full, 2);
    assert_int_equal(s.tx_packets, RING + 1);
    assert_int_equal(e1000_tx_pending(&f->nic), 0);
    fake_free(f);
}

static void test_stuck_tx_ring_recovers(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    uint8_t frame[60] = {0};
    for (int i = 0; i < RING - 1; i++)
        assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_OK);
    assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_EBUSY);
    f->now += E1000_TX_TIMEOUT_NS - 1;
    e1000_poll(&f->nic, NULL, NULL, 16);
    struct e1000_recovery r;
    e1000_get_recovery(&f->nic, &r);
    assert_int_equal(r.tx_ring_resets, 0); /* not yet */
    f->now += 2;
    e1000_poll(&f->nic, NULL, NULL, 16);
    e1000_get_recovery(&f->nic, &r);
    assert_int_equal(r.tx_ring_resets, 1);
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.tx_drops, RING - 1);
    assert_int_equal(*reg(f, E1000_TDH), 0);
    assert_int_equal(*reg(f, E1000_TDT), 0);
    assert_true(*reg(f, E1000_TCTL) & E1000_TCTL_EN);
    /* The interface works again. */
    assert_int_equal(e1000_transmit(&f->nic, frame, sizeof(frame)), CIVIC_OK);
    assert_int_equal(dev_tx(f, 10), 1);
    e1000_poll(&f->nic, NULL, NULL, 16);
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.tx_packets, 1);
    fake_free(f);
}

static void test_receive_with_budget(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    for (uint32_t i = 0; i < 3; i++)
        assert_true(dev_rx_frame(f, i));
    struct rx_log log = {0};
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 2), 2);
    assert_int_equal(log.frames, 2);
    assert_int_equal(log.last_len, NIC_TEST_MIN);
    assert_int_equal(log.last[21], 1); /* seq 1, low byte */
    assert_int_equal(*reg(f, E1000_RDT), 1); /* descriptor 1 is now the one held back */
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 2), 1);
    assert_int_equal(*reg(f, E1000_RDT), 2);
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 2), 0);
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.rx_packets, 3);
    assert_int_equal(s.rx_bytes, 3 * NIC_TEST_MIN);
    /* Many rounds around the ring: the device never runs out of descriptors. */
    for (uint32_t i = 0; i < 5 * RING; i++) {
        assert_true(dev_rx_frame(f, i));
        assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 4), 1);
    }
    assert_int_equal(log.frames, 3 + 5 * RING);
    fake_free(f);
}

static void test_rx_overrun_recovers(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    unsigned took = 0;
    for (uint32_t i = 0; i < RING + 3; i++)
        took += dev_rx_frame(f, i);
    assert_int_equal(took, RING - 1); /* one descriptor is always held back */
    struct rx_log log = {0};
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 64), RING - 1);
    *reg(f, E1000_ICR) = 0; /* read to clear */
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.rx_overruns, 1);
    assert_int_equal(s.rx_drops, 4);
    *reg(f, E1000_MPC) = 0; /* read to clear */
    *reg(f, E1000_RNBC) = 0;
    struct e1000_hw_stats h;
    e1000_get_hw_stats(&f->nic, &h);
    assert_int_equal(h.rnbc, 4);
    assert_int_equal(h.mpc, 4);
    struct e1000_recovery r;
    e1000_get_recovery(&f->nic, &r);
    assert_int_equal(r.rx_ring_resets, 0); /* a consistent ring needs no reset */
    /* Restocked: the whole ring is the device's again. */
    took = 0;
    for (uint32_t i = 0; i < RING; i++)
        took += dev_rx_frame(f, i);
    assert_int_equal(took, RING - 1);
    fake_free(f);
}

static void test_rx_overrun_with_lost_tail_resets_ring(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    /* The device believes it has no descriptor (tail == head) though none is done: re-arm. */
    *reg(f, E1000_RDT) = 0;
    *reg(f, E1000_ICR) = E1000_ICR_RXO;
    struct rx_log log = {0};
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 64), 0);
    struct e1000_recovery r;
    e1000_get_recovery(&f->nic, &r);
    assert_int_equal(r.rx_ring_resets, 1);
    assert_int_equal(*reg(f, E1000_RDT), RING - 1);
    assert_true(*reg(f, E1000_RCTL) & E1000_RCTL_EN);
    *reg(f, E1000_ICR) = 0;
    assert_true(dev_rx_frame(f, 0));
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 64), 1);
    fake_free(f);
}

static void test_rx_errors_and_spanning_frames(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    uint8_t frame[64] = {0};
    assert_true(dev_rx(f, frame, 64, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, E1000_RXD_ERR_CE));
    assert_true(dev_rx(f, frame, 64, E1000_RXD_STAT_DD, 0)); /* first part of a long frame */
    assert_true(dev_rx(f, frame, 64, E1000_RXD_STAT_DD, 0));
    assert_true(dev_rx(f, frame, 64, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0));
    assert_true(dev_rx(f, frame, 10, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0)); /* runt */
    /* A checksum-offload error alone does not make a frame bad. */
    assert_true(dev_rx(f, frame, 64, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, E1000_RXD_ERR_TCPE));
    struct rx_log log = {0};
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 64), 1);
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.rx_errors, 3); /* CRC, the spanning frame once, the runt */
    assert_int_equal(s.rx_packets, 1);
    assert_false(f->nic.rx_discard);
    fake_free(f);
}

static bool tap_count(void *ctx, const void *frame, size_t len)
{
    struct nic_test_rx *t = ctx;
    if (nic_frame_ethertype(frame) != NIC_TEST_ETHERTYPE)
        return false;
    nic_test_rx_account(t, frame, len);
    return true;
}

static void test_tap_takes_test_frames(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    struct nic_test_rx t = {0};
    f->nic.tap = tap_count;
    f->nic.tap_ctx = &t;
    uint8_t frame[100];
    const uint8_t src[6] = {1, 2, 3, 4, 5, 6};
    nic_testframe_build(frame, sizeof(frame), src, 0);
    assert_true(dev_rx(f, frame, sizeof(frame), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0));
    assert_true(dev_rx_frame(f, 1)); /* IPv4: for the handler */
    struct rx_log log = {0};
    assert_int_equal(e1000_poll(&f->nic, rx_collect, &log, 64), 2);
    assert_int_equal(log.frames, 1);
    assert_int_equal(t.frames, 1);
    assert_int_equal(t.bytes, 100);
    fake_free(f);
}

static void test_irq_causes_reach_poll(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    e1000_enable_irqs(&f->nic);
    assert_true(*reg(f, E1000_IMS) & E1000_ICR_RXT0);
    assert_true(*reg(f, E1000_IMS) & E1000_ICR_RXO);
    *reg(f, E1000_ICR) = E1000_ICR_RXO | E1000_ICR_LSC;
    e1000_irq(&f->nic); /* the handler reads ICR, which clears it */
    *reg(f, E1000_ICR) = 0;
    e1000_poll(&f->nic, NULL, NULL, 8);
    struct e1000_stats s;
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.rx_overruns, 1);
    struct e1000_recovery r;
    e1000_get_recovery(&f->nic, &r);
    assert_int_equal(r.link_changes, 1);
    e1000_poll(&f->nic, NULL, NULL, 8);
    e1000_get_stats(&f->nic, &s);
    assert_int_equal(s.rx_overruns, 1); /* consumed once */
    fake_free(f);
}

static void test_link_and_speed(void **state)
{
    struct fake *f = fake_new();
    assert_int_equal(fake_init(f), CIVIC_OK);
    *reg(f, E1000_STATUS) = 0;
    assert_false(e1000_link_up(&f->nic));
    assert_int_equal(e1000_speed_mbps(&f->nic), 0);
    *reg(f, E1000_STATUS) = E1000_STATUS_LU | E1000_STATUS_FD | 2u << 6;
    assert_true(e1000_link_up(&f->nic));
    assert_int_equal(e1000_speed_mbps(&f->nic), 1000);
    *reg(f, E1000_STATUS) = E1000_STATUS_LU | 1u << 6;
    assert_int_equal(e1000_speed_mbps(&f->nic), 100);
    fake_free(f);
}

static void test_testframe_codec(void **state)
{
    uint8_t fr[NIC_TEST_MAX];
    const uint8_t src[6] = {0x52, 0x54, 0, 0, 0, 1};
    uint32_t seq = 0;
    nic_testframe_build(fr, 61, src, 0x01020304); /* odd length: last byte padded in the sum */
    assert_int_equal(nic_frame_ethertype(fr), 0x88b5);
    assert_int_equal(fr[0], 0xff);
    assert_memory_equal(fr + 6, src, 6);
    assert_int_equal(nic_testframe_check(fr, 61, &seq), NIC_TEST_GOOD);
    assert_int_equal(seq, 0x01020304);
    assert_int_equal(nic_testframe_check(fr, 60, &seq), NIC_TEST_BAD); /* length */
    fr[60] ^= 1;
    assert_int_equal(nic_testframe_check(fr, 61, &seq), NIC_TEST_BAD);
    fr[60] ^= 1;
    fr[30] ^= 0x80;
    assert_int_equal(nic_testframe_check(fr, 61, &seq), NIC_TEST_BAD);
    fr[30] ^= 0x80;
    fr[14] = 'X';
    assert_int_equal(nic_testframe_check(fr, 61, &seq), NIC_TEST_NOT_TEST);
    nic_testframe_build(fr, NIC_TEST_MAX, src, 7);
    assert_int_equal(nic_testframe_check(fr, NIC_TEST_MAX, &seq), NIC_TEST_GOOD);
    fr[12] = 0x08;
    assert_int_equal(nic_testframe_check(fr, NIC_TEST_MAX, &seq), NIC_TEST_NOT_TEST);
}

static void test_testframe_accounting(void **state)
{
    struct nic_test_rx t = {0};
    uint8_t fr[60];
    const uint8_t src[6] = {0};
    const uint32_t seqs[] = {0, 1, 2, 5, 6, 3, 0, 1};
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        nic_testframe_build(fr, sizeof(fr), src, seqs[i]);
        nic_test_rx_account(&t, fr, sizeof(fr));
    }
    assert_int_equal(t.frames, 8);
    assert_int_equal(t.bytes, 480);
    assert_int_equal(t.lost, 2);         /* 3 and 4 missing after 2 */
    assert_int_equal(t.out_of_order, 1); /* 3 after 6; a 0 starts a new run */
    fr[40] ^= 1;
    nic_test_rx_account(&t, fr, sizeof(fr));
    assert_int_equal(t.bad, 1);
    fr[12] = 0x86, fr[13] = 0xdd;
    nic_test_rx_account(&t, fr, sizeof(fr));
    assert_int_equal(t.other, 1);
    /* A run whose first frames never came. */
    struct nic_test_rx u = {0};
    nic_testframe_build(fr, sizeof(fr), src, 4);
    nic_test_rx_account(&u, fr, sizeof(fr));
    assert_int_equal(u.lost, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_programs_device),
        cmocka_unit_test(test_mac_from_ral_without_eerd),
        cmocka_unit_test(test_reset_timeout_and_bad_rings),
        cmocka_unit_test(test_transmit_and_reclaim),
        cmocka_unit_test(test_full_tx_ring),
        cmocka_unit_test(test_stuck_tx_ring_recovers),
        cmocka_unit_test(test_receive_with_budget),
        cmocka_unit_test(test_rx_overrun_recovers),
        cmocka_unit_test(test_rx_overrun_with_lost_tail_resets_ring),
        cmocka_unit_test(test_rx_errors_and_spanning_frames),
        cmocka_unit_test(test_tap_takes_test_frames),
        cmocka_unit_test(test_irq_causes_reach_poll),
        cmocka_unit_test(test_link_and_speed),
        cmocka_unit_test(test_testframe_codec),
        cmocka_unit_test(test_testframe_accounting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
