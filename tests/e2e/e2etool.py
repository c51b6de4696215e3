#!/usr/bin/env python3
"""e2etool.py — helpers for the pvescope e2e scripts (python3 stdlib only).

  free-ports N                 N distinct free TCP ports on 127.0.0.1, space separated
  metric SRC SERIES...         value of each series, one per line ("absent" if missing)
  series SRC                   every series key in SRC, sorted (name{sorted labels})
  families SRC                 every family name with a # TYPE line, sorted
  validate SRC                 strict parse of a text exposition: every sample line
                               parses, belongs to a family declared (HELP+TYPE)
                               before it, no duplicate series; exit 1 listing problems
  gunzip IN OUT                decompress a gzip file
  promql BASEURL QUERY         instant query; prints "absent", or the value of the
                               single resulting series (exit 1 on an API error or
                               on more than one series)

SRC is a file name, or an http:// URL that is fetched (without gzip).
SERIES is written as in the exposition: name{label="value",...}; label order
does not matter.
"""
import gzip
import json
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request


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
        with gzip.open(args[0], "rb") as f:
            data = f.read()
        with open(args[1], "wb") as f:
            f.write(data)
    elif cmd == "promql":
        cmd_promql(args)
    else:
        fail("unknown command %s" % cmd, 2)


if __name__ == "__main__":
    main()
