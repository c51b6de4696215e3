#!/usr/bin/env python3
"""check_man.py - lint a man page and hold it to its binary's --help.

usage: check_man.py PAGE BINARY [GROFF]

Fails (exit 1) when
  * the page is not plain ASCII, or `groff -man -ww -z` prints any warning;
  * .TH does not name the page's file (NAME.SECTION) or a section is missing
    (NAME, SYNOPSIS, DESCRIPTION, OPTIONS, FILES, ENVIRONMENT, EXIT STATUS,
    EXAMPLES, SEE ALSO);
  * a flag in `BINARY --help` is not a tag of the page's OPTIONS section, or
    the page documents a flag that --help does not list;
  * a default that --help shows (--flag=15s, "(default /path)") is not in that
    flag's paragraph;
  * the agent's collectors (name [on|off] lines of --help) differ from the
    tags of the page's COLLECTORS section, by name or by default.
The page is rendered to plain text with a line length long enough that no
paragraph is broken (so none is hyphenated) for the comparisons.
"""
import os
import re
import subprocess
import sys

SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "ENVIRONMENT",
            "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
FLAG = re.compile(r"--[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]")
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*(=[A-Z][A-Z0-9_]*)?|.*\b(HOST|PORT)\b.*")

problems = []


def bad(msg):
    problems.append(msg)


def sections(text):
    """Rendered page -> {SECTION: [lines]} (headings are unindented lines)."""
    out, cur = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace():
            cur = line.strip()
            out.setdefault(cur, [])
        elif cur is not None:
            out[cur].append(line)
    return out


def tagged(lines):
    """Lines of a section -> [(tags, body text)] for its .TP paragraphs. With
    paragraphs unbroken, a tag is a line indented 7 columns (man(7)'s default)
    directly followed by its body, indented 14, or by another tag (.TQ); a
    7-column line followed by a blank line is a plain paragraph, unless it
    is a tag narrower than the indent: then its body starts on the same line,
    at column 14."""
    items, tags = [], []
    for i, line in enumerate(lines):
        ind = len(line) - len(line.lstrip(" "))
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        short = re.fullmatch(r" {7}(\S+) +", line[:14]) and line[14:15].strip()
        if not line.strip():
            tags = []
        elif ind == 7 and nxt.strip():
            tags.append(line.strip())
        elif short:
            items.append((tags + [line[:14].strip()], line[14:].strip()))
            tags = []
        elif ind >= 14 and tags:
            items.append((tags, line.strip()))
            tags = []
    return items


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    page, binary = sys.argv[1], sys.argv[2]
    groff = sys.argv[3] if len(sys.argv) == 4 else "groff"
    src = open(page, "rb").read()
    try:
        src.decode("ascii")
    except UnicodeDecodeError as e:
        bad("not plain ASCII at byte %d (write \\(em, \\(aq ... instead)" % e.start)

    lint = subprocess.run([groff, "-man", "-ww", "-z", page], capture_output=True, text=True)
    if lint.returncode != 0 or lint.stderr.strip():
        bad("groff -man -ww -z: exit %d\n%s" % (lint.returncode, lint.stderr))

    name, _, section = os.path.basename(page).rpartition(".")
    th = re.search(r"^\.TH\s+(\S+)\s+(\S+)", src.decode("ascii", "replace"), re.M)
    if not th or th.group(1).replace("\\-", "-") != name.upper() or th.group(2) != section:
        bad(".TH should be '%s %s', is %r" % (name.upper(), section, th and th.group(0)))

    text = subprocess.run([groff, "-man", "-Tascii", "-P-cbou", "-rLL=3000n", page],
                          capture_output=True, text=True, check=True).stdout
    secs = sections(text)
    for s in SECTIONS:
        if s not in secs:
            bad("no %s section" % s)

    helptext = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    help_flags = set(FLAG.findall(helptext))
    if len(help_flags) < 5:
        bad("found only %r in %s --help: is that the right binary?" % (help_flags, binary))

    options = tagged(secs.get("OPTIONS", []))
    doc = {}
    for tags, body in options:
        for tag in tags:
            for f in FLAG.findall(tag):
                doc.setdefault(f, []).append(body)
    for f in sorted(help_flags - set(doc)):
        bad("%s --help lists %s; the OPTIONS section has no paragraph for it" % (binary, f))
    for f in sorted(set(doc) - help_flags):
        bad("OPTIONS documents %s, which %s --help does not list" % (f, binary))

    # Defaults shown by --help must be in the flag's paragraph.
    defaults = {}
    for f, v in re.findall(r"(--[A-Za-z][A-Za-z0-9._-]*)=(\S+)", helptext):
        if not PLACEHOLDER.fullmatch(v):
            defaults[f] = v
    for line in helptext.splitlines():
        m = re.search(r"^\s*(--[A-Za-z][A-Za-z0-9._-]*)\S*\s.*\(default ([^):,\s]+)\)", line)
        if m:
            defaults[m.group(1)] = m.group(2)
    for f, v in sorted(defaults.items()):
        if f in doc and not any(v in body for body in doc[f]):
            bad("%s defaults to %s (--help); its OPTIONS paragraph does not say so" % (f, v))

    help_coll = dict(re.findall(r"^  ([a-z][a-z0-9_]*) +\[(on|off)\]", helptext, re.M))
    if help_coll or "COLLECTORS" in secs:
        page_coll = {}
        for tags, _ in tagged(secs.get("COLLECTORS", [])):
            for tag in tags:
                m = re.fullmatch(r"([a-z][a-z0-9_]*) \[(on|off)\]", tag)
                if m:
                    page_coll[m.group(1)] = m.group(2)
                else:
                    bad("COLLECTORS tag %r is not 'name [on|off]'" % tag)
        if page_coll != help_coll:
            for c in sorted(set(help_coll) | set(page_coll)):
                if help_coll.get(c) != page_coll.get(c):
                    bad("collector %s: --help says %s, the page %s" % (c, help_coll.get(c), page_coll.get(c)))

    for p in problems:
        print("%s: %s" % (page, p), file=sys.stderr)
    if problems:
        return 1
    print("%s: clean; %d flags, %d defaults, %d collectors match %s --help"
          % (page, len(help_flags), len(defaults), len(help_coll), os.path.basename(binary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
