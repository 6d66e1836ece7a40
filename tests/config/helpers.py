"""Write a config into a temporary file and load it, the way `tocsin check` does."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from tocsin.config.loader import ConfigError, Problem, load_config
from tocsin.config.model import Config

# The smallest file that loads without errors; tests add to it.
BASE = """\
users:
  - {id: alice, email: alice@company.com, name: Alice}
  - {id: bob, email: bob@company.com, name: Bob}
schedules:
  - name: primary
    rotation: weekly
    participants: [alice, bob]
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 0}
routes:
  - notify: critical
"""


def write(tmp_path: Path, text: str, name: str = "tocsin.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(
    tmp_path: Path, text: str, env: Mapping[str, str] | None = None
) -> tuple[Config, list[Problem]]:
    return load_config(write(tmp_path, text), env=env or {})


def rejected(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem (errors and warnings) of a file that must not load."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return caught.value.problems


def errors(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> list[Problem]:
    return [p for p in rejected(tmp_path, text, env) if p.severity == "error"]


def only_error(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> Problem:
    found = errors(tmp_path, text, env)
    assert len(found) == 1, [p.format() for p in found]
    return found[0]


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of `text` (dedented) holding `needle`."""
    for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the text")


def warnings_at(warnings: list[Problem], path: str) -> list[str]:
    return [w.message for w in warnings if w.path == path]
