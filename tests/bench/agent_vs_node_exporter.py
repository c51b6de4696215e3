#!/usr/bin/env python3
"""agent_vs_node_exporter.py — measurement engine behind agent_vs_node_exporter.sh.

Compares one pvescope-agent collection cycle with one node_exporter scrape of
the same fixture tree (DESIGN §7). Run it through the .sh wrapper, which
resolves paths, owns the temporary directory and kills node_exporter on exit.

Python standard library only. Exit status: 0 = measured (budget lines say
PASS/FAIL), 1 = broken setup.
"""
import argparse
import collections
import http.client
import os
import re
import shlex
import signal
import socket
import statistics
import struct
import subprocess
import sys
import textwrap
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
NE_COLLECTORS = ["cpu", "stat", "meminfo", "loadavg", "diskstats", "netdev", "pressure"]
# --hardware: node_exporter's hwmon and nvme collectors against the agent's
# sensors and nvme collectors (its thinpool and zfs run too, finding nothing).
NE_HARDWARE_COLLECTORS = ["hwmon", "nvme"]
CPU_BUDGET_RATIO = 20.0          # DESIGN §7: >= 20x less CPU than node_exporter
RSS_BUDGET_KIB = 4 * 1024        # DESIGN §7: agent RSS <= 4 MiB
# The stages of an agent cycle, for the inclusive breakdown: each collector,
# then encoding, sealing and sending the report.
CYCLE_STAGE = re.compile(r"^([a-z]+_collect|pvescope__report__(get_packed_size|pack)|envelope_seal|sender_send_all)$")
NE_FW_DEVICES = "^fw(br|ln|pr)[0-9]"   # PVE firewall bridges and veth pairs
GUEST_DEVICES = re.compile(r"^(tap|veth|fwbr|fwln|fwpr)[0-9]")   # what PVE creates per guest NIC
FILE_SYSCALLS = {"openat", "open", "read", "pread64", "close", "newfstatat", "fstat", "statx",
                 "lseek", "getdents64", "readlinkat"}


class SetupError(Exception):
    pass


# One node's file tree: proc/ and sys/ under root (both programs read them),
# plus what only the agent reads: --path.pve and --path.run.
Tree = collections.namedtuple("Tree", "label root pve run")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# A minimal nanomsg PULL peer (SP over TCP): accept, swap the 8-byte protocol
# header, then read and discard length-prefixed messages. It stands in for the
# aggregator so the agent's send path does a real TCP write per cycle, the
# same way node_exporter's measured cost includes writing its HTTP response.
# It runs in this process; its CPU is not charged to the agent.
SP_HEADER_PULL = b"\x00SP\x00" + struct.pack(">H", 81) + b"\x00\x00"   # NN_PULL = 5*16+1


class ReportSink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.messages = 0
        self.bytes = 0
        self.last_size = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_exact(f, n):
        data = f.read(n)
        return data if data is not None and len(data) == n else None

    def _serve(self, conn):
        try:
            conn.sendall(SP_HEADER_PULL)
            f = conn.makefile("rb", buffering=1 << 16)
            hdr = self._read_exact(f, 8)
            if hdr is None or hdr[:4] != b"\x00SP\x00":
                return
            while True:
                lenb = self._read_exact(f, 8)
                if lenb is None:
                    return
                (n,) = struct.unpack(">Q", lenb)
                if self._read_exact(f, n) is None:
                    return
                with self.lock:
                    self.messages += 1
                    self.bytes += n
                    self.last_size = n
        except OSError:
            pass
        finally:
            conn.close()

    def snapshot(self):
        with self.lock:
            return self.messages, self.bytes, self.last_size


