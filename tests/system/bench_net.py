#!/usr/bin/env python3
"""Network benchmark: the emulated link against civic's network path; prints a table per setting.

    python3 tests/system/bench_net.py --iso build/civic.iso \
        [--settings bochs:4000000,bochs:37000000,qemu] [--frames 2000]

Each setting boots two civic instances on one Ethernet (Bochs: bxhub, `clock: sync=none`, the
`ips` given; QEMU TCG: a TCP socket netdev pair) with static addresses 10.0.3.1 and 10.0.3.2, and
measures from instance 0 to instance 1:

1. The raw link: `nic tx N size=S gap_us=G` on the sender, the receiver's test-frame counters
   (`nic rx-reset`, then test_rx_frames once they stop moving). For each frame size the gaps of
   GAPS_US are tried, widest first (lowest offered rate); a run is lossless when every frame
   arrived intact and in order. Delivered rate = frames received / the sender's elapsed time.
   The ceiling is the highest delivered rate of a lossless run; the unpaced run (gap 0) shows
   what happens when the sender outruns the link.
2. `ping count=N` from 0 to 1: min/avg/max round trip.
3. If both shells know `peer` (`help peer`) and `net bench` (`help net`): `peer add`, then
   `net bench` and `net rr`, and the bench goodput as a share of the raw 1514-byte ceiling;
   otherwise "peer layer not available".

Times are civic's clock. Under Bochs with `clock: sync=none` that is emulated time, a function
of instructions, and each instance has its own: an idle instance's clock races ahead (HLT is
skipped), so rates are in the clock of the instance that measured them (the sender's for the raw
link and `net bench`, the pinger's for ping). Under QEMU TCG civic's clock follows the host's:
figures there are wall-clock-ish and noisy.
"""

import argparse
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402
import civic_net  # noqa: E402

ADDRS = ("10.0.3.1", "10.0.3.2")
SIZES = (60, 1514)
# The gaps tried per frame size, widest first: the first lossy run ends the sweep (narrower gaps
# only offer more), and so do two runs in a row that the sender could not speed up (its own
# transmit rate is the bound). The unpaced run (gap 0) is always made.
GAPS_US = {60: (1000, 800, 667, 500, 400, 333, 250, 200, 150, 100, 50),
           1514: (2000, 1000, 667, 500, 400, 250, 100)}
CMD_TIMEOUT = 60.0
SETTLE_S = 1.5   # receiver counters unchanged this long: the run is over
RX_TIMEOUT = 120.0
LINK_TIMEOUT = 60.0


class BenchError(Exception):
    pass


def kv(lines):
    out = {}
    for line in lines:
        for m in re.finditer(r"([A-Za-z0-9_]+)=(\S*)", line):
            out[m.group(1)] = m.group(2)
    return out


def run(emu, cmd, timeout=CMD_TIMEOUT):
    lines = emu.console.command(cmd, timeout)
    if lines and lines[0].startswith("error:"):
        raise BenchError("%s: %s" % (cmd, lines[0]))
    return lines


def has_command(emu, name):
    lines = emu.console.command("help %s" % name, CMD_TIMEOUT)
    return bool(lines) and not lines[0].startswith("error:")


def wait_link(emu):
    deadline = time.monotonic() + LINK_TIMEOUT
    while kv(run(emu, "nic")).get("link") != "up":
        if time.monotonic() > deadline:
            raise BenchError("%s: link not up within %.0f s" % (emu.workdir, LINK_TIMEOUT))
        time.sleep(0.5)


def rx_settled(emu, target):
    """The receiver's test counters once they reach target or stop moving for SETTLE_S."""
    deadline = time.monotonic() + RX_TIMEOUT
    last, since = None, time.monotonic()
    while True:
        facts = kv(run(emu, "nic"))
        seen = tuple(int(facts.get("test_rx_" + k, "0")) for k in ("frames", "bad", "lost"))
        now = time.monotonic()
        if seen[0] + seen[1] >= target or now > deadline:
            return facts
        if seen != last:
            last, since = seen, now
        elif now - since > SETTLE_S:
            return facts
        time.sleep(0.2)


