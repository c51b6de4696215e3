#!/usr/bin/env python3
"""e2etool.py — helpers for the pvescope e2e scripts (python3 stdlib only).

  free-ports N                 N distinct free TCP ports on 127.0.0.1, space separated
  metric SRC SERIES...         value of each series, one per line ("absent" if missing)
  series SRC                   every series key in SRC, sorted (name{sorted labels})
  families SRC                 every family name with a # TYPE line, sorted
  validate SRC                 strict parse of a text exposition: every sample line
                               parses, belongs to a family declared (HELP+TYPE)
                               before it, no duplicate series; exit 1 listing problems
  gunzip IN OUT                decompress a gzip file of exactly one member
                               (curl --compressed decodes only the first)
  promql BASEURL QUERY         instant query; prints "absent", or the value of the
                               single resulting series (exit 1 on an API error or
                               on more than one series)
  check SRC                    expectations on stdin, one per line: SERIES WANT
                               (see WANT below); exit 1 listing every mismatch
  select SRC NAME [L=V...]     "series value" of every sample of family NAME whose
                               labels include the given ones, sorted
  cluster-view FULL PART CLUSTER [VOLATILE_RE]
                               PART (a /metrics?cluster=CLUSTER body) must hold
                               exactly FULL's series that have no pve_cluster
                               label or pve_cluster=CLUSTER, with the same values
                               except for series keys matching VOLATILE_RE
  promql-check BASEURL QUERY [--exact] [--count N] [--all WANT] [--labels L,..]
               [--wait SECS]   instant query checked against stdin lines
                               {LABELS} WANT: each names exactly one result
                               series (LABELS is a subset of its labels) whose
                               value is WANT. --exact: no other result series;
                               --count: N result series; --all: every value is
                               WANT; --labels: every series has these labels,
                               not empty. Retried until it holds
                               or --wait seconds passed; then the problems and
                               the result are printed (exit 1)
  label-values BASEURL LABEL MATCH
                               values of LABEL on series matching MATCH (what
                               Grafana's label_values(MATCH, LABEL) lists), sorted

WANT is "absent" (check only), "range:LO:HI" (inclusive; "inf" allowed), or
an arithmetic expression of numbers (+ - * / parentheses) that is compared
exactly when it is an integer and to a relative 1e-9 otherwise.
Blank lines and lines starting with # are ignored in expectations.

SRC is a file name, or an http:// URL that is fetched (without gzip).
SERIES is written as in the exposition: name{label="value",...}; label order
does not matter.
"""
import ast
import fractions
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib


def fail(msg, code=1):
    print("e2etool: " + msg, file=sys.stderr)
    sys.exit(code)


def read_src(src):
    if src.startswith("http://") or src.startswith("https://"):
        try:
            with urllib.request.urlopen(src, timeout=10) as r:
                return r.read().decode("utf-8")
        except (urllib.error.URLError, OSError) as e:
            fail("fetch %s: %s" % (src, e), 3)
    with open(src, encoding="utf-8") as f:
        return f.read()


def parse_labels(s, i):
    """Parses labels starting after '{' at s[i]; returns (dict, index after '}')."""
    labels = {}
    while True:
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        j = i
        while j < len(s) and (s[j].isalnum() or s[j] == "_"):
            j += 1
        name = s[i:j]
        if not name or j >= len(s) or s[j] != "=" or j + 1 >= len(s) or s[j + 1] != '"':
            raise ValueError("bad label at column %d" % i)
        j += 2
        val = []
        while True:
            if j >= len(s):
                raise ValueError("unterminated label value")
            c = s[j]
            if c == "\\":
                if j + 1 >= len(s):
                    raise ValueError("dangling backslash")
                e = s[j + 1]
                if e == "n":
                    val.append("\n")
                elif e in '\\"':
                    val.append(e)
                else:
                    raise ValueError("bad escape \\%s" % e)
                j += 2
            elif c == '"':
                j += 1
                break
            elif c == "\n":
                raise ValueError("newline in label value")
            else:
                val.append(c)
                j += 1
        if name in labels:
            raise ValueError("duplicate label %s" % name)
        labels[name] = "".join(val)
        while j < len(s) and s[j] in " \t":
            j += 1
        if j < len(s) and s[j] == ",":
            j += 1
        i = j