# --------------------------------------------------------------------------
def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_child(argv, timeout=600):
    """Runs argv as a direct child; returns (status, cpu_seconds, peak_rss_kib, stderr).

    CPU comes from wait4()'s rusage: user+sys of every thread, which the
    kernel derives from the precise runtime (not tick-rounded). Peak RSS is
    the child's own VmHWM, polled from /proc/<pid>/status until it exits:
    wait4()'s ru_maxrss cannot be used from here: the kernel keeps the larger
    of the pre-exec and post-exec high-water marks, and before exec the child
    is this ~10-20 MiB interpreter (checked: /bin/true "uses" 10 MiB).
    /usr/bin/time -v has the same effect with its own ~1 MiB."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    hwm = 0
    while True:
        try:
            hwm = max(hwm, proc_status_kib(p.pid, "VmHWM"))
        except (OSError, SetupError):
            pass                                   # exiting (zombie): no mm any more
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            raise SetupError("timed out: " + " ".join(argv))
        time.sleep(0.01)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    run_child.last_rusage = ru
    return p.returncode, ru.ru_utime + ru.ru_stime, hwm, err


def proc_cpu_seconds(pid):
    """utime+stime of a live process (all threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_task_runtime_seconds(pid):
    """Sum of the on-CPU time (ns precision) of every live thread of pid,
    from /proc/<pid>/task/*/schedstat."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise SetupError(f"{key} missing from /proc/{pid}/status")


def hwmon_inputs(root, kind):
    """How many <kind>N_input files the tree's sys/class/hwmon holds."""
    d = os.path.join(root, "sys", "class", "hwmon")
    return sum(1 for chip in os.listdir(d) for f in os.listdir(os.path.join(d, chip))
               if f.startswith(kind) and f.endswith("_input"))


def median(xs):
    return statistics.median(xs)


def spread(xs, fmt=".1f"):
    return f"{min(xs):{fmt}}..{max(xs):{fmt}}"


# --------------------------------------------------------------------------
class Bench:
    def __init__(self, a):
        self.a = a
        self.tree = Tree("fixture", a.fixture, a.pve, a.run or os.path.join(a.fixture, "run"))
        self.base = Tree("no guests", a.baseline, os.path.join(a.baseline, "etc/pve"),
                         os.path.join(a.baseline, "run")) if a.baseline else None
        self.key = os.path.join(a.workdir, "cluster.key")
        self.udev = os.path.join(a.workdir, "empty-udev-data")
        os.makedirs(self.udev, exist_ok=True)
        self.ne_proc = None
        self.sink = None
        self.ne_collectors = NE_COLLECTORS + (NE_HARDWARE_COLLECTORS if a.hardware else [])

    # ---- agent -------------------------------------------------------
    def tree_flags(self, tree):
        return [f"--node={self.a.node}", f"--path.procfs={tree.root}/proc", f"--path.sysfs={tree.root}/sys",
                f"--path.pve={tree.pve}", f"--path.run={tree.run}", f"--path.rootfs={tree.root}"] + \
            shlex.split(self.a.agent_args)

    def agent_argv(self, cycles, interval=0.001, tree=None):
        a = self.a
        return [a.agent, f"--key-file={self.key}", f"--aggregator=tcp://127.0.0.1:{self.sink.port}",
                f"--interval={round(interval * 1e3, 3):g}ms", f"--cycles={cycles}", "--log.level=error",
                "--cluster=bench"] + self.tree_flags(tree or self.tree)

    def agent_setup(self):
        a = self.a
        if not (os.path.isfile(a.agent) and os.access(a.agent, os.X_OK)):
            raise SetupError(f"agent binary not found: {a.agent} (build it, or pass the build dir)")
        r = subprocess.run([a.agent, f"--init-key={self.key}"], capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError("agent --init-key failed: " + r.stderr.strip())
        self.sink = ReportSink()
        for tree in filter(None, (self.tree, self.base)):
            dump = subprocess.run([a.agent, "--dump", "--log.level=warn"] + self.tree_flags(tree),
                                  capture_output=True, text=True)
            if dump.returncode != 0 or not dump.stdout.strip():
                raise SetupError(f"agent --dump on the {tree.label} tree failed: " + dump.stderr.strip())
            if dump.stderr.strip():
                log(f"note: agent --dump on the {tree.label} tree warned:\n  " +
                    dump.stderr.strip().replace("\n", "\n  "))
            if tree is self.tree:
                self.dump_guests = dump.stdout.count("\nguest_runtime: {")
            if self.a.hardware:
                want = hwmon_inputs(tree.root, "temp")
                got = dump.stdout.count("kind: 1\n")   # SENSOR_TEMPERATURE
                if got != want:
                    raise SetupError(f"the agent reads {got} temperatures, the hwmon tree has {want}: "
                                     "is /sys/class bind-mounted from the fixture (unshare -m)?")
            st, _, _, err = run_child(self.agent_argv(1, tree=tree))
            if st != 0:
                raise SetupError(f"agent --cycles=1 exited {st}: {err.strip()}")
            if err.strip():
                log("note: agent logged at --log.level=error:\n  " + err.strip().replace("\n", "\n  "))
        if a.guests is not None and self.dump_guests != a.guests:
            raise SetupError(f"the agent sees {self.dump_guests} running guests in {a.fixture}, not {a.guests}")

    def agent_cpu(self):
        """Per-cycle CPU as (cpu(N+1) - cpu(1)) / N, repeated; also peak RSS.
        With a baseline tree, each repetition measures both trees back to back,
        so drift of the machine hits both alike. Returns {tree: results}."""
        res = {}
        for rep in range(self.a.reps):
            for tree in filter(None, (self.tree, self.base)):
                r = res.setdefault(tree, {"per": [], "rss": [], "base": [], "delivered": [], "user": []})
                self.agent_cpu_once(tree, rep, r)
        return res

    def agent_cpu_once(self, tree, rep, r):
        """One repetition on one tree, appended to the lists in r."""
        a, n = self.a, self.a.agent_cycles
        st1, c1, _, e1 = run_child(self.agent_argv(1, tree=tree))
        ru1 = run_child.last_rusage
        m0 = self.sink.snapshot()[0]
        stn, cn, rn, en = run_child(self.agent_argv(n + 1, tree=tree))
        run = run_child.last_rusage
        time.sleep(0.05)                           # let the sink drain the last frames
        m1, _, size = self.sink.snapshot()
        if st1 != 0 or stn != 0:
            raise SetupError(f"agent exited {st1}/{stn}: {(e1 + en).strip()}")
        r["per"].append((cn - c1) / n)
        r["user"].append((run.ru_utime - ru1.ru_utime) / n)
        r["rss"].append(rn)
        r["base"].append(c1)
        r["delivered"].append(m1 - m0)
        r["bytes"] = size
        log(f"  agent{'' if tree is self.tree else ' (' + tree.label + ')'} rep {rep + 1}/{a.reps}: "
            f"{r['per'][-1] * 1e6:8.1f} us/cycle  (cycles=1: {c1 * 1e3:.2f} ms, cycles={n + 1}: {cn * 1e3:.1f} ms), "
            f"VmHWM {rn} KiB, {m1 - m0} reports received")
        if m1 - m0 < n // 2:
            log(f"warning: the sink received only {m1 - m0} of {n + 1} reports in one run")

    def agent_rss_time_v(self):
        """Peak RSS as /usr/bin/time -v reports it, printed as a cross-check."""
        if not os.access("/usr/bin/time", os.X_OK):
            return None
        r = subprocess.run(["/usr/bin/time", "-v"] + self.agent_argv(self.a.agent_cycles + 1),
                           capture_output=True, text=True)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        return int(m.group(1)) if m and r.returncode == 0 else None

    def agent_callgrind(self, tree=None):
        """Instructions per cycle: Ir(C+1 cycles) - Ir(1 cycle), / C; the same
        subtraction per function gives the steady-state profile."""
        a, tree = self.a, tree or self.tree
        if a.cg_cycles <= 0 or not a.valgrind:
            return None
        out = {}
        tag = "" if tree is self.tree else ".noguests"
        for cycles in (1, a.cg_cycles + 1):
            f = os.path.join(a.workdir, f"callgrind{tag}.{cycles}.out")
            argv = [a.valgrind, "--tool=callgrind", "--dump-instr=no", f"--callgrind-out-file={f}"] + \
                self.agent_argv(cycles, tree=tree)
            r = subprocess.run(argv, capture_output=True, text=True)
            if r.returncode != 0:
                raise SetupError("callgrind run failed:\n" + r.stderr[-2000:])
            ir = None
            with open(f) as fh:
                for line in fh:
                    if line.startswith("totals:") or (ir is None and line.startswith("summary:")):
                        ir = int(line.split()[1])
            if ir is None:
                raise SetupError(f"no totals in {f}")
            out[cycles] = (ir, f, self.callgrind_functions(f), self.callgrind_functions(f, inclusive=True))
        c = a.cg_cycles
        per = (out[c + 1][0] - out[1][0]) / c
        delta = {fn: (ir - out[1][2].get(fn, 0)) / c for fn, ir in out[c + 1][2].items()}
        top = sorted(((v, fn) for fn, v in delta.items() if v > 0), reverse=True)[:a.top]
        stages = [(fn, (out[c + 1][3].get(fn, 0) - out[1][3].get(fn, 0)) / c)
                  for fn in sorted(out[c + 1][3]) if CYCLE_STAGE.match(fn)]
        return {"ir1": out[1][0], "irn": out[c + 1][0], "per": per, "top": top, "file": out[c + 1][1],
                "stages": sorted(((v, fn) for fn, v in stages if v > 0), reverse=True)}

    @staticmethod
    def callgrind_functions(f, inclusive=False):
        """Ir per function from callgrind_annotate; {} when the tool is missing.
        Exclusive (own) Ir folds recursion levels ("fn'2") together. Inclusive
        Ir keeps only the outermost level, which already contains the others."""
        try:
            ann = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                                  "--threshold=100", f], capture_output=True, text=True)
        except OSError:
            return {}
        funcs = {}
        row = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+?)\s*$")
        for line in ann.stdout.splitlines():
            m = row.match(line)
            if not m or "PROGRAM TOTALS" in line:
                continue
            name = m.group(2)
            loc, _, obj = name.partition(" [")
            fn = loc.split(":", 1)[1] if ":" in loc else loc
            if inclusive:
                if not re.search(r"'\d+$", fn):
                    funcs[fn] = int(m.group(1).replace(",", ""))
                continue
            fn = re.sub(r"'\d+$", "", fn)
            key = f"{fn} [{os.path.basename(obj.rstrip(']'))}]" if obj else fn
            funcs[key] = funcs.get(key, 0) + int(m.group(1).replace(",", ""))
        return funcs

    # ---- system calls (strace -c), informative ------------------------
    @staticmethod
    def strace_totals(path):
        """{syscall: calls} from an strace -c summary file."""
        calls = {}
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                    try:
                        calls[parts[-1]] = int(parts[3])
                    except ValueError:
                        pass
        return calls

    def agent_syscalls(self, tree=None):
        a, n, tree = self.a, self.a.strace_cycles, tree or self.tree
        res = {}
        tag = "" if tree is self.tree else ".noguests"
        for cycles in (1, n + 1):
            f = os.path.join(a.workdir, f"strace.agent{tag}.{cycles}")
            r = subprocess.run([a.strace, "-f", "-c", "-o", f] + self.agent_argv(cycles, tree=tree),
                               capture_output=True, text=True)
            if r.returncode != 0:
                log("note: strace of the agent failed; syscall counts skipped")
                return None
            res[cycles] = self.strace_totals(f)
        return {k: (res[n + 1].get(k, 0) - res[1].get(k, 0)) / n for k in res[n + 1]}

    def ne_syscalls(self, tree=None):
        """Attaches strace to a warmed-up node_exporter for exactly the scrapes."""
        a, n, tree = self.a, self.a.strace_cycles, tree or self.tree
        p, _port, conn, _argv, _body = self.ne_start([], tree)
        try:
            for _ in range(a.ne_warmup):
                self.scrape(conn, False)
            f = os.path.join(a.workdir, "strace.ne" + ("" if tree is self.tree else ".noguests"))
            st = subprocess.Popen([a.strace, "-f", "-c", "-o", f, "-p", str(p.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)                        # let it attach to every thread
            if st.poll() is not None:
                log("note: strace could not attach to node_exporter; syscall counts skipped")
                return None
            for _ in range(n):
                self.scrape(conn, False)
            st.send_signal(signal.SIGINT)          # detach and write the summary
            st.wait(10)
            conn.close()
        finally:
            self.ne_stop()
        calls = self.strace_totals(f)
        return {k: v / n for k, v in calls.items()}

    # ---- node_exporter -------------------------------------------------
    def ne_argv(self, port, extra, tree=None):
        a, root = self.a, (tree or self.tree).root
        return [a.ne, f"--web.listen-address=127.0.0.1:{port}",
                f"--path.procfs={root}/proc", f"--path.sysfs={root}/sys",
                f"--path.rootfs={root}", f"--path.udev.data={self.udev}",
                "--collector.disable-defaults"] + [f"--collector.{c}" for c in self.ne_collectors] + \
            ["--no-collector.netdev.netlink", "--log.level=error"] + extra

    def ne_start(self, extra, tree=None):
        for _attempt in range(5):
            port = free_port()
            argv = self.ne_argv(port, extra, tree)
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(self.a.workdir, "node_exporter.log"), "ab"))
            self.ne_proc = p
            with open(self.a.pidfile, "w") as f:
                f.write(f"{p.pid}\n")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if p.poll() is not None:
                    break                          # lost the port race, or broken: retry
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/metrics")
                    r = c.getresponse()
                    body = r.read()
                    if r.status == 200:
                        return p, port, c, argv, body
                    c.close()
                except OSError:
                    time.sleep(0.05)
            self.ne_stop()
        raise SetupError("node_exporter did not come up; see " +
                         os.path.join(self.a.workdir, "node_exporter.log"))

    def ne_stop(self):
        p, self.ne_proc = self.ne_proc, None
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            os.unlink(self.a.pidfile)
        except FileNotFoundError:
            pass

    @staticmethod
    def scrape(conn, gzip):
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"} if gzip else {})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SetupError(f"node_exporter answered {r.status}")
        return body

    def ne_validate(self, body, tree):
        """Proves node_exporter read the fixture (not the host) with every collector."""
        text = body.decode()
        fx = tree.root
        problems = []
        for c in self.ne_collectors:
            if f'node_scrape_collector_success{{collector="{c}"}} 1' not in text:
                problems.append(f"collector {c} did not succeed")
        if self.a.hardware:
            want = hwmon_inputs(fx, "temp")
            got = len(re.findall(r"^node_hwmon_temp_celsius\{", text, re.M))
            if got != want:
                problems.append(f"node_exporter has {got} hwmon temperatures, the tree {want}")
        with open(f"{fx}/proc/meminfo") as f:
            memtotal = next(int(l.split()[1]) for l in f if l.startswith("MemTotal:"))
        m = re.search(r"^node_memory_MemTotal_bytes (\S+)$", text, re.M)
        if not m or float(m.group(1)) != memtotal * 1024:
            problems.append("node_memory_MemTotal_bytes is not the fixture's MemTotal")
        with open(f"{fx}/proc/net/dev") as f:
            fixture_devs = {l.split(":", 1)[0].strip() for l in list(f)[2:] if ":" in l}
        ne_devs = set(re.findall(r'^node_network_receive_bytes_total\{device="([^"]+)"\}', text, re.M))
        if ne_devs != fixture_devs - {"lo"}:
            problems.append(f"netdev devices {sorted(ne_devs)} are not the fixture's "
                            f"/proc/net/dev {sorted(fixture_devs - {'lo'})} (netlink in use?)")
        with open(f"{fx}/proc/loadavg") as f:
            load1 = float(f.read().split()[0])
        m = re.search(r"^node_load1 (\S+)$", text, re.M)
        if not m or float(m.group(1)) != load1:
            problems.append("node_load1 is not the fixture's")
        if problems:
            raise SetupError("node_exporter is not reading the fixture:\n  " + "\n  ".join(problems))
        series = sum(1 for l in text.splitlines() if l and not l.startswith("#"))
        node_series = sum(1 for l in text.splitlines() if l.startswith("node_"))
        guest_devs = {d for d in ne_devs if GUEST_DEVICES.match(d)}
        guest_dev_series = sum(1 for d in re.findall(r'^node_network_\w+\{device="([^"]+)"\}', text, re.M)
                               if d in guest_devs)
        return series, node_series, len(body), len(guest_devs), guest_dev_series

    def paced(self, interval, count):
        """Both sides at a real pace (one cycle / scrape every interval), so
        caches go cold in between as they do in production. Node_exporter's
        CPU is read from per-thread schedstat (ns) because so few scrapes
        are too coarse for clock ticks; its idle work between scrapes (Go
        runtime timers) is included, as the agent's sleeping is."""
        a = self.a
        ag, ne = [], []
        for rep in range(a.reps):
            st1, c1, _, _ = run_child(self.agent_argv(1, interval))
            stn, cn, _, _ = run_child(self.agent_argv(count + 1, interval))
            if st1 or stn:
                raise SetupError("agent failed in the paced run")
            ag.append((cn - c1) / count)
            p, _port, conn, _argv, _body = self.ne_start([])
            try:
                for _ in range(a.ne_warmup):
                    self.scrape(conn, False)
                time.sleep(interval)
                t0 = proc_task_runtime_seconds(p.pid)
                for _ in range(count):
                    self.scrape(conn, False)
                    time.sleep(interval)
                t1 = proc_task_runtime_seconds(p.pid)
                conn.close()
            finally:
                self.ne_stop()
            ne.append((t1 - t0) / count)
            log(f"  paced every {interval * 1e3:.0f} ms, rep {rep + 1}/{a.reps}: agent {ag[-1] * 1e6:.1f} us/cycle, "
                f"node_exporter {ne[-1] * 1e6:.1f} us/scrape")
        return {"ag": ag, "ne": ne, "interval": interval, "count": count}

    def ne_cpu(self, extra, gzip, validate=False, tree=None):
        a, n, tree = self.a, self.a.ne_scrapes, tree or self.tree
        per, hwm, info = [], [], None
        for rep in range(a.reps):
            p, port, conn, argv, body = self.ne_start(extra, tree)
            try:
                if validate and rep == 0:
                    info = self.ne_validate(body, tree)
                for _ in range(a.ne_warmup):
                    self.scrape(conn, gzip)
                c0 = proc_cpu_seconds(p.pid)
                size = 0
                for _ in range(n):
                    size = len(self.scrape(conn, gzip))
                c1 = proc_cpu_seconds(p.pid)
                hwm.append(proc_status_kib(p.pid, "VmHWM"))
                threads = proc_status_kib(p.pid, "Threads")
                conn.close()
            finally:
                self.ne_stop()
            per.append((c1 - c0) / n)
            log(f"  node_exporter{' ' + ' '.join(extra) if extra else ''}{' (gzip)' if gzip else ''}"
                f"{'' if tree is self.tree else ' (' + tree.label + ')'} "
                f"rep {rep + 1}/{a.reps}: {per[-1] * 1e3:.3f} ms/scrape, VmHWM {hwm[-1]} KiB, "
                f"{threads} threads, body {size} B")
        return {"per": per, "hwm": hwm, "argv": argv, "info": info, "body": size}


