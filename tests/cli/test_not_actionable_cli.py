"""`tocsin alert not-actionable ID [--undo]` against a real database, both backends."""

from __future__ import annotations

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

OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None}
CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, email: alice@example.test,
     contacts: {webhook: "http://hooks.test/alice"}}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 5}
routes:
  - {notify: critical}
integrations:
  - {name: prom, type: alertmanager, key: prom-key-for-cli-tests, service: payment}
notifications:
  webhook: {secret: cli-test-webhook-secret}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, CONFIG)
    yield made
    made.close()


def cli(harness: Harness, db_url: str, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--config", str(harness.config_path), "--db", db_url],
                              env=OPERATOR)


def marks(harness: Harness) -> list[tuple[str, str, str, dict[str, Any]]]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["alert.not_actionable", "alert.actionable"])).order_by(AuditEntry.id))
        return [(r.action, r.actor, r.surface, r.after) for r in rows]


def test_mark_then_undo_writes_the_timeline_and_the_audit(harness, db_url):
    alert_id = harness.fire("disk-full")
    assert alert_id is not None

    marked = cli(harness, db_url, "alert", "not-actionable", str(alert_id), "--as", "alice")
    assert marked.exit_code == 0, marked.output
    assert marked.output == f"alert {alert_id}: not actionable\n"
    assert harness.alert(alert_id).not_actionable is True
    again = cli(harness, db_url, "alert", "not-actionable", str(alert_id))
    assert again.output == f"alert {alert_id}: not actionable (already so)\n"
    undone = cli(harness, db_url, "alert", "not-actionable", str(alert_id), "--undo")
    assert undone.exit_code == 0, undone.output

    assert harness.alert(alert_id).not_actionable is False
    timeline = [line for line in harness.timeline(alert_id) if "actionable" in line]
    assert timeline == ["not_actionable: Marked not actionable by alice via cli",
                        "actionable: Marked actionable again by cli:zoe via cli"]
    assert marks(harness) == [
        ("alert.not_actionable", "alice", "cli", {"not_actionable": True}),
        ("alert.actionable", "cli:zoe", "cli", {"not_actionable": False}),
    ]


def test_an_unknown_alert_exits_1_with_a_message(harness, db_url):
    result = cli(harness, db_url, "alert", "not-actionable", "4242")
    assert result.exit_code == 1
    assert "alert 4242 does not exist" in result.output
    assert marks(harness) == []


def test_as_names_a_config_user_or_is_refused(harness, db_url):
    alert_id = harness.fire("disk-full")
    assert alert_id is not None

    refused = cli(harness, db_url, "alert", "not-actionable", str(alert_id), "--as", "mallory")
    assert refused.exit_code == 1
    assert "--as 'mallory' is not a user in the config" in refused.output
    assert harness.alert(alert_id).not_actionable is False
    assert marks(harness) == []
    # By e-mail is the same person, recorded by id.
    by_mail = cli(harness, db_url, "alert", "not-actionable", str(alert_id),
                  "--as", "alice@example.test")
    assert by_mail.exit_code == 0, by_mail.output
    assert marks(harness) == [("alert.not_actionable", "alice", "cli", {"not_actionable": True})]