def raw_run(tx, rx, frames, size, gap):
    """One `nic tx` run; returns (offered fps, delivered fps, received, lost, wall s)."""
    run(rx, "nic rx-reset")
    t0 = time.monotonic()
    sent = kv(run(tx, "nic tx %d size=%d gap_us=%d" % (frames, size, gap), RX_TIMEOUT))
    if sent.get("frames") != str(frames):
        raise BenchError("nic tx sent %s of %d frames" % (sent.get("frames"), frames))
    facts = rx_settled(rx, frames)
    wall = time.monotonic() - t0
    got = int(facts.get("test_rx_frames", "0"))
    bad = sum(int(facts.get("test_rx_" + k, "0")) for k in ("bad", "out_of_order"))
    elapsed_us = max(1, int(sent["elapsed_us"]))
    r = {"gap": gap, "offered": frames * 1e6 / elapsed_us, "delivered": got * 1e6 / elapsed_us,
            "received": got, "lost": frames - got, "bad": bad, "wall": wall}
    print("  %d x %d bytes gap_us=%d: offered %.0f/s, delivered %.0f/s, lost %d, bad %d, "
          "%.1f s wall" % (frames, size, gap, r["offered"], r["delivered"], r["lost"], r["bad"],
                           wall), file=sys.stderr)
    return r


def raw_link(tx, rx, frames, size):
    """The sweep for one frame size: (fastest lossless run or None, the unpaced run)."""
    best, flat = None, 0
    for gap in GAPS_US[size]:
        r = raw_run(tx, rx, frames, size, gap)
        if r["lost"] or r["bad"]:
            break
        flat = flat + 1 if best and r["offered"] < 1.05 * best["offered"] else 0
        if not best or r["delivered"] > best["delivered"]:
            best = r
        if flat == 2:
            break
    flood = raw_run(tx, rx, frames, size, 0)
    if not (flood["lost"] or flood["bad"]) and (not best or flood["delivered"] > best["delivered"]):
        best = flood
    return best, flood


def ping(tx, host, count):
    lines = run(tx, "ping %s count=%d" % (host, count), CMD_TIMEOUT + 2 * count)
    for line in lines:
        if line.startswith("ping host="):
            return kv([line])
    raise BenchError("ping printed no summary: %r" % lines[-3:])


def peer_rows(a, b, mib, rr_count, ceiling_mbit):
    """The rows of the peer layer's `net bench` and `net rr`, or their 'not available' rows."""
    missing = None
    if not (has_command(a, "peer") and has_command(b, "peer")):
        missing = "peer layer not available"
    elif not any("bench" in line for line in a.console.command("help net", CMD_TIMEOUT)):
        missing = "peer layer not available (`peer` is there, `net bench` not yet)"
    if missing:
        return [("`net bench` throughput", missing), ("`net rr` round trips", missing),
                ("bench goodput / raw 1514-byte ceiling", missing)]
    rows = []
    try:
        run(a, "peer add %s" % ADDRS[1])
        bench = kv(run(a, "net bench %s size=%d" % (ADDRS[1], mib), 600))
        rows.append(("`net bench %s size=%d` (MiB)" % (ADDRS[1], mib),
                     "%s Mbit/s (%s bytes in %s ms, verified=%s)"
                     % (bench.get("mbit_s"), bench.get("bytes"), bench.get("elapsed_ms"),
                        bench.get("verified"))))
        rr = kv(run(a, "net rr %s count=%d" % (ADDRS[1], rr_count), 600))
        rows.append(("`net rr count=%d`" % rr_count,
                     "%s/s; min %s, median %s, p99 %s, max %s µs"
                     % (rr.get("rps"), rr.get("min_us"), rr.get("median_us"), rr.get("p99_us"),
                        rr.get("max_us"))))
        try:
            ratio = float(bench["mbit_s"]) / ceiling_mbit if ceiling_mbit else None
        except (KeyError, ValueError):
            ratio = None
        rows.append(("bench goodput / raw 1514-byte ceiling",
                     "%.0f %%" % (100 * ratio) if ratio is not None else "n/a"))
    except (BenchError, civic_emu.EmulatorError) as e:
        rows.append(("peer layer", "failed: %s" % str(e).splitlines()[0]))
    return rows


def boot_pair(kind, ips, iso, root):
    macs = [civic_net.mac_for(i) for i in range(2)]
    hub = None
    if kind == "bochs":
        hub = civic_net.Hub(os.path.join(root, "hub"), ports=2).start()
        nics = [hub.nic(i, mac) for i, mac in enumerate(macs)]
    else:
        nics = civic_net.qemu_socket_pair(macs)
    emus = [civic_emu.make_emulator(kind, iso, os.path.join(root, "i%d" % i), mem_mib=256,
                                    ips=ips, nics=[nic]) for i, nic in enumerate(nics)]
    return hub, emus


