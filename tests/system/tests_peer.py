"""System tests of the peer layer (net/peer.c): two civic instances on one Ethernet (Bochs and
bxhub at systest.NET_IPS, or two QEMUs joined by a socket netdev) with static addresses, the
handshake both ways, `peer list`, `net bench` verified by CRC-32C on the far side, `net rr`, and
the far instance killed in the middle of a transfer. Each test skips while the ISO lacks the
command it needs.

Waits are generous timeouts on conditions (hang guards), never bounds on performance; the
figures measured are reported in the test notes with the emulator and ips."""

import re
import time

from systest import COMMAND_TIMEOUT, Skip, check, kv, show, test
from tests_net import need_commands, need_emu

IPS = ["10.0.4.1", "10.0.4.2"]
# The loss timeout (net/peer_conn.h, PEER_CONN_CONFIG_DEFAULT) plus the slack of one poll.
LOST_TIMEOUT_MS = 5000
# 16 MiB takes about 15 s of wall time under Bochs at NET_IPS (the emulated CPU, not the link,
# bounds it there) and a few seconds under QEMU.
BENCH_MIB = {"bochs": 16, "qemu": 16, "kvm": 16}
BENCH_TIMEOUT = 300.0
RR_COUNT = 200


def boot_pair(ctx):
    emu = ctx.args.emu
    net = "hub" if emu == "bochs" else "socket"
    emus = ctx.boot_many(2, net=net)
    need_commands(emus, "net", "peer")
    for e, ip in zip(emus, IPS):
        lines = e.console.command("net set ip=%s/24" % ip, COMMAND_TIMEOUT)
        check(kv(lines).get("ip") == ip, "net set ip=%s/24 printed:\n%s" % (ip, show(lines)))
    return emus


def peer_lines(lines):
    """The per-peer lines of `peer list` (or `peer add`) as dicts."""
    out = []
    for line in lines:
        if line.startswith("id="):
            out.append(dict(f.split("=", 1) for f in line.split() if "=" in f))
    return out


def peer_list(emu):
    lines = emu.console.command("peer list", COMMAND_TIMEOUT)
    facts = kv(lines)
    check("count" in facts, "%s: peer list has no count=:\n%s" % (emu.workdir, show(lines)))
    peers = peer_lines(lines)
    check(len(peers) == int(facts["count"]), "peer list count does not match:\n%s" % show(lines))
    return peers, facts


def add_peer(emu, ip):
    lines = emu.console.command("peer add %s" % ip, COMMAND_TIMEOUT)
    peers = peer_lines(lines)
    check(len(peers) == 1 and peers[0].get("state") == "established",
          "%s: peer add %s printed:\n%s" % (emu.workdir, ip, show(lines)))
    return peers[0]