def parse_series(s):
    """name{labels} [rest] -> (key, rest)."""
    i = 0
    while i < len(s) and (s[i].isalnum() or s[i] in "_:"):
        i += 1
    name = s[:i]
    if not name or name[0].isdigit():
        raise ValueError("bad metric name")
    labels = {}
    if i < len(s) and s[i] == "{":
        labels, i = parse_labels(s, i + 1)
    return series_key(name, labels), name, s[i:]


def series_key(name, labels):
    inner = ",".join('%s="%s"' % (k, labels[k].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
                     for k in sorted(labels))
    return name + "{" + inner + "}"


def parse_value(v):
    if v in ("NaN", "+Inf", "-Inf"):
        return float(v.replace("+", ""))
    return float(v)


def parse_exposition(text):
    """Returns (samples: dict key->value string, families: dict name->type, problems: list)."""
    samples, families, helps, problems = {}, {}, set(), []
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] == "TYPE":
                if parts[2] in families:
                    problems.append("line %d: second TYPE for %s" % (n, parts[2]))
                families[parts[2]] = parts[3] if len(parts) > 3 else ""
            elif len(parts) >= 3 and parts[1] == "HELP":
                helps.add(parts[2])
            continue
        try:
            key, name, rest = parse_series(line)
            fields = rest.split()
            if len(fields) not in (1, 2):
                raise ValueError("expected value [timestamp]")
            parse_value(fields[0])
        except ValueError as e:
            problems.append("line %d: %s: %r" % (n, e, line))
            continue
        fam = name
        if fam not in families:
            problems.append("line %d: sample of undeclared family %s" % (n, name))
        elif fam not in helps:
            problems.append("line %d: family %s has no HELP" % (n, name))
        if key in samples:
            problems.append("line %d: duplicate series %s" % (n, key))
        samples[key] = fields[0]
    return samples, families, problems


def cmd_metric(args):
    samples, _, _ = parse_exposition(read_src(args[0]))
    for spec in args[1:]:
        key, _, rest = parse_series(spec)
        if rest.strip():
            fail("bad series spec %r" % spec, 2)
        print(samples.get(key, "absent"))


def cmd_promql(args):
    base, query = args
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
    except (urllib.error.URLError, OSError, ValueError) as e:
        fail("query %s: %s" % (query, e), 3)
    if doc.get("status") != "success":
        fail("query %s: %s" % (query, doc), 1)
    res = doc["data"]["result"]
    if doc["data"]["resultType"] != "vector":
        fail("query %s: not a vector: %s" % (query, doc), 1)
    if not res:
        print("absent")
    elif len(res) > 1:
        fail("query %s: %d series: %s" % (query, len(res), res), 1)
    else:
        print(res[0]["value"][1])


def want_value(want):
    """WANT (not "absent") -> ("range", lo, hi) or ("num", Fraction)."""
    if want.startswith("range:"):
        _, lo, hi = want.split(":")
        return ("range", float(lo), float(hi))

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return fractions.Fraction(str(n.value))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        if isinstance(n, ast.BinOp):
            a, b = ev(n.left), ev(n.right)
            if isinstance(n.op, ast.Add):
                return a + b
            if isinstance(n.op, ast.Sub):
                return a - b
            if isinstance(n.op, ast.Mult):
                return a * b
            if isinstance(n.op, ast.Div):
                return a / b
        raise ValueError("bad expectation %r" % want)
    return ("num", ev(ast.parse(want, mode="eval")))