def bench_setting(args, kind, ips):
    name = "%s-%d" % (kind, ips) if kind == "bochs" else kind
    root = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "bench-net", name)
    hub, emus = boot_pair(kind, ips or 50_000_000, args.iso, root)
    t0 = time.monotonic()
    try:
        for emu in emus:  # the QEMU listener first
            emu.start()
        for emu in emus:
            emu.wait_prompt(120)
        a, b = emus
        for emu, addr in zip(emus, ADDRS):
            wait_link(emu)
            run(emu, "net set ip=%s/24" % addr)
        raw = {size: raw_link(a, b, args.frames, size) for size in SIZES}
        pings = ping(a, ADDRS[1], args.ping_count)
        best1514 = raw[1514][0]
        ceiling = best1514["delivered"] * 1514 * 8 / 1e6 if best1514 else None
        peer = peer_rows(a, b, args.bench_mib, args.rr_count, ceiling)
        for emu in emus:
            emu.poweroff(60)
    finally:
        for emu in emus:
            emu.kill()
        if hub:
            hub.stop()
    wall = time.monotonic() - t0
    for emu in emus:
        emu.remove_workdir()
    if hub:
        hub.remove_workdir()
    shutil.rmtree(root, ignore_errors=True)

    if kind == "bochs":
        title = ("Bochs 2.7, corei7_skylake_x, ips=%d, clock: sync=none, two instances on bxhub; "
                 "times are civic's clock = emulated time" % ips)
    else:
        title = ("QEMU 7.2 TCG, two instances joined by a TCP socket netdev; civic's clock "
                 "follows the host's: wall-clock-ish, noisy")
    print("%s; %d frames per raw run; %.0f s wall" % (title, args.frames, wall))
    print("| measure | result |")
    print("|---|---|")
    for size in SIZES:
        best, flood = raw[size]
        if best:
            print("| raw %d-byte frames, highest lossless rate (gap_us=%d) | %.0f frames/s, "
                  "%.1f Mbit/s |" % (size, best["gap"], best["delivered"],
                                      best["delivered"] * size * 8 / 1e6))
        else:
            print("| raw %d-byte frames, highest lossless rate | none down to gap_us=%d |"
                  % (size, GAPS_US[size][0]))
        print("| raw %d-byte frames, unpaced (gap_us=0): offered, delivered | %.0f offered, "
              "%.0f delivered frames/s, %d of %d lost |"
              % (size, flood["offered"], flood["delivered"], flood["lost"], args.frames))
    if ceiling:
        print("| link ceiling: 1514-byte frames x lossless rate (TCP payload 1460/1514) | "
              "%.1f Mbit/s (%.1f Mbit/s payload) |" % (ceiling, ceiling * 1460 / 1514))
    if "min_us" in pings:
        print("| `ping count=%d` round trip (min / avg / max) | %s / %s / %s µs, %s of %s |"
              % (args.ping_count, pings["min_us"], pings["avg_us"], pings["max_us"],
                 pings.get("received"), pings.get("sent")))
    else:
        print("| `ping count=%d` | no reply (%s) |" % (args.ping_count, pings))
    for label, value in peer:
        print("| %s | %s |" % (label, value))
    print()
    return 0


def parse_settings(text):
    out = []
    for item in text.split(","):
        kind, _, ips = item.strip().partition(":")
        if kind not in ("bochs", "qemu"):
            raise SystemExit("bench-net: unknown setting %r (bochs:IPS or qemu)" % item)
        out.append((kind, int(ips) if ips else (50_000_000 if kind == "bochs" else 0)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/civic.iso")
    ap.add_argument("--settings", default="bochs:4000000,bochs:37000000,qemu")
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--ping-count", type=int, default=20)
    ap.add_argument("--bench-mib", type=int, default=4)
    ap.add_argument("--rr-count", type=int, default=200)
    args = ap.parse_args()
    civic_emu.raise_on_sigterm()
    status = 0
    for kind, ips in parse_settings(args.settings):
        try:
            bench_setting(args, kind, ips)
        except (BenchError, civic_emu.EmulatorError) as e:
            print("bench-net: %s: %s" % (kind, e), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