def wait_peers(emu, cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        peers, facts = peer_list(emu)
        if cond(peers):
            return peers, facts
        if time.monotonic() > deadline:
            raise AssertionError("%s: %s not seen within %.0f s; peer list:\n%s"
                                 % (emu.workdir, what, timeout, show([str(p) for p in peers])))
        time.sleep(0.5)


def wait_log(emu, regex, timeout, what):
    """Waits for a line matching regex anywhere in emu's console output so far (log lines
    arrive between commands' output); returns the match."""
    deadline = time.monotonic() + timeout
    while True:
        m = re.search(regex, emu.console.transcript().decode("latin-1"))
        if m:
            return m
        if time.monotonic() > deadline:
            raise AssertionError("%s: %s not seen within %.0f s" % (emu.workdir, what, timeout))
        time.sleep(0.2)


def mem_facts(emu):
    return kv(emu.console.command("mem", COMMAND_TIMEOUT))


def heap_key(facts):
    return (facts.get("heap_used_bytes"), facts.get("heap_live_allocations"),
            facts.get("used_frames"))


def handshake(ctx, emus):
    a, b = emus
    _, fa = peer_list(a)
    _, fb = peer_list(b)
    pa = add_peer(a, IPS[1])
    check(pa["id"] == fb["self_id"], "a sees id %s, b says it is %s" % (pa["id"], fb["self_id"]))
    check(pa["caps"] == "0x3", "accepted caps %s, want 0x3 (bench, page)" % pa["caps"])
    peers, _ = wait_peers(b, lambda ps: any(p["state"] == "established" for p in ps), 30,
                          "the accepted connection")
    check(peers[0]["id"] == fa["self_id"] and peers[0]["address"] == IPS[0]
          and peers[0]["dir"] == "in", "b lists:\n%s" % peers)
    return fa, fb


@test
def peer_handshake_both_ways(ctx):
    emus = boot_pair(ctx)
    a, b = emus
    before = [heap_key(mem_facts(e)) for e in emus]
    handshake(ctx, emus)
    # Keepalives flow: an rtt is measured within a few keepalive intervals, bytes move both ways.
    peers, _ = wait_peers(a, lambda ps: ps and int(ps[0]["rtt_us"]) > 0, 30, "an rtt")
    check(int(peers[0]["tx_bytes"]) > 0 and int(peers[0]["rx_bytes"]) > 0, "no bytes: %s" % peers)
    # A second connection to the same host is refused at once.
    lines = a.console.command("peer add %s" % IPS[1], COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error: already connected"),
          "second peer add printed:\n%s" % show(lines))
    # Removed from a: b hears BYE, both tables empty, both heaps back where they were.
    lines = a.console.command("peer remove %s" % IPS[1], COMMAND_TIMEOUT)
    check(kv(lines).get("removed") == "yes", "peer remove printed:\n%s" % show(lines))
    wait_peers(b, lambda ps: not ps, 30, "an empty peer table")
    wait_log(b, r"peer: 10\.0\.4\.1 \(id 0x[0-9a-f]+\) disconnected: peer closed the "
             r"connection: shutdown", 10, "the disconnect report")
    # Now the other way: b connects to a.
    pb = add_peer(b, IPS[0])
    check(pb["address"] == IPS[0], "b's peer: %s" % pb)
    wait_peers(a, lambda ps: len(ps) == 1 and ps[0]["state"] == "established", 30,
               "the connection from b")
    lines = b.console.command("peer remove %s" % IPS[0], COMMAND_TIMEOUT)
    check(kv(lines).get("removed") == "yes", "peer remove printed:\n%s" % show(lines))
    wait_peers(a, lambda ps: not ps, 30, "an empty peer table")
    after = [heap_key(mem_facts(e)) for e in emus]
    check(before == after, "heap/frames before %s, after %s" % (before, after))
    lines = a.console.command("peer remove %s" % IPS[1], COMMAND_TIMEOUT)
    check(lines and lines[0].startswith("error: no peer"), "remove of nothing:\n%s" % show(lines))
    ctx.note("handshake both ways, rtt_us=%s, heap back to %s" % (peers[0]["rtt_us"], after[0]))


def need_net_sub(emu, sub):
    """Skip unless `net` knows the subcommand (its usage line names it)."""
    lines = emu.console.command("help net", COMMAND_TIMEOUT)
    if not any(sub in line for line in lines):
        raise Skip("the ISO's 'net' has no '%s' subcommand yet" % sub)


# Under Bochs (clock: sync=none) an idle instance's emulated clock races ahead of a busy one's:
# time is instructions, and a halted CPU skips to its next timer at no cost. The receiver of a
# bench idles between frames while the sender computes, so a stall of a fraction of a second of
# the sender's (a TCP retransmission) can be many seconds on the receiver's clock, and the
# receiver would declare the sender lost. The receiver's loss bound is raised for that; the
# sender (the survivor of the kill test) keeps the default, which the test checks. In the bench
# test the sender's is raised too: once its stream ends it idles and races ahead of a receiver
# still busy with the tail (seen once in a CI-style run: `net rr` then found no peer).
RECEIVER_LOST_MS = 120000


def connected_pair(ctx):
    """Two instances joined as peers (a connected to b); also a's heap and frames before."""
    emus = boot_pair(ctx)
    for e in emus:
        need_net_sub(e, "bench")
    lines = emus[1].console.command("peer set lost_ms=%d" % RECEIVER_LOST_MS, COMMAND_TIMEOUT)
    check(kv(lines).get("lost_ms") == str(RECEIVER_LOST_MS), "peer set printed:\n%s"
          % show(lines))
    before = heap_key(mem_facts(emus[0]))
    handshake(ctx, emus)
    return emus, before


def bench(emu, ip, mib, timeout=BENCH_TIMEOUT):
    lines = emu.console.command("net bench %s size=%d" % (ip, mib), timeout)
    for line in lines:
        if line.startswith("bytes="):
            return dict(f.split("=", 1) for f in line.split()), lines
    raise AssertionError("%s: net bench printed no result:\n%s" % (emu.workdir, show(lines)))


@test
def peer_bench_and_rr(ctx):
    (a, b), _ = connected_pair(ctx)
    lines = a.console.command("peer set lost_ms=%d" % RECEIVER_LOST_MS, COMMAND_TIMEOUT)
    check(kv(lines).get("lost_ms") == str(RECEIVER_LOST_MS), "peer set printed:\n%s"
          % show(lines))
    mib = BENCH_MIB.get(ctx.args.emu, 4)
    t0 = time.monotonic()
    res, lines = bench(a, IPS[1], mib)
    wall = time.monotonic() - t0
    check(res["bytes"] == str(mib << 20) and res["verified"] == "yes",
          "net bench size=%d printed:\n%s" % (mib, show(lines)))
    check(sum(1 for l in lines if l.startswith("progress_bytes=")) == 3,
          "no progress lines:\n%s" % show(lines))
    # The far side verified the same stream on its own.
    wait_log(b, r"bench: 10\.0\.4\.1: received %d bytes in \d+ ms, crc 0x%s \(sender: %d bytes, "
             r"crc 0x%s\) verified=yes" % (mib << 20, res["crc"][2:], mib << 20, res["crc"][2:]),
             30, "the far side's verification")
    lines = a.console.command("net rr %s count=%d" % (IPS[1], RR_COUNT), BENCH_TIMEOUT)
    rr = kv([l.split()[0] for l in lines if l.startswith("count=")])
    check(rr.get("count") == str(RR_COUNT), "net rr printed:\n%s" % show(lines))
    fields = dict(f.split("=", 1) for l in lines if l.startswith("count=") for f in l.split())
    lat = [int(fields[k]) for k in ("min_us", "median_us", "p99_us", "max_us")]
    check(lat == sorted(lat) and lat[0] > 0 and int(fields["rps"]) > 0,
          "net rr figures out of order:\n%s" % show(lines))
    # Errors are one line.
    lines = a.console.command("net bench 10.0.4.99", COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error: no established peer"),
          "bench to nobody:\n%s" % show(lines))
    ctx.note("bench %d MiB: %s Mbit/s in %s ms emulated (%.0f s wall); rr: rps=%s min/median/"
             "p99/max us=%s" % (mib, res["mbit_s"], res["elapsed_ms"], wall, fields["rps"],
                               "/".join(str(x) for x in lat)))


@test
def peer_lost_mid_transfer(ctx):
    (a, b), before = connected_pair(ctx)
    a.console.send(("net bench %s size=16\r" % IPS[1]).encode())
    m, before_text = a.console.expect(re.compile(r"progress_bytes=|error: .*"), BENCH_TIMEOUT)
    check(m.group(0).startswith("progress"), "net bench failed before the kill: %s" % m.group(0))
    t_kill = time.monotonic()
    b.kill()
    m = wait_log(a, r"peer: 10\.0\.4\.2 \(id 0x[0-9a-f]+\) lost: nothing received for (\d+) ms",
                 120, "the lost-peer report")
    check(LOST_TIMEOUT_MS <= int(m.group(1)) < LOST_TIMEOUT_MS + 1000,
          "lost after %s ms, limit %d" % (m.group(1), LOST_TIMEOUT_MS))
    a.console.expect(re.compile(r"error: peer 10\.0\.4\.2 lost"), 60)
    a.console.wait_prompt(COMMAND_TIMEOUT)
    peers, _ = peer_list(a)
    check(not peers, "a still lists %s" % peers)
    after = heap_key(mem_facts(a))
    check(after == before, "a's heap/frames before the connection %s, after the loss %s"
          % (before, after))
    lines = a.console.command("echo alive", COMMAND_TIMEOUT)
    check(lines == ["alive"], "echo alive printed:\n%s" % show(lines))
    ctx.note("lost reported after %s ms of silence (%.0f s wall after the kill), heap back to %s"
             % (m.group(1), time.monotonic() - t_kill, after))
