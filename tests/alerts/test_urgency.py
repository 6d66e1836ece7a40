"""One table turns every source's severity words into urgency (docs/integrations.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tocsin.alerts.rules import SEVERITY_URGENCY, urgency_for

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"


@pytest.mark.parametrize("severity", ["critical", "error", "P1", "P2", "SEV1", "SEV2", "SEV3"])
def test_the_loud_words_mean_high(severity: str):
    assert urgency_for(severity) == "high"


@pytest.mark.parametrize("severity", ["warning", "info", "P3", "P4", "P5", "SEV4"])
def test_the_quiet_words_mean_low(severity: str):
    assert urgency_for(severity) == "low"


@pytest.mark.parametrize("severity", ["CRITICAL", " Warning ", "sev-1", "Sev4", "p5"])
def test_case_spaces_and_a_dash_do_not_matter(severity: str):
    assert urgency_for(severity) == urgency_for(severity.strip().lower().replace("-", ""))
    assert urgency_for(severity) in ("high", "low")


@pytest.mark.parametrize("severity", [None, "", "disaster", "P6", "sev0"])
def test_a_missing_or_unknown_severity_is_never_quieter_than_high(severity: str | None):
    assert urgency_for(severity) == "high"


def test_the_docs_table_says_what_the_code_does():
    rows = re.findall(r"^\| `([^`]+)` \| (high|low) \|", DOCS.read_text(), re.MULTILINE)

    assert {word.lower(): urgency for word, urgency in rows} == SEVERITY_URGENCY
