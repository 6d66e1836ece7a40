"""`tocsin page` and `tocsin alert snooze|unack|escalate|reassign|add-responder`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.cli.test_alert_incident import CONFIG, tocsin
from tests.support.harness import Harness
from tocsin.alerts.store import Alert
from tocsin.audit import AuditEntry
from tocsin.cli import page
from tocsin.clock import FakeClock

CAROL = '  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}\n'


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    config = CONFIG.replace("schedules:", CAROL + "schedules:", 1)
    made = Harness(tmp_path, db_url, clock, config)
    monkeypatch.setattr(page, "_now", clock.now)  # the CLI acts at the fake clock's time
    yield made
    made.close()


def _cli(harness: Harness, db_url: str, *args: str) -> Any:
    result = tocsin(*args, "--config", str(harness.config_path), "--db", db_url)
    harness.runtime.engine.run_due()
    return result


def _audit(harness: Harness, action: str) -> list[tuple[str, str, str]]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(r.object_id, r.actor, r.surface) for r in rows]


def _users(harness: Harness) -> list[str]:
    return [user for _minute, user, _step in harness.paged()]


def test_snooze_then_the_alert_re_triggers(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")

    result = _cli(harness, db_url, "alert", "snooze", str(alert_id), "10")
    harness.advance(10)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"alert {alert_id}: acknowledged, snoozed for 10 min\n"
    assert harness.alert(alert_id).status == "triggered"
    assert _users(harness) == ["alice", "alice"]
    assert _audit(harness, "alert.snoozed") == [(str(alert_id), "cli:zoe", "cli")]
    assert any(line.startswith("snoozed:") and "cli:zoe via cli" in line
               for line in harness.timeline(alert_id))


def test_unack_and_escalate(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")
    harness.ack(alert_id)

    unacked = _cli(harness, db_url, "alert", "unack", str(alert_id))
    escalated = _cli(harness, db_url, "alert", "escalate", str(alert_id), "--as", "alice")

    assert unacked.stdout == f"alert {alert_id}: triggered, escalation at step 1\n"
    assert escalated.stdout == f"alert {alert_id}: triggered, escalated to step 2\n"
    assert [(u, s) for _m, u, s in harness.paged()] == [("alice", 1), ("alice", 1), ("bob", 2)]
    assert _audit(harness, "alert.unacknowledged") == [(str(alert_id), "cli:zoe", "cli")]
    assert _audit(harness, "alert.escalated_now") == [(str(alert_id), "alice", "cli")]


def test_reassign_and_add_responder(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")

    added = _cli(harness, db_url, "alert", "add-responder", str(alert_id), "--user", "carol")
    moved = _cli(harness, db_url, "alert", "reassign", str(alert_id), "--user", "bob")

    assert (added.exit_code, moved.exit_code) == (0, 0), added.stderr + moved.stderr
    assert _users(harness) == ["alice", "carol", "bob"]
    assert _audit(harness, "alert.reassigned") == [(str(alert_id), "cli:zoe", "cli")]
    assert _audit(harness, "alert.responder_added") == [(str(alert_id), "cli:zoe", "cli")]


def test_page_makes_an_alert_and_pages_the_target(harness: Harness, db_url: str):
    result = _cli(harness, db_url, "page", "carol", "Checkout is down")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("triggered, paging responders: user carol\n")
    assert _users(harness) == ["carol"]
    with harness.runtime.sessions() as session:
        alert = session.scalars(select(Alert)).one()
    assert (alert.integration, alert.title) == ("direct", "Checkout is down")
    assert _audit(harness, "alert.page") == [(str(alert.id), "cli:zoe", "cli")]


def test_errors_are_messages_with_exit_1(harness: Harness, db_url: str):
    alert_id = harness.fire("disk-full")
    harness.resolve(alert_id)

    resolved = _cli(harness, db_url, "alert", "snooze", str(alert_id), "5")
    missing = _cli(harness, db_url, "alert", "unack", "999")
    nobody = _cli(harness, db_url, "page", "mallory", "hello")
    unknown = _cli(harness, db_url, "alert", "reassign", "999", "--schedule", "nope")

    assert [r.exit_code for r in (resolved, missing, nobody, unknown)] == [1, 1, 1, 1]
    assert "already resolved" in resolved.stderr
    assert "alert 999 does not exist" in missing.stderr
    assert "'mallory' is not a user, schedule or escalation policy" in nobody.stderr
    assert "schedule: 'nope' is not defined" in unknown.stderr
