"""Post-mortems drafted from a recorded incident: on resolve by the engine, or on demand.

The incident is run through the incident services with a fake clock, as a
team would run it; resolving lets the engine draft, and the draft is read
back from the database on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tests.support.incident_setup import runner, start
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.incidents import service as incidents
from tocsin.postmortems import service
from tocsin.postmortems.store import Postmortem


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _do(harness: Harness, action: Any, actor: str = "bob", **fields: Any) -> Any:
    return runner(harness)(lambda session: action(
        session, config=harness.config, actor=actor, surface="api", now=harness.clock.now(),
        **fields))


def _declare(harness: Harness, severity: str = "SEV2") -> str:
    return str(_do(harness, incidents.declare, title="Checkout failing", severity=severity,
                   services=("payment",)).key)


def _later(harness: Harness, minutes: float) -> None:
    harness.clock.advance(minutes=minutes)
    harness.runtime.engine.run_due()


def _postmortems(harness: Harness) -> list[Postmortem]:
    with harness.runtime.sessions() as session:
        found = list(session.scalars(select(Postmortem).order_by(Postmortem.id)))
        session.expunge_all()
        return found


def _run_recorded_incident(harness: Harness) -> str:
    """Declare, acknowledge, identify, note, mitigate, update and resolve: 40 minutes."""
    key = _declare(harness)
    alert_id = runner(harness)(lambda s: incidents.alerts_of(
        s, incidents.get(s, key))[0].alert_id)
    _later(harness, 3)
    harness.ack(alert_id, actor="alice")
    _later(harness, 7)
    _do(harness, incidents.set_status, key=key, status="identified", note="pool exhausted")
    _do(harness, incidents.add_note, key=key, text="Raised the pool limit to 200")
    _later(harness, 10)
    _do(harness, incidents.mark_mitigated, key=key)
    _do(harness, incidents.set_impact, key=key, users_affected=300,
        root_cause="A config change halved the pool")
    _do(harness, incidents.post_update, key=key, text="Error rate back to normal")
    _later(harness, 20)
    _do(harness, incidents.set_status, key=key, status="resolved", actor="carol")
    return key


def test_resolving_a_sev2_drafts_its_postmortem_from_the_timeline(harness: Harness) -> None:
    started = harness.clock.now()
    key = _run_recorded_incident(harness)

    [draft] = _postmortems(harness)
    assert (draft.status, draft.title, draft.users_affected, draft.root_cause) == (
        "draft", "Checkout failing", 300, "A config change halved the pool")
    assert draft.due_at == started + timedelta(minutes=40, days=5)
    assert draft.whys == [{"why": "", "because": ""}] * 5
    assert draft.created_by == "tocsin"
    lines = [(item["at"][11:16], item["text"]) for item in draft.timeline]
    assert lines == [
        ("03:00", "declared SEV2: Checkout failing (bob)"),
        ("03:00", "Commander: bob (bob)"),
        ("03:03", "alert 1 acknowledged by alice (alice)"),
        ("03:10", "status investigating -> identified: pool exhausted (bob)"),
        ("03:10", "Raised the pool limit to 200 (bob)"),
        ("03:20", "impact mitigated (bob)"),
        ("03:20", "Error rate back to normal (bob)"),
        ("03:40", "status identified -> resolved (carol)"),
    ]
    with harness.runtime.sessions() as session:
        entries = incidents.timeline(session, key)
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "postmortem")).all()
        assert [(a.action, a.actor, a.object_id) for a in audit] == [
            ("postmortem.draft", "tocsin", key)]
    assert (entries[-1].kind, entries[-1].text) == (
        "postmortem", "post-mortem drafted (due 2026-03-07 03:40 UTC)")


def test_a_reopened_incident_resolved_again_keeps_its_one_postmortem(harness: Harness) -> None:
    key = _run_recorded_incident(harness)
    [first] = _postmortems(harness)
    _do(harness, service.update, key=key, fields={"summary": "Checkout failed for 40 min"})
    _later(harness, 60)
    _do(harness, incidents.set_status, key=key, status="investigating", note="errors again")
    _later(harness, 30)
    _do(harness, incidents.set_status, key=key, status="resolved")

    [again] = _postmortems(harness)
    assert (again.id, again.summary, again.due_at) == (
        first.id, "Checkout failed for 40 min", first.due_at)


def test_a_sev3_gets_a_postmortem_only_when_asked_and_asking_twice_gives_the_same(
        harness: Harness) -> None:
    key = _declare(harness, severity="SEV3")
    _do(harness, incidents.set_status, key=key, status="resolved")
    assert _postmortems(harness) == []

    first = _do(harness, service.draft, key=key, actor="alice")
    second = _do(harness, service.draft, key=key, actor="carol")

    assert first.id == second.id
    [only] = _postmortems(harness)
    assert (only.created_by, only.due_at) == ("alice", None)


def test_a_postmortem_drafted_while_open_is_dated_when_the_incident_resolves(
        harness: Harness) -> None:
    key = _declare(harness, severity="SEV1")
    _do(harness, service.draft, key=key)
    assert _postmortems(harness)[0].due_at is None
    _later(harness, 30)
    _do(harness, incidents.set_status, key=key, status="resolved")

    [dated] = _postmortems(harness)
    assert dated.due_at == datetime(2026, 3, 7, 3, 30, tzinfo=UTC)
    with harness.runtime.sessions() as session:
        texts = [e.text for e in incidents.timeline(session, key) if e.kind == "postmortem"]
    assert texts == ["post-mortem drafted", "post-mortem due 2026-03-07 03:30 UTC"]


def test_incidents_resolved_before_the_lookback_are_not_drafted(harness: Harness) -> None:
    key = _declare(harness)
    _do(harness, incidents.set_status, key=key, status="resolved")
    assert len(_postmortems(harness)) == 1
    harness.clock.advance(minutes=31 * 24 * 60)
    old = _declare(harness)
    with harness.runtime.sessions() as session, session.begin():
        incident = incidents.get(session, old)
        incident.status = "resolved"
        incident.resolved_at = harness.clock.now() - timedelta(days=31)
    harness.runtime.engine.run_due()

    assert [p.incident_id for p in _postmortems(harness)] == [1]


QUIET_CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice}
"""


def test_with_nothing_else_due_the_draft_comes_within_five_minutes(
        tmp_path: Path, db_url: str, clock: FakeClock) -> None:
    with start(tmp_path, db_url, clock, QUIET_CONFIG) as harness:
        key = str(_do(harness, incidents.declare, title="Disk full", severity="SEV1",
                      actor="alice").key)
        _later(harness, 10)
        _do(harness, incidents.set_status, key=key, status="resolved", actor="alice")
        _later(harness, 5)

        [drafted] = _postmortems(harness)
    assert drafted.due_at == datetime(2026, 3, 7, 3, 10, tzinfo=UTC)
