"""Grafana and generic integrations, and each integration's body size limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, line_of, load, only_error

SOURCES = (
    BASE
    + """\
integrations:
  - {name: grafana, type: grafana, key: g-key-1, max_body_kib: 65536}
  - {name: scripts, type: generic, key: s-key-1, max_body_kib: 0.5}
  - {name: prom, type: alertmanager, key: p-key-1}
"""
)


def test_grafana_and_generic_integrations_load_with_their_limits(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, SOURCES)

    assert [(i.name, i.type, i.max_body_kib) for i in config.integrations] == [
        ("grafana", "grafana", 65536), ("scripts", "generic", 0.5), ("prom", "alertmanager", None),
    ]
    assert warnings == []


@pytest.mark.parametrize(("written", "says"), [
    ("0", "must be more than 0"),
    ("-5", "must be more than 0"),
    ('"512"', "remove the quotes"),
    ("lots", "a number"),
    ("999999999", "must be at most 262144"),
])
def test_a_body_limit_must_be_a_positive_number_within_reason(
    tmp_path: Path, written: str, says: str,
) -> None:
    text = SOURCES.replace("max_body_kib: 0.5", f"max_body_kib: {written}")
    problem = only_error(tmp_path, text)

    assert problem.path == "integrations[1].max_body_kib"
    assert problem.line == line_of(text, "name: scripts")
    assert says in problem.message + problem.fix
