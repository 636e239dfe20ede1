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
import shutil
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import civic_emu  # noqa: E402
from civic_emu import EmulatorError, make_emulator  # noqa: E402

SHARED_MEM_MIB = 256
COMMAND_TIMEOUT = 30.0
TESTS = []


class Skip(Exception):
    pass


def test(func):
    TESTS.append(func)
    return func


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def kv(lines):
    """key=value lines of a command's output as a dict (other lines ignored)."""
    out = {}
    for line in lines:
        m = re.match(r"^([A-Za-z0-9_]+)=(.*)$", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def show(lines):
    return "\n".join("    | " + line for line in lines) or "    | (no output)"


class Instance:
    def __init__(self, emu):
        self.emu = emu
        self.failed = False


class Context:
    """What a test gets: the shared shell, private boots, and a place for notes."""

    def __init__(self, args):
        self.args = args
        self.root = args.workdir or os.path.join(os.path.dirname(os.path.abspath(args.iso)),
                                                 "system")
        self._shared = None
        self._shared_error = None
        self._shared_count = 0
        self._own = []
        self.instances = []
        self.notes = []
        self.test_name = None

    def _boot(self, name, mem, iso=None, firmware=None):
        workdir = os.path.join(self.root, name)
        shutil.rmtree(workdir, ignore_errors=True)
        emu = make_emulator(self.args.emu, iso or self.args.iso, workdir, mem_mib=mem,
                            ips=self.args.ips, firmware=firmware)
        inst = Instance(emu)
        self.instances.append(inst)
        try:
            emu.start()
            emu.wait_prompt(self.args.boot_timeout)
        except BaseException:
            inst.failed = True
            emu.kill()
            raise
        return inst

    def shell(self):
        """The console of the shared instance, booted on first use, at a fresh prompt."""
        if self._shared_error:
            raise AssertionError("the shared instance did not boot (see above): %s"
                                 % self._shared_error.splitlines()[0])
        if self._shared is None:
            self._shared_count += 1
            try:
                self._shared = self._boot("shared-%d" % self._shared_count, SHARED_MEM_MIB)
            except EmulatorError as e:
                self._shared_error = str(e)
                raise
            self.note("boot %.1f s wall" % self._shared.emu.boot_wall_s)
        self._used_shared = True
        return self._shared.emu.console

    def boot(self, mem=SHARED_MEM_MIB, iso=None, firmware=None):
        """A private instance for this test, booted to the prompt; killed when the test ends."""
        inst = self._boot("%s-%d" % (self.test_name, len(self._own) + 1), mem, iso, firmware)
        self._own.append(inst)
        return inst.emu

    def note(self, text):
        self.notes.append(text)

    def begin(self, name):
        self.test_name = name
        self._own = []
        self.notes = []
        self._used_shared = False

    def end(self, ok):
        """Kill this test's own instances; on failure also retire the shared one."""
        used = list(self._own)
        for inst in self._own:
            inst.emu.kill()
            inst.failed |= not ok
        if self._used_shared and self._shared is not None:
            used.append(self._shared)
            if not ok:
                self._shared.failed = True
                self._shared.emu.kill()
                self._shared = None
        self._own = []
        return [i.emu.workdir for i in used]

    def close(self):
        for inst in self.instances:
            inst.emu.kill()
        for inst in self.instances:
            if not inst.failed and not self.args.keep:
                inst.emu.remove_workdir()


# ---- the tests, in the order they run ----

@test
def boot_to_prompt(ctx):
    ctx.shell()


@test
def help_lists_commands(ctx):
    lines = ctx.shell().command("help", COMMAND_TIMEOUT)
    text = "\n".join(lines)
    for name in ("help", "version", "uptime", "mem", "cpu", "modules", "log", "echo", "reboot",
                 "poweroff"):
        check(re.search(r"^\s*%s\b" % name, text, re.M),
              "help does not list %r:\n%s" % (name, show(lines)))


@test
def version(ctx):
    lines = ctx.shell().command("version", COMMAND_TIMEOUT)
    check(lines and re.match(r"^civic \d+\.\d+\.\d+ \(.+\)$", lines[0]),
          "version's first line is not 'civic X.Y.Z (...)':\n%s" % show(lines))
    ctx.note(lines[0])


@test
def echo_words(ctx):
    lines = ctx.shell().command("echo A B", COMMAND_TIMEOUT)
    check(lines == ["A B"], "echo A B printed:\n%s" % show(lines))


@test
def cpu_features(ctx):
    lines = ctx.shell().command("cpu", COMMAND_TIMEOUT)
    facts = kv(lines)
    flags = ("vmx", "ept", "unrestricted_guest", "vpid", "ept_ad", "pml", "preemption_timer",
             "vmx_usable")
    for key in ("vendor",) + flags:
        check(key in facts, "cpu does not report %s=:\n%s" % (key, show(lines)))
    for key in flags:
        check(facts[key] in ("yes", "no"), "cpu: %s=%s is not yes|no" % (key, facts[key]))
    notes = [line for line in lines if line.startswith("note: civic cannot run VMs on this CPU:")]
    if facts["vmx_usable"] == "yes":
        check(not notes, "vmx_usable=yes but a 'cannot run VMs' note:\n%s" % show(lines))
        check(facts["vmx"] == "yes", "vmx_usable=yes with vmx=no")
    else:
        check(notes, "vmx_usable=no without a 'note: civic cannot run VMs on this CPU:' line:\n%s"
              % show(lines))
    if ctx.args.emu == "bochs":
        for key in ("vmx", "ept", "unrestricted_guest", "vmx_usable"):
            check(facts[key] == "yes", "Bochs (corei7_skylake_x) has %s, cpu says %s=%s:\n%s"
                  % (key, key, facts[key], show(lines)))
    elif ctx.args.emu == "qemu":
        check(facts["vmx"] == "no" and facts["vmx_usable"] == "no",
              "QEMU TCG has no VMX, cpu says vmx=%s vmx_usable=%s" % (facts["vmx"],
                                                                    facts["vmx_usable"]))
    ctx.note("vendor=%s vmx=%s vmx_usable=%s" % (facts["vendor"], facts["vmx"],
                                                 facts["vmx_usable"]))


def check_mem(console, mem_mib):
    lines = console.command("mem", COMMAND_TIMEOUT)
    facts = kv(lines)
    keys = ("total_kib", "free_kib", "used_kib", "total_frames", "free_frames", "heap_used_bytes")
    for key in keys:
        check(key in facts and facts[key].isdigit(),
              "mem does not report %s=N:\n%s" % (key, show(lines)))
    n = {key: int(facts[key]) for key in keys}
    configured = mem_mib * 1024
    check(0.95 * configured <= n["total_kib"] <= configured,
          "mem: total_kib=%d is not within 5%% below the configured %d KiB"
          % (n["total_kib"], configured))
    check(n["total_frames"] * 4 == n["total_kib"], "mem: total_frames*4 != total_kib")
    check(n["free_frames"] * 4 == n["free_kib"], "mem: free_frames*4 != free_kib")
    check(n["used_kib"] + n["free_kib"] == n["total_kib"], "mem: used_kib+free_kib != total_kib")
    return n


@test
def mem_256m(ctx):
    n = check_mem(ctx.shell(), SHARED_MEM_MIB)
    ctx.note("total_kib=%d free_kib=%d" % (n["total_kib"], n["free_kib"]))


@test
def mem_1g(ctx):
    emu = ctx.boot(mem=1024)
    n = check_mem(emu.console, 1024)
    ctx.note("total_kib=%d free_kib=%d" % (n["total_kib"], n["free_kib"]))


@test
def unknown_command(ctx):
    con = ctx.shell()
    lines = con.command("frobnicate now", COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error:"),
          "an unknown command should print one 'error:' line:\n%s" % show(lines))
    lines = con.command("echo still-here", COMMAND_TIMEOUT)
    check(lines == ["still-here"], "echo after an unknown command printed:\n%s" % show(lines))


@test
def line_length_limit(ctx):
    con = ctx.shell()
    word = "a" * (1023 - len("echo "))
    lines = con.command("echo " + word, 60)
    check(lines == [word], "a 1023-byte line must be accepted; echo printed %d line(s)%s"
          % (len(lines), ", first %r..." % lines[0][:40] if lines else ""))
    lines = con.command("echo " + word + "b", 60)
    check(len(lines) == 1 and lines[0].startswith("error: line too long"),
          "a 1024-byte line must give 'error: line too long', got:\n%s"
          % show([line[:80] for line in lines]))


@test
def long_line_4k(ctx):
    con = ctx.shell()
    con.skip_pending()
    con.send("x" * 4096 + "\r")
    con.expect(re.compile(r"(?:^|\n)error: line too long"), 90)
    con.wait_prompt(COMMAND_TIMEOUT)
    lines = con.command("echo after-long-line", COMMAND_TIMEOUT)
    check(lines == ["after-long-line"], "echo after a 4 KiB line printed:\n%s" % show(lines))


@test
def control_and_high_bytes(ctx):
    con = ctx.shell()
    # Control bytes that no line editor binds to an action (no ^A/^E/^U/^W/^H/^C/ESC), and bytes
    # 0x80-0xff: the shell must reject the line or drop them, never pass them on or hang.
    bad = b"\x00\x0f\x18\x1a\x1c\x1e\x1f\x80\xa0\xc3\xfe\xff"
    con.skip_pending()
    con.send(b"echo x" + bad + b"y\r")
    lines = con.wait_prompt(COMMAND_TIMEOUT).replace("\r", "").split("\n")[1:]
    ok = lines == ["xy"] or (len(lines) == 1 and lines[0].startswith("error:"))
    check(ok, "control/high bytes in a line: expected 'xy' or one 'error:' line, got:\n%s"
          % show([civic_emu.printable_tail(line.encode("latin-1")) for line in lines]))
    con.send(bad + b"\r")
    con.wait_prompt(COMMAND_TIMEOUT)
    lines = con.command("echo ok", COMMAND_TIMEOUT)
    check(lines == ["ok"], "echo after control bytes printed:\n%s" % show(lines))


@test
def ctrl_c_cancels_line(ctx):
    con = ctx.shell()
    con.skip_pending()
    con.send("echo cancelled\x03")
    before = con.wait_prompt(COMMAND_TIMEOUT).replace("\r", "")
    check("cancelled" not in before.split("\n")[1:],
          "Ctrl-C did not cancel the line:\n%s" % show(before.split("\n")))
    lines = con.command("echo ok", COMMAND_TIMEOUT)
    check(lines == ["ok"], "echo after Ctrl-C printed:\n%s" % show(lines))


@test
def uptime_increases(ctx):
    con = ctx.shell()
    values = []
    for _ in range(2):
        lines = con.command("uptime", COMMAND_TIMEOUT)
        facts = kv(lines)
        check(facts.get("uptime_ms", "").isdigit(), "uptime printed:\n%s" % show(lines))
        values.append(int(facts["uptime_ms"]))
        time.sleep(0.3)
    check(values[1] > values[0], "uptime did not increase: %d then %d" % tuple(values))
    ctx.note("uptime_ms %d -> %d" % tuple(values))


@test
def help_for_one_command(ctx):
    con = ctx.shell()
    lines = con.command("help mem", COMMAND_TIMEOUT)
    check(lines and lines[0].startswith("mem"), "help mem printed:\n%s" % show(lines))
    lines = con.command("help nosuchcommand", COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error:"),
          "help of an unknown command should print one error line:\n%s" % show(lines))
    lines = con.command("version extra", COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error:") and "usage: version" in lines[0],
          "a bad argument should print one error line with the usage:\n%s" % show(lines))


@test
def log_ring_and_level(ctx):
    con = ctx.shell()
    lines = con.command("log", COMMAND_TIMEOUT)
    check(any(re.search(r"info: civic .* starting", line) for line in lines),
          "log does not show the boot's first line:\n%s" % show(lines[:20]))
    check(any("cpu:" in line for line in lines), "log lacks the cpu line:\n%s" % show(lines))
    lines = con.command("log level=debug", COMMAND_TIMEOUT)
    check(lines == ["console_level=debug"], "log level=debug printed:\n%s" % show(lines))
    lines = con.command("log level=loud", COMMAND_TIMEOUT)
    check(len(lines) == 1 and lines[0].startswith("error:"),
          "log level=loud should be one error line:\n%s" % show(lines))
    con.command("log level=info", COMMAND_TIMEOUT)


@test
def boot_options_and_modules(ctx):
    if not ctx.args.test_iso:
        raise Skip("no --test-iso given")
    emu = ctx.boot(iso=ctx.args.test_iso)
    con = emu.console
    facts = kv(con.command("cmdline", COMMAND_TIMEOUT))
    check(facts.get("cmdline") == '"log=info no-such-option=1"',
          "cmdline reports %r" % facts.get("cmdline"))
    check(facts.get("bootloader", "").startswith('"GRUB'), "bootloader is %r"
          % facts.get("bootloader"))
    lines = con.command("modules", COMMAND_TIMEOUT)
    check(lines[:1] == ["count=1"], "modules should report count=1:\n%s" % show(lines))
    m = re.match(r'^module=0 start=0x[0-9a-f]+ size=(\d+) cmdline="testmod role=check"$',
                 lines[1] if len(lines) > 1 else "")
    check(m and int(m.group(1)) == 5000, "modules' module line is wrong:\n%s" % show(lines))
    log = con.command("log", COMMAND_TIMEOUT)
    check(any("unknown option 'no-such-option=1' ignored" in line for line in log),
          "the unknown boot option was not reported:\n%s" % show(log[:20]))
    check_mem(con, SHARED_MEM_MIB)  # the module's frames are reserved, the rest is usable


@test
def fault_dump(ctx):
    emu = ctx.boot()
    con = emu.console
    con.skip_pending()
    con.send("fault pf\r")
    _, text = con.expect("civic: this CPU is stopped.", COMMAND_TIMEOUT)
    text = text.replace("\r", "")
    for needed in (r"FAULT: #PF Page Fault \(vector 14\), error code 0x0",
                   r"CR2 0x0000000000000010", r"RIP 0xffffffff8[0-9a-f]{7}", r"RAX 0x",
                   r"R15 0x", r"CR3 0x", r"backtrace", r"#1  0xffffffff8[0-9a-f]{7}"):
        check(re.search(needed, text), "the fault dump lacks %r:\n%s"
              % (needed, show(text.splitlines()[-25:])))


@test
def interrupts_arrive(ctx):
    # The LAPIC tick and the COM1 receive interrupt through the IOAPIC (ISA IRQ 4 -> 0x34).
    con = ctx.shell()
    con.command("echo typing", COMMAND_TIMEOUT)
    facts = kv(con.command("irqs", COMMAND_TIMEOUT))
    check(int(facts.get("ticks", "0")) > 0, "no LAPIC ticks: %r" % facts)
    check(int(facts.get("vector_0xf0", "0")) > 0, "no interrupts at the tick vector: %r" % facts)
    check(int(facts.get("vector_0x34", "0")) > 0, "no COM1 receive interrupts: %r" % facts)
    ctx.note("ticks=%s com1=%s" % (facts["ticks"], facts["vector_0x34"]))


@test
def no_long_mode(ctx):
    # A 32-bit-only CPU: civic's 32-bit entry must say so on COM1 rather than crash silently.
    if ctx.args.emu != "qemu":
        raise Skip("needs QEMU's qemu32 CPU model")
    workdir = os.path.join(ctx.root, ctx.test_name)
    shutil.rmtree(workdir, ignore_errors=True)
    emu = make_emulator("qemu", ctx.args.iso, workdir, cpu_model="qemu32")
    with emu:
        emu.start()
        emu.console.expect("civic: this CPU has no 64-bit long mode", 60)
    emu.remove_workdir()


@test
def uefi_boot(ctx):
    # The ISO's UEFI path: GRUB for x86_64-efi loads civic; the memory map and the RSDP come from
    # the firmware through GRUB. Bochs has no UEFI firmware, so this runs under QEMU/KVM only.
    if ctx.args.emu == "bochs":
        raise Skip("Bochs has no UEFI firmware; runs under EMU=qemu")
    emu = ctx.boot(firmware=civic_emu.OVMF_FIRMWARE)
    n = check_mem(emu.console, SHARED_MEM_MIB)
    lines = emu.console.command("log", COMMAND_TIMEOUT)
    check(any("acpi:" in line and "S5 found" in line for line in lines),
          "ACPI tables (and \\_S5_) not found under UEFI:\n%s" % show(lines[:20]))
    check(emu.poweroff(60), "UEFI boot: poweroff did not end QEMU")
    ctx.note("total_kib=%d" % n["total_kib"])


@test
def poweroff(ctx):
    emu = ctx.boot()
    clean = emu.poweroff(60)
    check(clean, "%s ended with status %s but not by a power off (see its output)"
          % (emu.kind, emu.returncode))
    if emu.icount is not None:
        ctx.note("ticks at power-off %d" % emu.icount)


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
