"""Running an incident: status, mitigation, severity, impact, roles, notes, responders,
updates, privacy and the clocks derived from the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.support.harness import Harness
from tests.support.incident_setup import INCIDENT_CONFIG, runner, start, tasks
from tests.support.migrations import downgraded, schema_differences
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.incidents import service
from tocsin.incidents.store import IncidentUpdate


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _do(harness: Harness, action: Any, actor: str = "bob", **fields: Any) -> Any:
    return runner(harness)(lambda session: action(
        session, config=harness.config, actor=actor, surface="slack", now=harness.clock.now(),
        **fields))


def _declare(harness: Harness, **extra: Any) -> str:
    fields = {"title": "Checkout failing", "severity": "SEV2", "services": ("payment",),
              **extra}
    return str(_do(harness, service.declare, **fields).key)


def _read(harness: Harness, work: Any) -> Any:
    with harness.runtime.sessions() as session:
        return work(session)


def test_a_whole_incident_keeps_every_step_with_actor_and_time(harness: Harness) -> None:
    key = _declare(harness)
    alert_id = _read(harness, lambda s: service.alerts_of(s, service.get(s, key))[0].alert_id)
    harness.advance(2)
    harness.ack(alert_id, actor="alice")
    harness.advance(8)
    _do(harness, service.set_status, key=key, status="identified", note="bad deploy 4411")
    _do(harness, service.assign_role, key=key, role="investigator", user="alice")
    harness.advance(5)
    _do(harness, service.mark_mitigated, key=key)
    _do(harness, service.post_update, key=key, text="Rolled back; error rate normal")
    harness.advance(15)
    _do(harness, service.set_status, key=key, status="resolved", actor="carol")

    entries = _read(harness, lambda s: service.timeline(s, key))
    assert [(e.kind, e.actor) for e in entries] == [
        ("declared", "bob"), ("role", "bob"), ("paged", "bob"), ("acknowledged", "alice"),
        ("status", "bob"), ("role", "bob"), ("mitigated", "bob"), ("update", "bob"),
        ("status", "carol"), ("pages_resolved", "carol"),  # alice's acknowledged page
        ("postmortem", "tocsin")]  # SEV2 requires one: drafted
    minutes = [(e.occurred_at - entries[0].occurred_at) / timedelta(minutes=1) for e in entries]
    assert minutes == [0, 0, 0, 2, 10, 10, 15, 15, 30, 30, 30]
    assert entries[4].text == "status investigating -> identified: bad deploy 4411"
    incident = _read(harness, lambda s: service.get(s, key))
    assert incident.status == "resolved"
    assert incident.resolved_at == harness.clock.now()
    found = service.clocks(incident, entries)
    assert (found.time_to_acknowledge, found.time_to_mitigate, found.duration) == (
        timedelta(minutes=2), timedelta(minutes=15), timedelta(minutes=30))
    actions = _read(harness, lambda s: s.scalars(select(AuditEntry.action).where(
        AuditEntry.object_id == key).order_by(AuditEntry.id)).all())
    assert actions == ["incident.declare", "incident.status", "incident.role",
                       "incident.mitigated", "incident.update", "incident.status",
                       "postmortem.draft"]
    # A resolved incident needs no more update reminders.
    assert tasks(harness, "remind_update") == []


def test_a_later_status_reopens_and_the_clock_runs_again(harness: Harness) -> None:
    key = _declare(harness)
    harness.advance(10)
    _do(harness, service.set_status, key=key, status="resolved")
    harness.advance(10)
    _do(harness, service.set_status, key=key, status="monitoring")
    incident = _read(harness, lambda s: service.get(s, key))
    entries = _read(harness, lambda s: service.timeline(s, key))
    assert (incident.status, incident.resolved_at) == ("monitoring", None)
    assert entries[-1].text == "status resolved -> monitoring (reopened)"
    assert service.clocks(incident, entries).duration is None
    assert len(tasks(harness, "remind_update")) == 1  # reminders start again
    with pytest.raises(InvalidInput) as caught:
        _do(harness, service.set_status, key=key, status="fixed")
    assert caught.value.fields[0].path == "status"


def test_severity_change_pages_the_new_severitys_list(harness: Harness) -> None:
    key = _declare(harness)
    _do(harness, service.set_severity, key=key, severity="sev1")
    assert sorted(user for _, user, _ in harness.paged()) == ["alice", "vp"]
    incident = _read(harness, lambda s: service.get(s, key))
    assert (incident.severity, incident.target_mttr_minutes) == ("SEV1", 30)
    entries = _read(harness, lambda s: service.timeline(s, key))
    assert [e.text for e in entries if e.kind == "severity"] == ["severity SEV2 -> SEV1"]


def test_roles_are_matched_ignoring_case_and_reassigned(harness: Harness) -> None:
    key = _declare(harness)
    first = _do(harness, service.assign_role, key=key, role="SCRIBE", user="carol")
    assert (first.role, first.user, first.previous) == ("Scribe", "carol", None)
    assert first.duty.startswith("Keeps the timeline")
    again = _do(harness, service.assign_role, key=key, role="commander", user="UALICE")
    assert (again.user, again.previous) == ("alice", "bob")  # a Slack member id works
    incident = _read(harness, lambda s: service.get(s, key))
    assert incident.commander == "alice"
    assert _read(harness, lambda s: service.roles_of(s, incident)) == {
        "Commander": "alice", "Scribe": "carol"}
    with pytest.raises(InvalidInput) as caught:
        _do(harness, service.assign_role, key=key, role="chef", user="carol")
    assert caught.value.fields[0].message == (
        "use one of Commander, Communicator, Investigator, Scribe")
    assert ("invite", {"users": ["carol"]}) in tasks(harness, "invite")


def test_the_channel_topic_is_queued_again_when_commander_status_or_severity_change(
    harness: Harness,
) -> None:
    key = _declare(harness)
    assert len(tasks(harness, "set_topic")) == 1
    _do(harness, service.assign_role, key=key, role="scribe", user="carol")
    _do(harness, service.assign_role, key=key, role="commander", user="bob")  # already bob
    assert len(tasks(harness, "set_topic")) == 1  # neither shows in the topic
    _do(harness, service.assign_role, key=key, role="commander", user="alice")
    assert len(tasks(harness, "set_topic")) == 2
    _do(harness, service.set_status, key=key, status="identified")
    _do(harness, service.set_severity, key=key, severity="SEV1")
    assert len(tasks(harness, "set_topic")) == 4
    kinds = [kind for kind, _ in tasks(harness)]
    assert kinds[-1] == "set_topic"  # after the posts, so the channel exists by then


def test_notes_are_backdated_edited_and_pinned_once(harness: Harness) -> None:
    key = _declare(harness)
    harness.advance(20)
    earlier = harness.clock.now() - timedelta(minutes=15)
    note = _do(harness, service.add_note, key=key, text="Saw 502s on the LB", occurred_at=earlier)
    pinned = _do(harness, service.add_note, key=key, text="from chat", source="slack",
                 slack_ts="1712.0001")
    twice = _do(harness, service.add_note, key=key, text="from chat", source="slack",
                slack_ts="1712.0001", actor="alice")
    assert twice.id == pinned.id
    harness.advance(1)
    edited = _do(harness, service.edit_entry, key=key, entry_id=note.id, text="Saw 502s at LB",
                 actor="carol")
    assert (edited.text, edited.edited_by, edited.edited_at) == (
        "Saw 502s at LB", "carol", harness.clock.now())
    assert (edited.actor, edited.occurred_at) == ("bob", earlier)  # who wrote it stays
    entries = _read(harness, lambda s: service.timeline(s, key))
    assert [e.kind for e in entries] == ["declared", "role", "paged", "note", "note"]
    with pytest.raises(Conflict, match="cannot be edited"):
        _do(harness, service.edit_entry, key=key, entry_id=entries[0].id, text="x")
    with pytest.raises(InvalidInput) as caught:
        _do(harness, service.add_note, key=key, text="later",
            occurred_at=harness.clock.now() + timedelta(minutes=6))
    assert caught.value.fields[0].path == "occurred_at"
    with pytest.raises(InvalidInput) as caught:
        _do(harness, service.edit_entry, key=key, entry_id=note.id,
            occurred_at=datetime(1999, 12, 31, 23, 59, tzinfo=UTC))
    assert (caught.value.fields[0].path, caught.value.fields[0].message) == (
        "occurred_at", "give a time from 2000-01-01 on")
    with pytest.raises(InvalidInput) as caught:
        _declare(harness, impact_start=datetime(1970, 1, 1, tzinfo=UTC))
    assert caught.value.fields[0].path == "impact_start"
    with pytest.raises(NotFound):
        _do(harness, service.edit_entry, key=key, entry_id=99999, text="x")


def test_a_responder_is_paged_and_invited(harness: Harness) -> None:
    key = _declare(harness, services=())
    _do(harness, service.add_responder, key=key, target="primary")
    assert [user for _, user, _ in harness.paged()] == ["alice"]
    entries = _read(harness, lambda s: service.timeline(s, key))
    paged = entries[-1].data["alert_id"]
    assert entries[-1].text == (
        f"paging through schedule primary (alert #{paged}): added as a responder by bob")
    assert ("invite", {"users": ["alice"]}) in tasks(harness, "invite")
    with pytest.raises(InvalidInput) as caught:
        _do(harness, service.add_responder, key=key, target="nobody-here")
    assert caught.value.fields[0].path == "target"


def test_an_update_reaches_the_channel_and_stakeholders_and_resets_the_reminder(
    harness: Harness,
) -> None:
    key = _declare(harness)
    assert [task["channel"] for _, task in tasks(harness, "post_channel")] == ["CSTATUS", "USAM"]
    harness.advance(25)
    update = _do(harness, service.post_update, key=key, text="Fix is rolling out")
    posts = [task["text"] for _, task in tasks(harness, "post")]
    assert posts[-1] == "INC-1 update [SEV2, investigating]: Fix is rolling out"
    told = [(task["channel"], task["text"]) for _, task in tasks(harness, "post_channel")][2:]
    assert told == [("CSTATUS", posts[-1]), ("USAM", posts[-1])]
    assert "sam" not in [user for _, user, _ in harness.paged()]
    with harness.runtime.sessions() as session:
        reminders = session.execute(text(
            "SELECT due_at FROM incident_slack_tasks WHERE kind = 'remind_update' "
            "AND status = 'pending'")).all()
        stored = session.get(IncidentUpdate, update.id)
        assert stored is not None and stored.posted_by == "bob"
    assert len(reminders) == 1  # the first was replaced, due 60 minutes after this update
    incident = _read(harness, lambda s: service.get(s, key))
    assert incident.last_update_at == harness.clock.now()


def test_impact_fields_change_only_where_given(harness: Harness) -> None:
    key = _declare(harness)
    harness.advance(30)
    start = harness.clock.now() - timedelta(hours=1)
    _do(harness, service.set_impact, key=key, impact_start=start, users_affected=1200,
        summary="Some card payments failed")
    _do(harness, service.set_impact, key=key, root_cause="Expired TLS certificate",
        services=["PAYMENT", "search"])
    incident = _read(harness, lambda s: service.get(s, key))
    assert (incident.impact_start, incident.users_affected, incident.summary,
            incident.root_cause, incident.services) == (
        start, 1200, "Some card payments failed", "Expired TLS certificate",
        ["payment", "search"])
    entries = _read(harness, lambda s: service.timeline(s, key))
    assert [e.kind for e in entries].count("impact") == 2
    with pytest.raises(InvalidInput) as caught:
        _do(harness, service.set_impact, key=key, users_affected=-1, services=["nope"])
    assert [f.path for f in caught.value.fields] == ["users_affected", "services[0]"]


def test_a_private_incident_is_seen_only_by_members_and_admins(harness: Harness) -> None:
    key = _declare(harness, private=True, title="Leaked credentials")
    public = _declare(harness)

    def keys(viewer: str | None, admin: bool = False) -> list[str]:
        found: list[str] = _read(harness, lambda s: [i.key for i in service.listing(
            s, viewer=viewer, admin=admin)])
        return found

    assert keys("bob") == [public, key]  # the declarer
    assert keys("alice") == [public, key]  # paged as the payment on-call
    assert keys("carol") == [public]
    assert keys(None, admin=True) == [public, key]
    with harness.runtime.sessions() as session, pytest.raises(NotFound):
        service.get(session, key, viewer="carol")
    with pytest.raises(NotFound):
        _do(harness, service.add_note, key=key, text="peek", actor="carol")
    _do(harness, service.add_note, key=key, text="admin note", actor="carol", admin=True)
    _do(harness, service.assign_role, key=key, role="scribe", user="carol")
    assert keys("carol") == [public, key]  # a role makes a member
    # Never announced to stakeholders, and its channel is private.
    channels = [t for t in tasks(harness, "create_channel")]
    assert channels[0][1] == {"name": "inc-2026-0001", "private": True}
    announced = [t["text"] for _, t in tasks(harness, "post_channel")]
    assert all(not text.startswith(key + " ") for text in announced)


def test_listing_filters_and_puts_open_ones_first(harness: Harness) -> None:
    first = _declare(harness)
    second = _declare(harness, severity="SEV3", services=("search",))
    _do(harness, service.set_status, key=first, status="resolved")
    third = _declare(harness)

    def keys(session: Session, **filters: Any) -> list[str]:
        return [i.key for i in service.listing(session, admin=True, **filters)]

    with harness.runtime.sessions() as session:
        assert keys(session) == [third, second, first]
        assert keys(session, status="open") == [third, second]
        assert keys(session, severity="sev3") == [second]
        assert keys(session, service="payment") == [third, first]
        assert keys(session, since=harness.clock.now() + timedelta(minutes=1)) == []
        with pytest.raises(InvalidInput):
            keys(session, status="closed")


def test_listing_matches_a_service_exactly_and_limits_after_filtering(
    harness: Harness,
) -> None:
    stored = [["payment"], ["search", "payment"], ['x"payment', "Payment"], ["pay"],
              ["payment_x", "pay%"], ["zahlung-\u00e4"], []]
    made = [_declare(harness, services=()) for _ in stored]
    private = _declare(harness, private=True, services=(), commander="carol", actor="carol")
    with harness.runtime.sessions() as session:  # names the config no longer has, too
        for key, services in zip([*made, private], [*stored, ["payment"]], strict=True):
            service.get(session, key, admin=True).services = services
        session.commit()

    def keys(name: str, viewer: str = "bob", **filters: Any) -> list[str]:
        found: list[str] = _read(harness, lambda s: [i.key for i in service.listing(
            s, service=name, viewer=viewer, **filters)])
        return found

    assert keys("payment") == [made[1], made[0]]  # not x"payment, Payment nor payment_x
    assert keys("payment", viewer="carol") == [private, made[1], made[0]]
    assert keys("payment", limit=1) == [made[1]]
    assert keys("pay%") == [made[4]]
    assert keys("pay_") == []
    assert keys('x"payment') == [made[2]]
    assert keys("zahlung-\u00e4") == [made[5]]
    assert keys("payment", severity="SEV3") == []


def test_the_migration_matches_the_models_and_steps_down_and_up(db_url: str) -> None:
    assert [d for d in schema_differences(db_url) if "incident" in repr(d)] == []
    with downgraded(db_url, "0018") as connection:
        connection.execute(text(
            "INSERT INTO incidents (id, title, severity, status, target_mttr_minutes, "
            "declared_at, declared_by, impact_start) VALUES (7, 'Old', 'SEV2', "
            "'investigating', 60, '2026-03-02 03:00:00', 'bob', '2026-03-02 03:00:00')"))
        connection.commit()
    with downgraded(db_url, "0019") as connection:
        row = connection.execute(text(
            "SELECT private, services, title FROM incidents WHERE id = 7")).one()
        assert (bool(row[0]), row[2]) == (False, "Old")


MAILED = INCIDENT_CONFIG.replace(
    "  - {id: sam, name: Sam, contacts: {webhook: \"http://hooks.test/sam\", slack: USAM}}",
    "  - {id: sam, name: Sam, contacts: {webhook: \"http://hooks.test/sam\", slack: USAM,\n"
    "                                    email: sam@company.com}}",
).replace("notifications:\n", "notifications:\n"
          "  email: {host: 127.0.0.1, port: 9, from: \"Tocsin <pager@company.com>\"}\n")


def test_stakeholders_are_told_by_e_mail_and_never_paged(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    with start(tmp_path, db_url, clock, MAILED) as harness:
        key = _declare(harness)
        harness.advance(10)
        _do(harness, service.post_update, key=key, text="Fix is rolling out")
        _declare(harness, private=True, title="Leaked credentials")
        mail = harness.channels["email"]
        assert [(n.user_id, n.address, n.text) for n in mail.notices] == [
            ("sam", "sam@company.com", "INC-1 declared (SEV2): Checkout failing"),
            ("sam", "sam@company.com",
             "INC-1 update [SEV2, investigating]: Fix is rolling out")]
        assert [n.kind for n in mail.notices] == ["incident.stakeholder"] * 2
        assert "sam" not in [page.user_id for channel in harness.channels.values()
                             for page in channel.sent]
