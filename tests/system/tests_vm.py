"""System tests of running guests (issue 3). Guests come from the test ISO's modules (see
tests/system/grub-test.cfg and guests/README.md). They need VMX, so under QEMU TCG only the
"VMX not available" path is checked; Bochs (and KVM) run them all."""

import datetime
import re
import time

from systest import COMMAND_TIMEOUT, Skip, check, kv, show, test

GUEST_TIMEOUT = 240.0


def needs_vmx(ctx):
    if ctx.args.emu == "qemu":
        raise Skip("QEMU TCG has no VMX")
    if not ctx.args.test_iso:
        raise Skip("no --test-iso given")


def vm_facts(con, name):
    """The `vm list` line of VM name, as a dict (empty if absent)."""
    for line in con.command("vm list", COMMAND_TIMEOUT):
        facts = dict(re.findall(r"(\w+)=(\S+)", line))
        if facts.get("name") == name:
            return facts
    return {}


def wait_stopped(con, name, timeout=GUEST_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        facts = vm_facts(con, name)
        check(facts, "VM %s is not in `vm list`" % name)
        if facts.get("state") == "stopped":
            return facts
        time.sleep(1.0)
    log = con.command("vm log %s" % name, COMMAND_TIMEOUT)
    raise AssertionError("VM %s did not stop within %d s; its console:\n%s"
                         % (name, timeout, show(log[-20:])))


def run_guest(con, name, module, *options, timeout=GUEST_TIMEOUT):
    """Creates and starts a VM, waits for it to stop; returns (vm list facts, console lines)."""
    lines = con.command(" ".join(("vm create", name, module) + options), COMMAND_TIMEOUT)
    check(lines and lines[0].startswith("vm=%s " % name), "vm create printed:\n%s" % show(lines))
    lines = con.command("vm start %s" % name, COMMAND_TIMEOUT)
    check(lines == ["vm=%s state=running" % name], "vm start printed:\n%s" % show(lines))
    facts = wait_stopped(con, name, timeout)
    return facts, con.command("vm log %s" % name, COMMAND_TIMEOUT)


def free_frames(con):
    return int(kv(con.command("mem", COMMAND_TIMEOUT))["free_frames"])


def error_line(con, command, *fragments):
    lines = con.command(command, COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error:"),
          "%r should print one error line, printed:\n%s" % (command, show(lines)))
    for f in fragments:
        check(f in lines[0], "%r: the error lacks %r: %s" % (command, f, lines[0]))


@test
def vm_errors(ctx):
    if not ctx.args.test_iso:
        raise Skip("no --test-iso given")
    con = ctx.boot(iso=ctx.args.test_iso).console
    error_line(con, "vm", "usage: vm")
    error_line(con, "vm frobnicate x", "unknown subcommand")
    error_line(con, "vm create onlyname", "needs NAME and MODULE")
    error_line(con, "vm start nosuchvm", "no VM named 'nosuchvm'")
    error_line(con, "vm destroy", "exactly one NAME")
    error_line(con, "vm create a hello mem=12Q", "bad size")
    error_line(con, "vm create a hello bogus=1", "unknown option")
    if ctx.args.emu == "qemu":
        error_line(con, "vm create a hello", "VMX not available")
        return
    error_line(con, "vm create a nosuchmodule", "no module 'nosuchmodule'")
    error_line(con, "vm create bad/name hello", "bad VM name")
    error_line(con, "vm create a hello mem=512K", "bad memory size")
    error_line(con, "vm create a hello mem=200G", "bad memory size")
    error_line(con, "vm create a hello mem=4G", "not enough memory")
    error_line(con, "vm create a testmod", "not a Multiboot")
    error_line(con, "vm create a hello cpus=0", "bad vCPU count")
    error_line(con, "vm create a hello cpus=9", "bad vCPU count")
    error_line(con, "vm create a hello cpus=two", "bad vCPU count")
    error_line(con, "vm create a hello local=lots", "bad size")
    error_line(con, "vm create a hello local=4K", "bad local size")
    error_line(con, "vm create a hello replicas=3", "bad replica count")
    error_line(con, "vm create a hello readahead=maybe", "readahead must be on or off")
    lines = con.command("vm create a hello cpus=2", COMMAND_TIMEOUT)
    check(lines[:1] == ["vm=a state=created mem_mib=64 cpus=2 local_kib=65536 replicas=1"],
          "vm create printed:\n%s" % show(lines))
    error_line(con, "vm create a hello", "exists")
    error_line(con, "vm limit a", "needs NAME and SIZE")
    error_line(con, "vm limit nosuch 2M", "no VM named")
    error_line(con, "vm limit a 12K", "bad local size")
    error_line(con, "vm resume a", "not paused")
    error_line(con, "vm pause a", "not running")
    error_line(con, "vm reset a", "has not started")
    error_line(con, "vm regs a cpu=2", "bad vCPU")
    error_line(con, "vm regs a cpu=x", "bad vCPU")
    error_line(con, "vm regs a 1", "bad vCPU")
    con.command("vm destroy a", COMMAND_TIMEOUT)
    check(vm_facts(con, "a") == {}, "VM a is still listed after destroy")


@test
def guest_hello(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    before = free_frames(con)
    facts, log = run_guest(con, "h", "hello")
    check(facts.get("exit_code") == "1", "hello should exit with code 1 (0 << 1 | 1): %r" % facts)
    check("hello from guest" in log, "hello's console:\n%s" % show(log))
    stats = kv(con.command("vm stats h", COMMAND_TIMEOUT))
    check(int(stats.get("exit_io_instruction", "0")) > 0, "vm stats shows no I/O exits: %r"
          % stats)
    check(int(stats.get("pages_touched", "0")) > 0, "no pages touched: %r" % stats)
    regs = "\n".join(con.command("vm regs h", COMMAND_TIMEOUT))
    check(re.search(r"RIP", regs, re.I), "vm regs shows no RIP:\n%s" % regs)
    con.command("vm destroy h", COMMAND_TIMEOUT)
    check(free_frames(con) == before, "destroy did not return every frame")
    ctx.note("exits=%s pages=%s" % (facts.get("exits"), facts.get("pages_touched")))


@test
def guest_memtest(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "m", "memtest", "mem=16M", 'cmdline="mib=4 passes=2"')
    text = "\n".join(log)
    check(facts.get("exit_code") == "1", "memtest exit code %r:\n%s" % (facts, show(log[-10:])))
    check("memtest: done passes=2 errors=0" in text, "memtest's console:\n%s" % show(log[-10:]))
    check(int(facts["pages_touched"]) >= 1024, "4 MiB tested, yet only %s pages touched"
          % facts["pages_touched"])


@test
def guest_realmode(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "r", "realmode", "flat=0x7c00", "mode=real")
    check(facts.get("exit_code") == "1", "realmode exit code: %r\n%s" % (facts, show(log)))
    check("realmode: hello from real mode" in log, "realmode's console:\n%s" % show(log))


@test
def guest_kvstore(ctx):
    # Random access over a 4 MiB hash table, every value verified (the network-paging workload).
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "kv", "kvstore", "mem=16M")
    text = "\n".join(log)
    check(facts.get("exit_code") == "1", "kvstore exit code %r:\n%s" % (facts, show(log[-10:])))
    m = re.search(r"^kvstore: done ops=20000 .* errors=0 table_mib=4 .*ops_per_s=(\d+)", text, re.M)
    check(m, "kvstore's console:\n%s" % show(log[-10:]))
    check(int(facts["pages_touched"]) >= 1024, "a 4 MiB table, yet only %s pages touched"
          % facts["pages_touched"])
    ctx.note("ops_per_s=%s" % m.group(1))


@test
def four_vms_at_once(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso, mem=512).console
    before = free_frames(con)
    names = ["m%d" % i for i in range(4)]
    for n in names:
        con.command('vm create %s memtest mem=16M cmdline="mib=2 passes=2"' % n, COMMAND_TIMEOUT)
    for n in names:
        con.command("vm start %s" % n, COMMAND_TIMEOUT)
    for n in names:
        facts = wait_stopped(con, n)
        log = "\n".join(con.command("vm log %s" % n, COMMAND_TIMEOUT))
        check(facts.get("exit_code") == "1" and "done passes=2 errors=0" in log,
              "VM %s: %r\n%s" % (n, facts, log[-400:]))
    for n in names:
        con.command("vm destroy %s" % n, COMMAND_TIMEOUT)
    check(free_frames(con) == before, "destroying four VMs did not return every frame")


@test
def spin_does_not_freeze(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    con.command("vm create s spin", COMMAND_TIMEOUT)
    con.command("vm start s", COMMAND_TIMEOUT)
    time.sleep(2)
    check(con.command("echo alive", COMMAND_TIMEOUT) == ["alive"], "the shell froze under spin")
    facts, log = run_guest(con, "h", "hello")
    check(facts.get("exit_code") == "1", "hello next to spin: %r" % facts)
    s = vm_facts(con, "s")
    check(s.get("state") == "running", "spin should still run: %r" % s)
    con.command("vm pause s", COMMAND_TIMEOUT)
    exits = vm_facts(con, "s")["exits"]
    time.sleep(1)
    check(vm_facts(con, "s")["exits"] == exits, "a paused VM kept running")
    con.command("vm resume s", COMMAND_TIMEOUT)
    con.command("vm destroy s", COMMAND_TIMEOUT)


@test
def triple_fault_stops_only_that_vm(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    con.command("vm create s spin", COMMAND_TIMEOUT)
    con.command("vm start s", COMMAND_TIMEOUT)
    facts, _ = run_guest(con, "t", "triple", "flat=0x7c00", "mode=real")
    stats = "\n".join(con.command("vm stats t", COMMAND_TIMEOUT))
    check("triple" in stats, "the stop reason does not name the triple fault:\n%s" % stats)
    log = "\n".join(con.command("log", COMMAND_TIMEOUT, log_lines=True))
    check(re.search(r"RIP", log, re.I), "no register dump in the log for the triple fault")
    check(vm_facts(con, "s").get("state") == "running", "the other VM was harmed")
    check(con.command("echo alive", COMMAND_TIMEOUT) == ["alive"], "civic is not responsive")


@test
def escape_is_contained(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    con.command("vm create s spin", COMMAND_TIMEOUT)
    con.command("vm start s", COMMAND_TIMEOUT)
    facts, log = run_guest(con, "e", "escape")
    text = "\n".join(log)
    check("escape: verdict: contained" in text, "escape's verdict:\n%s" % show(log))
    check(facts.get("exit_code") == "1", "escape exit code: %r" % facts)
    # Every port, the MSR index ranges, the local APIC and IOAPIC pages, memory up to 4 GiB.
    for stage in ("mem-sweep", "msr-rdmsr", "msr-wrmsr", "lapic-page", "ioapic-page", "ports-in",
                  "ports-out"):
        check(re.search(r"^escape: %s: contained" % stage, text, re.M),
              "escape stage %s:\n%s" % (stage, show(log)))
    check(vm_facts(con, "s").get("state") == "running", "the other VM was harmed")
    facts, log = run_guest(con, "h", "hello")
    check(facts.get("exit_code") == "1", "a VM after escape does not run: %r" % facts)


@test
def vm_from_boot_option(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts = wait_stopped(con, "boothello")
    check(facts.get("exit_code") == "1", "the VM started by vm= on the command line: %r" % facts)


@test
def vm_console_attach_detach(ctx):
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, _ = run_guest(con, "h", "hello")
    con.skip_pending()
    con.send("vm console h\r")
    con.expect("Ctrl-] detaches", COMMAND_TIMEOUT)
    con.send("\x1d")
    con.expect("detached from h", COMMAND_TIMEOUT)
    con.wait_prompt(COMMAND_TIMEOUT)
    check(con.command("echo back", COMMAND_TIMEOUT) == ["back"], "the shell did not come back")


def wait_log_line(con, name, text, timeout=GUEST_TIMEOUT):
    """Polls `vm log` until a line of VM name contains text; returns the log lines."""
    deadline = time.monotonic() + timeout
    while True:
        log = con.command("vm log %s" % name, COMMAND_TIMEOUT)
        if any(text in line for line in log):
            return log
        if time.monotonic() >= deadline:
            raise AssertionError("VM %s never printed %r; its console:\n%s"
                                 % (name, text, show(log[-20:])))
        time.sleep(0.5)


@test
def guest_interrupts(ctx):
    """irqtest (guests/README.md): vector 0x40 ends an `sti; hlt`; vector 0x41, raised while
    the guest runs with IF=0, is held until its `sti`. The guest waits with IF=0 for an input
    byte, typed only after `vm irq` returned, so the order is certain without timing."""
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    wait_stopped(con, "boothello")  # its stop message cannot land in the middle of a check
    error_line(con, "vm irq", "needs NAME and VECTOR")
    error_line(con, "vm irq nosuchvm 0x40", "no VM named 'nosuchvm'")
    lines = con.command("vm create i irqtest", COMMAND_TIMEOUT)
    check(lines[:1] and lines[0].startswith("vm=i "), "vm create printed:\n%s" % show(lines))
    error_line(con, "vm irq i 0x40", "not running")
    con.command("vm start i", COMMAND_TIMEOUT)
    error_line(con, "vm irq i 5", "exception")
    error_line(con, "vm irq i 31", "exception")
    error_line(con, "vm irq i 256", "bad vector")
    error_line(con, "vm irq i zap", "bad vector")

    wait_log_line(con, "i", "irqtest: ready")
    # HLT parks the vCPU; the interrupt must make it runnable again.
    lines = con.command("vm irq i 0x40", COMMAND_TIMEOUT)
    check(lines == ["vm=i irq=0x40"], "vm irq printed:\n%s" % show(lines))
    wait_log_line(con, "i", "irqtest: interrupts off")
    lines = con.command("vm irq i 0x41", COMMAND_TIMEOUT)
    check(lines == ["vm=i irq=0x41"], "vm irq printed:\n%s" % show(lines))
    con.skip_pending()
    con.send("vm console i\r")
    con.expect("Ctrl-] detaches", COMMAND_TIMEOUT)
    con.send("g")
    con.expect("irqtest: got vector 0x41", GUEST_TIMEOUT)
    con.send("\x1d")
    con.expect("detached from i", COMMAND_TIMEOUT)
    con.wait_prompt(COMMAND_TIMEOUT)

    facts = wait_stopped(con, "i")
    log = con.command("vm log i", COMMAND_TIMEOUT)
    want = ["irqtest: ready", "irqtest: got vector 0x40 while halted", "irqtest: interrupts off",
            "irqtest: got vector 0x41 after sti"]
    check(log[-4:] == want, "irqtest's console:\n%s" % show(log))
    check(facts.get("exit_code") == "1", "irqtest exit code: %r" % facts)
    stats = kv(con.command("vm stats i", COMMAND_TIMEOUT))
    check(int(stats.get("exit_interrupt_window", "0")) >= 1,
          "0x41 was raised with IF=0, yet no interrupt-window exit: %r" % stats)
    error_line(con, "vm irq i 0x40", "not running")
    con.command("vm destroy i", COMMAND_TIMEOUT)


@test
def guest_pit_timer(ctx):
    # The PC timer path: the guest programs the 8259s and PIT channel 0 at 100 Hz and counts
    # timer interrupts while halted; civic's PIT raises IRQ 0 and the PIC's vector is injected.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "p", "pittest", 'cmdline="ticks=20"')
    text = "\n".join(log)
    check(facts.get("exit_code") == "1" and "pittest: ok" in text,
          "pittest: %r\n%s" % (facts, show(log[-10:])))
    stats = kv(con.command("vm stats p", COMMAND_TIMEOUT))
    check(int(stats.get("exit_hlt", "0")) >= 20, "the guest did not halt between ticks: %r"
          % stats)


@test
def guest_platform_devices(ctx):
    # PCI host bridge, fw_cfg, and two resets (keyboard controller, then 0xcf9) that reset the
    # VM, not civic; the guest's CMOS survives them and it ends with exit 0.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    facts, log = run_guest(con, "pf", "platform")
    text = "\n".join(log)
    check(facts.get("exit_code") == "1", "platform did not exit 0: %s\n%s" % (facts, show(log)))
    check(text.count("platform: ok; resetting") == 1 and "back after 2 resets" in text,
          "platform's console:\n%s" % show(log))
    check(facts.get("resets") == "2", "vm list should count 2 resets: %s" % facts)
    check(con.command("echo alive", COMMAND_TIMEOUT) == ["alive"], "civic did not survive")


def parse_utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


@test
def guest_rtc_follows_host_clock(ctx):
    # The guest's CMOS clock starts from civic's wall clock (the host's CMOS) and ticks.
    needs_vmx(ctx)
    con = ctx.boot(iso=ctx.args.test_iso).console
    host = kv(con.command("uptime", COMMAND_TIMEOUT)).get("wallclock", "")
    facts, log = run_guest(con, "r", "rtctest")
    text = "\n".join(log)
    m = re.search(r"rtctest: date=(\S+)", text)
    check(m and "rtctest: ok" in text and facts.get("exit_code") == "1",
          "rtctest: %r\n%s" % (facts, show(log)))
    drift = abs((parse_utc(m.group(1)) - parse_utc(host)).total_seconds())
    # Under Bochs with sync=none emulated time runs ahead of the wall clock while civic idles,
    # so only a coarse agreement is meaningful: same clock, not a made-up date.
    check(drift < 3600, "guest clock %s vs civic's %s" % (m.group(1), host))
    ctx.note("guest %s, civic %s" % (m.group(1), host))
