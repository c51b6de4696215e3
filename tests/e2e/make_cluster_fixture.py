#!/usr/bin/env python3
"""make_cluster_fixture.py — the 7-node cluster of tests/fixtures/pve7 as seven
node trees, for tests/e2e/cluster.sh (python3 stdlib only).

  make FIXTURES OUT     writes OUT/<node>/{pve,proc,sys,run} for pve1..pve7
  tick OUT              runs until SIGTERM, advancing the live counters in
                        place (every TICK_SECONDS); exits 0

Nothing under tests/fixtures is modified: every node gets a copy of
host1/proc and host1/sys, its own /etc/pve view (its own .members, the rest
symlinked to pve7/), and generated guest runtime (pid files, /proc/<pid>,
cgroup v2 files, tap/veth rows in /proc/net/dev) in the layout
tests/fixtures/guests/README.md describes.

The values below are the INPUT of the test. cluster.sh writes the values it
expects by hand, from this table and from the guest configs; nothing here
computes an expected metric.

Live counters (the only files that change while the test runs, rewritten in
place at the same length so the agent's kept descriptors see them):
  - every node's /proc/stat "cpu" line: per tick user += A, idle += B, so
    Δused/Δtotal over any number of ticks is exactly A/(A+B) (NODE_CPU);
  - VM 100 on pve1: cgroup usage_usec grows 2 CPU-seconds per second; its
    tap100i0 counters and its io.stat lines grow at constant rates.
"""
import os
import shutil
import signal
import sys
import time

HZ = 100
# Every node's /proc/uptime. .50 is exact in binary, and so is every guest's
# uptime below (uptime − starttime/HZ with starttime = (UPTIME − up)·HZ).
UPTIME = 1206362.5
TICK_SECONDS = 0.05

NODES = ["pve1", "pve2", "pve3", "pve4", "pve5", "pve6", "pve7"]
AGENT_NODES = ["pve1", "pve2", "pve3", "pve4", "pve5", "pve7"]   # pve6 is offline

# Node CPU per tick: (user += A, idle += B) -> pve_cpu_usage_ratio A/(A+B).
NODE_CPU = {"pve1": (3, 7), "pve2": (1, 3), "pve3": (1, 9), "pve4": (1, 4),
            "pve5": (3, 2), "pve7": (5, 5)}

# Live VM 100 (pve1).
LIVE_CPU_BASE_USEC = 5_000_000_000_000      # 13 digits for ~50 days at 2 CPUs
LIVE_CPU_PER_SEC = 2_000_000                # 2 CPUs busy; VM 100 has 4 -> ratio 0.5
LIVE_TAP_RX_BASE, LIVE_TAP_RX_PER_SEC = 2_000_000_000, 250_000     # guest sends (netout)
LIVE_TAP_TX_BASE, LIVE_TAP_TX_PER_SEC = 3_000_000_000, 1_000_000   # guest receives (netin)
LIVE_RBYTES_BASE, LIVE_RBYTES_PER_SEC = 10_000_000_000, 4_194_304
LIVE_WBYTES_BASE, LIVE_WBYTES_PER_SEC = 20_000_000_000, 1_048_576

