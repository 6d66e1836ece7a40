"""`tocsin route test LABELS...` explains the routing tree rule by rule."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from tocsin.cli.main import app

CONFIG = """\
timezone: Europe/London
users:
  - {id: alice, email: alice@company.com}
  - {id: bob, email: bob@company.com}
services:
  - {name: billing, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps: [{targets: [alice], timeout_minutes: 5}, {targets: [bob], timeout_minutes: 0}]
notifications:
  fallback: [bob]
routes:
  - match: {team: payments}
    notify: critical
    channels: [slack]
    routes:
      - {match: {severity: info}, notify: bob, urgency: low}
  - match: {severity: critical}
    notify: alice
    active: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}
"""


def run(tmp_path: Path, *args: str):
    path = tmp_path / "tocsin.yaml"
    path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return CliRunner().invoke(app, ["route", "test", *args, "--config", str(path)])


def test_it_prints_each_rule_looked_at_and_the_outcome(tmp_path: Path) -> None:
    result = run(tmp_path, "team=payments", "severity=info")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "routes[0] (line 13): yes, matched team=payments",
        "  routes[0].routes[0] (line 17): yes, matched severity=info",
        "  routes[0].routes[0] (line 17): takes the alert, notify bob",
        "=> user bob (one step, no escalation), urgency low, slack",
    ]


def test_an_inactive_route_is_explained_with_its_window(tmp_path: Path) -> None:
    # Saturday 2026-03-07 12:00 in London: outside the weekday window.
    result = run(tmp_path, "severity=critical", "--at", "2026-03-07T12:00", "--json")

    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["via"] == "fallback"
    assert decision["notify"] is None
    assert decision["explanation"][1] == (
        "routes[1] (line 18): inactive at Sat 12:00 (active mon,tue,wed,thu,fri 09:00-18:00)")


def test_an_unrouted_alert_of_a_catalogued_service_runs_its_policy(tmp_path: Path) -> None:
    result = run(tmp_path, "service=billing", "severity=warning", "--json")

    decision = json.loads(result.stdout)
    assert (decision["via"], decision["policy"]) == ("service", "critical")
    assert decision["explanation"][-1] == (
        "service billing names escalation policy critical: it takes the alert")


def test_nothing_taking_the_alert_names_the_fallback(tmp_path: Path) -> None:
    result = run(tmp_path, "severity=warning")

    assert result.stdout.splitlines()[-1] == "=> unrouted: the fallback contact (bob) is paged"


def test_a_label_without_a_value_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "severity")

    assert result.exit_code == 2
    assert "label 'severity' is not NAME=VALUE" in result.stderr


CONTINUING = """\
users:
  - {id: alice, email: alice@company.com}
  - {id: bob, email: bob@company.com}
escalation_policies:
  - name: payments
    steps: [{targets: [alice], timeout_minutes: 5}, {targets: [bob], timeout_minutes: 0}]
  - name: leadership
    steps: [{targets: [bob], timeout_minutes: 0}]
routes:
  - match: {service: payment}
    notify: payments
    continue: true
  - match: {severity: critical}
    notify: leadership
  - notify: bob
"""


def run_continuing(tmp_path: Path, *args: str):
    path = tmp_path / "tocsin.yaml"
    path.write_text(CONTINUING, encoding="utf-8")
    return CliRunner().invoke(app, ["route", "test", *args, "--config", str(path)])


def test_routes_that_continue_show_every_policy_the_alert_pages(tmp_path: Path) -> None:
    result = run_continuing(tmp_path, "service=payment", "severity=critical")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "routes[0] (line 10): yes, matched service=payment",
        "routes[0] (line 10): takes the alert, notify payments",
        "routes[0] (line 10): continue is set, so the walk goes on",
        "routes[1] (line 13): yes, matched severity=critical",
        "routes[1] (line 13): takes the alert too, notify leadership",
        "=> escalation policy payments, urgency high, every contact channel",
        "=> also escalation policy leadership, from routes[1] (line 13), escalating beside it",
    ]


def test_routes_that_continue_are_listed_in_the_json(tmp_path: Path) -> None:
    result = run_continuing(tmp_path, "service=payment", "severity=warning", "--json")

    decision = json.loads(result.stdout)
    assert decision["policy"] == "payments"
    assert decision["also"] == [{"route": "routes[2]", "line": 15,
                                 "notify": {"kind": "user", "name": "bob"},
                                 "policy": "implicit:bob"}]
