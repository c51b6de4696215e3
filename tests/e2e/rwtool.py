#!/usr/bin/env python3
"""rwtool.py — remote_write helpers of tests/e2e/remote_write.sh (python3 stdlib).

  stub PORTFILE TOKENFILE BASICFILE
        a fake remote_write receiver on 127.0.0.1 (port written to PORTFILE).
        Every POST must carry the remote write 1.0 headers; the paths:
          /flaky  bearer TOKEN; 503 for the first 5 requests, then 204
          /bad    basic USER:PASSWORD; always 400 with a two-line body
          /hang   never answers (the aggregator must still stop at once)
        GET /stats: JSON {path: {code: count}, "header_problems": [...]}
  latest-ts KIND BASE AUTH SELECTOR
        newest sample timestamp (ms) of SELECTOR in the receiver
  snapshot KIND BASE AUTH SELECTOR TS_MS OUT
        every series matching SELECTOR with a sample at exactly TS_MS, as JSON
        {series key: value} (keys as e2etool.series_key writes them) into OUT
  compare METRICS SNAPSHOT EXTERNAL VOLATILE_RE REL
        the snapshot must hold exactly the series of the exposition METRICS
        with the EXTERNAL labels (k=v,k=v) added and empty labels left out
        (Prometheus' data model), with equal values except for
        series whose key matches VOLATILE_RE, to a relative REL (0: bit for
        bit); prints the number of series
  timestamps KIND BASE AUTH SELECTOR START_MS END_MS
        the distinct sample timestamps (ms) of SELECTOR in [START, END], one a line

KIND is prom (Prometheus HTTP API) or vm (VictoriaMetrics /api/v1/export);
AUTH is USER:PASSWORD or "-".
"""
import base64
import http.server
import json
import math
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2etool  # noqa: E402


def fail(msg):
    print("rwtool: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- the stub receiver ---------------------------------------------------------

def cmd_stub(portfile, tokenfile, basicfile):
    token = open(tokenfile).read().splitlines()[0]
    basic = open(basicfile).read().splitlines()[0]
    lock = threading.Lock()
    stats = {"/flaky": {}, "/bad": {}, "/hang": {}, "header_problems": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body=b""):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock:
                body = json.dumps(stats).encode()
            self.reply(200, body)

        def header_problems(self, path):
            h = self.headers
            want = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
                    "X-Prometheus-Remote-Write-Version": "0.1.0"}
            probs = ["%s %s: %r" % (path, k, h.get(k)) for k, v in want.items() if h.get(k) != v]
            if not (h.get("User-Agent") or "").startswith("pvescope-aggregator/"):
                probs.append("%s User-Agent: %r" % (path, h.get("User-Agent")))
            auth = {"/flaky": "Bearer " + token,
                    "/bad": "Basic " + base64.b64encode(basic.encode()).decode()}.get(path)
            if auth and h.get("Authorization") != auth:
                probs.append("%s Authorization: %r" % (path, h.get("Authorization")))
            return probs

        def do_POST(self):
            path = self.path
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            probs = self.header_problems(path)
            if not body:
                probs.append("%s: empty body" % path)
            if path == "/hang":
                with lock:
                    stats[path]["hang"] = stats[path].get("hang", 0) + 1
                time.sleep(600)
                return
            with lock:
                stats["header_problems"] += probs
                counts = stats.setdefault(path, {})
                n = sum(counts.values())
                code = 404
                if path == "/flaky":
                    code = 503 if n < 5 else 204
                elif path == "/bad":
                    code = 400
                counts[str(code)] = counts.get(str(code), 0) + 1
            if code == 400:
                self.reply(400, b"bad request: out of bounds sample\nsecond line, not to be logged\n")
            elif code == 503:
                self.reply(503, b"busy\n")
            else:
                self.reply(code)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


# ---- reading receivers ---------------------------------------------------------