def value_matches(got, want):
    """got: the value as printed (exposition or Prometheus API)."""
    if got in ("NaN", "+Inf", "-Inf", "Inf"):
        return False
    w = want_value(want)
    if w[0] == "range":
        return w[1] <= float(got) <= w[2]
    exact = w[1]
    try:
        g = fractions.Fraction(got)
    except ValueError:
        return False
    if exact.denominator == 1:
        return g == exact
    return abs(g - exact) <= abs(exact) * fractions.Fraction(1, 10**9)


def expectation_lines(text):
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield n, line


def cmd_check(args):
    samples, _, problems = parse_exposition(read_src(args[0]))
    if problems:
        fail("%s: %d exposition problems, first: %s" % (args[0], len(problems), problems[0]))
    bad, n_ok = [], 0
    for n, line in expectation_lines(sys.stdin.read()):
        try:
            key, _, rest = parse_series(line)
        except ValueError as e:
            fail("expectation line %d: %s: %r" % (n, e, line), 2)
        want = rest.strip()
        got = samples.get(key)
        if want == "absent":
            ok = got is None
        else:
            ok = got is not None and value_matches(got, want)
        if ok:
            n_ok += 1
        else:
            bad.append("%s: want %s, got %s" % (key, want, "absent" if got is None else got))
    for b in bad:
        print("MISMATCH " + b)
    if bad:
        sys.exit(1)
    print("%d expectations hold" % n_ok)


def labels_of(key):
    _, name, rest = parse_series(key)
    labels, _ = parse_labels(key, key.index("{") + 1)
    return name, labels


def cmd_select(args):
    samples, _, _ = parse_exposition(read_src(args[0]))
    want = dict(a.split("=", 1) for a in args[2:])
    for key in sorted(samples):
        name, labels = labels_of(key)
        if name == args[1] and all(labels.get(k) == v for k, v in want.items()):
            print("%s %s" % (key, samples[key]))


def cmd_cluster_view(args):
    full, _, p1 = parse_exposition(read_src(args[0]))
    part, _, p2 = parse_exposition(read_src(args[1]))
    cluster = args[2]
    volatile = re.compile(args[3]) if len(args) > 3 else None
    if p1 or p2:
        fail("exposition problems: %s" % (p1 + p2)[:3])
    expect = {k: v for k, v in full.items() if labels_of(k)[1].get("pve_cluster", cluster) == cluster}
    bad = ["missing from the filtered body: " + k for k in sorted(set(expect) - set(part))]
    bad += ["only in the filtered body: " + k for k in sorted(set(part) - set(expect))]
    for k in sorted(set(expect) & set(part)):
        if expect[k] != part[k] and not (volatile and volatile.search(k)):
            bad.append("value differs: %s full=%s filtered=%s" % (k, expect[k], part[k]))
    for b in bad:
        print(b)
    if bad:
        sys.exit(1)
    print("%d series of %d in the full body; filtered body identical" % (len(expect), len(full)))


def prom_get(base, path, params):
    url = base.rstrip("/") + path + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
    except (urllib.error.URLError, OSError, ValueError) as e:
        fail("GET %s: %s" % (url, e), 3)
    if doc.get("status") != "success":
        fail("GET %s: %s" % (url, doc), 1)
    return doc["data"]


def fmt_result(res):
    return "\n".join("  %s %s" % (series_key(r["metric"].get("__name__", ""), r["metric"]), r["value"][1])
                     for r in sorted(res, key=lambda r: sorted(r["metric"].items())))