# Guest runtime per node. uptime in seconds; cpu in usage_usec; memory.current
# = mem + file (so memhost = mem); io: io.stat lines; nics: (name, host rx
# bytes, host tx bytes, host tx drops). "live": VM 100's counters move.
QEMU, LXC = "qemu", "lxc"
RUNNING = {
    "pve1": [
        dict(vmid=100, kind=QEMU, pid=10100, name="web01", uptime=86400, cpu=LIVE_CPU_BASE_USEC,
             mem=4294967296, file=268435456, live=True,
             psi=(1500000, 250000, 125000, 2000000, 1000000),
             nics=[("tap100i0", LIVE_TAP_RX_BASE, LIVE_TAP_TX_BASE, 0), ("tap100i1", 1000, 2000, 0)]),
        dict(vmid=101, kind=LXC, pid=10102, monitor=10101, uptime=3600, cpu=123456789,
             mem=805306368, file=268435456, limit=2147483648, swap=1048576,
             io=["252:21 rbytes=1048576 wbytes=4194304 rios=16 wios=64 dbytes=0 dios=0"],
             nics=[("veth101i0", 5000000, 7000000, 0)]),
        # the migration's source: .vmlist still places 105 here (lock: migrate)
        dict(vmid=105, kind=QEMU, pid=10105, name="mig01", uptime=7200, cpu=7200000000,
             mem=1073741824, file=536870912, io=[],
             nics=[("tap105i0", 105000, 205000, 0)]),
    ],
    "pve2": [
        dict(vmid=200, kind=QEMU, pid=20200, name="app01", uptime=172800, cpu=9876543210,
             mem=5368709120, file=1073741824,
             io=["8:16 rbytes=5242880 wbytes=10485760 rios=40 wios=80 dbytes=0 dios=0"],
             nics=[("tap200i0", 1000000, 3000000, 7), ("tap200i1", 500, 700, 0)]),
        # no children list: the init is found through lxc/201/ns/init.scope
        dict(vmid=201, kind=LXC, pid=20202, monitor=20201, uptime=600, cpu=60000000,
             mem=1073741824, file=1073741824, limit=4294967296, swap=0, no_children=True,
             io=[], nics=[("veth201i0", 4000, 6000, 0)]),
        # the migration's target: an incoming QEMU for 105 (not placed here)
        dict(vmid=105, kind=QEMU, pid=20105, name="mig01", uptime=60, cpu=1000000,
             mem=268435456, file=0, incoming=True,
             io=["252:40 rbytes=999 wbytes=999 rios=1 wios=1 dbytes=0 dios=0"],
             nics=[("tap105i0", 1, 2, 0)]),
    ],
    "pve3": [
        dict(vmid=300, kind=QEMU, pid=30300, name="k8s-cp01", uptime=250000, cpu=1000000000,
             mem=4294967296, file=0, io=[], nics=[("tap300i0", 10, 20, 0)]),
    ],
    "pve7": [
        dict(vmid=700, kind=QEMU, pid=70700, name="mail01", uptime=1000, cpu=5000000,
             mem=2147483648, file=1073741824, io=[], nics=[("tap700i0", 70000, 71000, 0)]),
        dict(vmid=703, kind=LXC, pid=70704, monitor=70703, uptime=50, cpu=1000,
             mem=67108864, file=67108864, limit=268435456, swap=0,
             io=[], nics=[("veth703i0", 300, 400, 0)]),
        # a leftover QEMU of 202, which .vmlist places on pve2 (stopped there)
        dict(vmid=202, kind=QEMU, pid=70202, name="app02", uptime=30, cpu=1000,
             mem=1073741824, file=0, io=[], nics=[("tap202i0", 9, 9, 0)]),
    ],
}

# Stale pid files on pve1: 102 names sshd, 103 a pid that does not exist.
STALE_PIDFILES = {"pve1": [(102, 2999, "sshd", b"/usr/sbin/sshd\0-D\0"), (103, 31337, None, None)]}

# VM 100's disk: a thin LV on pve/data (host1's dm-2..dm-5 over nvme0n1p3).
# io.stat lists the LV and, with the same bytes, the tdata device and the
# NVMe below it: counted once, only the LV line is the guest's I/O.
DM_STACK = {
    "252:5": ("pve-vm--100--disk--0", ["dm-4"]),
    "252:4": ("pve-data-tpool", ["dm-2", "dm-3"]),
    "252:3": ("pve-data_tdata", ["nvme0n1p3"]),
    "252:2": ("pve-data_tmeta", ["nvme0n1p3"]),
}
LIVE_IO_DEVICES = ["252:5", "252:3", "259:0"]

HOST_NET_ROWS = ["lo", "eno1", "eno2", "bond0", "vmbr0"]


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def stat_line(pid, comm, ppid, starttime):
    return ("%d (%s) S %d %d %d 0 -1 138412352 4881204 0 1803 0 69211145 9211786 0 0 20 0 11 0 %d "
            "10285813760 1826988 18446744073709551615 1 1 0 0 0 0 268444224 4096 16963 0 0 0 17 7 "
            "0 0 0 0 0 0 0 0 0 0 0 0 0\n" % (pid, comm, ppid, pid, pid, starttime))


def starttime_of(uptime):
    ticks = (UPTIME - uptime) * HZ
    assert ticks == int(ticks)
    return int(ticks)


def cpu_stat(usage):
    user = usage * 7 // 10
    return ("usage_usec %d\nuser_usec %d\nsystem_usec %d\ncore_sched.force_idle_usec 0\n"
            "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"
            % (usage, user, usage - user))


def psi(some, full):
    return ("some avg10=0.00 avg60=0.00 avg300=0.00 total=%d\n"
            "full avg10=0.00 avg60=0.00 avg300=0.00 total=%d\n" % (some, full))


def live_values(t):
    """VM 100's counters t seconds after the ticker started."""
    return dict(
        cpu=LIVE_CPU_BASE_USEC + int(t * LIVE_CPU_PER_SEC),
        rx=LIVE_TAP_RX_BASE + int(t * LIVE_TAP_RX_PER_SEC),
        tx=LIVE_TAP_TX_BASE + int(t * LIVE_TAP_TX_PER_SEC),
        rbytes=LIVE_RBYTES_BASE + int(t * LIVE_RBYTES_PER_SEC),
        wbytes=LIVE_WBYTES_BASE + int(t * LIVE_WBYTES_PER_SEC),
        ios=1000 + int(t * 100),
    )


