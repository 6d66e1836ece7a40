"""docs/integrations.md says what the code does: the default mapping of every
source type, the roots `tocsin check` accepts, and the urgency of every
severity word. The Markdown tables are parsed, so an edit to either side
that leaves the other behind fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tocsin.alerts.mapping import DEFAULTS
from tocsin.alerts.rules import SEVERITY_URGENCY, urgency_for
from tocsin.config.fields import MAPPABLE, SOURCE_ROOTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
CODE = re.compile(r"`([^`]+)`")


def _sections() -> dict[str, str]:
    """Each `### ...` or `## ...` heading of the page and the text under it."""
    parts = re.split(r"^(#{2,3} .+)$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {heading.lstrip("# ").strip(): body
            for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def _rows(text: str) -> list[list[str]]:
    """The cells of every table row under a heading, header and rule lines left out."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|(\s*-+\s*\|)+", line):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows[1:] if rows else rows


def _source_tables() -> dict[str, list[list[str]]]:
    found = {}
    for heading, text in _sections().items():
        named = re.match(r"`(\w+)`: ", heading)
        if named:
            found[named.group(1)] = _rows(text)
    return found


def test_every_source_type_has_a_table():
    assert sorted(_source_tables()) == sorted(DEFAULTS)


@pytest.mark.parametrize("kind", sorted(DEFAULTS))
def test_the_table_lists_exactly_the_default_paths_in_code(kind: str):
    documented = {}
    for cells in _source_tables()[kind]:
        key = CODE.fullmatch(cells[1]) if len(cells) > 2 else None
        if key is not None:
            documented[key.group(1)] = tuple(CODE.findall(cells[2]))

    assert list(documented) == list(MAPPABLE)
    assert documented == DEFAULTS[kind]


def test_the_roots_table_lists_exactly_the_roots_check_accepts():
    rows = _rows(_sections()["Overriding the defaults: `fields:`"])
    listed = {CODE.fullmatch(cells[0]).group(1): cells[1]  # type: ignore[union-attr]
              for cells in rows if CODE.fullmatch(cells[0])}

    assert sorted(listed) == sorted(SOURCE_ROOTS)
    for kind, cell in listed.items():
        roots = [word for word in CODE.findall(cell) if word not in SOURCE_ROOTS]
        if cell.startswith("those of `alertmanager`"):
            roots += list(SOURCE_ROOTS["alertmanager"])
        if kind == "pagerduty":
            roots.remove("routing_key")  # named as the one root that is never read
        assert sorted(roots) == sorted(SOURCE_ROOTS[kind]), kind


def test_the_urgency_table_agrees_with_urgency_for_on_every_word_it_lists():
    rows = _rows(_sections()["Severity to urgency"])
    words = {CODE.fullmatch(cells[0]).group(1): cells[1]  # type: ignore[union-attr]
             for cells in rows}

    assert {word: urgency_for(word) for word in words} == words
    # And it lists every word of the table in code, in the case senders use.
    assert {word.lower() for word in words} == set(SEVERITY_URGENCY)
    assert {"critical", "P1", "P5", "SEV1", "SEV4", "info"} <= set(words)
