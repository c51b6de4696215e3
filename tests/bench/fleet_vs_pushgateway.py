#!/usr/bin/env python3
"""fleet_vs_pushgateway.py — the measurement engine of fleet_vs_pushgateway.sh
(python3 standard library only). See tests/bench/README.md.

Starts pvescope-aggregator and the fleet simulator (pvescope-bench-fleet, one
process per 500 agents), waits until every node is on /metrics, copies that
text into prometheus-pushgateway (each node's series as its own group: PUT
/metrics/job/pve/instance/<node>; cluster-wide series per cluster; the
aggregator's self metrics as one group), then scrapes both with wrk, without
and with Accept-Encoding: gzip, while the simulator keeps sending. Then the
report->visible probe and the in-process ingest and render benches.

Usage: fleet_vs_pushgateway.py WORKDIR BUILD_DIR   (the .sh wrapper passes them)
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time

E = os.environ
NODES = int(E.get("BENCH_NODES", "500"))
GUESTS = int(E.get("BENCH_GUESTS", "40"))
SIZES = E.get("BENCH_CLUSTER_SIZES", "10,20,30,40,50")
INTERVAL_MS = int(E.get("BENCH_INTERVAL_MS", "10000"))
SECONDS = int(E.get("BENCH_SECONDS", "30"))
PEER_SECONDS = int(E.get("BENCH_PEER_SECONDS", "120"))   # pushgateway takes seconds per scrape
PROBES = int(E.get("BENCH_PROBES", "200"))
INGEST_REPORTS = int(E.get("BENCH_INGEST_REPORTS", "4000"))
INGEST_RUNS = int(E.get("BENCH_INGEST_RUNS", "3"))
RENDER_REPS = int(E.get("BENCH_RENDER_REPS", "20"))
PUSHGATEWAY = E.get("PUSHGATEWAY", "/usr/bin/prometheus-pushgateway")
WRK = E.get("WRK", "wrk")
MODEL = ["--nodes", str(NODES), "--guests", str(GUESTS), "--cluster-sizes", SIZES]
PER_PROCESS = 500

procs = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def broken(msg):
    log("BROKEN SETUP: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(argv, logfile):
    p = subprocess.Popen(argv, stdout=open(logfile, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(p)
    return p


def stop_all():
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def proc_cpu(pid):
    """utime + stime of the whole process, seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_mib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def get(port, path, gzip=False, timeout=120):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"GET {path} on :{port}: HTTP {r.status}: {body[:200]!r}")
    return body


def series_count(text):
    return sum(1 for line in text.split(b"\n") if line and not line.startswith(b"#"))


