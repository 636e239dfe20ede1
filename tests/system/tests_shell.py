"""System tests of the bootable kernel: boot, the shell and its commands, bad input, interrupts,
boot paths (UEFI, no long mode), power off."""

import os
import re
import shutil
import time

import civic_emu
from civic_emu import make_emulator
from systest import COMMAND_TIMEOUT, SHARED_MEM_MIB, Skip, check, kv, show, test

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
    lines = con.command("log", COMMAND_TIMEOUT, log_lines=True)
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
    check(facts.get("cmdline") == '"log=info no-such-option=1 vm=boothello,hello"',
          "cmdline reports %r" % facts.get("cmdline"))
    check(facts.get("bootloader", "").startswith('"GRUB'), "bootloader is %r"
          % facts.get("bootloader"))
    lines = con.command("modules", COMMAND_TIMEOUT)
    check(lines[:1] == ["count=15"], "modules should report count=15:\n%s" % show(lines))
    m = re.match(r'^module=0 start=0x[0-9a-f]+ size=(\d+) cmdline="testmod role=check"$',
                 lines[1] if len(lines) > 1 else "")
    check(m and int(m.group(1)) == 5000, "modules' module line is wrong:\n%s" % show(lines))
    check(any(re.search(r'cmdline="memtest mib=4 passes=1"$', line) for line in lines),
          "modules does not list memtest's command line:\n%s" % show(lines))
    log = con.command("log", COMMAND_TIMEOUT, log_lines=True)
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
    lines = emu.console.command("log", COMMAND_TIMEOUT, log_lines=True)
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
