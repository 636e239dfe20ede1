"""System tests of networking: several civic instances on one Ethernet (Bochs and bxhub, or QEMU
socket netdevs), one QEMU on user networking. Each test skips, with the reason, while the ISO lacks
the command it needs (`pci`, `nic`), so the suite stays green while the network stack lands.

The e1000 is Intel 8086:100e (82540EM) under both Bochs and QEMU. Bochs instances run at
systest.NET_IPS (one frame per emulated ms, see DESIGN.md); waits are generous timeouts on
conditions, never wall-clock bounds on performance."""

import re
import time

import civic_net
from systest import COMMAND_TIMEOUT, Skip, check, kv, show, test

E1000_ID = ("8086", "100e")
LINK_TIMEOUT = 60.0
TX_FRAMES = 1000
# At one frame per emulated ms, 1000 frames are 1 s of emulated time: seconds of wall time under
# Bochs. The bounds only catch a hang.
RX_TIMEOUT = 120.0
RX_SETTLE_S = 10.0
POLL_S = 0.5
# A sender outruns a receiver on both emulators, so TX_FRAMES go in runs of TX_BATCH, each waited
# for. Bochs's e1000 transmits as fast as the guest queues (about 6 frames per emulated ms here)
# while the receiving side takes one frame per emulated ms, so a long burst overflows the host's
# UDP receive buffer (212 KiB by default; /proc/net/snmp RcvbufErrors grows) before the frames
# reach the NIC. QEMU's sender runs at ~400k frames/s and the receiver's e1000 drops what finds
# no free descriptor (the ring holds 255), as real hardware does. 100 frames fit both.
TX_BATCH = 100


def has_command(con, name):
    """Whether the shell knows `name` (`help NAME` prints one 'error:' line if not)."""
    lines = con.command("help %s" % name, COMMAND_TIMEOUT)
    return bool(lines) and not lines[0].startswith("error:")


def need_commands(emus, *names):
    """Skip the test unless every instance's shell has every command in `names`."""
    for name in names:
        for emu in emus:
            if not has_command(emu.console, name):
                raise Skip("the ISO has no '%s' command yet" % name)


def need_emu(ctx, *kinds):
    if ctx.args.emu not in kinds:
        raise Skip("runs under --emu %s" % " or ".join(kinds))


def pci_lists_e1000(emu):
    """`pci` lists an Intel 8086:100e; returns the output lines. Accepts `8086:100e` on a line or
    a key=value line with vendor=0x8086 and device=0x100e."""
    lines = emu.console.command("pci", COMMAND_TIMEOUT)
    vendor, device = E1000_ID
    for line in lines:
        low = line.lower()
        if "%s:%s" % (vendor, device) in low:
            return lines
        m_v = re.search(r"\bvendor(?:_id)?=(?:0x)?([0-9a-f]{4})\b", low)
        m_d = re.search(r"\bdevice(?:_id)?=(?:0x)?([0-9a-f]{4})\b", low)
        if m_v and m_d and (m_v.group(1), m_d.group(1)) == E1000_ID:
            return lines
    raise AssertionError("%s: pci does not list an Intel %s:%s device:\n%s"
                         % (emu.workdir, vendor, device, show(lines)))


def nic_facts(emu):
    lines = emu.console.command("nic", COMMAND_TIMEOUT)
    return kv(lines), lines


def wait_nic(emu, cond, timeout, what):
    """Poll `nic` until cond(facts) holds; returns the facts. Fails after `timeout` seconds with
    the last output (a hang guard: the emulated link needs no wall-clock time of its own)."""
    deadline = time.monotonic() + timeout
    while True:
        facts, lines = nic_facts(emu)
        if cond(facts):
            return facts
        if time.monotonic() > deadline:
            raise AssertionError("%s: %s not seen within %.0f s; nic printed:\n%s"
                                 % (emu.workdir, what, timeout, show(lines)))
        time.sleep(POLL_S)


def link_up(facts):
    return facts.get("link") == "up"


def counter(facts, key):
    value = facts.get(key, "")
    check(value.isdigit(), "nic does not report %s=N: %r" % (key, facts))
    return int(value)


def check_pair_boots(ctx, emus):
    for i, emu in enumerate(emus):
        lines = emu.console.command("echo net-%d" % i, COMMAND_TIMEOUT)
        check(lines == ["net-%d" % i], "instance %d: echo printed:\n%s" % (i, show(lines)))


def check_pair_pci(ctx, emus):
    need_commands(emus, "pci")
    for emu in emus:
        pci_lists_e1000(emu)
    ctx.note("both list 8086:100e")