class Run:
    def __init__(self, work, build):
        self.work, self.build = work, build
        self.fleet = os.path.join(build, "tests/bench/pvescope-bench-fleet")
        self.bench = os.path.join(build, "tests/bench/pvescope-bench-aggregator")
        self.aggregator = os.path.join(build, "pvescope-aggregator")
        for b in (self.fleet, self.bench, self.aggregator):
            if not os.access(b, os.X_OK):
                broken(f"not built: {b}")
        self.results = {}

    def keys(self):
        import base64
        self.key = os.path.join(self.work, "fleet.key")
        with open(self.key, "w") as f:
            f.write("pvescope-key-1:" + base64.b64encode(os.urandom(32)).decode() + "\n")
        os.chmod(self.key, 0o600)
        self.keyring = os.path.join(self.work, "keyring")
        with open(self.keyring, "w") as f:
            subprocess.run([self.fleet, "keyring", "--key-file", self.key] + MODEL, stdout=f, check=True)

    def start_aggregator(self):
        self.ingest_port, self.web_port = free_port(), free_port()
        self.agg = start([self.aggregator, f"--keyring={self.keyring}",
                          f"--ingest.listen=tcp://127.0.0.1:{self.ingest_port}",
                          f"--web.listen-address=127.0.0.1:{self.web_port}", "--stale-after=120s"] +
                         (["--allow-root"] if os.geteuid() == 0 else []),
                         os.path.join(self.work, "aggregator.log"))
        for _ in range(100):
            try:
                get(self.web_port, "/-/healthy")
                return
            except OSError:
                time.sleep(0.1)
        broken("the aggregator did not answer")

    def start_fleet(self, first, count, extra=(), name="fleet"):
        argv = [self.fleet, "run", f"tcp://127.0.0.1:{self.ingest_port}", "--key-file", self.key] + MODEL + [
            "--first-node", str(first), "--agents", str(count), "--interval-ms", str(INTERVAL_MS)] + list(extra)
        return start(argv, os.path.join(self.work, f"{name}-{first}.log"))

    def wait_all_nodes(self):
        """Node 0 is the probe's: the fleet drives 1..NODES-1 until the end."""
        self.daemons = [self.agg]
        for first in range(1, NODES, PER_PROCESS):
            self.daemons.append(self.start_fleet(first, min(PER_PROCESS, NODES - first)))
        # node 0 sends once now so the estate is complete; the probe sends it later
        subprocess.run([self.fleet, "run", f"tcp://127.0.0.1:{self.ingest_port}", "--key-file", self.key] + MODEL
                       + ["--first-node", "0", "--agents", "1", "--sends", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        deadline = time.time() + INTERVAL_MS / 1000 * 2 + 60
        want = NODES
        while time.time() < deadline:
            time.sleep(3)
            text = get(self.web_port, "/metrics")
            up = len(re.findall(rb'^pve_node_forks_total\{id="node/', text, re.M))
            log(f"aggregator: {up} of {want} nodes reporting, {len(text) / 1e6:.1f} MB")
            if up == want:
                self.text = text
                return
        broken("not every simulated node showed up on the aggregator's /metrics")

    def split_groups(self):
        """The aggregator's text as pushgateway groups: group -> [(family, lines)]."""
        host_of = {}
        for m in re.finditer(rb'^pve_guest_info\{id="([^"]+)",pve_cluster="[^"]+",node="([^"]+)"', self.text, re.M):
            host_of[m.group(1)] = m.group(2)
        groups, headers, family = {}, {}, None
        idre = re.compile(rb'\{id="([^"]*)",pve_cluster="([^"]*)"')
        for line in self.text.split(b"\n"):
            if not line:
                continue
            if line.startswith(b"# HELP "):
                family = line.split()[2]
                headers[family] = [line]
                continue
            if line.startswith(b"#"):
                headers[family].append(line)
                continue
            m = idre.search(line)
            if not m:
                g = b"aggregator" if line.startswith(b"pvescope_") else b"cluster"
                if g == b"cluster":
                    c = re.search(rb'pve_cluster="([^"]*)"', line)
                    g = b"cluster-" + (c.group(1) if c else b"none")
            else:
                ident, cluster = m.group(1), m.group(2)
                kind, _, rest = ident.partition(b"/")
                if kind == b"node":
                    g = rest
                elif kind == b"storage":
                    g = rest.split(b"/")[0]
                elif kind in (b"qemu", b"lxc"):
                    g = host_of.get(ident, b"cluster-" + cluster)
                else:
                    g = b"cluster-" + cluster
            groups.setdefault(g, {}).setdefault(family, []).append(line)
        self.groups = {g: b"\n".join(b"\n".join(headers[f] + lines) for f, lines in fams.items()) + b"\n"
                       for g, fams in groups.items()}

    def start_pushgateway(self):
        if not os.access(PUSHGATEWAY, os.X_OK):
            broken(f"{PUSHGATEWAY} not found (apt-get install prometheus-pushgateway)")
        self.pg_port = free_port()
        # Memory only (Debian's default persists to /var/lib/prometheus), and no
        # consistency check per push: that check gathers every group at each
        # PUT, which makes filling 500 groups quadratic (over 40 minutes here);
        # it costs nothing at scrape time, which is what is compared.
        self.pg = start([PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{self.pg_port}", "--persistence.file=",
                         "--push.disable-consistency-check"],
                        os.path.join(self.work, "pushgateway.log"))
        for _ in range(100):
            try:
                get(self.pg_port, "/-/healthy")
                break
            except OSError:
                time.sleep(0.1)
        else:
            broken("pushgateway did not answer")
        t0 = time.time()
        c = http.client.HTTPConnection("127.0.0.1", self.pg_port, timeout=120)
        for g, body in self.groups.items():
            c.request("PUT", "/metrics/job/pve/instance/" + g.decode(), body=body,
                      headers={"Content-Type": "text/plain; version=0.0.4"})
            r = c.getresponse()
            msg = r.read()
            if r.status not in (200, 202):
                broken(f"pushgateway refused group {g.decode()}: HTTP {r.status} {msg[:300]!r}")
        c.close()
        log(f"pushgateway: {len(self.groups)} groups pushed in {time.time() - t0:.1f} s")
        ours = series_count(self.text)
        for _ in range(100):
            theirs = get(self.pg_port, "/metrics")
            pushed = len(re.findall(rb'^[a-zA-Z_:][a-zA-Z0-9_:]*\{[^\n]*instance="', theirs, re.M)) - 2 * len(self.groups)
            if pushed >= ours:
                break
            time.sleep(0.5)
        self.results["series"] = (ours, series_count(theirs), len(theirs), len(self.text))
        if pushed < ours:
            broken(f"pushgateway holds {pushed} of the aggregator's {ours} series")

    def wrk(self, name, pid, port, gzip, seconds):
        argv = [WRK, "-t1", "-c1", f"-d{seconds}s", "--timeout", "60s", "--latency"]
        if gzip:
            argv += ["-H", "Accept-Encoding: gzip"]
        argv.append(f"http://127.0.0.1:{port}/metrics")
        c0 = proc_cpu(pid)
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        cpu = proc_cpu(pid) - c0
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        if reqs == 0 or "Non-2xx" in out:
            broken(f"wrk against {name}: {out}")

        def pct(p):
            m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
            return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1}[m.group(2)]
        r = dict(reqs=reqs, p50=pct(50), p99=pct(99), cpu=cpu / reqs,
                 hwm=proc_status_mib(pid, "VmHWM"), rss=proc_status_mib(pid, "VmRSS"))
        log(f"wrk {name} gzip={int(gzip)}: {reqs} scrapes, p50 {r['p50'] * 1e3:.1f} ms, p99 {r['p99'] * 1e3:.1f} ms, "
            f"CPU {r['cpu'] * 1e3:.1f} ms per scrape, VmHWM {r['hwm']:.0f} MiB")
        self.results[(name, gzip)] = r

    def probe(self):
        p = self.start_fleet(0, 1, ["--probe", f"http://127.0.0.1:{self.web_port}", "--probe-count", str(PROBES),
                                    "--first-tick", "1"], name="probe")
        p.wait(timeout=PROBES * 15 + 60)
        out = open(os.path.join(self.work, "probe-0.log")).read()
        m = re.search(r"p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms; (\d+) polls of ([\d.]+) ms", out)
        if p.returncode != 0 or not m:
            broken("the report->visible probe failed: " + out)
        self.results["probe"] = tuple(float(x) for x in m.groups())
        log("probe: " + out.strip().splitlines()[-1])

    def inprocess(self):
        runs = [("ingest", ["--reports", str(INGEST_REPORTS)])] * INGEST_RUNS + [("render", ["--reps", str(RENDER_REPS)])]
        for what, extra in runs:
            out = subprocess.run([self.bench, what] + MODEL + extra, capture_output=True, text=True)
            if out.returncode != 0:
                broken(f"pvescope-bench-aggregator {what}: {out.stdout}{out.stderr}")
            self.results[what] = self.results.get(what, "") + out.stdout
            log(out.stdout.strip())


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report(R, cmd):
    res = R.results
    ours, theirs, pg_bytes, agg_bytes = res["series"]
    print(f"\n## fleet_vs_pushgateway: {NODES} nodes x {GUESTS} guests, clusters of {SIZES} nodes, "
          f"each agent every {INTERVAL_MS} ms ({NODES * 1000 / INTERVAL_MS:.0f} reports/s of ingest during the scrapes)")
    print(f"series: aggregator {ours} ({agg_bytes / 1e6:.1f} MB), pushgateway {theirs} ({pg_bytes / 1e6:.1f} MB, "
          f"adds job/instance labels, push_time_seconds per group and its own go_/process_ metrics)\n")
    print("| figure | pvescope-aggregator | pushgateway 1.5.1 | ratio |")
    print("|---|---|---|---|")
    passes = []
    for gz in (False, True):
        a, p = res[("aggregator", gz)], res[("pushgateway", gz)]
        tag = "gzip" if gz else "plain"
        for key, label in (("p50", "p50"), ("p99", "p99"), ("cpu", "CPU per scrape")):
            ratio = p[key] / a[key] if a[key] > 0 else float("inf")
            print(f"| /metrics {tag} {label} | {a[key] * 1e3:.1f} ms | {p[key] * 1e3:.1f} ms | {ratio:.1f}x |")
            if key in ("p50", "cpu"):
                passes.append((f"/metrics {tag} {label} >= 20x faster", ratio >= 20, f"{ratio:.1f}x"))
        print(f"| scrapes ({tag}; wrk -c1 for {SECONDS} s / {PEER_SECONDS} s) | {a['reqs']} | {p['reqs']} | |")
    a_hwm = max(res[("aggregator", g)]["hwm"] for g in (False, True))
    p_hwm = max(res[("pushgateway", g)]["hwm"] for g in (False, True))
    print(f"| peak RSS (VmHWM) | {a_hwm:.0f} MiB | {p_hwm:.0f} MiB | {p_hwm / a_hwm:.1f}x |")
    print(f"| RSS after the scrapes (VmRSS) | {res[('aggregator', True)]['rss']:.0f} MiB | "
          f"{res[('pushgateway', True)]['rss']:.0f} MiB | |")
    passes.append(("RSS <= 1/4 of pushgateway's", a_hwm * 4 <= p_hwm, f"{p_hwm / a_hwm:.1f}x less"))
    p50, p99, mx, polls, poll_ms = res["probe"]
    print(f"\nreport->visible (probe node, {PROBES} reports, polling /metrics?cluster=<its cluster>, "
          f"{poll_ms:.1f} ms per poll): p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {mx:.1f} ms")
    passes.append(("report->visible p99 <= 50 ms", p99 <= 50, f"{p99:.1f} ms"))
    print("\n" + res["ingest"].strip())
    rates = sorted(int(x) for x in re.findall(r"([\d]+) reports/s on one core", res["ingest"]))
    rate = rates[len(rates) // 2]
    print(f"ingest: median of {len(rates)} runs: {rate} reports/s on one core (runs: {', '.join(map(str, rates))})")
    passes.append(("ingest >= 10,000 reports/s on one core (median)", rate >= 10000, f"{rate}/s"))
    print(res["render"].strip())
    print("\n| budget | measured | verdict |\n|---|---|---|")
    for name, ok, fig in passes:
        print(f"| {name} | {fig} | {verdict(ok)} |")
    print(f"\nreproduce: {cmd}")


def main():
    work, build = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # so the finally below stops our children
    for tool in (WRK,):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            broken(f"{tool} not found (apt-get install wrk)")
    R = Run(work, build)
    try:
        R.keys()
        R.start_aggregator()
        R.wait_all_nodes()
        R.split_groups()
        R.start_pushgateway()
        for gz in (False, True):
            R.wrk("aggregator", R.agg.pid, R.web_port, gz, SECONDS)
            R.wrk("pushgateway", R.pg.pid, R.pg_port, gz, PEER_SECONDS)
        R.probe()
        for p in R.daemons + [R.pg]:
            if p.poll() is not None:
                broken(f"{p.args[0]} exited early with status {p.returncode}")
    finally:
        stop_all()
    R.inprocess()
    report(R, E.get("BENCH_CMD", "tests/bench/fleet_vs_pushgateway.sh BUILD_DIR"))


if __name__ == "__main__":
    main()
