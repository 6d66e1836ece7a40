"""Owners are reminded before, on and after the due date, at 09:00 their own time,
once each, until done; each team gets a weekly digest.

Alice is in Bangkok (09:00 is 02:00 UTC); her item is due Tuesday 2026-03-10.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.action_items import declare, make_harnesses
from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.incidents.store import IncidentMember
from tocsin.postmortems import actions
from tocsin.postmortems.actions_store import ActionItemNotice


@pytest.fixture
def make(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Callable[[], Harness]]:
    """Harnesses sharing one database and one clock: each is a worker or a restart."""
    yield from make_harnesses(tmp_path, db_url, clock)


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def add(harness, owner: str = "alice", due: date | None = date(2026, 3, 10)) -> int:
    incident = declare(harness)
    with transaction(harness.runtime.sessions) as session:
        return actions.create(session, config=harness.config, incident=incident,
                              title="Alert on disk usage", owner=owner, due_date=due,
                              actor="alice", surface="api", now=harness.clock.now()).id


def finish(harness, item_id: int) -> None:
    with transaction(harness.runtime.sessions) as session:
        actions.update(session, config=harness.config, item_id=item_id, status="done",
                       actor="alice", surface="api", now=harness.clock.now())


def run_at(harnesses, *times: datetime) -> None:
    """At each time in turn, every engine runs once, all at once (workers side by side)."""
    for when in times:
        harnesses[0].clock.set(when)
        threads = [threading.Thread(target=h.runtime.engine.run_due)
                   for h in harnesses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def hours(start: datetime, end: datetime, every: int = 12) -> list[datetime]:
    found, when = [], start
    while when <= end:
        found.append(when)
        when += timedelta(hours=every)
    return found


def received(harnesses, channel: str = "webhook",
             digests: bool = False) -> list[tuple[datetime, str, str]]:
    found = [(when, notice.user_id, notice.kind)
             for harness in harnesses
             for when, notice in zip(harness.channels[channel].notice_times,
                                     harness.channels[channel].notices, strict=True)
             if digests or notice.kind != "action_item.digest"]
    return sorted(found)


def test_reminded_before_on_and_after_the_due_date_once_each_until_done(make, clock):
    first, second = make(), make()
    clock.set(utc(7, 12))
    item_id = add(first)

    run_at([first, second], utc(8, 1, 59), utc(8, 2), utc(8, 2, 1), *hours(utc(8, 12), utc(9, 12)),
           utc(10, 2), utc(10, 3), utc(12, 2), utc(12, 3), utc(14, 1))
    first.close()
    restarted = make()
    run_at([second, restarted], utc(14, 2), utc(14, 3))
    finish(restarted, item_id)
    run_at([second, restarted], utc(15), utc(16, 2), utc(18, 2), utc(20))

    assert received([first, second, restarted]) == [
        (utc(8, 2), "alice", "action_item.before"),
        (utc(10, 2), "alice", "action_item.due"),
        (utc(12, 2), "alice", "action_item.overdue"),
        (utc(14, 2), "alice", "action_item.overdue"),
    ]
    texts = [n.text for h in (first, second) for n in h.channels["webhook"].notices]
    assert any(t.startswith("Action item #1 is due in 2 days (2026-03-10): Alert on disk "
                            "usage [INC-1] http://tocsin.test/ui/action-items?id=1")
               for t in texts)
    # Never by SMS: a reminder is not worth a text message.
    assert all(not h.channels["sms"].notices for h in (first, second, restarted))


def test_a_reassigned_item_reminds_its_new_owner_in_their_zone(make, clock):
    harness = make()
    clock.set(utc(7, 12))
    item_id = add(harness)
    with transaction(harness.runtime.sessions) as session:
        actions.update(session, config=harness.config, item_id=item_id, owner="bob",
                       actor="alice", surface="api", now=clock.now())

    run_at([harness], utc(8, 2), utc(8, 13), *hours(utc(9), utc(10, 12)), utc(10, 13))

    # Bob is in New York: 09:00 EDT is 13:00 UTC after the spring-forward on the 8th.
    assert received([harness]) == [(utc(8, 13), "bob", "action_item.before"),
                                   (utc(10, 13), "bob", "action_item.due")]
    # His Slack contact gets them as direct messages too.
    assert received([harness], "slack") == received([harness])


def test_a_failed_reminder_is_retried_and_sent_once(make, clock):
    harness = make()
    clock.set(utc(8, 1))
    add(harness)
    harness.channels["webhook"].fail_next(2)

    run_at([harness], *[utc(8, 2) + timedelta(minutes=n) for n in range(0, 120, 5)])

    assert received([harness]) == [(received([harness])[0][0], "alice", "action_item.before")]
    with harness.runtime.sessions() as session:
        [row] = session.scalars(select(ActionItemNotice).where(ActionItemNotice.kind == "before"))
        assert (row.status, row.attempts) == ("sent", 3)


def test_each_team_member_gets_the_weekly_digest_once(make, clock):
    first, second = make(), make()
    clock.set(utc(2, 8))  # Monday; the digest goes at 09:00 UTC (the file's zone)
    add(first, owner="alice", due=date(2026, 3, 1))  # overdue
    add(first, owner="carol")  # not in the team

    run_at([first, second], utc(2, 8, 59), utc(2, 9), utc(2, 9, 5), utc(2, 11))

    digests = [(when, user) for when, user, kind in received([first, second], digests=True)
               if kind == "action_item.digest"]
    assert digests == [(utc(2, 9), "alice"), (utc(2, 9), "bob")]
    text = next(n.text for h in (first, second) for n in h.channels["webhook"].notices
                if n.kind == "action_item.digest")
    assert text.splitlines()[:3] == [
        "Weekly action items for payments: 1 overdue, 0 open, 0 done in the last 7 days",
        "Overdue:",
        "- #1 [P1] Alert on disk usage (alice, due 2026-03-01, INC-1)",
    ]
    assert "carol" not in text


def test_an_owner_outside_a_private_incident_is_made_a_member_and_reminded(make, clock):
    harness = make()
    clock.set(utc(8, 1))
    secret = declare(harness, "Quiet breach", private=True, actor="bob")
    with transaction(harness.runtime.sessions) as session:
        mine = actions.create(session, config=harness.config, incident=secret,
                              title="Rotate the leaked key", owner="alice",
                              due_date=date(2026, 3, 10), actor="bob", surface="api",
                              now=clock.now()).id
        older = actions.create(session, config=harness.config, incident=secret,
                               title="Audit the key's use", owner="carol",
                               due_date=date(2026, 3, 10), actor="bob", surface="api",
                               now=clock.now()).id
    # Carol's item is as one given before owners joined: she is not a member.
    with transaction(harness.runtime.sessions) as session:
        session.delete(session.get(IncidentMember, (int(secret[4:]), "carol")))

    run_at([harness], utc(8, 2), utc(8, 9), utc(8, 10))

    [notice] = harness.channels["webhook"].notices
    assert notice.user_id == "alice" and notice.kind == "action_item.before"
    assert notice.text.endswith(f"Rotate the leaked key [{secret}] "
                                f"http://tocsin.test/ui/action-items?id={mine}")
    with harness.runtime.sessions() as session:
        assert actions.get(session, mine, viewer="alice", admin=False).id == mine
        statuses = {row.status for row in session.scalars(select(ActionItemNotice).where(
            ActionItemNotice.item_id == older))}
        assert "sent" not in statuses and statuses
