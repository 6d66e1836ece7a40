"""`flapping:` at the top of the file and on routes: defaults, off, inheritance, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, line_of, load, only_error, warnings_at
from tocsin.config.model import Flapping

ROUTES = """\
routes:
  - match: {team: db}
    notify: critical
    flapping: {changes: 2, minutes: 60}
    routes:
      - {match: {env: prod}, notify: critical}
      - {match: {env: dev}, notify: critical, flapping: off}
  - notify: critical
"""


def with_routes(top: str = "") -> str:
    return top + BASE.replace("routes:\n  - notify: critical\n", ROUTES)


def test_on_by_default_more_than_five_changes_in_thirty_minutes(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)

    assert config.flapping == Flapping(changes=5, minutes=30)
    assert config.routes[0].flapping == Flapping(changes=5, minutes=30)


def test_off_at_the_top_turns_it_off_for_routes_that_say_nothing(tmp_path: Path) -> None:
    config, _ = load(tmp_path, with_routes("flapping: off\n"))

    assert config.flapping is None
    assert config.routes[1].flapping is None


def test_a_route_overrides_and_its_nested_routes_inherit_unless_they_set_it(
    tmp_path: Path,
) -> None:
    config, _ = load(tmp_path, with_routes("flapping: {changes: 3, minutes: 10}\n"))

    db = config.routes[0]
    prod, dev = db.routes
    assert db.flapping == Flapping(changes=2, minutes=60)
    assert prod.flapping == Flapping(changes=2, minutes=60)
    assert dev.flapping is None
    assert config.routes[1].flapping == Flapping(changes=3, minutes=10)


def test_a_key_left_out_takes_its_default(tmp_path: Path) -> None:
    config, _ = load(tmp_path, "flapping: {minutes: 60}\n" + BASE)

    assert config.flapping == Flapping(changes=5, minutes=60)


def test_a_window_under_a_minute_loads_with_a_warning(tmp_path: Path) -> None:
    _, warnings = load(tmp_path, "flapping: {minutes: 0.5}\n" + BASE)

    assert warnings_at(warnings, "flapping.minutes") == ["0.5 minutes is under one minute"]


BAD = [
    ("flapping: sometimes", "flapping",
     "bad value 'sometimes': must be off or a mapping such as {changes: 5, minutes: 30}",
     "write flapping: {changes: 5, minutes: 30}, or flapping: off to turn it off"),
    ("flapping: false", "flapping",
     "bad value 'false': must be off or a mapping such as {changes: 5, minutes: 30}",
     "write flapping: {changes: 5, minutes: 30}, or flapping: off to turn it off"),
    ("flapping: [5, 30]", "flapping",
     "wrong type: expected off or a mapping such as {changes: 5, minutes: 30}, got a list",
     "write flapping: {changes: 5, minutes: 30}, or flapping: off to turn it off"),
    ("flapping: {changes: 0}", "flapping.changes", "must be 1 or more, got 0",
     "write a whole number, 1 or more"),
    ("flapping: {changes: 2.5}", "flapping.changes",
     "wrong type: expected a whole number, got '2.5'", "write a number such as 5"),
    ("flapping: {minutes: 0}", "flapping.minutes", "must be more than 0, got 0",
     "write a number, more than 0"),
    ("flapping: {minutes: 2000}", "flapping.minutes", "must be at most 1440, got 2000",
     "write a number up to 1440"),
    ("flapping: {change: 3}", "flapping.change", "unknown key 'change'",
     "did you mean 'changes'?"),
]


@pytest.mark.parametrize(("line", "path", "message", "fix"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_setting_names_the_field_and_the_fix(
    tmp_path: Path, line: str, path: str, message: str, fix: str,
) -> None:
    text = line + "\n" + BASE
    problem = only_error(tmp_path, text)

    assert (problem.path, problem.message, problem.fix) == (path, message, fix)
    assert problem.line == 1


def test_a_bad_setting_on_a_nested_route_names_its_path_and_line(tmp_path: Path) -> None:
    text = with_routes().replace("flapping: off", "flapping: {minutes: -5}")
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].routes[1].flapping.minutes"
    assert problem.line == line_of(text, "minutes: -5")
    assert problem.message == "must be more than 0, got -5"
