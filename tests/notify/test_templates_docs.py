"""docs/channels.md lists exactly the variables a message template gets.

The "Variables" table under "Message templates" is parsed and held to the
context a real page builds and to the sample page `tocsin check` renders, so
a variable added, renamed or removed on one side fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.fixtures import CLOCK_START
from tests.support.pages import make_page
from tocsin.config.model import MessageTemplates
from tocsin.config.templates import (
    SAMPLE_CONTEXT,
    TEMPLATE_NAMES,
    TEMPLATE_VARIABLES,
    template_context,
    variable_names,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "channels.md"
CODE = re.compile(r"`([^`]+)`")


def _section(heading: str) -> str:
    """The text under a `### heading` (or `## heading`) of the page, up to the next heading."""
    parts = re.split(r"^(#{2,3} .+)$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    found = {title.lstrip("# ").strip(): body
             for title, body in zip(parts[1::2], parts[2::2], strict=True)}
    return found[heading]


def _rows(text: str) -> list[list[str]]:
    """The cells of each table row, the header and the rule left out."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split(" | ")]
            for line in text.splitlines()
            if line.startswith("|") and not re.fullmatch(r"\|(\s*-+\s*\|)+", line)]
    return rows[1:]


def _documented() -> dict[str, str]:
    """Variable name to its sample cell, in the table's order."""
    found = {}
    for cells in _rows(_section("Variables")):
        name = CODE.fullmatch(cells[0])
        assert name is not None, cells
        found[name.group(1)] = cells[2]
    return found


def test_the_table_lists_exactly_the_variables_of_a_page_in_order() -> None:
    real = variable_names(template_context(make_page(), CLOCK_START))

    assert list(_documented()) == list(real)
    assert list(_documented()) == list(TEMPLATE_VARIABLES)


def test_the_sample_column_is_what_check_renders_against() -> None:
    for name, cell in _documented().items():
        space, _, field = name.partition(".")
        value = SAMPLE_CONTEXT[space][field] if field else SAMPLE_CONTEXT[space]
        shown = CODE.search(cell)
        if isinstance(value, dict):  # labels: any name answers on the sample page
            assert value["any-name"] == CODE.findall(cell)[-1], name
        elif name == "ack_url":  # shortened in the table
            assert shown is not None and str(value).startswith(shown.group(1).rstrip(".")), name
        else:
            assert shown is not None and shown.group(1) == str(value), name


def test_the_keys_table_lists_every_template_key() -> None:
    keys = [CODE.fullmatch(cells[0]) for cells in _rows(_section("Message templates"))]
    documented = [key.group(1) for key in keys if key is not None]

    assert documented == list(TEMPLATE_NAMES)
    assert list(TEMPLATE_NAMES) == list(vars(MessageTemplates()))