def live_io_stat(v):
    return "".join("%s rbytes=%d wbytes=%d rios=%d wios=%d dbytes=0 dios=0\n"
                   % (dev, v["rbytes"], v["wbytes"], v["ios"], v["ios"]) for dev in LIVE_IO_DEVICES)


def net_dev(host_text, guests, live=None):
    """host1's header and node rows (its tap/veth/fw rows dropped) plus the guests' rows."""
    lines = host_text.split("\n")
    out = lines[:2]
    for line in lines[2:]:
        name = line.split(":", 1)[0].strip()
        if name in HOST_NET_ROWS:
            out.append(line)
    for g in guests:
        for (nic, rx, tx, txdrop) in g["nics"]:
            if live and nic == "tap100i0":
                rx, tx = live["rx"], live["tx"]
            out.append("%9s: %d %d    0    0    0     0          0         0 %d %d    0 %4d    0     0       0          0"
                       % (nic, rx, rx // 1000 + 1, tx, tx // 1000 + 1, txdrop))
    return "\n".join(out) + "\n"


def proc_stat(host_text, node, k):
    a, b = NODE_CPU[node]
    lines = host_text.split("\n")
    f = lines[0].split()
    assert f[0] == "cpu"
    vals = [int(x) for x in f[1:]]
    vals[0] += a * k            # user
    vals[3] += b * k            # idle
    lines[0] = "cpu  " + " ".join(str(v) for v in vals)
    return "\n".join(lines)


def make_guest(root, g):
    proc, sysfs, run = (os.path.join(root, d) for d in ("proc", "sys", "run"))
    vmid, pid = g["vmid"], g["pid"]
    start = starttime_of(g["uptime"])
    if g["kind"] == QEMU:
        write(os.path.join(run, "qemu-server", "%d.pid" % vmid), "%d\n" % pid)
        argv = ["/usr/bin/kvm", "-id", str(vmid), "-name", "%s,debug-threads=on" % g["name"],
                "-no-shutdown", "-pidfile", "/var/run/qemu-server/%d.pid" % vmid, "-daemonize",
                "-smp", "4,sockets=1,cores=4,maxcpus=4"]
        if g.get("incoming"):
            argv += ["-incoming", "unix:/run/qemu-server/%d.migrate" % vmid, "-S"]
        write(os.path.join(proc, str(pid), "cmdline"), "\0".join(argv) + "\0")
        write(os.path.join(proc, str(pid), "stat"), stat_line(pid, "kvm", 1, start))
        cg = os.path.join(sysfs, "fs", "cgroup", "qemu.slice", "%d.scope" % vmid)
        write(os.path.join(cg, "memory.max"), "max\n")
    else:
        mon = g["monitor"]
        write(os.path.join(proc, str(mon), "stat"), stat_line(mon, "lxc-start", 1, start - 10))
        if not g.get("no_children"):
            write(os.path.join(proc, str(mon), "task", str(mon), "children"), "%d " % pid)
        write(os.path.join(proc, str(pid), "stat"), stat_line(pid, "init", mon, start))
        write(os.path.join(proc, str(pid), "cgroup"), "0::/lxc/%d/ns/init.scope\n" % vmid)
        write(os.path.join(sysfs, "fs", "cgroup", "lxc.monitor", str(vmid), "cgroup.procs"), "%d\n" % mon)
        cg = os.path.join(sysfs, "fs", "cgroup", "lxc", str(vmid))
        write(os.path.join(cg, "ns", "init.scope", "cgroup.procs"), "%d\n" % pid)
        write(os.path.join(cg, "ns", "cgroup.procs"), "")
        write(os.path.join(cg, "memory.max"), "%d\n" % g["limit"])
    live = live_values(0) if g.get("live") else None
    write(os.path.join(cg, "cpu.stat"), cpu_stat(live["cpu"] if live else g["cpu"]))
    write(os.path.join(cg, "memory.current"), "%d\n" % (g["mem"] + g["file"]))
    write(os.path.join(cg, "memory.stat"),
          "anon %d\nfile %d\nkernel 43511808\nshmem 0\nfile_mapped 0\nfile_dirty 0\n" % (g["mem"], g["file"]))
    write(os.path.join(cg, "memory.swap.current"), "%d\n" % g.get("swap", 0))
    write(os.path.join(cg, "io.stat"), live_io_stat(live) if live else "".join(l + "\n" for l in g["io"]))
    p = g.get("psi", (0, 0, 0, 0, 0))
    write(os.path.join(cg, "cpu.pressure"), psi(p[0], 0))
    write(os.path.join(cg, "io.pressure"), psi(p[1], p[2]))
    write(os.path.join(cg, "memory.pressure"), psi(p[3], p[4]))


def make_dm_stack(sysfs):
    for dev, (name, slaves) in DM_STACK.items():
        d = os.path.join(sysfs, "dev", "block", dev)
        write(os.path.join(d, "dm", "name"), name + "\n")
        write(os.path.join(d, "uevent"), "MAJOR=%s\nMINOR=%s\nDEVNAME=dm-%s\nDEVTYPE=disk\n"
              % (dev.split(":")[0], dev.split(":")[1], dev.split(":")[1]))
        for s in slaves:
            write(os.path.join(d, "slaves", s), "")
    write(os.path.join(sysfs, "dev", "block", "259:0", "uevent"),
          "MAJOR=259\nMINOR=0\nDEVNAME=nvme0n1\nDEVTYPE=disk\n")


def make_pve(fixtures, root, node):
    pve = os.path.join(root, "pve")
    os.makedirs(pve)
    src = os.path.join(fixtures, "pve7")
    for name in (".vmlist", "storage.cfg", "ha", "nodes"):
        os.symlink(os.path.join(src, name), os.path.join(pve, name))
    if node == "pve6":
        # pve6's isolated view: not quorate, everyone else offline
        shutil.copyfile(os.path.join(fixtures, "pve7-from-pve6", ".members"), os.path.join(pve, ".members"))
        return
    with open(os.path.join(src, ".members")) as f:
        text = f.read()
    assert '"nodename": "pve1",' in text
    write(os.path.join(pve, ".members"), text.replace('"nodename": "pve1",', '"nodename": "%s",' % node))


def make(fixtures, out):
    host = os.path.join(fixtures, "host1")
    with open(os.path.join(host, "proc", "net", "dev")) as f:
        host_netdev = f.read()
    with open(os.path.join(host, "proc", "stat")) as f:
        host_stat = f.read()
    for i, node in enumerate(NODES, 1):
        root = os.path.join(out, node)
        make_pve(fixtures, root, node)
        if node not in AGENT_NODES:
            continue
        shutil.copytree(os.path.join(host, "proc"), os.path.join(root, "proc"), symlinks=True)
        shutil.copytree(os.path.join(host, "sys"), os.path.join(root, "sys"), symlinks=True)
        os.makedirs(os.path.join(root, "run", "qemu-server"))
        write(os.path.join(root, "proc", "uptime"), "%.2f 17147921.33\n" % UPTIME)
        write(os.path.join(root, "proc", "sys", "kernel", "random", "boot_id"),
              "3f6c2a9e-8d41-4b7e-9a15-c02e7d5b4f%02d\n" % i)
        write(os.path.join(root, "proc", "stat"), proc_stat(host_stat, node, 0))
        guests = RUNNING.get(node, [])
        for g in guests:
            make_guest(root, g)
        for (vmid, pid, comm, cmdline) in STALE_PIDFILES.get(node, []):
            write(os.path.join(root, "run", "qemu-server", "%d.pid" % vmid), "%d\n" % pid)
            if comm:
                write(os.path.join(root, "proc", str(pid), "stat"), stat_line(pid, comm, 1, 500))
                write(os.path.join(root, "proc", str(pid), "cmdline"), cmdline)
        if node == "pve1":
            make_dm_stack(os.path.join(root, "sys"))
        write(os.path.join(root, "proc", "net", "dev"),
              net_dev(host_netdev, guests, live_values(0) if node == "pve1" else None))
    # keep what the ticker needs
    write(os.path.join(out, ".host-netdev"), host_netdev)
    write(os.path.join(out, ".host-stat"), host_stat)


class InPlace:
    """A file rewritten in place through one descriptor (same inode, so the
    agent's kept descriptors read the new text)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY)

    def put(self, text):
        data = text.encode()
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))


def tick(out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    with open(os.path.join(out, ".host-netdev")) as f:
        host_netdev = f.read()
    with open(os.path.join(out, ".host-stat")) as f:
        host_stat = f.read()
    stats = {n: InPlace(os.path.join(out, n, "proc", "stat")) for n in AGENT_NODES}
    cg = os.path.join(out, "pve1", "sys", "fs", "cgroup", "qemu.slice", "100.scope")
    cpu, io = InPlace(os.path.join(cg, "cpu.stat")), InPlace(os.path.join(cg, "io.stat"))
    netdev = InPlace(os.path.join(out, "pve1", "proc", "net", "dev"))
    t0 = time.monotonic()
    k = 0
    while not stop:
        k += 1
        for n, f in stats.items():
            f.put(proc_stat(host_stat, n, k))
        v = live_values(time.monotonic() - t0)
        cpu.put(cpu_stat(v["cpu"]))
        io.put(live_io_stat(v))
        netdev.put(net_dev(host_netdev, RUNNING["pve1"], v))
        time.sleep(TICK_SECONDS)
    sys.exit(0)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "tick":
        tick(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
