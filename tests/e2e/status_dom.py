#!/usr/bin/env python3
"""status_dom.py DOM_FILE — the aggregator's status page as a browser built it
(chromium --dump-dom), flattened to lines that status_page.sh asserts on:

  node    <cell>|<cell>|...    one per row of table.nodes: cluster, node, state,
                               .members, report age, agent, uptime, guests
                               running, failing collectors (text content,
                               whitespace collapsed)
  markup  <node>|<tags>        the elements inside that row's failing-collectors
                               cell, in document order (what the browser made
                               of the report's text: only the page's own markup)
  cluster <cell>|...           one per row of table.clusters
  reject  <reason>|<count>     table.rejects
  summary <text>               p#summary
  script  <n>                  <script> elements in the document
Exit status 1 when the document has no nodes table."""
import re
import sys
from html.parser import HTMLParser


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.table = None          # class of the table we are in
        self.row = None            # list of cell texts
        self.cell = None           # text parts of the current cell
        self.cell_tags = None      # tags opened inside the current cell
        self.row_tags = []
        self.rows = {}             # table class -> [(cells, tags of each cell)]
        self.summary = None
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self.table = a.get("class", "")
            self.rows.setdefault(self.table, [])
        elif tag == "tr" and self.table is not None:
            self.row, self.row_tags = [], []
        elif tag in ("td", "th") and self.row is not None:
            self.cell, self.cell_tags = [], []
        elif self.cell is not None:
            self.cell_tags.append(tag)
            if tag == "br":
                self.cell.append(" ")
        if tag == "p" and a.get("id") == "summary":
            self.summary = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(norm("".join(self.cell)))
            self.row_tags.append(self.cell_tags)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row and self.cell is None:
                self.rows[self.table].append((self.row, self.row_tags))
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "p" and self.summary is not None and not isinstance(self.summary, str):
            self.summary = norm("".join(self.summary))

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if isinstance(self.summary, list):
            self.summary.append(data)


def main():
    p = Page()
    p.feed(open(sys.argv[1], encoding="utf-8").read())
    p.close()
    if "nodes" not in p.rows:
        print("no table.nodes in the document", file=sys.stderr)
        return 1
    for cells, tags in p.rows["nodes"][1:]:            # [0]: the header row
        print("node " + "|".join(cells))
        print("markup " + cells[1] + "|" + ",".join(tags[-1]))
    for cells, _ in p.rows.get("clusters", [])[1:]:
        print("cluster " + "|".join(cells))
    for cells, _ in p.rows.get("rejects", [])[1:]:
        print("reject " + "|".join(cells[:2]))
    print("summary " + (p.summary if isinstance(p.summary, str) else ""))
    print(f"script {p.scripts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
