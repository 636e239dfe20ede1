"""Networks of civic instances for multi-host tests (Python 3, standard library only).

Each instance gets Nic objects (Emulator(..., nics=[...])); a Nic knows its bochsrc line and its
QEMU arguments. The networks:

- Bochs: bxhub (Hub) joins up to 5 instances. The socket ethmod uses two UDP ports per instance:
  instance i receives on base+2i (its `ethdev`, bound by Bochs) and sends to base+2i+1 (bound by
  bxhub). bxhub answers DHCP (10.0.2.15 and up, in the order guests first speak), ARP and ping for
  its own address 10.0.2.2 (MAC b0:c4:20:00:00:0f), and drops multicast and unicast to MACs it has
  not seen yet. Bochs moves one frame per emulated millisecond, so `ips` sets the line rate.
- QEMU: two instances joined by a TCP socket netdev (qemu_socket_pair: the first listens, the
  second connects; QEMU opens the listening socket before it waits for the serial console, so the
  listener is up once the first instance's console is connected), or one instance with user-mode
  networking (qemu_user: DHCP and gateway 10.0.2.2, the guest 10.0.2.15).

    with Hub(workdir, ports=2) as hub:
        a = Bochs(iso, dir_a, nics=[hub.nic(0, mac_for(0))]).start()
"""

import os
import shutil
import subprocess
import time

from civic_emu import EmulatorError, _die_with_parent, free_tcp_port, free_udp_port_range

HUB_MAC = "b0:c4:20:00:00:0f"
HUB_MAX_PORTS = 5  # Debian's bxhub refuses -ports=6 ("out of range") despite its --help
HUB_START_TIMEOUT = 10.0


def mac_for(i):
    """The MAC of instance i of a test network: 52:54:00:c1:00:01, :02, ..."""
    if not 0 <= i < 255:
        raise EmulatorError("instance index %d out of range" % i)
    return "52:54:00:c1:00:%02x" % (i + 1)


class Nic:
    """One e1000 NIC of one instance. Bochs: `hub_port` is the UDP port the instance receives on
    (Hub.port_for(i)). QEMU: `netdev` is the -netdev backend and its options without the id, e.g.
    "user", "socket,listen=127.0.0.1:P" or "socket,connect=127.0.0.1:P"."""

    def __init__(self, mac, hub_port=None, netdev=None):
        if mac.lower() == HUB_MAC:
            raise EmulatorError("MAC %s is bxhub's own" % mac)
        self.mac = mac
        self.hub_port = hub_port
        self.netdev = netdev

    def bochsrc_line(self, card=0):
        if self.hub_port is None:
            raise EmulatorError("NIC %s has no bxhub port (Bochs NICs join a Hub)" % self.mac)
        # card= selects one of Bochs's four e1000s; card 0 is the default and stays implicit.
        card_opt = "card=%d, " % card if card else ""
        return ("e1000: %senabled=1, mac=%s, ethmod=socket, ethdev=%d"
                % (card_opt, self.mac, self.hub_port))

    def qemu_args(self, index=0):
        if self.netdev is None:
            raise EmulatorError("NIC %s has no QEMU netdev" % self.mac)
        netdev_id = "n%d" % index
        return ["-netdev", "%s,id=%s" % (self.netdev, netdev_id),
                "-device", "e1000,netdev=%s,mac=%s" % (netdev_id, self.mac)]

    def __repr__(self):
        return "Nic(%s, hub_port=%s, netdev=%s)" % (self.mac, self.hub_port, self.netdev)


def udp_ports_bound():
    """Local UDP ports bound by anyone on this host (from /proc/net/udp and udp6)."""
    ports = set()
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(name) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 1:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


class Hub:
    """bxhub joining 2 to 5 Bochs instances; instance i uses nic(i, mac) (ethdev=port_for(i)).

    start() picks a free range of 2*ports UDP ports, starts bxhub and returns once it has bound
    its ports (read from /proc, never by probing them, which could steal a port from bxhub while
    it starts). It has the interface of an emulator instance as far as cleanup goes: workdir,
    kill() (= stop()), remove_workdir(), so a test's Context can own it like an instance."""

    kind = "bxhub"

    def __init__(self, workdir, ports=2, tftp_root=None, loglev=1):
        if not 2 <= ports <= HUB_MAX_PORTS:
            raise EmulatorError("bxhub joins 2 to %d instances, not %d" % (HUB_MAX_PORTS, ports))
        self.workdir = os.path.abspath(workdir)
        self.ports = ports
        self.tftp_root = tftp_root
        self.loglev = loglev
        self.base = None
        self.proc = None

    def port_for(self, i):
        """The UDP port instance i receives on: its bochsrc `ethdev`."""
        if not 0 <= i < self.ports:
            raise EmulatorError("bxhub has %d ports, no port %d" % (self.ports, i))
        return self.base + 2 * i

    def nic(self, i, mac):
        return Nic(mac, hub_port=self.port_for(i))

    def _hub_ports(self):
        return {self.base + 2 * i + 1 for i in range(self.ports)}

    def start(self, attempts=3):
        if not shutil.which("bxhub"):
            raise EmulatorError("bxhub is not installed (Debian package bochs)")
        os.makedirs(self.workdir, exist_ok=True)
        last = None
        for _ in range(attempts):
            self.base = free_udp_port_range(2 * self.ports)
            args = ["bxhub", "-ports=%d" % self.ports, "-base=%d" % self.base,
                    "-loglev=%d" % self.loglev,
                    "-logfile=%s" % os.path.join(self.workdir, "bxhub.log")]
            if self.tftp_root:
                args.append("-tftp=%s" % self.tftp_root)
            with open(os.path.join(self.workdir, "bxhub.out"), "wb") as out:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT, cwd=self.workdir,
                                             preexec_fn=_die_with_parent)
            try:
                self._wait_up()
                return self
            except EmulatorError as e:
                last = e
                self.stop()
        raise last

    def _wait_up(self):
        deadline = time.monotonic() + HUB_START_TIMEOUT
        want = self._hub_ports()
        while True:
            if self.proc.poll() is not None:
                raise EmulatorError("bxhub exited with status %d at start; see %s"
                                    % (self.proc.returncode, self.workdir))
            if want <= udp_ports_bound():
                return
            if time.monotonic() > deadline:
                raise EmulatorError("bxhub did not bind UDP ports %s within %.0f s"
                                    % (sorted(want), HUB_START_TIMEOUT))
            time.sleep(0.02)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    kill = stop

    def remove_workdir(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


BxHub = Hub


def qemu_socket_pair(macs):
    """NICs for two QEMU instances joined by a TCP socket netdev: start the first (the listener)
    before the second. The listening port was free a moment ago (QEMU fails at once if it is
    not, and the caller's start() reports it)."""
    if len(macs) != 2:
        raise EmulatorError("a QEMU socket netdev joins exactly 2 instances")
    port = free_tcp_port()
    return [Nic(macs[0], netdev="socket,listen=127.0.0.1:%d" % port),
            Nic(macs[1], netdev="socket,connect=127.0.0.1:%d" % port)]


def qemu_user(mac):
    """A NIC on QEMU's user-mode network: DHCP server and gateway 10.0.2.2, guest 10.0.2.15."""
    return Nic(mac, netdev="user")