# kernel/cmd_nic.c: `nic` prints key=value lines (link=up|down, mac=, device=8086:100e, the
# test_rx_* counters of received test frames); `nic tx N` sends N broadcast test frames (EtherType
# 0x88b5, sequence numbered, checksummed; bxhub forwards broadcasts) and reports frames= and
# unsent=; `nic rx-reset` clears the test_rx_* counters.
def check_nic_identity(emu, mac):
    facts, lines = nic_facts(emu)
    check(facts.get("present") == "yes", "%s: nic reports no NIC:\n%s" % (emu.workdir, show(lines)))
    check(facts.get("device") == "%s:%s" % E1000_ID, "%s: nic device=%s, want %s:%s"
          % (emu.workdir, facts.get("device"), E1000_ID[0], E1000_ID[1]))
    check(facts.get("mac", "").lower() == mac, "%s: nic mac=%s, configured %s"
          % (emu.workdir, facts.get("mac"), mac))


def wait_test_rx(emu, target):
    """Poll `nic` until the receiver has accounted for `target` test frames (good, bad or lost);
    returns the facts. Fails once the counters stop moving for RX_SETTLE_S (the rest is not
    coming) or after RX_TIMEOUT; both are hang guards, not performance bounds."""
    deadline = time.monotonic() + RX_TIMEOUT
    last, last_change = None, time.monotonic()
    while True:
        facts, lines = nic_facts(emu)
        seen = tuple(counter(facts, "test_rx_" + k) for k in ("frames", "bad", "lost"))
        if sum(seen) >= target:
            return facts
        now = time.monotonic()
        if seen != last:
            last, last_change = seen, now
        if now - last_change > RX_SETTLE_S or now > deadline:
            raise AssertionError("%s: expected %d test frames, the counters stopped at "
                                 "frames=%d bad=%d lost=%d; nic printed:\n%s"
                                 % (emu.workdir, target, seen[0], seen[1], seen[2],
                                    show(lines)))
        time.sleep(POLL_S)


def check_pair_tx(ctx, emus, batch=TX_BATCH):
    """TX_FRAMES test frames from a to b in `nic tx` runs of `batch` frames, each run waited for
    on b, and every frame must arrive intact and in order."""
    need_commands(emus, "nic")
    a, b = emus
    for i, emu in enumerate(emus):
        check_nic_identity(emu, civic_net.mac_for(i))
        wait_nic(emu, link_up, LINK_TIMEOUT, "link=up")
    lines = b.console.command("nic rx-reset", COMMAND_TIMEOUT)
    check(lines == ["ok"], "nic rx-reset printed:\n%s" % show(lines))
    rates = []
    for done in range(batch, TX_FRAMES + 1, batch):
        lines = a.console.command("nic tx %d" % batch, RX_TIMEOUT)
        sent = kv(lines)
        check(sent.get("frames") == str(batch) and sent.get("unsent") == "0",
              "nic tx %d did not send them all:\n%s" % (batch, show(lines)))
        rates.append(int(sent.get("frames_per_s", "0")))
        facts = wait_test_rx(b, done)
        got = {key: counter(facts, "test_rx_" + key)
               for key in ("frames", "bad", "lost", "out_of_order")}
        check(got == {"frames": done, "bad": 0, "lost": 0, "out_of_order": 0},
              "after %d test frames sent the receiver counted %r" % (done, got))
    ctx.note("%d test frames a -> b intact (runs of %d), sender %d frames/s emulated"
             % (TX_FRAMES, batch, min(rates)))


@test
def pci_lists_functions(ctx):
    # One instance, whatever NIC it has: the enumeration itself (bridges, functions, BAR sizes).
    con = ctx.shell()
    lines = con.command("pci", COMMAND_TIMEOUT)
    facts = kv(lines)
    check("count" in facts and int(facts["count"]) >= 2, "pci has no count=N:\n%s" % show(lines))
    fns = [l for l in lines if l.startswith("bdf=")]
    check(len(fns) == int(facts["count"]), "pci count does not match its lines:\n%s" % show(lines))
    # Both emulators put an i440FX host bridge at 00:00.0 and a PIIX3 ISA bridge at 00:01.0.
    check(re.match(r"bdf=00:00\.0 vendor=8086 device=1237 class=060000 ", fns[0]),
          "00:00.0 is not the i440FX host bridge:\n%s" % show(lines))
    check(any(re.match(r"bdf=00:01\.0 vendor=8086 device=7000 class=060100 ", l) for l in fns),
          "no PIIX3 ISA bridge:\n%s" % show(lines))
    check(any(re.search(r" bar4=io:0x[0-9a-f]+/16\b", l) for l in fns if "device=7010" in l),
          "the IDE function's bus-master BAR is not io/16:\n%s" % show(lines))


@test
def net_two_bochs_boot(ctx):
    need_emu(ctx, "bochs")
    check_pair_boots(ctx, ctx.boot_many(2, net="hub"))


@test
def net_two_bochs_pci(ctx):
    need_emu(ctx, "bochs")
    check_pair_pci(ctx, ctx.boot_many(2, net="hub"))


