"""Nested routes and `active` windows in the file."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, load, warnings_at
from tocsin.config.model import Restriction, Target

TREE = BASE.replace(
    "routes:\n  - notify: critical\n",
    """\
routes:
  - match: {service: payment}
    notify: critical
    urgency: low
    channels: [slack]
    routes:
      - match: {team: db}
        notify: bob
      - match: {severity: critical}
        urgency: high
  - match_re: {env: prod.*}
    routes:
      - {match: {severity: critical}, notify: alice}
  - notify: critical
    active: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}
""",
)


def test_nested_routes_inherit_what_they_leave_out(tmp_path: Path) -> None:
    config, _ = load(tmp_path, TREE)

    payments = config.routes[0]
    db, critical = payments.routes
    assert db.path == "routes[0].routes[0]"
    assert db.notify == Target("user", "bob")
    assert (db.channels, db.urgency) == (("slack",), "low")
    assert critical.notify == Target("escalation_policy", "critical")
    assert critical.urgency == "high"
    assert critical.line == line_of(TREE, "match: {severity: critical}")


def test_a_route_may_only_group_nested_ones(tmp_path: Path) -> None:
    config, _ = load(tmp_path, TREE)

    grouping = config.routes[1]
    assert grouping.notify is None
    assert grouping.routes[0].notify == Target("user", "alice")


def test_active_reads_a_weekly_window(tmp_path: Path) -> None:
    config, _ = load(tmp_path, TREE)

    assert config.routes[2].active == Restriction(
        time(9), time(18), ("mon", "tue", "wed", "thu", "fri"))


def test_only_the_top_level_needs_a_catch_all(tmp_path: Path) -> None:
    _, warnings = load(tmp_path, TREE)

    assert not [w for w in warnings if "catch-all" in w.message]


def test_a_top_level_route_without_notify_or_routes_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("  - notify: critical\n", "  - match: {severity: info}\n"
                        "  - notify: critical\n")
    found = errors(tmp_path, text)

    assert [(p.path, p.message) for p in found] == [("routes[0]", "missing required key 'notify'")]
    assert found[0].line == line_of(text, "match: {severity: info}")


def test_an_unknown_target_in_a_nested_route_names_its_path(tmp_path: Path) -> None:
    text = TREE.replace("notify: bob", "notify: bobby")
    found = errors(tmp_path, text)

    assert [p.path for p in found] == ["routes[0].routes[0].notify"]


def test_an_empty_active_window_is_an_error(tmp_path: Path) -> None:
    text = TREE.replace('from: "09:00", to: "18:00"', 'from: "09:00", to: "09:00"')
    found = errors(tmp_path, text)

    assert [p.path for p in found] == ["routes[2].active.to"]
    assert "both 09:00" in found[0].message


def test_a_nested_catch_all_before_its_siblings_is_warned_about(tmp_path: Path) -> None:
    text = TREE.replace("      - match: {team: db}\n        notify: bob\n",
                        "      - notify: bob\n      - match: {team: db}\n        notify: bob\n")
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "routes[0].routes[0]") == [
        "this route matches every alert, so the routes after it never match"]


def test_a_nested_route_needs_notify_when_its_parent_has_none(tmp_path: Path) -> None:
    text = TREE.replace("{match: {severity: critical}, notify: alice}", "{match: {severity: x}}")
    found = errors(tmp_path, text)

    assert [p.path for p in found] == ["routes[1].routes[0]"]
    assert found[0].fix.endswith("the route it is nested in notifies nobody")
