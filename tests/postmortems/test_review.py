"""Writing, reviewing, publishing and finding post-mortems, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tests.support.incident_setup import INCIDENT_CONFIG, runner, start
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.incidents import service as incidents
from tocsin.postmortems import service


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _do(harness: Harness, action: Any, actor: str = "bob", **fields: Any) -> Any:
    return runner(harness)(lambda session: action(
        session, actor=actor, surface="api", now=harness.clock.now(), **fields))


def _incident(harness: Harness, title: str, *, severity: str = "SEV3",
              services: tuple[str, ...] = ("payment",), private: bool = False) -> str:
    key = str(_do(harness, incidents.declare, config=harness.config, title=title,
                  severity=severity, services=services, private=private).key)
    _do(harness, service.draft, config=harness.config, key=key)
    return key


def _edit(harness: Harness, key: str, actor: str = "bob", **fields: Any) -> Any:
    return _do(harness, service.update, config=harness.config, key=key, fields=fields,
               actor=actor)


def _state(harness: Harness, key: str, status: str, actor: str = "bob") -> Any:
    return _do(harness, service.set_state, key=key, status=status, actor=actor)


def _found(harness: Harness, viewer: str = "bob", admin: bool = False,
           **query: Any) -> list[str]:
    with harness.runtime.sessions() as session:
        rows = service.listing(session, now=harness.clock.now(), viewer=viewer, admin=admin,
                               **query)
        return [incident.key for _postmortem, incident in rows]


def test_a_postmortem_is_written_reviewed_published_and_found(harness: Harness) -> None:
    key = _incident(harness, "Checkout failing")
    other = _incident(harness, "Search slow", services=("search",), severity="SEV4")
    _edit(harness, key, summary="Payments failed for 40 minutes",
          root_cause_category="Configuration Change",
          whys=[{"why": "Why did payments fail?", "because": "The pool in Zürich ran dry"},
                {"why": "Why did the pool run dry?", "because": "A flag halved its size"}],
          lessons="Flags that size pools need a canary")
    _state(harness, key, "in_review", actor="alice")
    _edit(harness, key, actor="carol", went_well="Rollback took two minutes")
    published = _state(harness, key, "published", actor="carol")
    _edit(harness, other, summary="pool of search workers")

    assert (published.status, published.published_by, published.root_cause_category) == (
        "published", "carol", "configuration change")
    assert _found(harness, q="HALVED ITS") == [key]  # the why-chain, ignoring case
    assert _found(harness, q="zürich") == [key]  # JSON text escapes it; found all the same
    assert _found(harness, q="pool") == [key]  # drafts are not searched
    assert _found(harness, q="pool", status="draft") == [other]
    assert _found(harness, q="canary", service="search") == []
    assert _found(harness, q="canary", severity="sev3") == [key]
    assert _found(harness) == [other, key]
    assert _found(harness, q="100%") == []  # % is a character, not a wildcard
    with harness.runtime.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_id == key, AuditEntry.object_type == "postmortem")
            .order_by(AuditEntry.id)).all()
        texts = [e.text for e in incidents.timeline(session, key) if e.kind == "postmortem"]
    assert actions == ["postmortem.draft", "postmortem.update", "postmortem.state",
                       "postmortem.update", "postmortem.state"]
    assert texts == ["post-mortem drafted",
                     "post-mortem edited: summary, root cause category, whys, lessons",
                     "post-mortem draft -> in_review", "post-mortem edited: went well",
                     "post-mortem in_review -> published"]


def test_published_is_read_only_until_moved_back_to_draft(harness: Harness) -> None:
    key = _incident(harness, "Checkout failing")
    with pytest.raises(Conflict, match="move it to in_review first"):
        _state(harness, key, "published")
    _state(harness, key, "in_review")
    _state(harness, key, "published")
    with pytest.raises(Conflict, match="published and read-only; move it back to draft"):
        _edit(harness, key, summary="late fix")
    with pytest.raises(InvalidInput, match="unknown status 'done'"):
        _state(harness, key, "done")

    _state(harness, key, "draft", actor="alice")
    edited = _edit(harness, key, summary="late fix")
    assert (edited.status, edited.summary) == ("draft", "late fix")


def test_an_edit_made_on_an_old_copy_is_refused(harness: Harness) -> None:
    key = _incident(harness, "Checkout failing")
    opened = _edit(harness, key, summary="first").version
    harness.clock.advance(minutes=2)
    _edit(harness, key, actor="alice", summary="alice's words")

    with pytest.raises(Conflict, match="changed by alice at 2026-03-02 03:02 UTC"):
        _do(harness, service.update, config=harness.config, key=key,
            fields={"summary": "bob's words"}, expected_version=opened)
    assert _edit(harness, key, lessons="kept").summary == "alice's words"


def test_every_bad_field_is_named_at_once(harness: Harness) -> None:
    key = _incident(harness, "Checkout failing")
    with pytest.raises(InvalidInput) as raised:
        _edit(harness, key, title="  ", users_affected=-1, root_cause_category="gremlins",
              whys=[{"why": "ok", "because": "a\x00b"}, "not a step"],
              timeline=[{"at": "yesterday", "text": "x"}], colour="red")
    assert sorted(p.path for p in raised.value.fields) == [
        "colour", "root_cause_category", "timeline[0].at", "title", "users_affected",
        "whys[0].because", "whys[1]"]


def test_a_private_incidents_postmortem_is_hidden_from_outsiders(harness: Harness) -> None:
    key = _incident(harness, "Payroll leak", private=True)
    _state(harness, key, "in_review")
    _state(harness, key, "published")

    assert _found(harness, q="payroll") == [key]  # bob declared it: a member
    assert _found(harness, viewer="sam", q="payroll") == []
    assert _found(harness, viewer="sam", admin=True, q="payroll") == [key]
    with harness.runtime.sessions() as session, pytest.raises(NotFound):
        service.get(session, key, viewer="sam", admin=False)


def test_overdue_lists_unpublished_postmortems_past_their_due_time(harness: Harness) -> None:
    key = str(_do(harness, incidents.declare, config=harness.config, title="Checkout failing",
                  severity="SEV1", services=("payment",)).key)
    _do(harness, incidents.set_status, config=harness.config, key=key, status="resolved")
    assert _found(harness, overdue=True) == []
    harness.clock.advance(minutes=int(timedelta(days=5, minutes=1).total_seconds() // 60))
    assert _found(harness, overdue=True) == [key]
    _state(harness, key, "in_review")
    _state(harness, key, "published")
    assert _found(harness, overdue=True) == []


def test_export_renders_the_teams_template(tmp_path: Path, db_url: str,
                                           clock: FakeClock) -> None:
    (tmp_path / "pm.md").write_text(
        "# {{ incident.id }} took {{ incident.duration }}\n"
        "{% for step in whys %}{{ step.number }}. {{ step.because }}\n{% endfor %}",
        encoding="utf-8")
    config = INCIDENT_CONFIG + "postmortems: {template: pm.md}\n"
    with start(tmp_path, db_url, clock, config) as harness:
        key = _incident(harness, "Checkout failing")
        harness.clock.advance(minutes=75)
        _do(harness, incidents.set_status, config=harness.config, key=key, status="resolved")
        _edit(harness, key, whys=[{"why": "a", "because": "pool ran dry"}])
        with harness.runtime.sessions() as session:
            incident, found = service.get(session, key, viewer=None, admin=True)
            text = service.export(session, config=harness.config, incident=incident,
                                  postmortem=found)
    assert text == "# INC-1 took 1h 15m\n1. pool ran dry\n"
