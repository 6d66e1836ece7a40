"""Action items: add, change, list; each change on the incident's timeline and audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.action_items import declare, make_harnesses
from tests.support.harness import Harness
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.errors import InvalidInput, NotFound
from tocsin.incidents.store import IncidentMember, TimelineRow
from tocsin.postmortems import actions
from tocsin.postmortems.actions import Filters
from tocsin.postmortems.actions_store import ActionItemNotice
from tocsin.postmortems.store import ActionItem, Postmortem


@pytest.fixture
def make(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Callable[[], Harness]]:
    """Harnesses sharing one database and one clock: each is a worker or a restart."""
    yield from make_harnesses(tmp_path, db_url, clock)


def add(harness, incident, **fields):
    values = {"title": "Alert on disk usage", "owner": "alice", "due_date": date(2026, 3, 10),
              "priority": "P1", **fields}
    with transaction(harness.runtime.sessions) as session:
        item = actions.create(session, config=harness.config, incident=incident,
                              actor=fields.pop("actor", "alice"), surface="api",
                              now=harness.clock.now(), **values)
        return item.id


def change(harness, item_id, actor="alice", **fields):
    with transaction(harness.runtime.sessions) as session:
        item = actions.update(session, config=harness.config, item_id=item_id, actor=actor,
                              surface="cli", now=harness.clock.now(), **fields)
        return item.status, item.completed_at


def listing(harness, viewer="alice", **filters):
    with harness.runtime.sessions() as session:
        found = actions.listing(session, config=harness.config, filters=Filters(**filters),
                                now=harness.clock.now(), viewer=viewer, admin=False)
        return [item.id for item in found]


def rows(harness, model):
    with harness.runtime.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_an_owner_who_is_not_a_config_user_is_refused_naming_the_field(make):
    harness = make()
    incident = declare(harness)

    with pytest.raises(InvalidInput) as caught:
        add(harness, incident, owner="mallory", priority="P7", title="  ")

    paths = [problem.path for problem in caught.value.fields]
    assert paths == ["title", "owner", "priority"]
    assert "not a user in the config" in caught.value.fields[1].message
    assert rows(harness, ActionItem) == []


def test_an_item_is_linked_to_its_incident_and_post_mortem_and_owned_by_email(make, clock):
    harness = make()
    incident = declare(harness)
    with transaction(harness.runtime.sessions) as session:
        number = int(incident.split("-")[1])
        session.add(Postmortem(incident_id=number, title="pm", created_at=clock.now(),
                               created_by="alice", updated_at=clock.now(), updated_by="alice"))

    item_id = add(harness, incident, owner="bob@example.com")

    [item] = rows(harness, ActionItem)
    assert (item.id, item.owner, item.incident_id, item.status) == (item_id, "bob", number,
                                                                    "planned")
    assert item.postmortem_id == rows(harness, Postmortem)[0].id


def test_done_sets_completed_at_and_going_back_clears_it(make, clock):
    harness = make()
    item_id = add(harness, declare(harness))

    clock.advance(minutes=30)
    assert change(harness, item_id, status="done") == ("done", clock.now())
    assert change(harness, item_id, status="in progress") == ("in_progress", None)


def test_each_change_writes_a_timeline_row_and_an_audit_row(make, clock):
    harness = make()
    item_id = add(harness, declare(harness))
    change(harness, item_id, owner="bob", due_date=None, priority="P0", actor="carol")

    timeline = [row.text for row in rows(harness, TimelineRow) if row.kind == "action_item"]
    assert timeline == [
        f"action item #{item_id} added: Alert on disk usage (owner alice, P1, due 2026-03-10)",
        f"action item #{item_id} (Alert on disk usage): owner alice -> bob, due date "
        "2026-03-10 -> none, priority P1 -> P0",
    ]
    audits = [(a.action, a.actor, a.surface, a.before, a.after)
              for a in rows(harness, AuditEntry) if a.object_type == "action_item"]
    assert audits[0][:3] == ("action_item.created", "alice", "api")
    assert audits[1] == ("action_item.updated", "carol", "cli",
                         {"owner": "alice", "due_date": "2026-03-10", "priority": "P1"},
                         {"owner": "bob", "due_date": None, "priority": "P0"})


def test_a_change_that_changes_nothing_writes_nothing(make):
    harness = make()
    item_id = add(harness, declare(harness))
    before = len(rows(harness, AuditEntry))

    change(harness, item_id, status="planned")

    assert len(rows(harness, AuditEntry)) == before


def test_a_reminder_is_queued_in_the_same_transaction_and_replaced_on_change(make):
    harness = make()
    item_id = add(harness, declare(harness))  # alice, Bangkok: 09:00 is 02:00 UTC

    assert [(n.kind, n.user_id, n.slot) for n in rows(harness, ActionItemNotice)] == [
        ("before", "alice", datetime(2026, 3, 8, 2, tzinfo=UTC))]
    change(harness, item_id, owner="bob")  # New York: 09:00 EDT on the 8th is 13:00 UTC
    assert [(n.kind, n.user_id, n.slot) for n in rows(harness, ActionItemNotice)] == [
        ("before", "bob", datetime(2026, 3, 8, 13, tzinfo=UTC))]
    change(harness, item_id, status="done")
    assert rows(harness, ActionItemNotice) == []


def test_listing_filters_by_incident_owner_team_status_and_overdue(make, clock):
    harness = make()
    first, second = declare(harness, "one"), declare(harness, "two")
    a = add(harness, first, owner="alice", due_date=date(2026, 3, 1))  # overdue
    b = add(harness, first, owner="bob", due_date=date(2026, 3, 20))
    c = add(harness, second, owner="carol", due_date=None)
    d = add(harness, second, owner="alice", due_date=date(2026, 2, 1))
    change(harness, d, status="done")

    assert listing(harness) == [a, b, c, d]
    assert listing(harness, incident=first) == [a, b]
    assert listing(harness, owner="alice") == [a, d]
    assert listing(harness, team="payments") == [a, b, d]
    assert listing(harness, status="open") == [a, b, c]
    assert listing(harness, status="done") == [d]
    assert listing(harness, overdue=True) == [a]
    with pytest.raises(InvalidInput) as caught:
        listing(harness, team="nobody", status="closed")
    assert [p.path for p in caught.value.fields] == ["team", "status"]


def test_items_of_a_private_incident_are_hidden_from_non_members(make):
    harness = make()
    secret = declare(harness, "quiet", private=True, actor="alice")
    item_id = add(harness, secret, owner="bob")

    assert listing(harness, viewer="alice") == [item_id]
    assert listing(harness, viewer="carol") == []
    with pytest.raises(NotFound):
        change(harness, item_id, actor="carol", status="done")


def members(harness, incident: str) -> list[str]:
    with harness.runtime.sessions() as session:
        return sorted(m.user_id for m in session.scalars(
            select(IncidentMember).where(IncidentMember.incident_id == int(incident[4:]))))


def test_the_owner_joins_a_private_incident_and_can_then_close_the_item(make):
    harness = make()
    secret = declare(harness, "quiet", private=True, actor="alice")
    item_id = add(harness, secret, owner="bob")

    assert members(harness, secret) == ["alice", "bob"]
    assert listing(harness, viewer="bob") == [item_id]
    assert change(harness, item_id, actor="bob", status="done")[0] == "done"
    change(harness, item_id, owner="carol")
    assert members(harness, secret) == ["alice", "bob", "carol"]
    texts = [row.text for row in rows(harness, TimelineRow)]
    assert f"bob added as a member: owner of action item #{item_id}" in texts
    assert f"carol added as a member: owner of action item #{item_id}" in texts
    joined = [(a.actor, a.object_id, a.after) for a in rows(harness, AuditEntry)
              if a.action == "incident.member_added"]
    assert joined == [("alice", secret, {"member": "bob", "action_item_id": item_id}),
                      ("alice", secret, {"member": "carol", "action_item_id": item_id})]


def test_owners_of_items_on_an_open_incident_are_not_made_members(make):
    harness = make()
    incident = declare(harness, actor="alice")
    add(harness, incident, owner="bob")

    assert "bob" not in members(harness, incident)
    assert not [a for a in rows(harness, AuditEntry) if a.action == "incident.member_added"]


def test_a_title_on_more_than_one_line_or_with_control_characters_is_refused(make):
    harness = make()
    incident = declare(harness)

    for title in ["Fix it\nand more", "Tab\there", "Bell\x07", "a\u2028b", "esc\x1b[31m"]:
        with pytest.raises(InvalidInput) as caught:
            add(harness, incident, title=title)
        [problem] = caught.value.fields
        assert problem.path == "title" and "one line" in problem.message, title
    assert rows(harness, ActionItem) == []
    add(harness, incident, title="  Fix the disk alert (P0: 95% -> 90%)  ")
    assert [i.title for i in rows(harness, ActionItem)] == ["Fix the disk alert (P0: 95% -> 90%)"]


def test_a_due_date_outside_2000_to_2100_is_refused_naming_the_field(make):
    harness = make()
    incident = declare(harness)
    item_id = add(harness, incident, due_date=date(2100, 12, 31))
    add(harness, incident, due_date=date(2000, 1, 1))

    for due in (date(1999, 12, 31), date(2101, 1, 1), date(1, 1, 1)):
        with pytest.raises(InvalidInput) as caught:
            add(harness, incident, due_date=due, owner="mallory")
        assert [p.path for p in caught.value.fields] == ["owner", "due_date"]
        assert "from 2000-01-01 to 2100-12-31" in caught.value.fields[1].message
        with pytest.raises(InvalidInput) as caught:
            change(harness, item_id, due_date=due)
        assert [p.path for p in caught.value.fields] == ["due_date"]
    assert [item.due_date for item in rows(harness, ActionItem)] == [
        date(2100, 12, 31), date(2000, 1, 1)]