@test
def net_two_bochs_tx(ctx):
    need_emu(ctx, "bochs")
    check_pair_tx(ctx, ctx.boot_many(2, net="hub"))


@test
def net_two_qemu_boot(ctx):
    need_emu(ctx, "qemu", "kvm")
    check_pair_boots(ctx, ctx.boot_many(2, net="socket"))


@test
def net_two_qemu_pci(ctx):
    need_emu(ctx, "qemu", "kvm")
    check_pair_pci(ctx, ctx.boot_many(2, net="socket"))


@test
def net_two_qemu_tx(ctx):
    need_emu(ctx, "qemu", "kvm")
    check_pair_tx(ctx, ctx.boot_many(2, net="socket"))


@test
def net_qemu_user(ctx):
    # One QEMU on user networking (DHCP server and gateway 10.0.2.2): the base for DHCP and ping.
    need_emu(ctx, "qemu", "kvm")
    (emu,) = ctx.boot_many(1, net="user")
    need_commands([emu], "pci")
    pci_lists_e1000(emu)
    need_commands([emu], "nic")
    check_nic_identity(emu, civic_net.mac_for(0))
    wait_nic(emu, link_up, LINK_TIMEOUT, "link=up")
    ctx.note("link up")


# net/cmd_net.c: `net` prints mode=dhcp|static, dhcp=bound|pending, ip=, mask=, gw=, link=;
# `net set ip=A.B.C.D/N [gw=...]` configures a static address; `ping HOST [count=N]` ends with
# one line "ping host=H sent=N received=N lost=N ...".
def wait_dhcp(emu, timeout=LINK_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        lines = emu.console.command("net", COMMAND_TIMEOUT)
        facts = kv(lines)
        if facts.get("dhcp") == "bound":
            return facts
        if facts.get("mode") != "dhcp" or time.monotonic() > deadline:
            raise AssertionError("%s: no DHCP lease within %.0f s; net printed:\n%s"
                                 % (emu.workdir, timeout, show(lines)))
        time.sleep(POLL_S)


def ping(emu, host, count=3):
    """`ping host count=N`: (sent, received) from its summary line."""
    lines = emu.console.command("ping %s count=%d" % (host, count), COMMAND_TIMEOUT + 2 * count)
    for line in lines:
        m = re.match(r"^ping host=\S+ sent=(\d+) received=(\d+)", line)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise AssertionError("%s: ping %s printed no summary:\n%s" % (emu.workdir, host, show(lines)))


def check_ping(emu, host, count=3):
    sent, received = ping(emu, host, count)
    check(sent == count and received == count, "%s: ping %s: sent=%d received=%d"
          % (emu.workdir, host, sent, received))


@test
def net_two_bochs_dhcp_ping(ctx):
    # bxhub leases 10.0.2.15 and up in the order the guests ask and answers ping at 10.0.2.2.
    need_emu(ctx, "bochs")
    emus = ctx.boot_many(2, net="hub")
    need_commands(emus, "net", "ping")
    leases = [wait_dhcp(emu) for emu in emus]
    ips = [facts.get("ip") for facts in leases]
    check(sorted(ips) == ["10.0.2.15", "10.0.2.16"], "bxhub leased %r" % ips)
    check_ping(emus[0], "10.0.2.2")
    check_ping(emus[0], ips[1])
    check_ping(emus[1], ips[0])
    ctx.note("leases %s, pings both ways" % "/".join(ips))


@test
def net_two_qemu_static_ping(ctx):
    # A socket netdev has no DHCP server: static addresses.
    need_emu(ctx, "qemu", "kvm")
    emus = ctx.boot_many(2, net="socket")
    need_commands(emus, "net", "ping")
    ips = ["10.0.3.1", "10.0.3.2"]
    for emu, ip in zip(emus, ips):
        lines = emu.console.command("net set ip=%s/24" % ip, COMMAND_TIMEOUT)
        facts = kv(lines)
        check(facts.get("ip") == ip and facts.get("mode") == "static",
              "net set ip=%s/24 printed:\n%s" % (ip, show(lines)))
    check_ping(emus[0], ips[1])
    check_ping(emus[1], ips[0])
    ctx.note("pings both ways")


@test
def net_qemu_user_dhcp_ping(ctx):
    # QEMU's user network: DHCP gives 10.0.2.15, the gateway 10.0.2.2 answers ping.
    need_emu(ctx, "qemu", "kvm")
    (emu,) = ctx.boot_many(1, net="user")
    need_commands([emu], "net", "ping")
    facts = wait_dhcp(emu)
    check(facts.get("ip") == "10.0.2.15" and facts.get("gw") == "10.0.2.2",
          "user networking leased ip=%s gw=%s" % (facts.get("ip"), facts.get("gw")))
    check_ping(emu, "10.0.2.2")
    ctx.note("lease 10.0.2.15, ping 10.0.2.2")
