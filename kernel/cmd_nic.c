/* `nic`: the e1000's state and counters; `nic tx` measures the frame rate with raw test frames;
 * `nic rx-reset` clears the test-frame counters. */
#include "drivers/e1000/e1000.h"
#include "drivers/e1000/e1000_testframe.h"
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"

#define TX_STALL_NS 2000000000ull /* no progress for this long: give up */
#define TX_MAX_COUNT 100000000ull

static void kv_u64(const char *key, uint64_t v)
{
    kprintf("%s=%llu\n", key, (unsigned long long)v);
}

static civic_err nic_status(struct e1000 *nic)
{
    uint8_t bus, dev, fn, mac[6];
    uint16_t device;
    e1000_location(nic, &bus, &dev, &fn, &device);
    e1000_mac(nic, mac);
    kprintf("present=yes\nbdf=%02x:%02x.%x\ndevice=8086:%04x\n", bus, dev, fn, device);
    kprintf("mac=%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4],
            mac[5]);
    unsigned speed = e1000_speed_mbps(nic);
    kprintf("link=%s\nspeed_mbps=%u\n", e1000_link_up(nic) ? "up" : "down", speed);
    unsigned rx_ring, tx_ring;
    e1000_ring_sizes(nic, &rx_ring, &tx_ring);
    kprintf("rx_ring=%u\ntx_ring=%u\ntx_pending=%u\n", rx_ring, tx_ring, e1000_tx_pending(nic));
    kprintf("rx_handler=%s\nirq=%s\n", e1000_rx_handler_installed() ? "installed" : "default",
            e1000_irq_mode());

    struct e1000_stats s;
    struct e1000_hw_stats h;
    struct e1000_recovery r;
    e1000_get_stats(nic, &s);
    e1000_get_hw_stats(nic, &h);
    e1000_get_recovery(nic, &r);
    kv_u64("rx_packets", s.rx_packets);
    kv_u64("rx_bytes", s.rx_bytes);
    kv_u64("rx_drops", s.rx_drops);
    kv_u64("rx_no_desc", h.rnbc);
    kv_u64("rx_errors", s.rx_errors);
    kv_u64("rx_overruns", s.rx_overruns);
    kv_u64("tx_packets", s.tx_packets);
    kv_u64("tx_bytes", s.tx_bytes);
    kv_u64("tx_drops", s.tx_drops);
    kv_u64("tx_errors", s.tx_errors);
    kv_u64("tx_ring_full", s.tx_ring_full);
    kv_u64("hw_rx_packets", h.gprc);
    kv_u64("hw_rx_bytes", h.gorc);
    kv_u64("hw_tx_packets", h.gptc);
    kv_u64("hw_tx_bytes", h.gotc);
    kv_u64("rx_ring_resets", r.rx_ring_resets);
    kv_u64("tx_ring_resets", r.tx_ring_resets);
    kv_u64("link_changes", r.link_changes);

    struct nic_test_rx t;
    e1000_test_rx_get(&t);
    kv_u64("test_rx_frames", t.frames);
    kv_u64("test_rx_bytes", t.bytes);
    kv_u64("test_rx_bad", t.bad);
    kv_u64("test_rx_lost", t.lost);
    kv_u64("test_rx_out_of_order", t.out_of_order);
    kv_u64("rx_other", t.other);
    return CIVIC_OK;
}

/* Sends count test frames as fast as the ring takes them, then waits until the device reports
 * every one sent: elapsed time is from the first frame queued to the last one done. */
static civic_err nic_tx(struct e1000 *nic, int argc, char **argv)
{
    uint64_t count, size = NIC_TEST_MIN, gap_us = 0;
    if (argc < 3 || shell_parse_u64(argv[2], &count) != CIVIC_OK || count == 0 ||
        count > TX_MAX_COUNT)
        return shell_usage_error("nic", "tx needs a COUNT from 1 to %llu",
                                 (unsigned long long)TX_MAX_COUNT);
    for (int i = 3; i < argc; i++) {
        const char *v = shell_kv(argv[i], "size"), *g = shell_kv(argv[i], "gap_us");
        if (g) {
            if (shell_parse_u64(g, &gap_us) != CIVIC_OK || gap_us > 1000000)
                return shell_usage_error("nic", "gap_us must be 0..1000000");
            continue;
        }
        if (!v || shell_parse_u64(v, &size) != CIVIC_OK || size < NIC_TEST_MIN ||
            size > NIC_TEST_MAX)
            return shell_usage_error("nic", "size must be %u..%u bytes", NIC_TEST_MIN,
                                     NIC_TEST_MAX);
    }
    static uint8_t frame[NIC_TEST_MAX];
    uint8_t mac[6];
    e1000_mac(nic, mac);

    uint64_t start = arch_time_ns(), progress = start, sent = 0, busy = 0;
    while (sent < count) {
        nic_testframe_build(frame, (size_t)size, mac, (uint32_t)sent);
        civic_err e = e1000_transmit(nic, frame, (size_t)size);
        uint64_t t = arch_time_ns();
        if (e == CIVIC_OK) {
            sent++;
            progress = t;
            /* Pacing: Bochs's receiving side takes one frame per emulated ms. */
            while (gap_us && arch_time_ns() - start < sent * gap_us * 1000u)
                e1000_service();
            continue;
        }
        busy++;
        e1000_service(); /* reclaims sent descriptors (and keeps receiving) */
        if (t - progress > TX_STALL_NS) {
            kprintf("frames=%llu\n", (unsigned long long)sent);
            return shell_error(CIVIC_ETIMEDOUT, "the transmit ring made no progress for 2 s");
        }
    }
    while (e1000_tx_pending(nic)) {
        e1000_service();
        if (arch_time_ns() - progress > TX_STALL_NS)
            break;
        if (e1000_tx_pending(nic) == 0)
            break;
    }
    uint64_t elapsed_us = (arch_time_ns() - start) / 1000u;
    if (elapsed_us == 0)
        elapsed_us = 1;
    kv_u64("frames", sent);
    kv_u64("bytes", sent * size);
    kv_u64("elapsed_us", elapsed_us);
    kv_u64("frames_per_s", sent * 1000000u / elapsed_us);
    kv_u64("ring_full_waits", busy);
    kv_u64("unsent", e1000_tx_pending(nic));
    return CIVIC_OK;
}

static civic_err cmd_nic(int argc, char **argv)
{
    struct e1000 *nic = e1000_get();
    if (argc == 1) {
        if (!nic) {
            kprintf("present=no\n");
            return CIVIC_OK;
        }
        return nic_status(nic);
    }
    if (strcmp(argv[1], "tx") == 0) {
        if (!nic)
            return shell_error(CIVIC_ENOENT, "no NIC");
        return nic_tx(nic, argc, argv);
    }
    if (strcmp(argv[1], "rx-reset") == 0 && argc == 2) {
        e1000_test_rx_reset();
        kprintf("ok\n");
        return CIVIC_OK;
    }
    return shell_usage_error("nic", "unknown subcommand '%.20s'", argv[1]);
}
SHELL_COMMAND(nic, "nic", "[tx COUNT [size=BYTES] [gap_us=N] | rx-reset]",
              "the NIC's state and counters; send raw test frames; clear the test counters",
              cmd_nic);
