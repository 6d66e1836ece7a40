"""`storm:` at the top of the file and on routes: the limit, off, inheritance, mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, errors, line_of, load, only_error
from tocsin.config.model import DEFAULT_STORM_PER_MINUTE

TREE = BASE.replace("routes:\n  - notify: critical\n", """routes:
  - match: {service: payment}
    notify: critical
    STORM_HERE
    routes:
      - {match: {severity: warning}, notify: critical}
      - {match: {severity: info}, notify: critical, storm: {alerts_per_minute: 3}}
  - notify: critical
""")


def limits(tmp_path: Path, text: str) -> dict[str, int | None]:
    config, _ = load(tmp_path, text)
    found = {"top": config.storm}
    for route in config.routes:
        found[route.path] = route.storm
        found.update({nested.path: nested.storm for nested in route.routes})
    return found


def test_without_the_key_every_route_storms_past_the_default(tmp_path: Path) -> None:
    found = limits(tmp_path, TREE.replace("    STORM_HERE\n", ""))

    assert DEFAULT_STORM_PER_MINUTE == 20
    assert found == {"top": 20, "routes[0]": 20, "routes[0].routes[0]": 20,
                     "routes[0].routes[1]": 3, "routes[1]": 20}


def test_a_route_overrides_the_top_and_its_nested_routes_inherit(tmp_path: Path) -> None:
    text = "storm: {alerts_per_minute: 50}\n" + TREE.replace(
        "STORM_HERE", "storm: {alerts_per_minute: 5}")

    assert limits(tmp_path, text) == {"top": 50, "routes[0]": 5, "routes[0].routes[0]": 5,
                                      "routes[0].routes[1]": 3, "routes[1]": 50}


def test_storm_off_at_the_top_and_on_a_route(tmp_path: Path) -> None:
    off_on_top = limits(tmp_path, "storm: off\n" + TREE.replace("    STORM_HERE\n", ""))
    off_on_route = limits(tmp_path, TREE.replace("STORM_HERE", "storm: off"))

    assert off_on_top == {"top": None, "routes[0]": None, "routes[0].routes[0]": None,
                          "routes[0].routes[1]": 3, "routes[1]": None}
    assert off_on_route == {"top": 20, "routes[0]": None, "routes[0].routes[0]": None,
                            "routes[0].routes[1]": 3, "routes[1]": 20}


def test_a_limit_of_0_is_allowed_and_means_every_page_is_bundled(tmp_path: Path) -> None:
    assert limits(tmp_path, "storm: {alerts_per_minute: 0}\n" + TREE.replace(
        "    STORM_HERE\n", ""))["top"] == 0


MISTAKES = [
    ("storm: sometimes", "storm", "bad value 'sometimes': must be a mapping or off",
     "write storm: {alerts_per_minute: 20}, or storm: off to page every alert on its own"),
    ("storm: 20", "storm", "a bare number (20) is not a storm setting",
     "write storm: {alerts_per_minute: 20}"),
    ("storm: {}", "storm.alerts_per_minute", "missing required key 'alerts_per_minute'",
     "add alerts_per_minute: 20"),
    ("storm: {alerts_per_minute: -1}", "storm.alerts_per_minute", "must be 0 or more, got -1",
     "write a whole number, 0 or more"),
    ("storm: {alerts_per_minute: 2.5}", "storm.alerts_per_minute",
     "wrong type: expected a whole number, got '2.5'", "write a number such as 5"),
    ("storm: {alerts_per_minute: 1000000}", "storm.alerts_per_minute",
     "must be at most 100000, got 1e+06", "write a whole number up to 100000"),
]


@pytest.mark.parametrize(("written", "path", "message", "fix"), MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_a_bad_top_level_storm_names_the_field_and_the_fix(
    tmp_path: Path, written: str, path: str, message: str, fix: str,
) -> None:
    text = written + "\n" + BASE
    problem = only_error(tmp_path, text)

    assert (problem.path, problem.line, problem.message, problem.fix) == (
        path, 1, message, fix)


def test_a_misspelt_key_is_named_with_the_one_meant(tmp_path: Path) -> None:
    found = errors(tmp_path, "storm: {per_minute: 5}\n" + BASE)

    assert [(p.path, p.message, p.fix) for p in found] == [
        ("storm.per_minute", "unknown key 'per_minute'", "did you mean 'alerts_per_minute'?"),
        ("storm.alerts_per_minute", "missing required key 'alerts_per_minute'",
         "add alerts_per_minute: 20"),
    ]


def test_a_bad_storm_on_a_nested_route_names_its_path_and_line(tmp_path: Path) -> None:
    text = TREE.replace("STORM_HERE", "storm: {alerts_per_minute: lots}")
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].storm.alerts_per_minute"
    assert problem.line == line_of(text, "lots")
    assert problem.message == "wrong type: expected a whole number, got 'lots'"
