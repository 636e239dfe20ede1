"""The system tests' framework: the test registry, checks, and the Context that gives each test a
booted civic (shared or its own). Test modules register with @test; run_tests.py runs them."""

import os
import re
import shutil

from civic_emu import EmulatorError, make_emulator

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
