"""Start civic under an emulator and drive its serial console (Python 3, standard library only).

    with make_emulator("bochs", iso="build/civic.iso", workdir="build/system/boot") as emu:
        emu.start()
        emu.wait_prompt()
        print(emu.console.command("version"))
        emu.poweroff()

Each instance owns a work dir holding everything it produced: bochsrc, bochs.log (or qemu.log),
the emulator's stdout/stderr, and console.log, the full serial transcript. The console is a TCP
socket: Bochs (`com1: mode=socket-server`) and QEMU (`-serial tcp:...,server=on`) both listen and
wait for us before running the guest, so no output is lost.

Several instances may run at once: Emulator(..., nics=[...]) gives each e1000 NICs, and civic_net
joins them (Hub: bxhub for Bochs; QEMU socket or user netdevs). Bochs's rfb display scans TCP
ports 5900-5949 for a free one by itself, so instances do not clash there; a serial port that got
taken between our probe and Bochs's bind is retried.

Emulators run in their own session so that a Ctrl-C in the terminal reaches only Python (a SIGINT
to Bochs would drop it into its debugger prompt and hang), and they are killed when the Python
thread that started them dies (PR_SET_PDEATHSIG), so none is left running after a crash: start
instances from the main thread.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
BOCHS_VGABIOS = "/usr/share/vgabios/vgabios.bin"
PROMPT = "civic> "
# The prompt at the start of a line, so that a command's output containing "civic> " mid-line
# is not taken for it.
PROMPT_RE = re.compile(r"(?:^|\n)" + re.escape(PROMPT))
TAIL_BYTES = 2048
# kernel/panic.c prints this; after it nothing we wait for can come, so waits end at once.
PANIC_RE = re.compile(r"(?:^|\n)PANIC: [^\n]*\n(?:[^\n]*\n)*?civic: this CPU is stopped")
EMULATORS = ("bochs", "qemu", "kvm")


class EmulatorError(Exception):
    """Anything that went wrong starting or driving an emulator."""


class ConsoleTimeout(EmulatorError):
    """An expected text did not arrive in time; the message carries the console's tail."""


class EmulatorExited(EmulatorError):
    """The console closed (the emulator ended) while we were waiting for text."""


class GuestPanic(EmulatorError):
    """civic printed a panic while we were waiting for something else."""


def printable_tail(data, limit=TAIL_BYTES):
    """The last `limit` bytes of console output, control bytes escaped, for error messages."""
    text = bytes(data[-limit:]).decode("latin-1")
    out = []
    for ch in text:
        if ch == "\n" or ch == "\t" or " " <= ch <= "~":
            out.append(ch)
        elif ch != "\r":
            out.append("\\x%02x" % ord(ch))
    return "".join(out)


def free_tcp_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port_range(count, start=20000, end=60000):
    """A base port such that UDP ports base .. base+count-1 are all free now (for bxhub)."""
    for base in range(start + (os.getpid() * 16) % 10000, end - count, count):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise EmulatorError("no free UDP port range of %d ports" % count)