def get(base, path, params, auth):
    url = base + path + "?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url)
    if auth != "-":
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def series_rows(kind, base, auth, selector, start_ms, end_ms):
    """[(labels dict, [(ts_ms, value string)])] of selector in [start, end]."""
    rows = []
    if kind == "vm":
        text = get(base, "/api/v1/export", {"match[]": selector, "start": "%.3f" % (start_ms / 1000),
                                            "end": "%.3f" % (end_ms / 1000)}, auth)
        for line in text.splitlines():
            if line.strip():
                o = json.loads(line)
                vals = [repr(float(v)) if not isinstance(v, str) else v for v in o["values"]]
                rows.append((o["metric"], list(zip(o["timestamps"], vals))))
        return rows
    span = max(end_ms - start_ms, 0) + 1
    res = json.loads(get(base, "/api/v1/query", {"query": "%s[%dms]" % (selector, span),
                                                  "time": "%.3f" % (end_ms / 1000)}, auth))
    if res.get("status") != "success":
        fail("query failed: %s" % res)
    for r in res["data"]["result"]:
        pts = [(int(round(float(t) * 1000)), v) for t, v in r["values"]]
        rows.append((r["metric"], [p for p in pts if start_ms <= p[0] <= end_ms]))
    return rows


def key_of(labels):
    labels = dict(labels)
    name = labels.pop("__name__")
    return e2etool.series_key(name, labels)


def cmd_latest_ts(kind, base, auth, selector):
    now = int(time.time() * 1000)
    best = 0
    for _, pts in series_rows(kind, base, auth, selector, now - 300000, now + 60000):
        best = max([best] + [t for t, _ in pts])
    print(best)


def cmd_snapshot(kind, base, auth, selector, ts, out):
    ts = int(ts)
    snap = {}
    for labels, pts in series_rows(kind, base, auth, selector, ts, ts):
        for t, v in pts:
            if t == ts:
                snap[key_of(labels)] = v
    with open(out, "w") as f:
        json.dump(snap, f, indent=0, sort_keys=True)


def num(s):
    return float({"+Inf": "inf", "Inf": "inf", "-Inf": "-inf", "NaN": "nan"}.get(s, s))


def same_value(a, b, rel):
    fa, fb = num(a), num(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    if rel == 0 or math.isinf(fa) or math.isinf(fb):
        return fa == fb
    return abs(fa - fb) <= rel * max(abs(fa), abs(fb))


def cmd_compare(metrics, snapshot, external, volatile_re, rel):
    rel = float(rel)
    samples, _, problems = e2etool.parse_exposition(open(metrics, encoding="utf-8").read())
    if problems:
        fail("the exposition does not parse: %s" % problems[:3])
    ext = dict(kv.split("=", 1) for kv in external.split(",") if kv)
    snap = json.load(open(snapshot))
    vol = re.compile(volatile_re)
    want = {}
    for key, v in samples.items():
        name, labels = e2etool.labels_of(key)
        labels = {k: x for k, x in labels.items() if x}     # empty = no label, as a scrape stores it
        for k, x in ext.items():
            labels.setdefault(k, x)
        want[e2etool.series_key(name, labels)] = v
    bad = []
    for k in sorted(set(want) - set(snap)):
        bad.append("missing in the receiver: %s" % k)
    for k in sorted(set(snap) - set(want)):
        bad.append("only in the receiver: %s" % k)
    for k in sorted(set(want) & set(snap)):
        if not vol.search(k) and not same_value(want[k], snap[k], rel):
            bad.append("%s: /metrics %s, receiver %s" % (k, want[k], snap[k]))
    if bad:
        print("\n".join(bad[:40]) + ("\n... %d problems" % len(bad) if len(bad) > 40 else ""))
        sys.exit(1)
    print(len(want))


def cmd_timestamps(kind, base, auth, selector, start, end):
    seen = set()
    for _, pts in series_rows(kind, base, auth, selector, int(start), int(end)):
        seen.update(t for t, _ in pts)
    for t in sorted(seen):
        print(t)


def main():
    cmds = {"stub": (cmd_stub, 3), "latest-ts": (cmd_latest_ts, 4), "snapshot": (cmd_snapshot, 6),
            "compare": (cmd_compare, 5), "timestamps": (cmd_timestamps, 6)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) - 2 != cmds[sys.argv[1]][1]:
        fail(__doc__)
    cmds[sys.argv[1]][0](*sys.argv[2:])


if __name__ == "__main__":
    main()
