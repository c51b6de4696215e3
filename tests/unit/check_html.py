#!/usr/bin/env python3
"""check_html.py FILE — the status page is a well-formed, self-contained document.

Strict: an XML parser (expat) must accept it (every element closed and nested,
every entity defined, no control characters), and Python's HTML tokenizer must
see the same balanced elements. It must carry no script, no event handler
attribute, no style or image loaded from elsewhere. Exit 0 when it passes."""
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

VOID = {"meta", "br", "img", "hr", "input", "link", "col", "wbr", "area", "base", "source", "track", "embed"}


class Balance(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.errors.append(f"event handler attribute {name} on <{tag}>")
            if name in ("src", "srcset", "action", "formaction"):
                self.errors.append(f"resource attribute {name}={value!r} on <{tag}>")
            if name == "href" and value and not value.startswith(("/", "#")):
                self.errors.append(f"link to elsewhere: {value!r}")
        if tag in ("script", "link", "iframe", "object", "img"):
            self.errors.append(f"<{tag}> element")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.errors.append(f"<{tag}/> is not a void element")
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def main():
    raw = open(sys.argv[1], "rb").read()
    text = raw.decode("utf-8")          # raises on invalid UTF-8
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        print(f"not well-formed: {e}")
        return 1
    if root.tag != "html" or [c.tag for c in root] != ["head", "body"]:
        print(f"unexpected structure: <{root.tag}> with {[c.tag for c in root]}")
        return 1
    b = Balance()
    b.feed(text)
    b.close()
    if b.stack:
        b.errors.append(f"unclosed: {b.stack}")
    if "url(" in text or "@import" in text:
        b.errors.append("CSS loads a resource")
    for e in b.errors:
        print(e)
    print(f"{sys.argv[1]}: {len(raw)} bytes, {b.tags} elements, {'FAIL' if b.errors else 'ok'}")
    return 1 if b.errors else 0


if __name__ == "__main__":
    sys.exit(main())
