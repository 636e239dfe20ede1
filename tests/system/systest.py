"""The system tests' framework: the test registry, checks, and the Context that gives each test a
booted civic (shared or its own). Test modules register with @test; run_tests.py runs them."""

import os
import re
import shutil

import civic_net
from civic_emu import EmulatorError, make_emulator

SHARED_MEM_MIB = 256
# Bochs's emulated link moves one frame per emulated ms (ips/1000 instructions): 4 MIPS models a
# 10 GbE link against a 3 GHz core and keeps network tests short in wall time.
NET_IPS = 4_000_000
NET_KINDS = ("auto", "hub", "socket", "user")
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
    """Something a test started that must be stopped: an emulator or a civic_net.Hub (both have
    kill(), workdir and remove_workdir())."""

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
        self._own_count = 0
        self.instances = []
        self.notes = []
        self.test_name = None

    def _workdir(self, name):
        workdir = os.path.join(self.root, name)
        shutil.rmtree(workdir, ignore_errors=True)
        return workdir

    def _boot(self, name, mem, iso=None, firmware=None):
        emu = make_emulator(self.args.emu, iso or self.args.iso, self._workdir(name), mem_mib=mem,
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

    def _own_workdir(self):
        """The next private work dir of this test: <test>-1, <test>-2, ..."""
        self._own_count += 1
        return self._workdir("%s-%d" % (self.test_name, self._own_count))

    def _own_instance(self, thing):
        inst = Instance(thing)
        self.instances.append(inst)
        self._own.append(inst)
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
        self._own_count += 1
        inst = self._boot("%s-%d" % (self.test_name, self._own_count), mem, iso, firmware)
        self._own.append(inst)
        return inst.emu

    def boot_many(self, n, net="auto", mem=SHARED_MEM_MIB, ips=NET_IPS, iso=None):
        """n private instances on one Ethernet, each with one e1000 (MAC civic_net.mac_for(i):
        52:54:00:c1:00:01, :02, ...), booted to the prompt; returns their emulators in order.
        net: "hub" (Bochs and bxhub, 1 to 5 instances), "socket" (QEMU, 2 instances joined by a
        TCP socket netdev), "user" (QEMU user networking: each instance on its own NATed net,
        DHCP 10.0.2.15, gateway 10.0.2.2), or "auto" (hub under Bochs; under QEMU socket for 2,
        user for 1). Everything (bxhub included) is killed when the test ends; on failure each
        instance's work dir <test>-N/ and the hub's <test>-hub/ are kept. ips: Bochs only."""
        emu_kind = self.args.emu
        if net not in NET_KINDS:
            raise EmulatorError("unknown network %r (choose from %s)"
                                % (net, ", ".join(NET_KINDS)))
        if n < 1:
            raise EmulatorError("boot_many needs at least one instance")
        if net == "auto":
            net = "hub" if emu_kind == "bochs" else ("socket" if n == 2 else "user")
        if (net == "hub") != (emu_kind == "bochs"):
            raise EmulatorError("network %r does not work under %s" % (net, emu_kind))
        macs = [civic_net.mac_for(i) for i in range(n)]
        if net == "hub":
            hub = civic_net.Hub(self._workdir("%s-hub" % self.test_name), ports=max(2, n))
            self._own_instance(hub)
            hub.start()
            nics = [hub.nic(i, mac) for i, mac in enumerate(macs)]
        elif net == "socket":
            nics = civic_net.qemu_socket_pair(macs)
        else:
            nics = [civic_net.qemu_user(mac) for mac in macs]
        emus = []
        for nic in nics:
            emu = make_emulator(emu_kind, iso or self.args.iso, self._own_workdir(), mem_mib=mem,
                                ips=ips, nics=[nic])
            self._own_instance(emu)
            emus.append(emu)
        # Start them all before waiting for any prompt, so that they boot side by side; the
        # order matters for a QEMU socket pair (the listener first).
        for emu in emus:
            emu.start()
        for emu in emus:
            emu.wait_prompt(self.args.boot_timeout)
        self.note("%d x %s on %s%s, boot %s s wall"
                  % (n, emu_kind, net, " ips=%d" % ips if emu_kind == "bochs" else "",
                     "/".join("%.1f" % e.boot_wall_s for e in emus)))
        return emus

    def note(self, text):
        self.notes.append(text)

    def begin(self, name):
        self.test_name = name
        self._own = []
        self._own_count = 0
        self.notes = []
        self._used_shared = False

    def end(self, ok):
        """Kill this test's own instances; on failure also retire the shared one."""
        used = list(self._own)
        for inst in reversed(self._own):  # emulators before the hub they use
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
