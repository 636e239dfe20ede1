#!/usr/bin/env python3
"""Exit round-trip benchmark: runs the bench_exits guest under civic and prints a table.

    python3 tests/system/bench_exits.py --iso build/civic-test.iso [--emu bochs] [--n 1000]

The guest (guests/bench_exits) times, with RDTSC as it sees it, a CPUID exit, a port I/O exit to
an unclaimed port, and an EPT-violation exit on the first touch of a page, against two
back-to-back RDTSCs and a write to an already-mapped page. Under Bochs with `clock: sync=none` the
TSC advances with emulated instructions, so the figures are repeatable and count emulated cycles
(ips per emulated second), not host time.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402

ROW_RE = re.compile(r"^bench: (\S+)\s+n=(\d+) min=(\d+) median=(\d+) max=(\d+) cycles$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/civic-test.iso")
    ap.add_argument("--emu", default="bochs", choices=civic_emu.EMULATORS)
    ap.add_argument("--ips", type=int, default=50_000_000)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    if args.emu == "qemu":
        print("bench-exits: QEMU TCG has no VMX; use EMU=bochs or EMU=kvm", file=sys.stderr)
        return 2

    workdir = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "bench-exits")
    civic_emu.raise_on_sigterm()
    emu = civic_emu.make_emulator(args.emu, args.iso, workdir, mem_mib=256, ips=args.ips)
    with emu:
        emu.start()
        emu.wait_prompt(120)
        con = emu.console
        for cmd in ("vm create b bench_exits mem=32M cmdline=\"n=%d pages=%d\"" % (args.n, args.n),
                    "vm start b"):
            out = con.command(cmd)
            if out and out[0].startswith("error:"):
                print("bench-exits: %s: %s" % (cmd, out[0]), file=sys.stderr)
                return 1
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if any(line.startswith("name=b ") and "state=stopped" in line
                   for line in con.command("vm list")):
                break
            time.sleep(2)
        log = con.command("vm log b", 60)
        emu.poweroff(60)
    rows = [m.groups() for m in map(ROW_RE.match, log) if m]
    if not any(line == "bench: done" for line in log) or not rows:
        print("bench-exits: the guest did not finish; its console:\n" + "\n".join(log[-20:]),
              file=sys.stderr)
        return 1
    emu.remove_workdir()

    clock = "Bochs 2.7, corei7_skylake_x, ips=%d, clock: sync=none" % args.ips \
        if args.emu == "bochs" else "QEMU/KVM, -cpu host, host TSC"
    print("Exit round trips as the guest sees them (RDTSC cycles), %s, n=%d" % (clock, args.n))
    print("| operation | n | min | median | max |")
    print("|---|---|---|---|---|")
    labels = {"rdtsc": "RDTSC pair (no exit)", "cpuid": "CPUID exit", "out": "port I/O exit (OUT)",
              "first-touch": "EPT violation, first touch of a page",
              "touched": "write to a mapped page (no exit)",
              "pit-read": "PIT counter read (IN 0x40)",
              "eoi-xapic": "local APIC EOI, xAPIC MMIO store",
              "eoi-x2apic": "local APIC EOI, x2APIC WRMSR",
              "self-ipi": "self-IPI: ICR store to handler entry",
              "timer-late": "APIC one-shot timer (100 us): lateness of its handler"}
    for op, n, lo, med, hi in rows:
        print("| %s | %s | %s | %s | %s |" % (labels.get(op, op), n, lo, med, hi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
