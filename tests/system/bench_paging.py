#!/usr/bin/env python3
"""Network paging benchmark: guests whose memory exceeds their local limit; prints a table.

    python3 tests/system/bench_paging.py --iso build/civic-test.iso [--out build/bench-paging.md]
        [--ips 4000000] [--fractions 100,50,25] [--memtest-mib 8] [--memtest-passes 2]
        [--kvstore-mib 4] [--kvstore-ops 20000] [--store 64M] [--local-basis measured|region]
    python3 tests/system/bench_paging.py --self-test

Two civic instances on bxhub (Bochs, `clock: sync=none`, --ips), 10.0.5.1 (the owner, which runs
the guests) and 10.0.5.2 (which lends memory: `store SIZE`); the owner connects with `peer add`.
For each workload (sequential: memtest; random: kvstore) and each local fraction F of its working
set, the owner runs

    vm create bench MODULE mem=SIZE [local=LSIZE] cmdline="..."   (no local= at 100 %)
    vm start bench      ... until the guest's final line and its stop ...
    vm stats bench, remote (owner), host (both), vm log bench, vm destroy bench

The working set is measured: the pages the 100 % run touched (`vm stats` local_pages); F's
local limit is F of that (--local-basis region: F of the workload's region in MiB instead).
`remote`, `host` and the paging keys of `vm stats` are read when the shell has them; a figure
that is missing shows as n/a, so the 100 % rows work on an ISO without remote memory.

Times: the guest reports its own run time from its TSC, which like civic's clock advances with
emulated instructions under `clock: sync=none`: times are emulated, instructions = ns x ips / 1e9.
civic's instructions per remote fault (each host) = delta civic_ns (`host`: uptime - idle - guest)
x ips / 1e9 / the owner's remote faults. Frames per page moved = the owner's NIC frames (delta
tx_frames + rx_frames of `remote`) / (pages_in + pages_out). The owner's shell is polled every
POLL_S wall seconds meanwhile (a `vm list`), which costs civic a few instructions per poll.
"""

import argparse
import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402
import systest  # noqa: E402

ADDRS = ("10.0.5.1", "10.0.5.2")
VM = "bench"
CMD_TIMEOUT = 60.0
POLL_S = 2.0
RECEIVER_LOST_MS = 120000  # an idle Bochs's clock races ahead (tests_peer.py, RECEIVER_LOST_MS)
PAGE = 4096

MEMTEST_TIME_RE = re.compile(r"^memtest: time ms=(\d+)$")
MEMTEST_DONE_RE = re.compile(r"^memtest: done passes=(\d+) errors=(\d+)$")
KV_TSC_RE = re.compile(r"^kvstore: tsc (\d+) kHz")
KV_DONE_RE = re.compile(r"^kvstore: done ops=(\d+) .*errors=(\d+) .*ops_per_s=(\d+) "
                        r"\(tsc cycles=(\d+)\)$")


class BenchError(Exception):
    pass


class Missing(BenchError):
    """The shell has no such command (or option) yet."""


# ---- workloads ----

class Workload:
    """name: the table's label; module: the test ISO's module; region_mib: the memory it works on
    (the --local-basis region); mem_mib: the VM's size."""

    def __init__(self, name, module, cmdline, region_mib, mem_mib, final_re):
        self.name, self.module, self.cmdline = name, module, cmdline
        self.region_mib, self.mem_mib, self.final_re = region_mib, mem_mib, final_re


def workloads(args):
    # RAM from 1 MiB; the region starts at 2 MiB (kvstore adds 1/128 for its version bytes). The
    # pages never touched cost nothing, so the VM is sized generously.
    return [
        Workload("sequential", "memtest", "mib=%d passes=%d" % (args.memtest_mib,
                                                                 args.memtest_passes),
                 args.memtest_mib, max(16, args.memtest_mib + 8), MEMTEST_DONE_RE),
        Workload("random", "kvstore", "mib=%d ops=%d" % (args.kvstore_mib, args.kvstore_ops),
                 args.kvstore_mib, max(16, args.kvstore_mib + 8), KV_DONE_RE),
    ]


