"""soak.py — the engine of soak.sh (issue 5, item 6: an accelerated soak).

Starts, on loopback: one aggregator; pvescope-bench-fleet driving SOAK_AGENTS
simulated agents (sealed, changing 40-guest reports over one nanomsg socket
each) every SOAK_INTERVAL_MS; SOAK_REAL_AGENTS real pvescope-agent processes
on the host1 fixture at 1 s; and a scraper reading /metrics every
SOAK_SCRAPE_MS (alternately plain and gzip, every body checked). Every
SOAK_SAMPLE_SECONDS it samples, per process, VmRSS, open fds, threads and
utime+stime, and the aggregator's own counters. At the end it compares the
first third of the samples after warm-up with the last third:

  RSS    flat when the last third's mean is within 5 % + 1 MiB of the first's
  fds    flat when the last third's maximum is at most the first's + 2
         (a scrape connection may be open at a sample)
  CPU    flat when the CPU rate (CPU seconds per second) of the last third is
         within 25 % of the first's (this is a shared machine)
  ingest every simulated report received and accepted (rejected 0, the
         fleet's dropped sends counted), every scrape a complete body

Writes samples.csv into the work directory. Exit 0 when measured (verdicts
print PASS or FAIL), 1 when the setup is broken. Standard library only.
"""
import gzip
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

WORK, BUILD, FIXTURES = sys.argv[1], sys.argv[2], sys.argv[3]
ENV = os.environ
SECONDS = float(ENV.get("SOAK_SECONDS", "3600"))
AGENTS = int(ENV.get("SOAK_AGENTS", "200"))
GUESTS = int(ENV.get("SOAK_GUESTS", "40"))
INTERVAL_MS = int(ENV.get("SOAK_INTERVAL_MS", "1000"))
CLUSTER_SIZES = ENV.get("SOAK_CLUSTER_SIZES", "10,20,30,40,50")
REAL_AGENTS = int(ENV.get("SOAK_REAL_AGENTS", "2"))
SCRAPE_MS = int(ENV.get("SOAK_SCRAPE_MS", "5000"))
SAMPLE = float(ENV.get("SOAK_SAMPLE_SECONDS", "30"))
MAX_PER_FLEET = 500          # nanomsg's 512 sockets per process, less a margin
REAL_CLUSTER = "soak-real"
TICK = os.sysconf("SC_CLK_TCK")

procs = {}                   # name -> Popen


def broken(msg):
    print("soak: setup broken: " + msg, file=sys.stderr)
    stop_all()
    sys.exit(1)


def start(name, argv):
    log = open(os.path.join(WORK, name + ".log"), "w")
    procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop_all():
    for name, p in reversed(list(procs.items())):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, gz=False, timeout=60):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if gz:
        req.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode()


def metric_sum(text, name, must_contain=""):
    total, seen = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and line[len(name)] in "{ " and must_contain in line:
            total += float(line.rsplit(" ", 1)[1])
            seen = True
    return total if seen else None


def task_cpu_seconds(pid):
    """CPU seconds of the process: the larger of the per-thread schedstat
    nanoseconds (live threads only) and utime+stime (all threads, but in
    10 ms ticks, too coarse for an agent that uses 0.2 ms a second)."""
    ns = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = (int(fields[11]) + int(fields[12])) / TICK
    return max(ns / 1e9, ticks)


