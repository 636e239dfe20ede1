"""System tests of network paging (issue 6): civic instances under Bochs on one Ethernet (bxhub),
one running a VM whose local limit is a quarter of its working set, the others lending memory
(`store`). The guests verify every word they read back, so a lost or stale page fails them.
Needs VMX: Bochs only.

Waits are generous timeouts on conditions (hang guards), never bounds on performance."""

import re
import time

from guest_tests_qemu import memtest_checksum
from systest import COMMAND_TIMEOUT, Skip, check, kv, show, test
from tests_net import need_commands
from tests_peer import peer_lines, wait_log
from tests_vm import vm_facts

IPS = ["10.0.6.1", "10.0.6.2", "10.0.6.3"]
# Under Bochs (sync=none) an idle instance's clock races ahead of a busy one's (tests_peer.py
# says why), and an owner whose vCPU waits for a page is idle: a lender that takes a tenth of a
# second of wall time to answer looks silent for seconds. Every instance gets a loss bound of
# 120 s of its own emulated time (a killed peer is still found quickly: the waiting owner's
# clock races).
LOST_MS = 120000
RUN_TIMEOUT = 900.0
# memtest over 8 MiB (from 2 MiB) in a 12 MiB VM whose local limit is 2 MiB: 4x.
MEMTEST_MIB = 8
LOCAL = "2M"
LOCAL_PAGES = 512
HOST_LOW_MIB = 64  # the owner's RAM in the host-memory test


def need_bochs(ctx):
    if ctx.args.emu != "bochs":
        raise Skip("network paging needs VMX: Bochs only")
    if not ctx.args.test_iso:
        raise Skip("no --test-iso given")


def cluster(ctx, n, store="64M", mem=None):
    """n instances joined by bxhub; instance 0 (the owner) peers with the others, which lend
    `store` each. Returns the emulators. mem: the instances' RAM in MiB (default the harness's)."""
    need_bochs(ctx)
    more = {"mem": mem} if mem else {}
    emus = ctx.boot_many(n, net="hub", iso=ctx.args.test_iso, **more)
    need_commands(emus, "store", "remote")
    for i, (e, ip) in enumerate(zip(emus, IPS)):
        lines = e.console.command("net set ip=%s/24" % ip, COMMAND_TIMEOUT)
        check(kv(lines).get("ip") == ip, "net set printed:\n%s" % show(lines))
        e.console.command("peer set lost_ms=%d" % LOST_MS, COMMAND_TIMEOUT)
        if i:
            lines = e.console.command("store %s" % store, COMMAND_TIMEOUT)
            check("capacity_pages" in kv(lines), "store printed:\n%s" % show(lines))
    owner = emus[0]
    for ip in IPS[1:n]:
        lines = owner.console.command("peer add %s" % ip, COMMAND_TIMEOUT)
        peers = peer_lines(lines)
        check(peers and peers[0].get("state") == "established", "peer add printed:\n%s"
              % show(lines))
    facts = kv(owner.console.command("remote", COMMAND_TIMEOUT))
    check(facts.get("holders_up") == str(n - 1), "remote on the owner:\n%s" % facts)
    return emus


def create(con, name, module, *options):
    lines = con.command(" ".join(("vm create", name, module) + options), COMMAND_TIMEOUT)
    check(lines and lines[0].startswith("vm=%s " % name), "vm create printed:\n%s" % show(lines))
    lines = con.command("vm start %s" % name, COMMAND_TIMEOUT)
    check(lines == ["vm=%s state=running" % name], "vm start printed:\n%s" % show(lines))


def stats(con, name):
    return kv(con.command("vm stats %s" % name, COMMAND_TIMEOUT))


