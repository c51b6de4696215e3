#!/usr/bin/env python3
"""dashboards.py — checks the Grafana dashboards of packaging/grafana against a
real Prometheus (python3 stdlib only). Used by tests/e2e/grafana.sh.

  dashboards.py PROM_URL DOCS_METRICS_MD SECONDS VAR=VALUE... -- DASHBOARD.json...

Static checks, per dashboard: valid JSON; every panel and target uses the
templated datasource ${DS_PROMETHEUS}; unique panel ids; every $variable a
query uses is defined (or a Grafana built-in); every pve_*/pvescope_* name in
a query is a metric family of docs/metrics.md.

Live checks: every templating query (label_values(SELECTOR, LABEL)) with the
variables replaced by the VAR=VALUE given must return label values, among them
the value given for that variable; every panel target expression, with the
variables replaced, must return a non-empty result from Prometheus. Queries
are retried until SECONDS have passed (rate() needs two scrapes); at the
deadline every query still empty is printed with its dashboard, panel title
and expression, and the exit status is 1.
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BUILTINS = {"__rate_interval": "30s", "__interval": "15s", "__range": "1h"}
VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
NAME_RE = re.compile(r"\b(pve_[a-z0-9_]+|pvescope_[a-z0-9_]+)\b")
LABEL_VALUES_RE = re.compile(r"^\s*label_values\((.*),\s*(\w+)\s*\)\s*$", re.S)
DS_UID = "${DS_PROMETHEUS}"


def families(doc):
    names = set()
    with open(doc) as f:
        for line in f:
            m = re.match(r"^\| `([a-z_:][a-z0-9_:]*)` \|", line)
            if m:
                names.add(m.group(1))
    if len(names) < 50:
        sys.exit(f"dashboards.py: only {len(names)} metric families read from {doc}")
    return names


def metric_names_only(expr):
    """expr without strings, label matchers, label lists and label_values' label."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    return re.sub(r",\s*\w+\s*\)\s*$", ")", e) if LABEL_VALUES_RE.match(e) else e


def substitute(expr, values):
    def rep(m):
        name = m.group(1) or m.group(2)
        if name in values:
            return values[name]
        if name in BUILTINS:
            return BUILTINS[name]
        raise KeyError(name)
    return VAR_RE.sub(rep, expr)


def api(prom, path, params):
    url = f"{prom}/api/v1/{path}?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:   # a bad query: Prometheus says why
        body = json.load(e)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body}")
    return body["data"]


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def main():
    argv = sys.argv[1:]
    if "--" not in argv or len(argv) < 4:
        sys.exit(__doc__)
    sep = argv.index("--")
    prom, doc, seconds = argv[0], argv[1], float(argv[2])
    values = dict(a.split("=", 1) for a in argv[3:sep])
    files = argv[sep + 1:]
    known = families(doc)
    problems = []      # static problems
    queries = []       # (where, kind, expr, var) with kind "panel" or "var"
    for path in files:
        with open(path) as f:
            try:
                dash = json.load(f)
            except ValueError as e:
                problems.append(f"{path}: not JSON: {e}")
                continue
        title = dash.get("title", path)
        tvars = dash.get("templating", {}).get("list", [])
        defined = {v["name"] for v in tvars}
        if "DS_PROMETHEUS" not in defined:
            problems.append(f"{title}: no DS_PROMETHEUS datasource variable")
        for v in tvars:
            if v.get("type") != "query":
                continue
            if v.get("datasource", {}).get("uid") != DS_UID:
                problems.append(f"{title}: variable {v['name']}: datasource is not {DS_UID}")
            q = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query")
            queries.append((f"{title} / variable ${v['name']}", "var", q, v["name"]))
        ids = set()
        n_targets = 0
        for p in walk_panels(dash.get("panels", [])):
            if p.get("id") in ids:
                problems.append(f"{title}: duplicate panel id {p.get('id')}")
            ids.add(p.get("id"))
            if p.get("type") == "row":
                continue
            where = f"{title} / panel \"{p.get('title')}\""
            if p.get("datasource", {}).get("uid") != DS_UID:
                problems.append(f"{where}: datasource is not {DS_UID}")
            gp = p.get("gridPos", {})
            if gp.get("x", 0) + gp.get("w", 0) > 24:
                problems.append(f"{where}: wider than the grid")
            if not p.get("targets"):
                problems.append(f"{where}: no targets")
            for t in p.get("targets", []):
                n_targets += 1
                if t.get("datasource", {}).get("uid") != DS_UID:
                    problems.append(f"{where} {t.get('refId')}: datasource is not {DS_UID}")
                queries.append((f"{where} {t.get('refId')}", "panel", t.get("expr", ""), None))
        print(f"{path}: {len(ids)} panels, {n_targets} targets, {len(tvars)} variables")
        for where, kind, expr, _ in queries:
            if not where.startswith(title + " /"):
                continue
            for m in VAR_RE.finditer(expr):
                name = m.group(1) or m.group(2)
                if name not in defined and name not in BUILTINS:
                    problems.append(f"{where}: undefined variable ${name} in {expr}")
            for name in sorted(set(NAME_RE.findall(metric_names_only(expr)))):
                if name not in known:
                    problems.append(f"{where}: {name} is not a metric family of {doc}: {expr}")
    if problems:
        print("\n".join(problems))
        print(f"FAIL: {len(problems)} problems in the dashboards' JSON")
        return 1

    def run(kind, expr, var):
        q = substitute(expr, values)
        if kind == "var":
            m = LABEL_VALUES_RE.match(q)
            if not m:
                return q, f"not a label_values(selector, label) query"
            sel, label = m.group(1), m.group(2)
            got = sorted({s.get(label) for s in api(prom, "series", {"match[]": sel}) if s.get(label)})
            if not got:
                return q, "no label values"
            if var in values and values[var] not in got:
                return q, f"{values[var]!r} not among the values {got}"
            return q, None
        data = api(prom, "query", {"query": q})
        if data["resultType"] in ("vector", "matrix") and not data["result"]:
            return q, "empty result"
        return q, None

    deadline = time.monotonic() + seconds
    pending = list(queries)
    while True:
        left = []
        for item in pending:
            q, err = run(*item[1:])
            if err:
                left.append((item, q, err))
        if not left or time.monotonic() > deadline:
            break
        pending = [x[0] for x in left]
        time.sleep(1)
    for (where, _, _, _), q, err in left:
        print(f"NO DATA: {where}: {err}\n    {q}")
    print(f"{len(queries) - len(left)} of {len(queries)} queries returned data")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
