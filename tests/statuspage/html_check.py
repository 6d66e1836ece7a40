"""A small HTML checker for server-rendered pages: what a validator would refuse first.

Tags nest and close in order (void elements excepted), ids are unique, every
aria-labelledby names an id on the page, there is no script, the page has a
language, a title and one h1, and headings do not skip a level.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
# Elements whose end tag HTML lets a writer leave out; we always write them, so none here.


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.open: list[str] = []
        self.ids: set[str] = set()
        self.labelled_by: list[str] = []
        self.headings: list[int] = []
        self.doctype = False
        self.lang = False
        self.title = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.problems.append("a script element on a page that must work without one")
        if tag == "html" and found.get("lang"):
            self.lang = True
        if tag == "title":
            self.title = True
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if tag == "a" and not found.get("href"):
            self.problems.append("a link without href")
        ident = found.get("id")
        if ident is not None:
            if ident in self.ids:
                self.problems.append(f"duplicate id {ident}")
            self.ids.add(ident)
        if found.get("aria-labelledby"):
            self.labelled_by.append(str(found["aria-labelledby"]))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.problems.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"</{tag}> closes a void element")
        elif not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
        else:
            self.open.pop()


def html_problems(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    if checker.open:
        problems.append(f"never closed: {checker.open}")
    if not checker.doctype:
        problems.append("no <!doctype html>")
    if not checker.lang:
        problems.append("no lang on <html>")
    if not checker.title:
        problems.append("no <title>")
    if checker.headings.count(1) != 1:
        problems.append(f"{checker.headings.count(1)} h1 headings; a page has one")
    for before, after in zip(checker.headings, checker.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading h{before} is followed by h{after}")
    problems += [f"aria-labelledby names a missing id {ident}"
                 for ident in checker.labelled_by if ident not in checker.ids]
    return problems
