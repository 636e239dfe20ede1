#!/usr/bin/env python3
"""Boot-time benchmark: boots the ISO under Bochs several times and prints a table.

    python3 tests/system/bench_boot.py --iso build/civic.iso --elf build/civic.elf [--runs 3]

Per run: wall seconds from starting Bochs to civic's first prompt, and the guest instructions
(Bochs ticks with `clock: sync=none`; time the CPU spends halted counts too) from power-on to
kmain and to the entry of civic's monitor loop, read at a debugger breakpoint (one boot each). Instruction counts are repeatable; wall
seconds depend on the host. Also prints the kernel image's sizes.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402


def image_sizes(elf, iso):
    out = subprocess.run(["size", elf], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(x) for x in out.splitlines()[1].split()[:3])
    return {"elf_file": os.path.getsize(elf), "text": text, "data": data, "bss": bss,
            "iso_file": os.path.getsize(iso)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iso", default="build/civic.iso")
    ap.add_argument("--elf", default="build/civic.elf")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ips", type=int, default=50_000_000)
    ap.add_argument("--mem", type=int, default=256)
    args = ap.parse_args()

    root = os.path.join(os.path.dirname(os.path.abspath(args.iso)), "bench-boot")
    civic_emu.raise_on_sigterm()
    walls = []
    counts = {"kmain": [], "monitor_loop": []}
    for i in range(args.runs):
        for symbol, found in counts.items():
            entry = civic_emu.symbol_address(args.elf, symbol)
            emu = civic_emu.make_emulator("bochs", args.iso,
                                          os.path.join(root, "run-%d-%s" % (i, symbol)),
                                          mem_mib=args.mem, ips=args.ips, break_at=entry)
            with emu:
                emu.start()
                emu.wait_prompt(120)
                if symbol == "monitor_loop":
                    walls.append(emu.boot_wall_s)
                found.append(emu.icount_at_break)
                emu.poweroff(60)
            emu.remove_workdir()
            if found[-1] is None:
                print("bench-boot: Bochs reported no instruction count at %s" % symbol,
                      file=sys.stderr)
                return 1
    own = [m - k for k, m in zip(counts["kmain"], counts["monitor_loop"])]

    sizes = image_sizes(args.elf, args.iso)
    print("Boot to prompt under Bochs 2.7 (corei7_skylake_x, ips=%d, clock: sync=none, %d MiB), "
          "%d runs" % (args.ips, args.mem, args.runs))
    print("| measure | min | median | max |")
    print("|---|---|---|---|")
    print("| wall seconds, emulator start to prompt | %.2f | %.2f | %.2f |"
          % (min(walls), statistics.median(walls), max(walls)))
    for label, values in (("power-on (BIOS, GRUB) to kmain", counts["kmain"]),
                          ("power-on to the monitor loop", counts["monitor_loop"]),
                          ("civic's bring-up, kmain to the monitor loop", own)):
        print("| guest instructions (millions), %s | %.2f | %.2f | %.2f |"
              % (label, min(values) / 1e6, statistics.median(values) / 1e6, max(values) / 1e6))
    print()
    print("Kernel image: civic.elf %d bytes on disk; loaded text %d, data %d, bss %d bytes; "
          "civic.iso %d bytes (GRUB BIOS + UEFI)"
          % (sizes["elf_file"], sizes["text"], sizes["data"], sizes["bss"], sizes["iso_file"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
