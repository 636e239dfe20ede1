#!/usr/bin/env python3
"""civic's system tests: boot the ISO under an emulator and drive the shell over the serial port.

    python3 tests/system/run_tests.py --emu bochs --iso build/civic.iso [-k PATTERN] [--keep]

Instances: the read-only shell tests share one booted instance (256 MiB), because they change no
state and each boot costs seconds; a test that fails leaves that instance in an unknown state, so it
is thrown away and the next test boots a fresh one (a failure does not cascade). Tests that need
another configuration (1 GiB) or end the machine (poweroff) boot their own. If the shared instance
fails to boot once, the tests that need it fail at once instead of each waiting for a boot timeout.

Work dirs: build/system/<instance>/ next to the ISO (bochsrc, bochs.log or qemu.log, console.log,
stdout/stderr). Kept for failed tests (their path is printed) or always with --keep.
"""

import argparse
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402
from civic_emu import EmulatorError  # noqa: E402
from systest import TESTS, Context, Skip  # noqa: E402
import tests_shell  # noqa: E402,F401  (registers its tests, in order)
import tests_vm  # noqa: E402,F401
import tests_platform  # noqa: E402,F401
import tests_net  # noqa: E402,F401
import tests_peer  # noqa: E402,F401
import tests_paging  # noqa: E402,F401


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emu", default="bochs", choices=civic_emu.EMULATORS)
    ap.add_argument("--iso", default="build/civic.iso")
    ap.add_argument("--test-iso", help="the ISO with boot options and a module "
                    "(build/civic-test.iso)")
    ap.add_argument("--results", help='write "passed=N failed=N skipped=N" to this file')
    ap.add_argument("-k", dest="pattern", help="run only tests whose name contains PATTERN "
                    "(a regex)")
    ap.add_argument("--keep", action="store_true", help="keep every work dir")
    ap.add_argument("--workdir", help="parent of the work dirs (default: <iso dir>/system)")
    ap.add_argument("--ips", type=int, default=50_000_000, help="Bochs instructions per second")
    ap.add_argument("--boot-timeout", type=float, default=90.0,
                    help="seconds from start to the first prompt")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()

    tests = [t for t in TESTS if not args.pattern or re.search(args.pattern, t.__name__)]
    if args.list:
        print("\n".join(t.__name__ for t in tests))
        return 0
    civic_emu.raise_on_sigterm()
    ctx = Context(args)
    passed = failed = skipped = 0
    try:
        for t in tests:
            ctx.begin(t.__name__)
            t0 = time.monotonic()
            error = None
            status = "PASS"
            try:
                t(ctx)
            except Skip as e:
                status, error = "SKIP", str(e)
            except (AssertionError, EmulatorError) as e:
                status, error = "FAIL", "%s: %s" % (type(e).__name__, e)
            except Exception:
                status, error = "FAIL", traceback.format_exc()
            dirs = ctx.end(status != "FAIL")
            notes = ("  [%s]" % "; ".join(ctx.notes)) if ctx.notes else ""
            print("%s %s (%.1fs)%s" % (status, t.__name__, time.monotonic() - t0, notes),
                  flush=True)
            if status == "FAIL":
                failed += 1
                print("\n".join("    " + line for line in error.rstrip().splitlines()))
                for d in dirs:
                    print("    work dir: %s (console.log, %s)" % (d, "bochs.log"
                          if args.emu == "bochs" else "qemu.log, stderr.txt"))
            elif status == "SKIP":
                skipped += 1
                print("    " + error)
            else:
                passed += 1
            sys.stdout.flush()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        ctx.close()
        return 130
    finally:
        ctx.close()
    print("system: %d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    if args.results:
        with open(args.results, "w") as f:
            f.write("passed=%d failed=%d skipped=%d\n" % (passed, failed, skipped))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