def _die_with_parent():
    """preexec_fn: new session (no terminal SIGINT) and SIGKILL when our thread dies."""
    os.setsid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Console:
    """The guest's serial console over a TCP socket.

    A background thread appends everything received to a byte buffer and to console.log. Reads
    consume the buffer from a cursor: expect() moves it past the match, so each expect() sees only
    output that arrived after the previous one matched. Text is decoded as Latin-1 (one char per
    byte) so that regex offsets are byte offsets and no byte the guest sends can break decoding.
    """

    def __init__(self, sock, log_path):
        self._sock = sock
        self._buf = bytearray()
        self._pos = 0
        self._closed = False
        self._cond = threading.Condition()
        self._log = open(log_path, "wb")
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._reader, name="console-reader", daemon=True)
        self._thread.start()

    def _reader(self):
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if data:
                self._log.write(data)
                self._log.flush()
            with self._cond:
                if data:
                    self._buf += data
                else:
                    self._closed = True
                self._cond.notify_all()
            if not data:
                break

    @property
    def closed(self):
        return self._closed

    def transcript(self):
        """Everything received so far (bytes)."""
        with self._cond:
            return bytes(self._buf)

    def tail(self, limit=TAIL_BYTES):
        with self._cond:
            return printable_tail(self._buf, limit)

    def expect(self, pattern, timeout=30.0):
        """Wait for `pattern` (a regex object, or a plain text matched literally) in the output
        after the cursor. Returns (match, text_before_match) and moves the cursor past the match.
        Raises ConsoleTimeout after `timeout` seconds, EmulatorExited if the console closes first."""
        regex = pattern if hasattr(pattern, "search") else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._buf[self._pos:].decode("latin-1")
                m = regex.search(text)
                if m:
                    self._pos += m.end()
                    return m, text[:m.start()]
                p = PANIC_RE.search(text)
                if p:
                    raise GuestPanic("civic panicked while we waited for %r; last output:\n%s"
                                     % (regex.pattern, printable_tail(self._buf)))
                if self._closed:
                    raise EmulatorExited("console closed (emulator ended) while waiting for %r; "
                                         "last output:\n%s" % (regex.pattern,
                                                               printable_tail(self._buf)))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConsoleTimeout("no %r within %.0f s; last output:\n%s"
                                         % (regex.pattern, timeout, printable_tail(self._buf)))
                self._cond.wait(min(left, 0.5))

    def read_available(self, timeout=0.0):
        """Bytes after the cursor (waiting up to `timeout` for some), moving the cursor past
        them; b"" when none arrived. Used by the interactive relay."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._buf) == self._pos and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            data = bytes(self._buf[self._pos:])
            self._pos = len(self._buf)
            return data

    def skip_pending(self):
        """Drop output not yet consumed (e.g. before resynchronising on a fresh prompt)."""
        with self._cond:
            self._pos = len(self._buf)

    def send(self, data, chunk=16, pause=0.02):
        """Send text or bytes in small chunks with a pause between them, so that neither the
        emulated UART's 16-byte FIFO nor the guest's input path has to absorb a burst."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        with self._send_lock:
            for i in range(0, len(data), chunk):
                if self._closed:
                    raise EmulatorExited("console closed while sending; last output:\n%s"
                                         % self.tail())
                try:
                    self._sock.sendall(data[i:i + chunk])
                except OSError as e:
                    raise EmulatorExited("console send failed (%s); last output:\n%s"
                                         % (e, self.tail()))
                if i + chunk < len(data):
                    time.sleep(pause)

    def wait_prompt(self, timeout=30.0):
        """Wait for the next shell prompt; returns the text before it."""
        return self.expect(PROMPT_RE, timeout)[1]

    def command(self, cmd, timeout=30.0, log_lines=False):
        """Run one shell command: send it with Enter, wait for the prompt that follows it and
        return the output lines between the echoed command line and that prompt, CRs removed.
        Output that arrived before (a VM stopping logs a line, and the shell redraws its prompt
        after it) is skipped first, so a stale prompt is never taken for the answer. Kernel log
        lines that arrive meanwhile are not the command's output and are dropped, unless
        log_lines (for `log`, whose output they are)."""
        self.skip_pending()
        self.send(cmd + "\r")
        # The echo ends the typed line; a log line may have interrupted it (the shell then
        # redraws the prompt and the part typed so far), so the echo's end is what we match.
        # A line past the editor's limit is not echoed whole: then the first line is the echo.
        echo_matched = len(cmd) < 1000
        if echo_matched:
            self.expect(re.compile(re.escape(cmd[-24:]) + r"\r*\n"), timeout)
        before = self.wait_prompt(timeout).replace("\r", "")
        lines = before.split("\n")
        if not echo_matched:
            lines = lines[1:]
        elif lines and lines[-1] == "":
            lines.pop()
        if not log_lines:
            lines = [line for line in lines if not LOG_LINE_RE.match(line)]
        return lines

    def close(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=2)
        self._log.close()


LOG_LINE_RE = re.compile(r"^\[\s*\d+\.\d{6}\] (err|warn|info|debug): ")


