#!/usr/bin/env python3
"""Add up the results files of `make test` ("passed=N failed=N [skipped=N]" each).

    python3 tests/summary.py build/unit-results.txt build/system-results.txt

The last line printed is always `total: N passed, N failed`. Exit status 1 if any test failed or a
results file is missing or unreadable (that stage did not finish).
"""

import re
import sys


def main(paths):
    passed = failed = 0
    bad = False
    for path in paths:
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            print("summary: %s: missing (%s); that stage did not finish" % (path, e.strerror))
            bad = True
            continue
        counts = dict((k, int(v)) for k, v in re.findall(r"\b(passed|failed|skipped)=(\d+)", text))
        if "passed" not in counts or "failed" not in counts:
            print("summary: %s: no passed=N failed=N in %r" % (path, text.strip()[:80]))
            bad = True
            continue
        passed += counts["passed"]
        failed += counts["failed"]
    print("total: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or bad or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
