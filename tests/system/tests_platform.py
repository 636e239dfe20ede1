"""System tests of the PC platform a guest sees (issue 4): the CPU model, timers and local APIC
(cputest), several vCPUs started with INIT-SIPI-SIPI (smp), VM reset, and a VM's clock across a
pause. The guests come from the test ISO's modules (tests/system/grub-test.cfg)."""

import re
import time

from systest import COMMAND_TIMEOUT, check, kv, show, test
from tests_vm import needs_vmx, run_guest, vm_facts, wait_stopped

CPUTEST_CHECKS = ("modes", "cpuid", "tsc", "msr", "ud", "pf", "fpu", "pit", "lapic",
                  "tscdeadline", "x2apic")


def check_cputest(facts, log, name):
    text = "\n".join(log)
    for c in CPUTEST_CHECKS:
        check(re.search(r"^cputest: %s: ok" % c, text, re.M),
              "%s: check %s did not pass:\n%s" % (name, c, show(log)))
    check("cputest: all %d checks passed" % len(CPUTEST_CHECKS) in text,
          "%s did not pass every check:\n%s" % (name, show(log)))
    check(facts.get("exit_code") == "1", "%s exit code: %r" % (name, facts))


@test
def guest_cputest(ctx):
    # Real, protected and long mode; CPUID, TSC, MSRs, #UD and #PF in the guest; PIT, local APIC
    # (xAPIC MMIO, x2APIC MSRs, periodic, one-shot, TSC-deadline) against the RTC; FPU state.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "c", "cputest")
    check_cputest(facts, log, "cputest")
    stats = kv(con.command("vm stats c", COMMAND_TIMEOUT))
    ctx.note("exits=%s" % stats.get("exits"))


@test
def two_cputests_at_once(ctx):
    # Two VMs with different FPU/SSE/AVX patterns and timers: neither sees the other's state.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    for name, seed in (("c1", 1), ("c2", 7)):
        lines = con.command('vm create %s cputest cmdline="hv=CivicVMMcivc seed=%d spin=600"'
                            % (name, seed), COMMAND_TIMEOUT)
        check(lines and lines[0].startswith("vm=%s " % name), "vm create:\n%s" % show(lines))
    for name in ("c1", "c2"):
        con.command("vm start %s" % name, COMMAND_TIMEOUT)
    for name in ("c1", "c2"):
        facts = wait_stopped(con, name)
        check_cputest(facts, con.command("vm log %s" % name, COMMAND_TIMEOUT), name)


@test
def guest_smp(ctx):
    # Application processors started by the guest with INIT-SIPI-SIPI through its local APIC,
    # found in the MADT civic writes; each prints; all share memory coherently (lock xadd).
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    for cpus in (1, 2, 4):
        name = "smp%d" % cpus
        facts, log = run_guest(con, name, "smp", "cpus=%d" % cpus,
                               'cmdline="cpus=%d adds=20000"' % cpus)
        text = "\n".join(log)
        check("smp: %d of %d cpus up" % (cpus, cpus) in text, "%s:\n%s" % (name, show(log)))
        for i in range(1, cpus):
            check(re.search(r"^smp: cpu %d \(apic id %d\) up" % (i, i), text, re.M),
                  "%s: cpu %d did not report:\n%s" % (name, i, show(log)))
        check("smp: shared counter %d = %d x 20000" % (cpus * 20000, cpus) in text,
              "%s: shared counter:\n%s" % (name, show(log)))
        check(facts.get("exit_code") == "1", "%s exit code: %r" % (name, facts))
        stats = kv(con.command("vm stats %s" % name, COMMAND_TIMEOUT))
        for i in range(cpus):
            check(int(stats.get("vcpu%d_exits" % i, "0")) > 0, "vCPU %d never ran: %r" % (i, stats))
        con.command("vm destroy %s" % name, COMMAND_TIMEOUT)


@test
def vm_reset_command(ctx):
    # `vm reset` restarts a VM from its image (memory zeroed, devices reset), also a stopped one.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "h", "hello")
    check(facts.get("exit_code") == "1", "hello: %r" % facts)
    lines = con.command("vm reset h", COMMAND_TIMEOUT)
    check(lines == ["vm=h state=running"], "vm reset printed:\n%s" % show(lines))
    facts = wait_stopped(con, "h")
    log = con.command("vm log h", COMMAND_TIMEOUT)
    check(sum("hello from guest" in l for l in log) == 2, "hello did not run twice:\n%s" % show(log))
    check(facts.get("resets") == "1" and facts.get("exit_code") == "1", "after reset: %r" % facts)


@test
def vm_clock_stands_still_while_paused(ctx):
    # A paused VM's clock (devices and TSC, `vm stats` clock_ms and tsc) does not run, and runs
    # again after resume; the guest (spin) does not notice.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    con.command("vm create s spin", COMMAND_TIMEOUT)
    con.command("vm start s", COMMAND_TIMEOUT)
    time.sleep(0.5)
    check(con.command("vm pause s", COMMAND_TIMEOUT) == ["vm=s state=paused"], "pause failed")
    a = kv(con.command("vm stats s", COMMAND_TIMEOUT))
    time.sleep(2.0)
    b = kv(con.command("vm stats s", COMMAND_TIMEOUT))
    # (tsc: a tick of rounding between civic's ns clock and the TSC is allowed)
    check(a["clock_ms"] == b["clock_ms"] and abs(int(a["tsc"]) - int(b["tsc"])) <= 2,
          "the clock of a paused VM moved: %s/%s -> %s/%s"
          % (a["clock_ms"], a["tsc"], b["clock_ms"], b["tsc"]))
    check(con.command("vm resume s", COMMAND_TIMEOUT) == ["vm=s state=running"], "resume failed")
    time.sleep(1.0)
    c = kv(con.command("vm stats s", COMMAND_TIMEOUT))
    check(int(c["clock_ms"]) > int(b["clock_ms"]) and int(c["tsc"]) > int(b["tsc"]),
          "the clock did not run after resume: %s/%s -> %s/%s"
          % (b["clock_ms"], b["tsc"], c["clock_ms"], c["tsc"]))
    # Resuming continues from the paused value: no jump by the time spent paused.
    uptime_gap = int(c["clock_ms"]) - int(b["clock_ms"])
    ctx.note("clock advanced %d ms in ~1 s of running after a 2 s pause" % uptime_gap)