def __getattr__(name):
    """The network classes live in civic_net (imported lazily: it imports this module)."""
    if name in ("Nic", "Hub", "BxHub"):
        import civic_net
        return getattr(civic_net, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _ends_command(before, cmd):
    """Whether the text before a prompt holds the echoed line `cmd`, i.e. the prompt answers the
    command rather than being redrawn after a log line that interrupted the shell."""
    for line in before.replace("\r", "").split("\n"):
        if line.strip() == cmd:
            return True
    return False


class Emulator:
    """Common part of one emulator instance running civic. Subclasses: Bochs, Qemu.

    After wait_exit()/poweroff(): `clean_exit` (the guest powered off, as opposed to a crash or
    kill), `returncode`. Timings: `boot_wall_s` (start() to the first prompt) and, for Bochs,
    `icount` (emulated instructions at power-off, see Bochs.icount)."""

    kind = None
    log_name = None

    def __init__(self, iso, workdir, mem_mib=256, ips=50_000_000, nics=(), connect_timeout=30.0):
        self.iso = os.path.abspath(iso)
        self.workdir = os.path.abspath(workdir)
        self.mem_mib = mem_mib
        self.ips = ips
        self.nics = list(nics)
        self.connect_timeout = connect_timeout
        self.proc = None
        self.console = None
        self.port = None
        self.t_start = None
        self.boot_wall_s = None
        self.returncode = None
        self.clean_exit = None
        self.killed = False

    # -- to be provided by subclasses --
    def _command(self):
        raise NotImplementedError

    def _prepare(self):
        pass

    def _is_clean_exit(self, returncode):
        raise NotImplementedError

    # -- common --
    def path(self, name):
        return os.path.join(self.workdir, name)

    def start(self, attempts=3):
        """Start the emulator and connect the console; retries when the emulator dies before
        accepting the console connection (a port taken in the meantime)."""
        if not os.path.isfile(self.iso):
            raise EmulatorError("no ISO at %s (build it first: make iso)" % self.iso)
        os.makedirs(self.workdir, exist_ok=True)
        last = None
        for _ in range(attempts):
            self.port = free_tcp_port()
            self._prepare()
            self.t_start = time.monotonic()
            self._spawn()
            try:
                sock = self._connect()
            except EmulatorError as e:
                last = e
                self.kill()
                continue
            self.console = Console(sock, self.path("console.log"))
            return self
        raise last

    def _spawn(self):
        out = open(self.path("stdout.txt"), "wb")
        err = open(self.path("stderr.txt"), "wb")
        self.returncode = self.clean_exit = None
        self.killed = False
        self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=err, cwd=self.workdir, preexec_fn=_die_with_parent)
        out.close()
        err.close()

    def _connect(self):
        deadline = time.monotonic() + self.connect_timeout
        while True:
            if self.proc.poll() is not None:
                raise EmulatorError("%s exited with status %d before the console connected; see "
                                    "%s" % (self.kind, self.proc.returncode, self.workdir))
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=1.0)
                sock.settimeout(None)
                return sock
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise EmulatorError("could not connect to %s's console on port %d within %.0f s; "
                                    "see %s" % (self.kind, self.port, self.connect_timeout,
                                                self.workdir))
            time.sleep(0.05)

    def wait_prompt(self, timeout=60.0):
        """Wait for the shell prompt after boot; records boot_wall_s (start to prompt)."""
        before = self.console.wait_prompt(timeout)
        if self.boot_wall_s is None:
            self.boot_wall_s = time.monotonic() - self.t_start
        return before

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=30.0):
        """Wait for the emulator process to end; returns True when the guest powered off cleanly.
        Raises EmulatorError (console tail included) if it is still running after `timeout`."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            tail = self.console.tail() if self.console else ""
            raise EmulatorError("%s still running %.0f s after power off was expected; last "
                                "output:\n%s" % (self.kind, timeout, tail))
        self._finish(rc)
        return self.clean_exit

    def _finish(self, rc):
        self.returncode = rc
        self.clean_exit = (not self.killed) and self._is_clean_exit(rc)
        if self.console:
            self.console.close()

    def poweroff(self, timeout=60.0):
        """Type `poweroff` at the prompt and wait for the emulator to end; returns clean_exit.
        Fails at once if the shell comes back with a prompt after the command line instead of
        powering off (a prompt redrawn after a kernel log line is not that)."""
        self.console.skip_pending()
        self.console.send("poweroff\r")
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                before = self.console.wait_prompt(0.2)
            except ConsoleTimeout:
                continue
            except EmulatorExited:
                time.sleep(0.05)
                continue
            if self.proc.poll() is None and _ends_command(before, "poweroff"):
                raise EmulatorError("poweroff returned to the prompt:\n%s" % before)
        return self.wait_exit(max(0.0, deadline - time.monotonic()))

    def kill(self):
        """Stop the emulator now (SIGTERM, then SIGKILL). Safe to call at any time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.killed = True
            for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.returncode is None:
            self._finish(self.proc.wait())

    def remove_workdir(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False


class Bochs(Emulator):
    kind = "bochs"
    log_name = "bochs.log"
    # Bochs's exit messages (stderr and bochs.log) for a guest power off: the bytes "Shutdown"
    # written to port 0x8900, and ACPI S5 (SLP_TYP/SLP_EN in PM1a_CNT).
    POWEROFF_TEXTS = ("Shutdown port: shutdown requested", "ACPI control: soft power off")

    def __init__(self, *args, break_at=None, clock="none", **kwargs):
        """break_at: a linear address (e.g. symbol_address(elf, "monitor_loop")); the debugger
        stops there once, records the instruction count (icount_at_break) and continues.
        clock: Bochs's clock sync mode. "none" (tests, benchmarks): emulated time is a function of
        instructions, repeatable, and races ahead while the CPU idles in HLT. "slowdown"
        (interactive use): emulated time never runs ahead of the wall clock."""
        super().__init__(*args, **kwargs)
        if clock not in ("none", "slowdown", "realtime", "both"):
            raise EmulatorError("unknown Bochs clock sync mode %r" % clock)
        self.clock = clock
        if self.ips < 1_000_000:
            raise EmulatorError("Bochs needs ips >= 1000000")
        self.break_at = break_at

    def bochsrc(self):
        lines = [
            "megs: %d" % self.mem_mib,
            "cpu: model=corei7_skylake_x, count=1, ips=%d" % self.ips,
            "romimage: file=%s" % BOCHS_BIOS,
            "vgaromimage: file=%s" % BOCHS_VGABIOS,
            "ata0-master: type=cdrom, path=%s, status=inserted" % self.iso,
            "boot: cdrom",
            # sync=none: emulated time advances with instructions only, so runs are repeatable.
            "clock: sync=%s" % self.clock,
            # The Debian build has no 'nogui'; rfb with timeout=0 does not wait for a viewer.
            'display_library: rfb, options="timeout=0"',
            "com1: enabled=1, mode=socket-server, dev=127.0.0.1:%d" % self.port,
            "log: %s" % self.path(self.log_name),
            "panic: action=fatal",
        ]
        for card, nic in enumerate(self.nics):
            lines.append(nic.bochsrc_line(card))
        return "\n".join(lines) + "\n"

    def _prepare(self):
        with open(self.path("bochsrc"), "w") as f:
            f.write(self.bochsrc())
        with open(self.path("bochs.rc"), "w") as f:
            if self.break_at is not None:
                f.write("lb 0x%x\nc\nd 1\n" % self.break_at)
            f.write("c\n")

    def _command(self):
        cmd = ["bochs", "-q", "-f", self.path("bochsrc"), "-rc", self.path("bochs.rc")]
        # Line-buffered stdout, so that the debugger's lines are in stdout.txt even when the
        # emulator is killed rather than powered off.
        if shutil.which("stdbuf"):
            cmd = ["stdbuf", "-oL"] + cmd
        return cmd

    def _read(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def _is_clean_exit(self, returncode):
        # Bochs exits with status 1 on the shutdown port too; its message tells a power off
        # from a panic.
        text = self._read("stderr.txt") + self._read(self.log_name)
        return any(t in text for t in self.POWEROFF_TEXTS)

    @property
    def icount_at_break(self):
        """Emulated instructions (ticks, see icount) from reset to the first hit of break_at, or
        None. Unlike icount at power-off this excludes the time the guest idled at the prompt
        while the host was typing: boot cost = icount_at_break with break_at = the entry of the
        function that first shows the prompt."""
        m = re.search(r"Breakpoint 1, .*\n(?:.*\n)*?Next at t=(\d+)", self._read("stdout.txt"))
        return int(m.group(1)) if m else None

    @property
    def icount(self):
        """Emulated instructions from reset to the end of the run, or None.

        Bochs's debugger prints "(0).[TICKS] ..." when the simulation stops, and every log line
        starts with TICKS. With one CPU, ticks are instructions executed plus time skipped while
        the CPU sat in HLT (each skipped tick is one instruction slot at `ips`), i.e. emulated
        time in units of 1/ips seconds. While civic idles in HLT at the prompt, ticks race ahead
        of wall time (seconds of emulated time per wall second), so for the cost of a boot use
        icount_at_break instead."""
        m = re.findall(r"^\(\d+\)\.\[(\d+)\]", self._read("stdout.txt"), re.M)
        if m:
            return int(m[-1])
        m = re.findall(r"^(\d{11,})[a-z]\[SIM\s*\] quit_sim", self._read(self.log_name), re.M)
        return int(m[-1]) if m else None


class Qemu(Emulator):
    kind = "qemu"
    log_name = "qemu.log"

    def __init__(self, *args, kvm=False, firmware=None, cpu_model=None, **kwargs):
        """firmware: a UEFI image (e.g. OVMF_FIRMWARE) instead of QEMU's BIOS. cpu_model: a
        QEMU -cpu model (TCG only), e.g. qemu32 for a CPU without long mode."""
        super().__init__(*args, **kwargs)
        self.kvm = kvm
        self.firmware = firmware
        self.cpu_model = cpu_model
        if kvm and cpu_model:
            raise EmulatorError("EMU=kvm always uses -cpu host")
        if firmware and not os.path.exists(firmware):
            raise EmulatorError("firmware image %s is missing (Debian package ovmf)" % firmware)
        if kvm:
            self.kind = "kvm"
            if not os.path.exists("/dev/kvm"):
                raise EmulatorError("EMU=kvm needs /dev/kvm, which this machine does not have "
                                    "(use EMU=bochs for VMX, or EMU=qemu)")
            if not os.access("/dev/kvm", os.R_OK | os.W_OK):
                raise EmulatorError("EMU=kvm: /dev/kvm is not accessible to this user "
                                    "(add yourself to the 'kvm' group)")

    def _command(self):
        args = ["qemu-system-x86_64", "-cdrom", self.iso, "-m", str(self.mem_mib),
                "-display", "none", "-serial", "tcp:127.0.0.1:%d,server=on,wait=on" % self.port,
                "-no-reboot", "-monitor", "none", "-D", self.path(self.log_name)]
        if self.kvm:
            args += ["-enable-kvm", "-cpu", "host"]
        if self.firmware:
            args += ["-bios", self.firmware]
        if self.cpu_model:
            args += ["-cpu", self.cpu_model]
        # Any -netdev replaces QEMU's default NIC (an e1000 on user networking).
        for i, nic in enumerate(self.nics):
            args += nic.qemu_args(i)
        return args

    def _is_clean_exit(self, returncode):
        # QEMU exits 0 on an ACPI power off; with -no-reboot a reset (triple fault) also exits
        # 0, which this cannot tell apart.
        return returncode == 0

    @property
    def icount(self):
        return None


def symbol_address(elf, name):
    """The address of symbol `name` in `elf` (via nm), or None."""
    try:
        out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    return None


OVMF_FIRMWARE = "/usr/share/ovmf/OVMF.fd"


def make_emulator(kind, iso, workdir, clock=None, firmware=None, cpu_model=None, **kwargs):
    """kind: bochs, qemu or kvm (QEMU with -enable-kvm -cpu host). clock: Bochs's sync mode
    (ignored by QEMU, whose clock is the host's). firmware (a UEFI image) and cpu_model (a -cpu
    model): QEMU only."""
    if firmware or cpu_model:
        if kind == "bochs":
            raise EmulatorError("firmware and cpu_model are QEMU options")
        kwargs.update(firmware=firmware, cpu_model=cpu_model)
    if kind == "bochs":
        if clock:
            kwargs["clock"] = clock
        return Bochs(iso, workdir, **kwargs)
    if kind == "qemu":
        return Qemu(iso, workdir, **kwargs)
    if kind == "kvm":
        return Qemu(iso, workdir, kvm=True, **kwargs)
    raise EmulatorError("unknown emulator %r (choose from %s)" % (kind, ", ".join(EMULATORS)))


def raise_on_sigterm():
    """Turn SIGTERM (and SIGHUP) into SystemExit in the main thread so that `with` blocks and
    finally clauses kill the emulators."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)
