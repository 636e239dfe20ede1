#!/usr/bin/env python3
"""`make run`: boot civic and put this terminal on its serial console.

    python3 tests/system/civic_run.py --emu bochs --mem 256 --iso build/civic.iso

Keys: everything typed goes to civic, Ctrl-C included (the shell cancels the line with it).
Ctrl-] , or two Ctrl-C within a second, stops the emulator. SIGINT/SIGTERM to this process stop it
too, and the terminal is always restored. When stdin is not a terminal (CI), input is relayed as
is (newlines sent as Enter) and the run ends when the emulator does.
"""

import argparse
import os
import select
import signal
import sys
import termios
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402
from civic_emu import EmulatorError, make_emulator  # noqa: E402

CTRL_C = 0x03
CTRL_RBRACKET = 0x1d
HINT = "civic console: Ctrl-] quits; `poweroff` at the prompt powers off"


def relay(emu, interactive, out_fd):
    """Copy bytes both ways until the emulator ends or the user asks to stop.
    Returns a reason string."""
    in_fd = sys.stdin.fileno()
    stdin_open = True
    last_ctrl_c = None
    while True:
        data = emu.console.read_available(0)
        if data:
            os.write(out_fd, data)
        if emu.console.closed and not data:
            return "emulator ended"
        fds = [in_fd] if stdin_open else []
        ready, _, _ = select.select(fds, [], [], 0.02)
        if not ready:
            continue
        chunk = os.read(in_fd, 1024)
        if not chunk:
            stdin_open = False  # keep showing output until the emulator ends
            continue
        if interactive:
            if CTRL_RBRACKET in chunk:
                return "Ctrl-]"
            if CTRL_C in chunk:
                now = time.monotonic()
                if chunk.count(CTRL_C) > 1 or (last_ctrl_c and now - last_ctrl_c < 1.0):
                    return "Ctrl-C twice"
                last_ctrl_c = now
        else:
            chunk = chunk.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
        emu.console.send(chunk)


def main():
    ap = argparse.ArgumentParser(description="boot civic with this terminal on its console")
    ap.add_argument("--emu", default="bochs", choices=civic_emu.EMULATORS)
    ap.add_argument("--iso", default="build/civic.iso")
    ap.add_argument("--mem", type=int, default=256, help="RAM in MiB")
    ap.add_argument("--ips", type=int, default=50_000_000, help="Bochs instructions per second")
    ap.add_argument("--workdir", help="where logs go (default: <iso dir>/run)")
    args = ap.parse_args()

    workdir = args.workdir or os.path.join(os.path.dirname(os.path.abspath(args.iso)), "run")
    interactive = os.isatty(sys.stdin.fileno())
    out_fd = sys.stdout.fileno()
    civic_emu.raise_on_sigterm()
    saved = termios.tcgetattr(sys.stdin.fileno()) if interactive else None
    try:
        emu = make_emulator(args.emu, args.iso, workdir, mem_mib=args.mem, ips=args.ips,
                            clock="slowdown")
    except EmulatorError as e:
        print("civic_run: %s" % e, file=sys.stderr)
        return 2
    reason = "interrupted"
    try:
        with emu:
            print(HINT, flush=True)
            print("(logs and serial transcript in %s)" % workdir, flush=True)
            emu.start()
            if interactive:
                # Raw mode: keys (Ctrl-C included) reach civic as bytes, not as signals.
                tty.setraw(sys.stdin.fileno())
            try:
                reason = relay(emu, interactive, out_fd)
            except KeyboardInterrupt:
                reason = "SIGINT"
            if reason == "emulator ended":
                emu.wait_exit(10)
    except EmulatorError as e:
        if saved is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
        print("\r\ncivic_run: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        reason = "SIGINT"
    finally:
        if saved is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
    if reason == "emulator ended":
        how = "powered off" if emu.clean_exit else "exited with status %s" % emu.returncode
        print("\r\ncivic_run: %s %s" % (emu.kind, how))
        return 0 if emu.clean_exit else 1
    print("\r\ncivic_run: stopped the emulator (%s)" % reason)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
