"""`continue` on routes: read as a boolean, and the catch-all warnings know about it."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, line_of, load, only_error, warnings_at

LEADERSHIP = """\
  - name: leadership
    steps:
      - {targets: [alice], timeout_minutes: 0}
routes:
"""


def with_routes(routes: str) -> str:
    return BASE.replace("routes:\n  - notify: critical\n", LEADERSHIP + routes)


def test_continue_is_read_on_routes_and_nested_routes(tmp_path: Path) -> None:
    config, _ = load(tmp_path, with_routes(
        "  - match: {service: payment}\n"
        "    notify: critical\n"
        "    continue: true\n"
        "    routes:\n"
        "      - {match: {team: db}, notify: leadership, continue: true}\n"
        "      - {match: {team: web}, notify: leadership}\n"
        "  - notify: leadership\n"))

    first, last = config.routes
    assert first.continues and not last.continues
    assert [nested.continues for nested in first.routes] == [True, False]


def test_continue_must_be_true_or_false(tmp_path: Path) -> None:
    text = with_routes("  - notify: critical\n    continue: yes\n")

    problem = only_error(tmp_path, text)

    assert (problem.path, problem.line) == ("routes[0].continue", line_of(text, "continue: yes"))
    assert problem.fix == "write true or false"


def test_a_catch_all_that_continues_hides_no_route_and_catches_every_alert(
    tmp_path: Path,
) -> None:
    _, warnings = load(tmp_path, with_routes(
        "  - {notify: leadership, continue: true}\n"
        "  - {match: {severity: critical}, notify: critical}\n"))

    assert warnings_at(warnings, "routes[0]") == []
    assert warnings_at(warnings, "routes[1]") == []  # no "no catch-all route" either


def test_a_catch_all_without_continue_still_hides_the_routes_after_it(tmp_path: Path) -> None:
    _, warnings = load(tmp_path, with_routes(
        "  - {notify: leadership, continue: false}\n"
        "  - {match: {severity: critical}, notify: critical}\n"))

    assert warnings_at(warnings, "routes[0]") == [
        "this route matches every alert, so the routes after it never match"]