# --------------------------------------------------------------------------
def first_line(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine_info(a):
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    virt = first_line(["systemd-detect-virt"]) if os.path.exists("/usr/bin/systemd-detect-virt") else "?"
    git = "?"
    try:
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        git = rev + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(), "model": model, "kernel": os.uname().release, "virt": virt,
        "agent": first_line([a.agent, "--version"]), "git": git,
        "ne": first_line([a.ne, "--version"]),
        "valgrind": first_line([a.valgrind, "--version"]) if a.valgrind else "not installed",
        "python": sys.version.split()[0],
    }


def fmt_syscalls(calls):
    if not calls:
        return "n/a"
    total = sum(calls.values())
    files = sum(v for k, v in calls.items() if k in FILE_SYSCALLS)
    top = ", ".join(f"{k} {v:.1f}" for v, k in sorted(((v, k) for k, v in calls.items()), reverse=True)[:5])
    return f"{total:6.1f} total, {files:5.1f} file I/O  ({top})"


def per_guest_lines(p, W, g, base, full):
    """The cost each guest adds: (node with g guests - same node without) / g.
    base and full hold each node's figures: agent (ag), node_exporter (ne),
    callgrind (cg), and syscalls of the agent (sa) and node_exporter (sn)."""
    a0, an = median(base["ag"]["per"]), median(full["ag"]["per"])
    n0, nn = median(base["ne"]["per"]), median(full["ne"]["per"])
    p("same node without guests (baseline for the per-guest cost):")
    p(f"{'  agent CPU per cycle':{W}} {a0 * 1e6:10.1f} us   {spread([x * 1e6 for x in base['ag']['per']])} us")
    p(f"{'  node_exporter CPU per scrape':{W}} {n0 * 1e6:10.1f} us   "
      f"{spread([x * 1e6 for x in base['ne']['per']])} us; ratio {n0 / a0:.1f}x")
    p(f"cost per guest, (node with {g} guests - node without) / {g}:")
    p(f"{'  agent CPU per guest per cycle':{W}} {(an - a0) / g * 1e6:10.2f} us")
    p(f"{'  node_exporter CPU per guest per scrape':{W}} {(nn - n0) / g * 1e6:10.2f} us   "
      "(its netdev and diskstats rows only)")
    if base["cg"] and full["cg"]:
        p(f"{'  agent instructions per guest per cycle':{W}} {(full['cg']['per'] - base['cg']['per']) / g:10,.0f}")
    for key, who in (("sa", "agent syscalls per guest per cycle"),
                     ("sn", "node_exporter syscalls per guest per scrape")):
        if base[key] is not None and full[key] is not None:
            p(f"{'  ' + who:{W}} {(sum(full[key].values()) - sum(base[key].values())) / g:10.2f}")
    p(f"{'  agent report bytes per guest':{W}} {(full['ag']['bytes'] - base['ag']['bytes']) / g:10.0f} B")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--ne", required=True)
    ap.add_argument("--valgrind", default="")
    ap.add_argument("--strace", default="")
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--pve", required=True)
    ap.add_argument("--run", default="", help="--path.run for the agent (default FIXTURE/run)")
    ap.add_argument("--node", default="bench", help="--node for the agent")
    ap.add_argument("--guests", type=int, default=None,
                    help="the fixture is a generated node with this many running guests")
    ap.add_argument("--baseline", default="",
                    help="the same generated node without guests (proc, sys, run, etc/pve)")
    ap.add_argument("--agent-args", default="", help="extra agent flags (split like a shell would)")
    ap.add_argument("--hardware", action="store_true",
                    help="the tree has sys/class/hwmon, bind-mounted on /sys/class for libsensors")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--agent-cycles", type=int, default=3000)
    ap.add_argument("--ne-scrapes", type=int, default=1000)
    ap.add_argument("--ne-warmup", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cg-cycles", type=int, default=200)
    ap.add_argument("--strace-cycles", type=int, default=200)
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--paced-ms", type=int, default=100)
    ap.add_argument("--paced-count", type=int, default=40)
    ap.add_argument("--extras", type=int, default=1, help="also run the informative node_exporter variants")
    ap.add_argument("--repro", default="")
    a = ap.parse_args()
    if a.agent_cycles < 1 or a.ne_scrapes < 1 or a.reps < 1:
        log("BROKEN SETUP: cycles, scrapes and repetitions must be >= 1")
        return 1

    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cg = cg_base = sc_agent = sc_ne = sc_agent_base = sc_ne_base = paced = ne_base = None
    extras = []
    try:
        for rel in ("proc/stat", "proc/meminfo", "proc/loadavg", "proc/diskstats", "proc/net/dev",
                    "proc/pressure/cpu", "proc/pressure/io", "proc/pressure/memory", "sys/block"):
            if not os.path.exists(os.path.join(a.fixture, rel)):
                raise SetupError(f"fixture incomplete: {a.fixture}/{rel} is missing")
        if not (os.path.isfile(a.ne) and os.access(a.ne, os.X_OK)):
            raise SetupError(f"node_exporter not found: {a.ne} (apt-get install prometheus-node-exporter)")
        mi = machine_info(a)
        log(f"setup: fixture {a.fixture}, {a.reps} repetitions")
        b.agent_setup()

        log(f"agent: CPU per cycle, --cycles={a.agent_cycles + 1} minus --cycles=1")
        ag = b.agent_cpu()
        rss_time_v = b.agent_rss_time_v()
        log(f"node_exporter: CPU per scrape over {a.ne_scrapes} scrapes after {a.ne_warmup} warm-up scrapes")
        ne = b.ne_cpu([], gzip=False, validate=True)
        if b.base:
            ne_base = b.ne_cpu([], gzip=False, validate=True, tree=b.base)
        if a.extras:
            extras.append(("with Accept-Encoding: gzip (as Prometheus scrapes)", b.ne_cpu([], gzip=True)))
            extras.append(("with --web.disable-exporter-metrics (no go_*, process_*)",
                           b.ne_cpu(["--web.disable-exporter-metrics"], gzip=False)))
        if a.extras and a.guests:
            extras.append(("without the firewall devices (fwbr, fwln, fwpr; the agent drops them too)",
                           b.ne_cpu([f"--collector.netdev.device-exclude={NE_FW_DEVICES}"], gzip=False)))
        if a.extras and a.paced_count > 0:
            log(f"paced: one cycle / scrape every {a.paced_ms} ms, {a.paced_count} of them")
            paced = b.paced(a.paced_ms / 1e3, a.paced_count)
        if a.cg_cycles > 0 and a.valgrind:
            log(f"agent: callgrind, --cycles={a.cg_cycles + 1} minus --cycles=1")
            cg = b.agent_callgrind()
            cg_base = b.agent_callgrind(b.base) if b.base else None
        if a.strace_cycles > 0 and a.strace:
            log(f"system calls: strace -c over {a.strace_cycles} cycles / scrapes")
            sc_agent = b.agent_syscalls()
            sc_ne = b.ne_syscalls()
            if b.base:
                sc_agent_base = b.agent_syscalls(b.base)
                sc_ne_base = b.ne_syscalls(b.base)
    except SetupError as e:
        log(f"BROKEN SETUP: {e}")
        return 1
    finally:
        b.ne_stop()

    ag_all, ag = ag, ag[b.tree]
    ag_cpu, ag_rss = median(ag["per"]), median(ag["rss"])
    ne_cpu, ne_hwm = median(ne["per"]), median(ne["hwm"])
    cpu_ratio = ne_cpu / ag_cpu if ag_cpu > 0 else float("inf")
    rss_ratio = ne_hwm / ag_rss
    series, node_series, body, guest_devs, guest_dev_series = ne["info"]

    W = 47
    out = []
    p = out.append
    p("")
    p("pvescope-agent vs node_exporter, same fixture tree (DESIGN §7)")
    if a.guests is not None:
        p(f"fixture: a generated Proxmox node with {a.guests} running guests "
          f"(tests/bench/make_guest_node.py)")
    p("=" * 86)
    p(f"{'':{W}} {'median':>13}   range over {a.reps} runs")
    p(f"{'agent CPU per collection cycle':{W}} {ag_cpu * 1e6:10.1f} us   "
      f"{spread([x * 1e6 for x in ag['per']])} us")
    us = median(ag["user"])
    p(f"{'  of which user (tick-sampled split)':{W}} {us * 1e6:10.1f} us   kernel {(ag_cpu - us) * 1e6:.1f} us")
    p(f"{'node_exporter CPU per scrape':{W}} {ne_cpu * 1e6:10.1f} us   "
      f"{spread([x * 1e6 for x in ne['per']])} us")
    p(f"{'  ratio node_exporter / agent':{W}} {cpu_ratio:10.1f} x    agent uses {cpu_ratio:.1f}x less CPU")
    p(f"{'agent peak RSS (VmHWM, N+1-cycle run)':{W}} {ag_rss / 1024:10.2f} MiB "
      f"{spread([x / 1024 for x in ag['rss']], '.2f')} MiB"
      + (f"  (/usr/bin/time -v: {rss_time_v / 1024:.2f})" if rss_time_v else ""))
    p(f"{'node_exporter peak RSS (VmHWM after scrapes)':{W}} {ne_hwm / 1024:10.2f} MiB "
      f"{spread([x / 1024 for x in ne['hwm']], '.2f')} MiB")
    p(f"{'  ratio node_exporter / agent':{W}} {rss_ratio:10.1f} x")
    if cg:
        p(f"{'agent instructions per cycle (callgrind Ir)':{W}} {cg['per']:10,.0f}      "
          f"({cg['irn']:,} for {a.cg_cycles + 1} cycles - {cg['ir1']:,} for 1)")
    else:
        p(f"{'agent instructions per cycle (callgrind Ir)':{W}} {'n/a':>10}")
    p(f"{'agent start-up CPU (--cycles=1 run, excluded)':{W}} {median(ag['base']) * 1e3:10.2f} ms")
    p(f"{'agent report on the wire (sealed protobuf)':{W}} {ag['bytes']:10d} B")
    p(f"{'node_exporter /metrics body (plain text)':{W}} {body:10d} B    {series} series, {node_series} node_*")
    for label, ex in extras:
        r = median(ex["per"]) / ag_cpu
        p(f"node_exporter {label}:")
        p(f"{'  CPU per scrape':{W}} {median(ex['per']) * 1e6:10.1f} us   "
          f"{spread([x * 1e6 for x in ex['per']])} us; ratio {r:.1f}x; VmHWM {median(ex['hwm']) / 1024:.2f} MiB")
    if paced:
        pa, pn = median(paced["ag"]), median(paced["ne"])
        p(f"paced, one cycle / scrape every {a.paced_ms} ms ({a.paced_count} of them; caches go cold):")
        p(f"{'  agent CPU per cycle':{W}} {pa * 1e6:10.1f} us   {spread([x * 1e6 for x in paced['ag']])} us")
        p(f"{'  node_exporter CPU per scrape (schedstat)':{W}} {pn * 1e6:10.1f} us   "
          f"{spread([x * 1e6 for x in paced['ne']])} us; ratio {pn / pa:.1f}x")
    if sc_agent is not None or sc_ne is not None:
        p(f"syscalls per agent cycle (strace -c, {a.strace_cycles}):   {fmt_syscalls(sc_agent)}")
        p(f"syscalls per node_exporter scrape (strace -c):  {fmt_syscalls(sc_ne)}")
    if b.base and a.guests:
        per_guest_lines(p, W, a.guests,
                        {"ag": ag_all[b.base], "ne": ne_base, "cg": cg_base, "sa": sc_agent_base, "sn": sc_ne_base},
                        {"ag": ag, "ne": ne, "cg": cg, "sa": sc_agent, "sn": sc_ne})
    p("")
    on = f" ({a.guests}-guest node)" if a.guests is not None else ""
    p(f"Budget check (DESIGN §7){on}")
    ok_cpu = cpu_ratio >= CPU_BUDGET_RATIO
    ok_rss = ag_rss <= RSS_BUDGET_KIB
    p(f"  {'PASS' if ok_cpu else 'FAIL'}  agent CPU >= {CPU_BUDGET_RATIO:.0f}x less than node_exporter: "
      f"{cpu_ratio:.1f}x")
    p(f"  {'PASS' if ok_rss else 'FAIL'}  agent peak RSS <= 4 MiB: {ag_rss / 1024:.2f} MiB ({ag_rss} KiB)")
    if a.guests:
        fw = [x for x in extras if x[0].startswith("without the firewall")]
        note = (f"note: node_exporter has no guest collectors. The agent reads every fixture file that "
                f"node_exporter reads and, for each of the {a.guests} guests, /proc/<pid>/stat and 9 cgroup "
                "files, plus .vmlist and the guest configs: more input, in node_exporter's favour. "
                f"node_exporter in turn exports the {guest_devs} tap/veth/fw* devices as {guest_dev_series} "
                "host series (the agent drops fw* and ships tap/veth inside each guest): more output, in the "
                "agent's favour.")
        if fw:
            note += (f" Against node_exporter without the fw* devices the ratio is "
                     f"{median(fw[0][1]['per']) / ag_cpu:.1f}x.")
        for line in textwrap.wrap(note, 92):
            p("  " + line)
    if cg and cg["top"]:
        p("")
        p(f"Agent steady-state profile: own Ir per cycle by function (callgrind, "
          f"{a.cg_cycles + 1}-cycle run minus 1-cycle run)")
        for v, fn in cg["top"]:
            p(f"  {v:10,.0f}  {100 * v / cg['per']:5.1f}%  {fn}")
        if cg["stages"]:
            p("The same cycle by stage: inclusive Ir per cycle of each collector and of the report's")
            p("encoding (size, then pack), seal and send")
            for v, fn in cg["stages"]:
                label = "reporter_collect (all collectors)" if fn == "reporter_collect" else fn
                p(f"  {v:10,.0f}  {100 * v / cg['per']:5.1f}%  {label}")
    p("")
    p("Reproduce:")
    p(f"  {a.repro}")
    p(f"  agent:          {' '.join(shlex.quote(x) for x in b.agent_argv(a.agent_cycles + 1))}")
    p(f"  node_exporter:  {' '.join(shlex.quote(x) for x in ne['argv'])}")
    p("")
    p(f"Machine: {mi['nproc']} CPUs, {mi['model']}, kernel {mi['kernel']}, virt {mi['virt']}; "
      f"{time.strftime('%Y-%m-%d %H:%M %Z')}")
    p(f"Versions: {mi['agent']} (git {mi['git']}); {mi['ne']}; {mi['valgrind']}; python {mi['python']}")
    p(f"Method: agent N={a.agent_cycles} cycles at --interval=1ms, sealed reports sent to a local "
      f"nanomsg PULL sink; node_exporter {a.ne_scrapes} scrapes on one keep-alive connection after "
      f"{a.ne_warmup} warm-up; median of {a.reps} runs each.")
    print("\n".join(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
