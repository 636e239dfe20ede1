#!/usr/bin/env python3
"""Run the host unit test binaries (cmocka), stream their output, count the results.

    python3 tests/run_unit.py [--results FILE] build/unit/test_a build/unit/test_b ...

Counts come from cmocka's per-group summary lines ("[  PASSED  ] N test(s)." and
"[  FAILED  ] N test(s), listed below:"). A binary that exits non-zero without reporting a failed
test (a crash, an ASan/UBSan abort, a timeout) counts as one more failure. Writes
"passed=N failed=N" to FILE (default: unit-results.txt in the build dir, the parent of the binaries'
unit/ dir) and prints `unit: N passed, N failed` last. Exit status 1 on any failure.
"""

import argparse
import os
import re
import subprocess
import sys
import time

PASSED_RE = re.compile(r"^\[  PASSED  \] (\d+) test")
FAILED_RE = re.compile(r"^\[  FAILED  \] (\d+) test\(s\), listed below")


def run_one(path, timeout):
    """Runs one binary; returns (passed, failed, problem or None)."""
    passed = failed = 0
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    try:
        proc = subprocess.Popen([os.path.abspath(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    except OSError as e:
        return 0, 1, "cannot run: %s" % e
    deadline = time.monotonic() + timeout
    timed_out = False
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace")
        sys.stdout.write(line)
        sys.stdout.flush()
        m = PASSED_RE.match(line)
        if m:
            passed += int(m.group(1))
        m = FAILED_RE.match(line)
        if m:
            failed += int(m.group(1))
        if time.monotonic() > deadline:
            timed_out = True
            proc.kill()
            break
    try:
        rc = proc.wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        timed_out = True
    proc.stdout.close()
    if timed_out:
        return passed, failed + 1, "timed out after %.0f s" % timeout
    if rc != 0 and failed == 0:
        how = "killed by signal %d" % -rc if rc < 0 else "exit status %d" % rc
        return passed, failed + 1, "crashed (%s) without a cmocka failure report" % how
    if rc == 0 and passed == 0 and failed == 0:
        return 0, 1, "ran no tests (no cmocka summary line)"
    return passed, failed, None


def main():
    ap = argparse.ArgumentParser(description="run cmocka unit test binaries")
    ap.add_argument("--results", help="results file (default: <build>/unit-results.txt)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per binary")
    ap.add_argument("binaries", nargs="*")
    args = ap.parse_args()

    results = args.results
    if not results:
        if args.binaries:
            unit_dir = os.path.dirname(os.path.abspath(args.binaries[0]))
            results = os.path.join(os.path.dirname(unit_dir), "unit-results.txt")
        else:
            results = os.path.join("build", "unit-results.txt")

    passed = failed = 0
    problems = []
    for path in args.binaries:
        print("== %s" % path, flush=True)
        p, f, problem = run_one(path, args.timeout)
        passed += p
        failed += f
        if problem:
            problems.append("%s: %s" % (path, problem))
            print("!! %s: %s" % (path, problem), flush=True)

    os.makedirs(os.path.dirname(os.path.abspath(results)), exist_ok=True)
    with open(results, "w") as f:
        f.write("passed=%d failed=%d\n" % (passed, failed))
    for problem in problems:
        print("!! " + problem)
    print("unit: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
