#!/usr/bin/env python3
"""prometheus_rules test: the alert rules and scrape config examples of packaging/prometheus.

Usage: check_rules.py SOURCE_DIR [PROMTOOL]

1. promtool check rules, and promtool test rules on pvescope.rules.test.yml.
2. Every metric name in the rules' expressions and in the unit tests' input series
   is a family of aggregator/families.h; every label a rule matches, groups or joins
   on, and every $labels.X an annotation uses, is a label of those families
   (docs/metrics.md) or a target label (instance, job).
3. Every rule has for: > 0, severity warning or critical, a summary and a
   description, and unit tests where it fires and where it does not; with its
   for: set to 0s the unit tests fail (so the "not yet" cases test the for:).
4. Each scrape-*.yml example, wrapped in a minimal prometheus.yml that loads the
   rules, passes promtool check config; the per-cluster one sets instance from
   the cluster parameter, the TLS one uses https with basic auth.
5. Self-test: the checks of 2 reject a rule with a renamed family, a label the
   family lacks, and an unknown function.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

SRC = os.path.abspath(sys.argv[1])
PROMTOOL = sys.argv[2] if len(sys.argv) > 2 else "promtool"
PROM_DIR = os.path.join(SRC, "packaging", "prometheus")
RULES = os.path.join(PROM_DIR, "pvescope.rules.yml")
TESTS = os.path.join(PROM_DIR, "pvescope.rules.test.yml")
TARGET_LABELS = {"instance", "job"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


# ---- the contract: families.h names, docs/metrics.md labels -------------------------

def load_families():
    text = open(os.path.join(SRC, "aggregator", "families.h")).read()
    names = re.findall(r'FAMILY\(\s*\w+\s*,\s*"([a-z_:][a-z0-9_:]*)"', text)
    if len(names) < 50:
        raise SystemExit("families.h: found only %d families, the pattern is broken" % len(names))
    return set(names)


def load_doc_labels():
    labels = {}
    for line in open(os.path.join(SRC, "docs", "metrics.md")):
        m = re.match(r'\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(gauge|counter)\s*\|([^|]*)\|', line)
        if m:
            labels[m.group(1)] = {l.strip() for l in m.group(3).split(",") if l.strip()}
    return labels


# ---- a small PromQL scanner ------------------------------------------------------------

TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<range>\[[^\]]*\])
  | (?P<num>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}])
''', re.X)

FUNCTIONS = {"predict_linear", "increase", "rate", "irate", "delta", "deriv", "abs", "clamp_min",
             "clamp_max", "label_replace", "vector", "time", "max_over_time", "min_over_time",
             "avg_over_time", "absent", "absent_over_time", "changes", "resets", "round"}
AGGREGATIONS = {"sum", "max", "min", "avg", "count", "topk", "bottomk", "group", "quantile",
                "stddev", "stdvar", "count_values"}
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset"}


def tokenize(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError("cannot scan %r at %r" % (expr, expr[pos:pos + 20]))
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def scan(expr):
    """Returns (metrics: {name: set of matched label names}, grouping label names, errors)."""
    toks = tokenize(expr)
    metrics, grouping, errors = {}, set(), []
    i = 0
    while i < len(toks):
        kind, val = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind != "ident":
            i += 1
            continue
        if val in LABEL_LISTS:
            if nxt != "(":
                errors.append("%s without a label list" % val)
                i += 1
                continue
            j = i + 2
            while toks[j][1] != ")":
                if toks[j][0] == "ident":
                    grouping.add(toks[j][1])
                j += 1
            i = j + 1
        elif nxt == "(":
            if val not in FUNCTIONS and val not in AGGREGATIONS:
                errors.append("unknown function %s" % val)
            i += 1
        elif val in KEYWORDS:
            i += 1
        else:
            matched = metrics.setdefault(val, set())
            i += 1
            if nxt == "{":
                i += 1
                while toks[i][1] != "}":
                    if toks[i][0] == "ident" and toks[i + 1][1] in ("=", "!=", "=~", "!~"):
                        matched.add(toks[i][1])
                    i += 1
                i += 1
    return metrics, grouping, errors


def check_rule(rule, families, doc_labels):
    """Errors of one alerting rule against the metric contract."""
    errs = []
    name = rule.get("alert", "?")
    try:
        metrics, grouping, scan_errs = scan(rule["expr"])
    except ValueError as e:
        return ["%s: %s" % (name, e)]
    errs += ["%s: %s" % (name, e) for e in scan_errs]
    if not metrics:
        errs.append("%s: no metric in expr" % name)
    known = set(TARGET_LABELS)
    for metric, matched in metrics.items():
        if metric not in families:
            errs.append("%s: %s is not a family of aggregator/families.h" % (name, metric))
        labels = doc_labels.get(metric)
        if labels is None:
            errs.append("%s: %s has no row in docs/metrics.md" % (name, metric))
            continue
        known |= labels
        for l in matched - labels - TARGET_LABELS:
            errs.append("%s: %s has no label %s" % (name, metric, l))
    for l in grouping - known:
        errs.append("%s: grouping/matching label %s is on none of its metrics" % (name, l))
    for text in (rule.get("annotations") or {}).values():
        for l in re.findall(r'\$labels\.([A-Za-z_][A-Za-z0-9_]*)', text):
            if l not in known:
                errs.append("%s: annotation uses $labels.%s, a label none of its metrics has" % (name, l))
    return errs


def parse_duration(s):
    total = 0
    for n, unit in re.findall(r'(\d+)(ms|s|m|h|d|w|y)', str(s)):
        total += int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[unit]
    return total


# ---- checks ----------------------------------------------------------------------------

def check_promtool_rules():
    rc, out = run([PROMTOOL, "check", "rules", RULES])
    print(out.strip())
    if rc != 0:
        fail("promtool check rules")
    rc, out = run([PROMTOOL, "test", "rules", os.path.basename(TESTS)], cwd=PROM_DIR)
    print(out.strip())
    if rc != 0 or "SUCCESS" not in out:
        fail("promtool test rules")


def check_contract(rules, families, doc_labels):
    for r in rules:
        for e in check_rule(r, families, doc_labels):
            fail(e)
    tests = yaml.safe_load(open(TESTS))
    n = 0
    for t in tests["tests"]:
        for s in t.get("input_series", []):
            m = re.match(r'([a-z_:][a-z0-9_:]*)\{(.*)\}$', s["series"])
            if not m:
                fail("test %s: series %s has no name{labels} form" % (t.get("name"), s["series"]))
                continue
            metric = m.group(1)
            n += 1
            if metric not in families:
                fail("test %s: input series %s is not a family of families.h" % (t.get("name"), metric))
                continue
            labels = set(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', m.group(2)))
            extra = labels - doc_labels.get(metric, set()) - TARGET_LABELS
            missing = doc_labels.get(metric, set()) - labels
            if extra or missing:
                fail("test %s: %s labels %s, docs/metrics.md says %s" % (
                    t.get("name"), metric, sorted(labels), sorted(doc_labels.get(metric, set()))))
    print("contract: %d rules, %d test input series checked against %d families" % (len(rules), n, len(families)))


def check_coverage(rules):
    tests = yaml.safe_load(open(TESTS))
    fires, silent = {}, {}
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            d = fires if a.get("exp_alerts") else silent
            d.setdefault(a["alertname"], []).append(a)
    names = [r["alert"] for r in rules]
    if len(set(names)) != len(names):
        fail("duplicate alert names")
    for r in rules:
        name = r["alert"]
        if parse_duration(r.get("for", 0)) <= 0:
            fail("%s: no for: duration" % name)
        if (r.get("labels") or {}).get("severity") not in ("warning", "critical"):
            fail("%s: severity is not warning or critical" % name)
        ann = r.get("annotations") or {}
        for k in ("summary", "description"):
            if not ann.get(k):
                fail("%s: no %s annotation" % (name, k))
        if name not in fires:
            fail("%s: no unit test where it fires" % name)
        if name not in silent:
            fail("%s: no unit test where it stays silent" % name)
        for a in fires.get(name, []):
            for e in a["exp_alerts"]:
                if not e.get("exp_annotations"):
                    fail("%s: a firing case without expected annotations" % name)
                if (e.get("exp_labels") or {}).get("severity") != r["labels"]["severity"]:
                    fail("%s: a firing case without its severity label" % name)
    for name in set(fires) | set(silent):
        if name not in names:
            fail("unit tests for %s, which is no rule" % name)
    print("coverage: %d rules, each with firing and silent cases" % len(rules))


def check_for_mutants(rules_doc):
    """With one rule's for: at 0s the unit tests must fail: its silent cases before
    the for: has passed really depend on it."""
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for gi, g in enumerate(rules_doc["groups"]):
            for ri, r in enumerate(g["rules"]):
                d = os.path.join(tmp, r["alert"])
                os.mkdir(d)
                mutant = yaml.safe_load(yaml.safe_dump(rules_doc))
                mutant["groups"][gi]["rules"][ri]["for"] = "0s"
                with open(os.path.join(d, "pvescope.rules.yml"), "w") as f:
                    yaml.safe_dump(mutant, f)
                with open(os.path.join(d, "pvescope.rules.test.yml"), "w") as f:
                    f.write(open(TESTS).read())
                jobs.append((r["alert"], d))
        running = []
        for name, d in jobs:
            running.append((name, subprocess.Popen([PROMTOOL, "test", "rules", "pvescope.rules.test.yml"], cwd=d,
                                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
            if len(running) >= 2:
                wait_mutant(*running.pop(0))
        for nr in running:
            wait_mutant(*nr)
        print("mutants: %d rules, each with for: 0s, break the unit tests" % len(jobs))


def wait_mutant(name, proc):
    out, _ = proc.communicate()
    if proc.returncode == 0:
        fail("%s: the unit tests still pass with for: 0s" % name)
    elif "alertname: %s," % name not in out:
        fail("%s with for: 0s broke the unit tests elsewhere:\n%s" % (name, out))


def check_scrape_configs(n_rules):
    examples = sorted(f for f in os.listdir(PROM_DIR) if re.match(r'scrape-.*\.yml$', f))
    if not {"scrape-plain.yml", "scrape-per-cluster.yml", "scrape-tls.yml"} <= set(examples):
        fail("scrape examples missing: %s" % examples)
    with tempfile.TemporaryDirectory() as tmp:
        for ex in examples:
            doc = yaml.safe_load(open(os.path.join(PROM_DIR, ex)))
            jobs = doc.get("scrape_configs") or []
            if not jobs:
                fail("%s: no scrape_configs" % ex)
            # a minimal prometheus.yml: the example's jobs, the rules from this tree
            wrapped = {"global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
                       "rule_files": [RULES], "scrape_configs": jobs}
            path = os.path.join(tmp, "prometheus-" + ex)
            with open(path, "w") as f:
                yaml.safe_dump(wrapped, f)
            rc, out = run([PROMTOOL, "check", "config", path])
            print(out.strip())
            if rc != 0 or "SUCCESS: %d rules found" % n_rules not in out:
                fail("%s: promtool check config" % ex)
            for j in jobs:
                targets = [t for sc in j.get("static_configs", []) for t in sc.get("targets", [])]
                if not targets or not all(t.endswith(":9715") for t in targets):
                    fail("%s: job %s does not scrape the aggregator's port 9715" % (ex, j["job_name"]))
            if ex == "scrape-per-cluster.yml":
                if len(jobs) < 2:
                    fail("%s: fewer than two cluster jobs" % ex)
                for j in jobs:
                    cl = (j.get("params") or {}).get("cluster")
                    rl = j.get("relabel_configs") or []
                    if not cl or len(cl) != 1:
                        fail("%s: job %s has no single cluster parameter" % (ex, j["job_name"]))
                    if not any(r.get("source_labels") == ["__param_cluster"] and r.get("target_label") == "instance"
                               for r in rl):
                        fail("%s: job %s does not set instance from __param_cluster" % (ex, j["job_name"]))
            if ex == "scrape-tls.yml":
                for j in jobs:
                    if j.get("scheme") != "https" or not (j.get("tls_config") or {}).get("ca_file"):
                        fail("%s: job %s is not https with a CA" % (ex, j["job_name"]))
                    ba = j.get("basic_auth") or {}
                    if not ba.get("username") or not ba.get("password_file") or "password" in ba:
                        fail("%s: job %s: basic auth must have a username and a password_file" % (ex, j["job_name"]))
        # promtool must reject a broken one, or the checks above prove nothing
        bad = os.path.join(tmp, "prometheus-bad.yml")
        with open(bad, "w") as f:
            yaml.safe_dump({"scrape_configs": [{"job_name": "x", "static_configs": [{"targets": ["a:9715"]}],
                                                "relabel_configs": [{"source_labels": ["__param_cluster"],
                                                                     "target_label": "instance",
                                                                     "action": "frobnicate"}]}]}, f)
        rc, _ = run([PROMTOOL, "check", "config", bad])
        if rc == 0:
            fail("promtool check config accepts relabel action frobnicate")


def selftest(families, doc_labels):
    good = {"alert": "X", "expr": 'pve_nvme_critical_warning_flag{flag="spare"} * ignoring(flag) pve_nvme_info',
            "annotations": {"summary": "{{ $labels.serial }}"}}
    if check_rule(good, families, doc_labels):
        fail("selftest: a valid rule is rejected: %s" % check_rule(good, families, doc_labels))
    bad = [
        dict(good, expr=good["expr"].replace("pve_nvme_info", "pve_nvme_infos")),
        dict(good, expr=good["expr"].replace('{flag="spare"}', '{flags="spare"}')),
        dict(good, expr=good["expr"].replace("ignoring(flag)", "ignoring(slot)")),
        dict(good, annotations={"summary": "{{ $labels.node }}"}),
        dict(good, expr="frobnicate(" + good["expr"] + ")"),
    ]
    for b in bad:
        if not check_rule(b, families, doc_labels):
            fail("selftest: the contract check accepts %r" % b)


def main():
    families = load_families()
    doc_labels = load_doc_labels()
    rules_doc = yaml.safe_load(open(RULES))
    rules = [r for g in rules_doc["groups"] for r in g["rules"]]
    selftest(families, doc_labels)
    check_promtool_rules()
    check_contract(rules, families, doc_labels)
    check_coverage(rules)
    check_scrape_configs(len(rules))
    check_for_mutants(rules_doc)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("prometheus_rules: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
