"""`tocsin db upgrade`, `tocsin alert ...` and `tocsin incident ...` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.support.harness import Harness
from tocsin.audit import AuditEntry
from tocsin.cli.main import app
from tocsin.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "tocsin.yaml")
OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None}

CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, contacts: {webhook: "http://hooks.test/alice"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob"}}
schedules:
  - {name: primary, rotation: daily, start_date: 2026-03-01, participants: [alice]}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
routes:
  - {notify: critical}
services:
  - {name: payment, escalation_policy: critical}
integrations:
  - {name: prom, type: alertmanager, key: prom-key-for-cli-tests, service: payment}
notifications:
  webhook: {secret: cli-test-webhook-secret}
"""


def tocsin(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=OPERATOR)


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    """A Tocsin process sharing the CLI's database: fake clock, fake channels."""
    made = Harness(tmp_path, db_url, clock, CONFIG)
    yield made
    made.close()


def _cli(harness: Harness, db_url: str, *args: str) -> Any:
    return tocsin(*args, "--config", str(harness.config_path), "--db", db_url)


def _audit(harness: Harness) -> list[tuple[str, str, str, str]]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.object_id, r.actor, r.surface) for r in rows]


# --- No database, then one ------------------------------------------------------------


@pytest.mark.parametrize("verb", [
    ["alert", "list"],
    ["alert", "show", "1"],
    ["alert", "ack", "1", "--config", EXAMPLE],
    ["alert", "resolve", "1", "--config", EXAMPLE],
    ["incident", "list"],
    ["incident", "show", "INC-1"],
    ["incident", "create", "Checkout is down", "--config", EXAMPLE],
])
def test_verbs_refuse_to_create_a_database(tmp_path: Path, verb):
    missing = tmp_path / "none.db"

    result = tocsin(*verb, "--db", f"sqlite:///{missing}")

    assert result.exit_code == 1
    assert "tocsin db upgrade" in result.stderr
    assert "tocsin serve" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_db_upgrade_creates_the_database_and_the_verbs_then_work(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'new.db'}"

    upgraded = tocsin("db", "upgrade", "--db", url)
    again = tocsin("db", "upgrade", "--db", url)

    assert (upgraded.exit_code, again.exit_code) == (0, 0), upgraded.stderr
    assert (tmp_path / "new.db").exists()
    assert json.loads(tocsin("alert", "list", "--json", "--db", url).stdout) == {"alerts": []}
    listed = tocsin("incident", "list", "--json", "--db", url)
    assert json.loads(listed.stdout) == {"incidents": []}


def test_postgres_urls_are_accepted(pg_database: str):
    url = "postgres://" + pg_database.split("://", 1)[1]

    upgraded = tocsin("db", "upgrade", "--db", url)
    listed = tocsin("alert", "list", "--json", "--db", url)

    assert upgraded.exit_code == 0, upgraded.stderr
    assert listed.exit_code == 0, listed.stderr
    assert "alerts" in json.loads(listed.stdout)


def test_an_unreachable_postgresql_is_a_message_not_a_traceback():
    # Product bug: open_database lets the driver's OperationalError escape.
    result = tocsin("alert", "list", "--db", "postgresql://tocsin@127.0.0.1:1/tocsin")

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("tocsin: ")


# --- Incidents ------------------------------------------------------------------------


def _declare(db_url: str, title: str, *extra: str) -> Any:
    return tocsin("incident", "create", title, "--config", EXAMPLE, "--db", db_url, *extra)


def test_incidents_are_numbered_and_take_their_severitys_target(db_url: str):
    first = _declare(db_url, "Payment API returning 500 errors", "--severity", "SEV1", "--json")
    second = _declare(db_url, "Search is slow", "--severity", "SEV3", "--json")

    assert first.exit_code == 0, first.stderr
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert (one["id"], one["severity"], one["target_mttr_minutes"]) == ("INC-1", "SEV1", 30)
    # cli:zoe is no config user: she declared it, but nobody is commander yet.
    assert (one["title"], one["commander"], one["declared_by"]) == (
        "Payment API returning 500 errors", None, "cli:zoe")
    assert (two["id"], two["target_mttr_minutes"]) == ("INC-2", 240)
    listed = json.loads(tocsin("incident", "list", "--json", "--db", db_url).stdout)
    assert [i["id"] for i in listed["incidents"]] == ["INC-2", "INC-1"]


def test_an_incident_can_be_shown_by_its_id(db_url: str):
    _declare(db_url, "Payment API returning 500 errors", "--severity", "SEV1")

    shown = tocsin("incident", "show", "inc-1", "--json", "--db", db_url)
    unknown = tocsin("incident", "show", "INC-9", "--db", db_url)

    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["title"] == "Payment API returning 500 errors"
    assert (unknown.exit_code, unknown.stdout) == (1, "")
    assert "INC-9" in unknown.stderr