def guest_result(workload, log):
    """From the guest's console lines: {"ms": run time, "cell": the table's text, "errors": N};
    raises BenchError when the final line is missing."""
    if workload.module == "memtest":
        done = [m for m in map(MEMTEST_DONE_RE.match, log) if m]
        times = [m for m in map(MEMTEST_TIME_RE.match, log) if m]
        if not done or not times:
            raise BenchError("memtest printed no time/done line")
        ms = int(times[-1].group(1))
        return {"ms": ms, "cell": "%d ms" % ms, "errors": int(done[-1].group(2))}
    done = [m for m in map(KV_DONE_RE.match, log) if m]
    tsc = [m for m in map(KV_TSC_RE.match, log) if m]
    if not done or not tsc:
        raise BenchError("kvstore printed no tsc/done line")
    khz, cycles = int(tsc[-1].group(1)), int(done[-1].group(4))
    ms = cycles // khz if khz else 0
    return {"ms": ms, "cell": "%d ms (%s ops/s)" % (ms, done[-1].group(3)),
            "errors": int(done[-1].group(2))}


# ---- reading the shells ----

def kv(lines):
    """Every key=value in the lines (several per line allowed; quoted values are skipped)."""
    out = {}
    for line in lines:
        for m in re.finditer(r'([A-Za-z0-9_]+)=("[^"]*"|\S*)', line):
            out[m.group(1)] = m.group(2).strip('"')
    return out


def run(emu, cmd, timeout=CMD_TIMEOUT):
    lines = emu.console.command(cmd, timeout)
    if lines and lines[0].startswith("error:"):
        if "unknown command" in lines[0]:
            raise Missing("%s: the shell has no `%s` command yet" % (cmd, cmd.split()[0]))
        m = re.search(r"unknown option '[^']*'", lines[0])
        if m:
            raise Missing("`%s`: %s: not in this ISO yet"
                          % (" ".join(cmd.split()[:2]), m.group(0)))
        raise BenchError("%s: %s" % (cmd, lines[0]))
    return lines


def maybe_kv(emu, cmd):
    """kv() of a command's output, or None when the shell does not know the command."""
    try:
        return kv(run(emu, cmd))
    except Missing:
        return None


def num(facts, key):
    """An integer figure or None (no such dict or key, or not a number)."""
    try:
        return int(facts[key])
    except (TypeError, KeyError, ValueError):
        return None


def vm_state(emu):
    for line in run(emu, "vm list"):
        facts = kv([line])
        if facts.get("name") == VM:
            return facts
    raise BenchError("VM %s is not in `vm list`" % VM)


# ---- one run ----

def local_pages_for(frac, workload, working_set, basis):
    """The local limit in pages for fraction frac (percent); None at 100 % (no limit)."""
    if frac >= 100:
        return None
    base = working_set if basis == "measured" and working_set else workload.region_mib * 256
    return max(1, math.ceil(base * frac / 100))