def promql_problems(res, spec, exact, count, all_want=None, need_labels=()):
    problems, used = [], set()
    for r in res:
        key = series_key(r["metric"].get("__name__", ""), r["metric"])
        if all_want is not None and not value_matches(r["value"][1], all_want):
            problems.append("%s %s: not %s (--all)" % (key, r["value"][1], all_want))
        for lab in need_labels:
            if not r["metric"].get(lab):
                problems.append("%s: no %s label (--labels)" % (key, lab))
    for n, line in spec:
        if not line.startswith("{"):
            fail("promql-check line %d: expected {LABELS} WANT: %r" % (n, line), 2)
        labels, i = parse_labels(line, 1)
        want = line[i:].strip()
        hits = [j for j, r in enumerate(res) if all(r["metric"].get(k) == v for k, v in labels.items())]
        if want == "absent":
            if hits:
                problems.append("%s: want absent, got %d series" % (line, len(hits)))
            continue
        if len(hits) != 1:
            problems.append("%s: matches %d result series" % (line, len(hits)))
            continue
        used.add(hits[0])
        got = res[hits[0]]["value"][1]
        if not value_matches(got, want):
            problems.append("%s: got %s" % (line, got))
    if exact and len(used) != len(res):
        problems.append("%d result series not expected (--exact)" % (len(res) - len(used)))
    if count is not None and len(res) != count:
        problems.append("%d result series, want %d" % (len(res), count))
    return problems


def cmd_promql_check(args):
    base, query = args[0], args[1]
    exact, count, wait, all_want, need_labels = False, None, 0.0, None, ()
    rest = args[2:]
    while rest:
        a = rest.pop(0)
        if a == "--exact":
            exact = True
        elif a == "--count":
            count = int(rest.pop(0))
        elif a == "--wait":
            wait = float(rest.pop(0))
        elif a == "--all":
            all_want = rest.pop(0)
        elif a == "--labels":
            need_labels = tuple(rest.pop(0).split(","))
        else:
            fail("promql-check: unknown option %s" % a, 2)
    spec = list(expectation_lines(sys.stdin.read()))
    deadline = time.monotonic() + wait
    while True:
        data = prom_get(base, "/api/v1/query", {"query": query})
        if data["resultType"] != "vector":
            fail("query %s: not a vector: %s" % (query, data), 1)
        res = data["result"]
        problems = promql_problems(res, spec, exact, count, all_want, need_labels)
        if not problems:
            print("%d series, %d expectations hold" % (len(res), len(spec)))
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    print("query: %s" % query)
    for p in problems:
        print("PROBLEM " + p)
    print("result (%d series):\n%s" % (len(res), fmt_result(res)))
    sys.exit(1)


def cmd_label_values(args):
    base, label, match = args
    print("\n".join(sorted(prom_get(base, "/api/v1/label/%s/values" % label, {"match[]": match}))))


def main():
    if len(sys.argv) < 2:
        fail(__doc__, 2)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "free-ports":
        socks = []
        for _ in range(int(args[0])):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
        for s in socks:
            s.close()
    elif cmd == "metric":
        cmd_metric(args)
    elif cmd == "series":
        samples, _, _ = parse_exposition(read_src(args[0]))
        print("\n".join(sorted(samples)))
    elif cmd == "families":
        _, families, _ = parse_exposition(read_src(args[0]))
        print("\n".join(sorted(families)))
    elif cmd == "validate":
        samples, families, problems = parse_exposition(read_src(args[0]))
        for p in problems:
            print(p)
        if problems:
            sys.exit(1)
        print("%d families, %d series" % (len(families), len(samples)))
    elif cmd == "gunzip":
        with open(args[0], "rb") as f:
            raw = f.read()
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        data = d.decompress(raw)
        if not d.eof:
            fail("%s: the gzip member is truncated" % args[0])
        if d.unused_data:
            fail("%s: %d bytes after the first gzip member" % (args[0], len(d.unused_data)))
        with open(args[1], "wb") as f:
            f.write(data)
    elif cmd == "promql":
        cmd_promql(args)
    elif cmd == "check":
        cmd_check(args)
    elif cmd == "select":
        cmd_select(args)
    elif cmd == "cluster-view":
        cmd_cluster_view(args)
    elif cmd == "promql-check":
        cmd_promql_check(args)
    elif cmd == "label-values":
        cmd_label_values(args)
    else:
        fail("unknown command %s" % cmd, 2)


if __name__ == "__main__":
    main()