def proc_sample(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        cpu = task_cpu_seconds(pid)
        return {"rss_kb": int(st["VmRSS"].split()[0]), "hwm_kb": int(st["VmHWM"].split()[0]),
                "threads": int(st["Threads"]), "fds": len(os.listdir(f"/proc/{pid}/fd")), "cpu_s": cpu}
    except (OSError, KeyError, IndexError, ValueError):
        return None


class Scraper(threading.Thread):
    """Reads /metrics every SCRAPE_MS; every body must end with the
    aggregator's last self-metric family and parse line by line."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop = port, threading.Event()
        self.ok = self.bad = 0
        self.bytes_last = 0
        self.latencies = []
        self.errors = []

    def run(self):
        n = 0
        while not self.stop.wait(SCRAPE_MS / 1000.0):
            n += 1
            t0 = time.monotonic()
            try:
                body = get(self.port, "/metrics", gz=(n % 2 == 0))
                self.latencies.append(time.monotonic() - t0)
                bad = [l for l in body.splitlines() if l and not l.startswith("#") and len(l.rsplit(" ", 1)) != 2]
                if bad or "pvescope_build_info" not in body:
                    raise ValueError("malformed body (%d bad lines)" % len(bad))
                self.ok += 1
                self.bytes_last = len(body)
            except Exception as e:  # noqa: BLE001 — every failure is counted and reported
                self.bad += 1
                if len(self.errors) < 5:
                    self.errors.append(repr(e))


def setup():
    agent = os.path.join(BUILD, "pvescope-agent")
    aggregator = os.path.join(BUILD, "pvescope-aggregator")
    fleet = os.path.join(BUILD, "tests", "bench", "pvescope-bench-fleet")
    for b in (agent, aggregator, fleet):
        if not os.access(b, os.X_OK):
            broken(f"not built: {b}")
    model = ["--nodes", str(AGENTS), "--guests", str(GUESTS), "--cluster-sizes", CLUSTER_SIZES]
    fleet_key, real_key = os.path.join(WORK, "fleet.key"), os.path.join(WORK, "real.key")
    for k in (fleet_key, real_key):
        subprocess.run([agent, f"--init-key={k}"], check=True, stdout=subprocess.DEVNULL)
    keyring = os.path.join(WORK, "keyring")
    with open(keyring, "w") as f:
        subprocess.run([fleet, "keyring", "--key-file", fleet_key] + model, stdout=f, check=True)
        f.write(f"{REAL_CLUSTER} {open(real_key).read().strip()}\n")
    ingest, web = free_port(), free_port()
    start("aggregator", [aggregator, f"--keyring={keyring}", f"--ingest.listen=tcp://127.0.0.1:{ingest}",
                         f"--web.listen-address=127.0.0.1:{web}", "--stale-after=30s"] +
          (["--allow-root"] if os.geteuid() == 0 else []))
    for _ in range(100):
        try:
            get(web, "/-/healthy")
            break
        except OSError:
            time.sleep(0.1)
    else:
        broken("the aggregator did not answer /-/healthy")
    url = f"tcp://127.0.0.1:{ingest}"
    for i, first in enumerate(range(0, AGENTS, MAX_PER_FLEET)):
        start(f"fleet{i}", [fleet, "run", url, "--key-file", fleet_key] + model +
              ["--first-node", str(first), "--agents", str(min(MAX_PER_FLEET, AGENTS - first)),
               "--interval-ms", str(INTERVAL_MS)])
    empty = os.path.join(WORK, "empty")
    os.makedirs(empty, exist_ok=True)
    host1 = os.path.join(FIXTURES, "host1")
    for i in range(REAL_AGENTS):
        start(f"agent{i}", [agent, f"--node=real{i}", f"--cluster={REAL_CLUSTER}", f"--key-file={real_key}",
                            f"--aggregator={url}", "--interval=1s", f"--path.procfs={host1}/proc",
                            f"--path.sysfs={host1}/sys", f"--path.pve={empty}", f"--path.run={empty}",
                            f"--path.rootfs={empty}", "--no-collector.thinpool", "--no-collector.nvme",
                            "--no-collector.sensors", "--no-collector.zfs"])
    return web


def self_counters(web):
    text = get(web, f"/metrics?cluster={REAL_CLUSTER}")
    return {"received": metric_sum(text, "pvescope_reports_received_total") or 0,
            "rejected": metric_sum(text, "pvescope_reports_rejected_total") or 0,
            "real_accepted": metric_sum(text, "pvescope_node_reports_accepted_total") or 0}


def watched():
    return ["aggregator"] + [n for n in procs if n.startswith("agent")]


def soak(web):
    scraper = Scraper(web)
    scraper.start()
    samples, t0 = [], time.monotonic()
    csv = open(os.path.join(WORK, "samples.csv"), "w")
    csv.write("t,process,rss_kb,hwm_kb,fds,threads,cpu_s,received,rejected\n")
    while True:
        t = time.monotonic() - t0
        for name, p in procs.items():
            if p.poll() is not None:
                broken(f"{name} exited with status {p.returncode} after {t:.0f} s (log: {name}.log)")
        c = self_counters(web)
        row = {"t": t, "counters": c}
        for name in watched():
            s = proc_sample(procs[name].pid)
            if s:
                row[name] = s
                csv.write(f"{t:.1f},{name},{s['rss_kb']},{s['hwm_kb']},{s['fds']},{s['threads']},"
                          f"{s['cpu_s']:.2f},{c['received']:.0f},{c['rejected']:.0f}\n")
        csv.flush()
        samples.append(row)
        if t >= SECONDS:
            break
        time.sleep(min(SAMPLE, max(0.0, SECONDS - t)) or 0.1)
    scraper.stop.set()
    scraper.join(timeout=120)
    return samples, scraper


def thirds(samples):
    warm = max(60.0, SECONDS * 0.1)
    s = [r for r in samples if r["t"] >= warm] or samples
    k = max(1, len(s) // 3)
    return s[:k], s[-k:]


def mean(v):
    return sum(v) / len(v) if v else float("nan")


def cpu_rate(rows, name):
    rows = [r for r in rows if name in r]
    if len(rows) < 2:
        return float("nan")
    return (rows[-1][name]["cpu_s"] - rows[0][name]["cpu_s"]) / (rows[-1]["t"] - rows[0]["t"])


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report(samples, scraper):
    first, last = thirds(samples)
    dur = samples[-1]["t"]
    print(f"soak: {dur:.0f} s, {AGENTS} simulated agents x {GUESTS} guests every {INTERVAL_MS} ms, "
          f"{REAL_AGENTS} real agents at 1 s, /metrics every {SCRAPE_MS} ms; {len(samples)} samples")
    print("%-12s %14s %14s %9s %9s %12s %12s %8s" % ("process", "RSS first kB", "RSS last kB", "fds 1st",
                                                     "fds last", "CPU 1st ms/s", "CPU last ms/s", "verdict"))
    all_ok = True
    for name in watched():
        r1 = mean([r[name]["rss_kb"] for r in first if name in r])
        r2 = mean([r[name]["rss_kb"] for r in last if name in r])
        f1 = max(r[name]["fds"] for r in first if name in r)
        f2 = max(r[name]["fds"] for r in last if name in r)
        c1, c2 = cpu_rate(first, name), cpu_rate(last, name)
        ok_rss = r2 <= r1 * 1.05 + 1024
        ok_fds = f2 <= f1 + 2
        ok_cpu = c1 > 0 and abs(c2 - c1) <= 0.25 * c1
        ok = ok_rss and ok_fds and ok_cpu
        all_ok &= ok
        why = "" if ok else " (" + ", ".join(w for w, b in (("RSS grew", ok_rss), ("fds grew", ok_fds),
                                                             ("CPU rate moved", ok_cpu)) if not b) + ")"
        print("%-12s %14.0f %14.0f %9d %9d %12.3f %12.3f %8s%s" % (name, r1, r2, f1, f2, c1 * 1e3, c2 * 1e3,
                                                                 verdict(ok), why))
    c0, c1 = samples[0]["counters"], samples[-1]["counters"]
    span = samples[-1]["t"] - samples[0]["t"]
    rate = (c1["received"] - c0["received"]) / span if span > 0 else 0
    want = AGENTS * 1000.0 / INTERVAL_MS + REAL_AGENTS
    ok_ingest = c1["rejected"] == 0 and abs(rate - want) <= 0.05 * want
    print(f"ingest: {rate:.1f} reports/s received (expected {want:.1f}), {c1['rejected']:.0f} rejected, "
          f"real agents' reports accepted {c1['real_accepted']:.0f} in {dur:.0f} s: {verdict(ok_ingest)}")
    lat = sorted(scraper.latencies)
    p50 = lat[len(lat) // 2] if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    ok_scrape = scraper.bad == 0 and scraper.ok > 0
    print(f"scrapes: {scraper.ok} complete, {scraper.bad} failed {scraper.errors[:3]}; last body "
          f"{scraper.bytes_last / 1e6:.1f} MB; latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms: "
          f"{verdict(ok_scrape)}")
    all_ok &= ok_ingest and ok_scrape
    print(f"soak overall: {verdict(all_ok)}")
    print(f"reproduce: {ENV.get('SOAK_CMD', 'tests/bench/soak.sh')}")


def main():
    signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(143)))
    web = setup()
    time.sleep(2)
    samples, scraper = soak(web)
    stop_all()
    for name in watched():
        rc = procs[name].returncode
        if rc != 0:
            print(f"soak: {name} exited with status {rc} after SIGTERM", file=sys.stderr)
    report(samples, scraper)


main()