def create_command(workload, local_pages, readahead_off=False):
    local = " local=%dK" % (local_pages * PAGE // 1024) if local_pages else ""
    if readahead_off:
        local += " readahead=off"
    return 'vm create %s %s mem=%dM%s cmdline="%s"' % (VM, workload.module, workload.mem_mib,
                                                       local, workload.cmdline)


def run_one(owner, store, workload, local_pages, timeout, readahead_off=False):
    """One guest run; returns the raw readings (the `sample` that compute_row takes)."""
    lines = run(owner, create_command(workload, local_pages, readahead_off))
    if not lines or not lines[0].startswith("vm=%s " % VM):
        raise BenchError("vm create printed: %r" % lines[:3])
    try:
        before = {"owner_remote": maybe_kv(owner, "remote"),
                  "owner_host": maybe_kv(owner, "host"), "store_host": maybe_kv(store, "host")}
        t0 = time.monotonic()
        run(owner, "vm start %s" % VM)
        deadline = t0 + timeout
        while True:
            facts = vm_state(owner)
            if facts.get("state") != "running":
                break
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        wall = time.monotonic() - t0
        after = {"owner_remote": maybe_kv(owner, "remote"),
                 "owner_host": maybe_kv(owner, "host"), "store_host": maybe_kv(store, "host")}
        stats_lines = run(owner, "vm stats %s" % VM)
        log = run(owner, "vm log %s" % VM)
    finally:
        try:
            run(owner, "vm destroy %s" % VM)
        except (BenchError, civic_emu.EmulatorError) as e:
            print("bench-paging: vm destroy: %s" % e, file=sys.stderr)
    if not any(workload.final_re.match(line) for line in log):
        stats = kv(stats_lines)
        raise BenchError("no final line from %s (state=%s%s, %.0f s wall); its console:\n%s"
                         % (workload.module, facts.get("state"),
                            " stop_reason=" + stats["stop_reason"] if "stop_reason" in stats
                            else "", wall, "\n".join("    | " + x for x in log[-12:])))
    return {"before": before, "after": after, "stats": kv(stats_lines), "log": log,
            "wall": wall}


# ---- the figures and the table ----

def delta(sample, side, key):
    b, a = num(sample["before"][side], key), num(sample["after"][side], key)
    return a - b if a is not None and b is not None else None


def compute_row(workload, frac, local_pages, sample, ips):
    """The table's cells (and the run time in ms, for the slowdown) from one run's readings."""
    st = sample["stats"]
    guest = guest_result(workload, sample["log"])
    faults = num(st, "remote_faults")
    ra_pages, ra_hits = num(st, "readahead_pages"), num(st, "readahead_hits")
    moved = [num(st, "pages_in"), num(st, "pages_out")]
    tx, rx = delta(sample, "owner_remote", "tx_frames"), delta(sample, "owner_remote", "rx_frames")
    row = {"workload": workload.name, "frac": frac, "ms": guest["ms"],
           "time": guest["cell"] + ("" if guest["errors"] == 0
                                    else " **%d ERRORS**" % guest["errors"]),
           "errors": guest["errors"], "wall": sample["wall"],
           "touched": num(st, "local_pages") or num(st, "pages_touched")}
    if local_pages is None:
        row["local"] = ("100 %% (no limit; %d pages touched)" % row["touched"] if row["touched"]
                        else "100 % (no limit)")
    else:
        row["local"] = "%d %% (%s)" % (frac, mib(local_pages))
    row["faults"] = fmt(faults)
    row["readahead"] = ("%d / %d = %.0f %%" % (ra_hits, ra_pages, 100.0 * ra_hits / ra_pages)
                        if ra_pages else ("0 / 0" if ra_pages == 0 and ra_hits == 0 else "n/a"))
    ev = num(st, "evictions")
    extra = [(num(st, "evict_zero"), "zero"), (num(st, "evict_clean"), "clean")]
    row["evictions"] = fmt(ev) + ("".join(" + %d %s" % (n, what) for n, what in extra
                                          if n is not None) if ev is not None else "")
    if None in moved or tx is None or rx is None:
        row["frames"] = "n/a"
    elif sum(moved) == 0:
        row["frames"] = "no pages moved (%d frames)" % (tx + rx)
    else:
        row["frames"] = "%.2f (%d / %d)" % ((tx + rx) / sum(moved), tx + rx, sum(moved))
    lat = [num(st, k) for k in ("fault_ns_median", "fault_ns_p99")]
    row["latency"] = ("%s / %s µs" % tuple("%.0f" % (n / 1000) for n in lat)
                      if None not in lat and faults else "n/a")
    # civic's own instructions over the run (emulated time neither idle nor in the guest), per
    # demand fault (each brought read-ahead pages too) and per page that crossed the wire.
    ins = [delta(sample, side, "civic_ns") for side in ("owner_host", "store_host")]
    ins = [d * ips / 1e9 if d is not None else None for d in ins]
    pages = sum(moved) if None not in moved else 0

    def per(n):
        return " / ".join("%.0f" % (i / n) if i is not None and n else "n/a" for i in ins)
    row["ipf"] = per(faults or 0)
    row["ipp"] = per(pages)
    return row


def short(text, limit=160):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def fmt(n):
    return "n/a" if n is None else "%d" % n


def mib(pages):
    return "%.2f MiB" % (pages * PAGE / (1 << 20))


COLUMNS = (("workload", "workload"), ("local (of the working set)", "local"),
           ("guest run time", "time"), ("slowdown vs 100 %", "slowdown"),
           ("remote faults", "faults"), ("read-ahead hits / pages", "readahead"),
           ("evictions (sent + zero + clean)", "evictions"),
           ("frames per page moved (owner's NIC)", "frames"),
           ("fault latency median / p99", "latency"),
           ("civic instructions / remote fault, owner / store", "ipf"),
           ("civic instructions / page moved, owner / store", "ipp"))


def add_slowdowns(rows):
    base = {r["workload"]: r["ms"] for r in rows if r.get("frac") == 100 and "error" not in r}
    for r in rows:
        if "error" in r:
            continue
        b = base.get(r["workload"])
        r["slowdown"] = "%.2f x" % (r["ms"] / b) if b else "n/a"


def table(header, rows):
    """The markdown: the header paragraph, then one row per run (a failed run says why)."""
    out = [header, "", "| " + " | ".join(c for c, _ in COLUMNS) + " |",
           "|" + "---|" * len(COLUMNS)]
    for r in rows:
        if "error" in r:
            cells = [r["workload"], r["local"], "failed: %s" % r["error"]] + \
                ["" for _ in COLUMNS[3:]]
        else:
            cells = [r[k] for _, k in COLUMNS]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def header_text(args, wls, working_sets, wall):
    basis = ("the pages its 100 % run touched" if args.local_basis == "measured"
             else "its region")
    ws = "; ".join("%s = `%s %s` (working set %s)"
                   % (w.name, w.module, w.cmdline,
                      "%d pages" % working_sets[w.name] if working_sets.get(w.name) else "n/a")
                   for w in wls)
    return ("Bochs 2.7, corei7_skylake_x, ips=%d, clock: sync=none: time is emulated "
            "(instructions / ips; instructions = ns x ips / 1e9), the guests' TSC included. Two "
            "civic instances on bxhub: the owner %s runs the guests, %s lends `store %s`. "
            "Workloads: %s. Local limit = a fraction of %s. %.0f s wall."
            % (args.ips, ADDRS[0], ADDRS[1], args.store, ws, basis, wall))


# ---- the bench ----

def setup(ctx, args):
    """Two instances on bxhub with addresses, the store on the second, the owner its peer.
    Returns (owner, store emulators, a note for the table or None)."""
    ctx.begin("bench-paging")
    emus = ctx.boot_many(2, net="hub", ips=args.ips, iso=args.iso)
    for emu, addr in zip(emus, ADDRS):
        facts = kv(run(emu, "net set ip=%s/24" % addr))
        if facts.get("ip") != addr:
            raise BenchError("net set ip=%s/24 printed %r" % (addr, facts))
    owner, store = emus
    for emu in emus:
        try:
            run(emu, "peer set lost_ms=%d" % RECEIVER_LOST_MS)
        except Missing as e:
            raise BenchError("%s (the peer layer is not in this ISO)" % e)
    note = None
    try:
        facts = kv(run(store, "store %s" % args.store))
        print("bench-paging: store %s: %s" % (args.store, facts), file=sys.stderr)
    except Missing:
        note = ("the second instance has no `store` command yet (the page store service has not "
                "landed): nothing can be evicted, runs below 100 % will fail")
        print("bench-paging: " + note, file=sys.stderr)
    lines = run(owner, "peer add %s" % ADDRS[1])
    if not any("state=established" in line for line in lines):
        raise BenchError("peer add %s printed %r" % (ADDRS[1], lines))
    return owner, store, note


def sweep(args, owner, store):
    rows, working_sets = [], {}
    wls = workloads(args)
    for w in wls:
        runs = [(f, False) for f in args.fractions]
        if args.no_readahead_at:
            runs.append((args.no_readahead_at, True))
        for frac, ra_off in runs:
            local = local_pages_for(frac, w, working_sets.get(w.name), args.local_basis)
            label = "%d %% (%s)" % (frac, mib(local)) if local else "100 % (no limit)"
            if ra_off:
                label += ", read-ahead off"
            print("bench-paging: %s %s local=%s ..." % (w.name, w.cmdline, label),
                  file=sys.stderr, flush=True)
            try:
                sample = run_one(owner, store, w, local, args.run_timeout, ra_off)
                row = compute_row(w, frac, local, sample, args.ips)
                if ra_off:
                    row["local"] += ", read-ahead off"
                if frac >= 100 and row["touched"]:
                    working_sets[w.name] = row["touched"]
                print("bench-paging:   %s, %.0f s wall" % (row["time"], row["wall"]),
                      file=sys.stderr, flush=True)
            except BenchError as e:
                print("bench-paging:   failed: %s" % e, file=sys.stderr, flush=True)
                row = {"workload": w.name, "frac": frac, "local": label,
                       "error": short(str(e).splitlines()[0])}
            rows.append(row)
    add_slowdowns(rows)
    return wls, rows, working_sets


def bench(args):
    ns = argparse.Namespace(emu="bochs", iso=args.iso, ips=args.ips, boot_timeout=180.0,
                            workdir=args.workdir, keep=args.keep)
    ctx = systest.Context(ns)
    ok = False
    t0 = time.monotonic()
    try:
        owner, store, note = setup(ctx, args)
        if args.setup_only:
            print("bench-paging: set-up done (--setup-only)%s" % ("; " + note if note else ""))
            ok = True
            return 0
        wls, rows, working_sets = sweep(args, owner, store)
        ok = True
    finally:
        ctx.end(ok)
        ctx.close()
    text = table(header_text(args, wls, working_sets, time.monotonic() - t0), rows)
    if note:
        text += "\nNote: %s.\n" % note
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print("bench-paging: table written to %s" % args.out, file=sys.stderr)
    failed = [r for r in rows if "error" in r or r.get("errors")]
    return 1 if failed else 0


# ---- --self-test: the parsing and the table on a fake transcript ----

def fake_sample(log, stats, remote, hosts):
    """remote: ((tx, rx) before, after); hosts: ((owner, store) civic_ns before, after)."""
    def host(ns):
        return kv(["uptime_ns=%d" % (ns * 3), "idle_ns=%d" % ns, "guest_ns=%d" % ns,
                   "civic_ns=%d" % ns])
    return {"before": {"owner_remote": kv(["tx_frames=%d" % remote[0][0],
                                           "rx_frames=%d" % remote[0][1], "holders=1"]),
                       "owner_host": host(hosts[0][0]), "store_host": host(hosts[0][1])},
            "after": {"owner_remote": kv(["tx_frames=%d" % remote[1][0],
                                          "rx_frames=%d" % remote[1][1]]),
                      "owner_host": host(hosts[1][0]), "store_host": host(hosts[1][1])},
            "stats": kv(stats), "log": log, "wall": 12.0}


def self_test():
    args = argparse.Namespace(memtest_mib=8, memtest_passes=2, kvstore_mib=4, kvstore_ops=20000,
                              ips=4_000_000, store="64M", local_basis="measured")
    mt, kvs = workloads(args)
    assert mt.mem_mib == 16 and kvs.mem_mib == 16, (mt.mem_mib, kvs.mem_mib)
    assert create_command(mt, None) == 'vm create bench memtest mem=16M cmdline="mib=8 passes=2"'
    assert local_pages_for(100, mt, 2100, "measured") is None
    assert local_pages_for(50, mt, 2101, "measured") == 1051
    assert local_pages_for(25, mt, None, "measured") == 512  # falls back to the region
    assert local_pages_for(25, mt, 2101, "region") == 512
    assert create_command(kvs, 1051) == ('vm create bench kvstore mem=16M local=4204K '
                                         'cmdline="mib=4 ops=20000"')
    mt_log = ["memtest: testing 8 MiB at 0x00200000, passes=2",
              "memtest: tsc 4000 kHz (50 ms of PIT channel 2)",
              "memtest: pass 1 ok checksum=86a1ef05", "memtest: pass 1 ms=5000",
              "memtest: pass 2 ok checksum=93ce4718", "memtest: pass 2 ms=5001",
              "memtest: time ms=10001", "memtest: done passes=2 errors=0"]
    base_stats = ["name=bench state=stopped mem_mib=16 cpus=1 pages_touched=2110 exits=9 "
                  "exit_code=1", 'stop_reason="guest exited"', "pages_touched=2110",
                  "local_pages=2110", "remote_pages=0", "remote_faults=0", "readahead_pages=0",
                  "readahead_hits=0", "evictions=0", "evict_zero=0", "evict_clean=0",
                  "pages_in=0", "pages_out=0", "fault_ns_median=0", "fault_ns_p99=0"]
    full = compute_row(mt, 100, None, fake_sample(mt_log, base_stats, ((10, 20), (10, 24)),
                                                  ((1000, 500), (2000, 600))), 4_000_000)
    assert full["ms"] == 10001 and full["time"] == "10001 ms", full
    assert full["touched"] == 2110, full
    assert full["local"] == "100 % (no limit; 2110 pages touched)", full
    assert full["faults"] == "0" and full["readahead"] == "0 / 0", full
    assert full["frames"] == "no pages moved (4 frames)", full
    assert full["ipf"] == "n/a / n/a" and full["latency"] == "n/a", full
    assert full["evictions"] == "0 + 0 zero + 0 clean", full

    half_log = mt_log[:-2] + ["memtest: time ms=25002", "memtest: done passes=2 errors=0"]
    stats = ["local_pages=1055", "remote_faults=4000", "readahead_pages=1000",
             "readahead_hits=750", "evictions=3900", "evict_zero=10", "evict_clean=90",
             "pages_in=5000", "pages_out=3900", "fault_ns_median=1500000",
             "fault_ns_p99=4200000"]
    # owner: 2e9 ns of civic = 8e6 instructions at 4 MIPS = 2000 per fault; store: 1e9 -> 1000.
    half = compute_row(mt, 50, 1055, fake_sample(half_log, stats, ((100, 200), (20100, 9100)),
                                                 ((10**9, 10**9), (3 * 10**9, 2 * 10**9))),
                       4_000_000)
    assert half["local"] == "50 % (4.12 MiB)", half
    assert half["faults"] == "4000" and half["readahead"] == "750 / 1000 = 75 %", half
    assert half["evictions"] == "3900 + 10 zero + 90 clean", half
    assert half["frames"] == "3.25 (28900 / 8900)", half
    assert half["latency"] == "1500 / 4200 µs", half
    assert half["ipf"] == "2000 / 1000", half
    # 8e6 and 4e6 instructions over 8900 pages moved.
    assert half["ipp"] == "899 / 449", half

    kv_log = ["kvstore: table 4 MiB at 0x00200000 slots=65536 keys=32768 ops=20000 write=40% "
              "seed=1", "kvstore: tsc 4000 kHz (50 ms of PIT channel 2)",
              "kvstore: cleared in 26 ms",
              "kvstore: verify slots=65536 used=6998 misses=10795 touched_pages=1024 errors=0",
              "kvstore: done ops=20000 inserts=6998 updates=900 lookups=12102 errors=0 "
              "table_mib=4 pages=1024 ops_per_s=2000 (tsc cycles=40000000)"]
    # No remote memory in the ISO: `remote`, `host` and the new stats keys are all absent.
    bare = {"before": {"owner_remote": None, "owner_host": None, "store_host": None},
            "after": {"owner_remote": None, "owner_host": None, "store_host": None},
            "stats": kv(["pages_touched=1100", "faults=1100"]), "log": kv_log, "wall": 3.0}
    kvrow = compute_row(kvs, 100, None, bare, 4_000_000)
    assert kvrow["ms"] == 10000 and kvrow["time"] == "10000 ms (2000 ops/s)", kvrow
    assert kvrow["touched"] == 1100, kvrow
    for k in ("faults", "readahead", "evictions", "frames", "latency"):
        assert kvrow[k] == "n/a", (k, kvrow)
    bad = dict(bare, log=kv_log[:-1] + [kv_log[-1].replace("errors=0", "errors=3")])
    assert compute_row(kvs, 25, 300, bad, 4_000_000)["time"] == \
        "10000 ms (2000 ops/s) **3 ERRORS**"
    try:
        compute_row(mt, 100, None, dict(bare, log=mt_log[:3]), 4_000_000)
        raise AssertionError("a log without a done line was accepted")
    except BenchError:
        pass

    rows = [full, half, kvrow, {"workload": "random", "frac": 50, "local": "50 % (2.15 MiB)",
                                "error": "vm create ...: unknown option 'local=2200K'"}]
    add_slowdowns(rows)
    assert full["slowdown"] == "1.00 x" and half["slowdown"] == "2.50 x", (full, half)
    text = table("HEADER", rows)
    lines = text.splitlines()
    assert lines[0] == "HEADER" and lines[1] == "", lines[:2]
    assert lines[2].startswith("| workload | local (of the working set) | guest run time |")
    assert lines[3] == "|" + "---|" * len(COLUMNS), lines[3]
    assert lines[5] == ("| sequential | 50 % (4.12 MiB) | 25002 ms | 2.50 x | 4000 | "
                        "750 / 1000 = 75 % | 3900 + 10 zero + 90 clean | 3.25 (28900 / 8900) | "
                        "1500 / 4200 µs | 2000 / 1000 | 899 / 449 |"), lines[5]
    assert lines[7].startswith("| random | 50 % (2.15 MiB) | failed: vm create ...: unknown "
                               "option 'local=2200K' |"), lines[7]
    assert all(line.count("|") == len(COLUMNS) + 1 for line in lines[2:]), text
    hdr = header_text(args, [mt, kvs], {"sequential": 2110}, 100.0)
    assert "ips=4000000, clock: sync=none" in hdr and "working set 2110 pages" in hdr, hdr
    assert "`kvstore mib=4 ops=20000` (working set n/a)" in hdr, hdr
    assert kv(['stop_reason="a b" x=1']) == {"stop_reason": "a b", "x": "1"}
    print("bench-paging: self-test ok")
    print(text)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/civic-test.iso")
    ap.add_argument("--out", default="build/bench-paging.md", help="the table as markdown")
    ap.add_argument("--ips", type=int, default=systest.NET_IPS)
    ap.add_argument("--fractions", default="100,50,25",
                    help="local limits in percent of the working set (100 first)")
    ap.add_argument("--local-basis", choices=("measured", "region"), default="measured",
                    help="the working set: pages the 100 %% run touched, or the region's MiB")
    ap.add_argument("--no-readahead-at", type=int, default=25,
                    help="also run at this local %% with read-ahead off (0: not)")
    ap.add_argument("--memtest-mib", type=int, default=8)
    ap.add_argument("--memtest-passes", type=int, default=2)
    ap.add_argument("--kvstore-mib", type=int, default=4)
    ap.add_argument("--kvstore-ops", type=int, default=20000)
    ap.add_argument("--store", default="64M", help="what the second instance lends")
    ap.add_argument("--run-timeout", type=float, default=600.0, help="wall seconds per guest run")
    ap.add_argument("--workdir", help="parent of the work dirs (default: <iso dir>/bench-paging)")
    ap.add_argument("--keep", action="store_true", help="keep the work dirs")
    ap.add_argument("--setup-only", action="store_true",
                    help="boot, address, store and peer add, then stop")
    ap.add_argument("--self-test", action="store_true",
                    help="check the parsing and the table on a fake transcript (no emulator)")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    try:
        args.fractions = sorted({int(f) for f in args.fractions.split(",")}, reverse=True)
    except ValueError:
        ap.error("--fractions: percentages, e.g. 100,50,25")
    if not args.fractions or args.fractions[0] != 100 or args.fractions[-1] < 1:
        ap.error("--fractions must include 100 (the baseline) and be 1..100")
    if args.workdir is None:
        args.workdir = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "bench-paging")
    civic_emu.raise_on_sigterm()
    try:
        return bench(args)
    except (BenchError, civic_emu.EmulatorError) as e:
        print("bench-paging: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