def wait_state(con, name, states, timeout=RUN_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        facts = vm_facts(con, name)
        check(facts, "VM %s is not listed" % name)
        if facts.get("state") in states:
            return facts
        if time.monotonic() > deadline:
            log = con.command("vm log %s" % name, COMMAND_TIMEOUT)
            raise AssertionError("VM %s not %s within %d s; stats:\n%s\nconsole:\n%s"
                                 % (name, "/".join(states), timeout, stats(con, name),
                                    show(log[-15:])))
        time.sleep(1.0)


def guest_log(con, name):
    return "\n".join(con.command("vm log %s" % name, COMMAND_TIMEOUT))


def wait_guest(con, name, regex, what, timeout=RUN_TIMEOUT):
    """Waits for a line of the guest's console (`vm log`) matching regex; returns the match."""
    deadline = time.monotonic() + timeout
    while True:
        text = guest_log(con, name)
        m = re.search(regex, text, re.M)
        if m:
            return m
        state = vm_facts(con, name).get("state")
        check(state == "running", "VM %s is %s while waiting for %s; stats:\n%s\nconsole:\n%s"
              % (name, state, what, stats(con, name), text[-1500:]))
        check(time.monotonic() < deadline, "%s not seen within %d s; console:\n%s"
              % (what, timeout, text[-1500:]))
        time.sleep(1.0)


def check_memtest(text, passes, mib=MEMTEST_MIB):
    for p in range(1, passes + 1):
        want = "memtest: pass %d ok checksum=%08x" % (p, memtest_checksum(mib, p))
        check(want in text.splitlines(), "no %r in:\n%s" % (want, text[-1500:]))
    check("memtest: done passes=%d errors=0" % passes in text, text[-1500:])


def check_paged(st, what):
    """Most of the working set went to a peer and came back, within the limit."""
    check(int(st["evictions"]) > 0 and int(st["pages_in"]) > 0 and int(st["remote_faults"]) > 0,
          "%s: no paging in vm stats: %s" % (what, st))
    check(int(st["local_pages"]) <= int(st["limit_pages"]) + 64,
          "%s: local pages above the limit: %s" % (what, st))
    check(int(st["checksum_errors"]) == 0, "%s: checksum errors: %s" % (what, st))


@test
def paging_memtest_4x_local(ctx):
    owner, lender = cluster(ctx, 2)
    passes = 3
    create(owner.console, "m", "memtest", "mem=12M", "local=%s" % LOCAL,
           'cmdline="mib=%d passes=%d"' % (MEMTEST_MIB, passes))
    # While it runs: most of its memory is on the peer, and the peer's store says whose it is.
    deadline = time.monotonic() + RUN_TIMEOUT
    while int(stats(owner.console, "m").get("remote_pages", 0)) < 1024:
        check(time.monotonic() < deadline, "remote_pages never reached 1024: %s"
              % stats(owner.console, "m"))
        check(vm_facts(owner.console, "m").get("state") == "running", "VM left running: %s"
              % stats(owner.console, "m"))
        time.sleep(1.0)
    store = kv(lender.console.command("store", COMMAND_TIMEOUT))
    check(int(store["used_pages"]) >= 1024, "the lender's store: %s" % store)
    wait_state(owner.console, "m", ("stopped",))
    text = guest_log(owner.console, "m")
    check_memtest(text, passes)
    st = stats(owner.console, "m")
    check_paged(st, "memtest")
    mem = kv(owner.console.command("mem", COMMAND_TIMEOUT))
    check("borrowed_pages" in mem, "mem has no borrowed_pages: %s" % mem)
    # Destroying the VM frees its pages on the peer.
    owner.console.command("vm destroy m", COMMAND_TIMEOUT)
    deadline = time.monotonic() + 60
    while int(kv(lender.console.command("store", COMMAND_TIMEOUT))["used_pages"]):
        check(time.monotonic() < deadline, "the store still holds pages after vm destroy")
        time.sleep(1.0)
    ctx.note("memtest %d MiB x%d passes at local %s: evictions=%s zero=%s clean=%s faults=%s "
             "readahead %s/%s, fault median %s us p99 %s us"
             % (MEMTEST_MIB, passes, LOCAL, st["evictions"], st["evict_zero"],
                st["evict_clean"], st["remote_faults"], st["readahead_hits"],
                st["readahead_pages"], int(st["fault_ns_median"]) // 1000,
                int(st["fault_ns_p99"]) // 1000))


@test
def paging_host_low_on_memory(ctx):
    """Two VMs without limits that together want more than the host has: civic evicts from
    them before a frame allocation fails, and both finish verified."""
    owner, _ = cluster(ctx, 2, mem=HOST_LOW_MIB)
    free = int(kv(owner.console.command("mem", COMMAND_TIMEOUT))["free_frames"])
    mib = max(4, (free // 256 - 8) * 5 // 8)  # each fits; both do not
    for name in ("a", "b"):
        create(owner.console, name, "memtest", "mem=%dM" % (mib + 4),
               'cmdline="mib=%d passes=1"' % mib)
    for name in ("a", "b"):
        facts = wait_state(owner.console, name, ("stopped",))
        check(facts.get("exit_code") == "1", "VM %s: %s\n%s"
              % (name, facts, guest_log(owner.console, name)[-1500:]))
        check_memtest(guest_log(owner.console, name), 1, mib)
    evicted = sum(int(stats(owner.console, n)["evictions"]) for n in ("a", "b"))
    check(evicted > 0, "nothing was evicted with %d free frames and 2 x %d MiB" % (free, mib))
    ctx.note("host of %d MiB, %d frames free: 2 x memtest %d MiB, %d pages evicted"
             % (HOST_LOW_MIB, free, mib, evicted))


@test
def paging_kvstore_4x_local(ctx):
    owner, _ = cluster(ctx, 2)
    create(owner.console, "kv", "kvstore", "mem=8M", "local=1M", 'cmdline="mib=4 ops=20000"')
    facts = wait_state(owner.console, "kv", ("stopped",))
    text = guest_log(owner.console, "kv")
    check(facts.get("exit_code") == "1", "kvstore exit %s:\n%s" % (facts, text[-1500:]))
    m = re.search(r"^kvstore: done ops=20000 .* errors=0 table_mib=4 .*ops_per_s=(\d+)", text,
                  re.M)
    check(m, "kvstore's console:\n%s" % text[-1500:])
    st = stats(owner.console, "kv")
    check_paged(st, "kvstore")
    ctx.note("kvstore 4 MiB at local 1 MiB: %s ops/s, faults=%s evictions=%s"
             % (m.group(1), st["remote_faults"], st["evictions"]))


@test
def paging_limit_shrink_and_grow(ctx):
    owner, _ = cluster(ctx, 2)
    create(owner.console, "m", "memtest", "mem=12M", 'cmdline="mib=%d passes=0"' % MEMTEST_MIB)
    wait_guest(owner.console, "m", r"^memtest: pass 1 ok", "memtest's first pass")
    before = stats(owner.console, "m")
    check(int(before["remote_pages"]) == 0 and int(before["local_pages"]) > 2048,
          "before the limit: %s" % before)
    lines = owner.console.command("vm limit m %s" % LOCAL, COMMAND_TIMEOUT)
    facts = dict(re.findall(r"(\w+)=(\S+)", " ".join(lines)))
    check(facts.get("limit_pages") == str(LOCAL_PAGES), "vm limit printed:\n%s" % show(lines))
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        st = stats(owner.console, "m")
        if int(st["local_pages"]) <= LOCAL_PAGES and int(st["remote_pages"]) > 1024:
            break
        check(time.monotonic() < deadline, "never shrank to the limit: %s" % st)
        time.sleep(1.0)
    # It keeps passing under the small limit, then grows back without sending anything more.
    text = guest_log(owner.console, "m")
    done = len(re.findall(r"^memtest: pass \d+ ok", text, re.M))
    wait_guest(owner.console, "m", r"^memtest: pass %d ok" % (done + 1), "a pass under the limit")
    owner.console.command("vm limit m 12M", COMMAND_TIMEOUT)
    wait_guest(owner.console, "m", r"^memtest: pass %d ok" % (done + 2), "a pass after growing")
    st = stats(owner.console, "m")
    text = guest_log(owner.console, "m")
    check("FAILED" not in text and "mismatch" not in text, text[-1500:])
    # Every page memtest touches is local again; a few the guest touched only at start (its
    # boot structures) stay with the peer until touched.
    check(int(st["local_pages"]) > 2048 and int(st["remote_pages"]) < 32,
          "after growing, the working set is local again: %s" % st)
    owner.console.command("vm destroy m", COMMAND_TIMEOUT)


@test
def paging_peer_killed(ctx):
    owner, lender = cluster(ctx, 2)
    create(owner.console, "m", "memtest", "mem=12M", "local=%s" % LOCAL,
           'cmdline="mib=%d passes=0"' % MEMTEST_MIB)
    wait_guest(owner.console, "m", r"^memtest: pass 1 ok", "memtest's first pass")
    held = int(stats(owner.console, "m")["remote_pages"])
    check(held > 1024, "before the kill the peer holds %d pages" % held)
    lender.kill()
    m = wait_log(owner, r"vm m: paused: guest-physical 0x[0-9a-f]+ is on peer %s \(id 0x[0-9a-f]+\),"
                 r" which is (lost|not connected); (\d+) pages of this VM are held there"
                 % re.escape(IPS[1]), RUN_TIMEOUT, "the pause naming the lost peer")
    check(int(m.group(2)) > 1024, "pages at risk: %s" % m.group(0))
    facts = vm_facts(owner.console, "m")
    check(facts.get("state") == "paused", "the VM is not paused: %s" % facts)
    # The host is fine: its shell answers and another VM runs to completion.
    lines = owner.console.command("vm create h hello", COMMAND_TIMEOUT)
    check(lines and lines[0].startswith("vm=h "), show(lines))
    owner.console.command("vm start h", COMMAND_TIMEOUT)
    check(wait_state(owner.console, "h", ("stopped",), 120).get("exit_code") == "1",
          "hello did not pass while m is paused")
    text = guest_log(owner.console, "m")
    check("FAILED" not in text and "mismatch" not in text, text[-1500:])
    ctx.note("paused with: %s" % m.group(0))


@test
def paging_replicas_survive_a_peer(ctx):
    owner, first, _ = cluster(ctx, 3)
    passes = 4
    create(owner.console, "m", "memtest", "mem=12M", "local=%s" % LOCAL, "replicas=2",
           'cmdline="mib=%d passes=%d"' % (MEMTEST_MIB, passes))
    wait_guest(owner.console, "m", r"^memtest: pass 1 ok", "memtest's first pass")
    first.kill()
    facts = wait_state(owner.console, "m", ("stopped", "paused"))
    check(facts.get("state") == "stopped", "the VM %s: %s" % (facts.get("state"),
                                                              stats(owner.console, "m")))
    check_memtest(guest_log(owner.console, "m"), passes)


@test
def paging_full_store_keeps_pages(ctx):
    owner, lender = cluster(ctx, 2, store="1M")
    create(owner.console, "m", "memtest", "mem=12M", "local=%s" % LOCAL,
           'cmdline="mib=%d passes=2"' % MEMTEST_MIB)
    wait_state(owner.console, "m", ("stopped",))
    check_memtest(guest_log(owner.console, "m"), 2)
    st = stats(owner.console, "m")
    check(int(st["put_refused"]) > 0, "no copy was refused: %s" % st)
    store = kv(lender.console.command("store", COMMAND_TIMEOUT))
    check(int(store["used_pages"]) <= 256, "the store took more than its capacity: %s" % store)
    wait_log(owner, r"vm m: no peer takes pages now; running above its local limit", 10,
             "the over-limit warning")


@test
def paging_corrupt_page_pauses(ctx):
    owner, lender = cluster(ctx, 2)
    create(owner.console, "m", "memtest", "mem=12M", "local=%s" % LOCAL,
           'cmdline="mib=%d passes=0"' % MEMTEST_MIB)
    wait_guest(owner.console, "m", r"^memtest: pass 1 ok", "memtest's first pass")
    lines = lender.console.command("store corrupt 4096", COMMAND_TIMEOUT)
    check(int(kv(lines).get("corrupted", 0)) > 0, "store corrupt printed:\n%s" % show(lines))
    wait_log(owner, r"vm m: paused: page 0x[0-9a-f]+ \(guest-physical 0x[0-9a-f]+\) from peer "
             r"%s failed its checksum" % re.escape(IPS[1]), RUN_TIMEOUT, "the checksum pause")
    text = guest_log(owner.console, "m")
    check("FAILED" not in text and "mismatch" not in text, "the guest saw bad data:\n%s"
          % text[-1500:])