def test_declaring_names_the_commander_and_the_actor(db_url: str):
    result = _declare(db_url, "Checkout is down", "--severity", "SEV2", "--as", "carol",
                      "--commander", "dave")

    assert result.exit_code == 0
    assert result.stdout == ("INC-1 declared: [SEV2] Checkout is down "
                             "(commander dave, target MTTR 60 min)\n")
    shown = json.loads(tocsin("incident", "show", "INC-1", "--json", "--db", db_url).stdout)
    assert (shown["commander"], shown["declared_by"]) == ("dave", "carol")


def test_an_unknown_severity_exits_1_naming_the_allowed_ones(db_url: str):
    result = _declare(db_url, "Checkout is down", "--severity", "P1")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "P1" in result.stderr
    for allowed in ("SEV1", "SEV2", "SEV3", "SEV4"):
        assert allowed in result.stderr
    listed = json.loads(tocsin("incident", "list", "--json", "--db", db_url).stdout)
    assert listed == {"incidents": []}


# --- Alerts ---------------------------------------------------------------------------


def test_alert_ack_stops_the_escalation_and_is_audited(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")

    result = _cli(harness, db_url, "alert", "ack", str(alert_id))
    harness.advance(15)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"alert {alert_id}: acknowledged\n"
    alert = harness.alert(alert_id)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", "cli:zoe")
    assert _audit(harness) == [("alert.acknowledge", str(alert_id), "cli:zoe", "cli")]
    assert harness.paged() == [(0, "alice", 1)]
    assert harness.timeline(alert_id)[-1] == "acknowledged: acknowledged by cli:zoe via cli"


def test_alert_resolve_as_a_named_person(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")

    result = _cli(harness, db_url, "alert", "resolve", str(alert_id), "--as", "carol")

    assert result.exit_code == 0, result.stderr
    alert = harness.alert(alert_id)
    assert (alert.status, alert.resolved_by) == ("resolved", "carol")
    assert _audit(harness) == [("alert.resolve", str(alert_id), "carol", "cli")]


def test_acking_twice_from_the_cli_is_a_no_op(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")
    _cli(harness, db_url, "alert", "ack", str(alert_id))

    again = _cli(harness, db_url, "alert", "ack", str(alert_id), "--as", "bob")

    assert again.exit_code == 0
    assert harness.alert(alert_id).acknowledged_by == "cli:zoe"
    assert len(_audit(harness)) == 1


def test_acking_a_resolved_alert_exits_1_and_changes_nothing(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")
    harness.resolve(alert_id, actor="alice")

    result = _cli(harness, db_url, "alert", "ack", str(alert_id))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "already resolved by alice" in result.stderr
    assert harness.alert(alert_id).status == "resolved"
    assert _audit(harness) == [("alert.resolve", str(alert_id), "alice", "api")]


@pytest.mark.parametrize(("verb", "alert_id"), [
    ("ack", "4242"), ("resolve", "4242"), ("show", "4242"),
    ("show", str(2**31)), ("ack", str(10**20)),
])
def test_an_unknown_alert_exits_1(harness: Harness, db_url: str, verb, alert_id):
    # Product bug: ids past the id column's range end in a traceback instead
    # (PostgreSQL from 2**31, SQLite from 2**63).
    extra = [] if verb == "show" else ["--config", str(harness.config_path)]

    result = tocsin("alert", verb, alert_id, "--db", db_url, *extra)

    assert result.exit_code == 1
    assert f"alert {alert_id} does not exist" in result.stderr


@pytest.mark.parametrize("key", ["INC-4242", f"INC-{2**31}"])
def test_an_unknown_incident_exits_1(db_url: str, key):
    result = tocsin("incident", "show", key, "--db", db_url)

    assert result.exit_code == 1
    assert f"incident {key} does not exist" in result.stderr


def test_alert_list_and_show_see_what_the_server_stored(harness: Harness, db_url: str):
    disk = harness.fire("disk-full")
    api = harness.fire("api-500s")
    harness.ack(disk, actor="bob")

    triggered = tocsin("alert", "list", "--status", "triggered", "--json", "--db", db_url)
    everything = tocsin("alert", "list", "--json", "--db", db_url)
    shown = tocsin("alert", "show", str(disk), "--db", db_url)

    assert [a["id"] for a in json.loads(triggered.stdout)["alerts"]] == [api]
    assert [a["id"] for a in json.loads(everything.stdout)["alerts"]] == [api, disk]
    detail = json.loads(shown.stdout)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "bob")
    assert detail["timeline"][0]["kind"] == "triggered"
    assert detail["timeline"][-1]["kind"] == "acknowledged"
