"""Handoff notices: "starts in 1 hour" at T-60 and "now on call" at T, once each.

`primary` hands over daily at 00:00 UTC: alice on Monday 2026-03-02, bob
from Tuesday 00:00 (Monday 19:00 in New York). Bob's first notice is due
at 23:00 UTC on the 2nd, the second at 00:00 on the 3rd.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.oncall import overrides
from tocsin.oncall.handoff_store import HandoffNotice

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, timezone: Asia/Bangkok, contacts: {webhook: "http://hooks.test/a"}}
  - {id: bob, name: Bob, timezone: America/New_York, contacts: {webhook: "http://hooks.test/b"}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/c"}}
schedules:
  - name: primary
    rotation: daily
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
notifications:
  webhook: {secret: test-webhook-secret}
"""

BOB_UPCOMING = "Your on-call shift for primary starts in 1 hour (Mon 02 Mar 19:00 America/New_York)"
BOB_STARTED = "You are now on call for primary until Tue 03 Mar 19:00 America/New_York"


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def make(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Callable[[], Harness]]:
    """Harnesses sharing one database and one clock: each is a worker or a restart."""
    made: list[Harness] = []

    def build() -> Harness:
        made.append(Harness(tmp_path, db_url, clock, CONFIG))
        return made[-1]

    yield build
    for harness in made:
        harness.close()


def run_until(harnesses: list[Harness], until: datetime, *, passes: int = 3,
              step: int = 1, each_minute_near: tuple[datetime, ...] = ()) -> None:
    """Every `step` minutes up to `until`, every engine runs `passes` times, all at once.

    Within five minutes of a time in `each_minute_near` it steps each minute.
    Tests of exact send times step each minute around the due times; those about
    workers and restarts step fifteen (notices fall due on whole hours, which both hit).
    """
    clock = harnesses[0].clock
    while clock.now() < until:
        near = any(abs(clock.now() - due) <= timedelta(minutes=5) for due in each_minute_near)
        clock.advance(minutes=1 if near else step)
        threads = [threading.Thread(target=h.runtime.engine.run_due)
                   for h in harnesses for _ in range(passes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def sent(harnesses: list[Harness]) -> list[tuple[datetime, str, str, str]]:
    """(when, kind, user, text) of every notice the webhook fakes got, in time order."""
    found = [
        (when, notice.kind, notice.user_id, notice.text)
        for harness in harnesses
        for when, notice in zip(harness.channels["webhook"].notice_times,
                                harness.channels["webhook"].notices, strict=True)
    ]
    return sorted(found)


def rows(harness: Harness) -> list[HandoffNotice]:
    with harness.runtime.sessions() as session:
        return list(session.scalars(select(HandoffNotice).order_by(HandoffNotice.id)))


def test_starts_in_one_hour_at_t_minus_60_and_now_on_call_at_t_once_each(make, clock):
    harness = make()
    clock.set(utc(2, 22))

    run_until([harness], utc(3, 0, 30), step=5, each_minute_near=(utc(2, 23), utc(3)))

    assert sent([harness]) == [
        (utc(2, 23), "handoff.upcoming", "bob", BOB_UPCOMING),
        (utc(3, 0), "handoff.started", "bob", BOB_STARTED),
    ]
    keys = [n.idempotency_key for n in harness.channels["webhook"].notices]
    assert keys == [f"handoff-{row.id}" for row in rows(harness)]
    assert [row.status for row in rows(harness)] == ["sent", "sent"]
    assert len(harness.channels["console"].notices) == 2


def test_a_second_worker_and_a_restart_send_nothing_twice(make, clock):
    first, second = make(), make()
    clock.set(utc(2, 22))

    run_until([first, second], utc(2, 23, 30), step=15)
    first.close()
    restarted = make()
    run_until([second, restarted], utc(3, 0, 30), step=15)

    assert [(when, kind) for when, kind, _user, _text in sent([first, second, restarted])] == [
        (utc(2, 23), "handoff.upcoming"),
        (utc(3, 0), "handoff.started"),
    ]
    assert len(rows(second)) == 2


def test_after_a_long_downtime_nothing_stale_is_sent(make, clock):
    harness = make()
    clock.set(utc(3, 2))  # bob's shift began two hours ago

    run_until([harness], utc(3, 2, 10))

    assert sent([harness]) == []
    assert rows(harness) == []


def test_a_restart_just_after_the_handoff_still_says_now_on_call_but_not_starts_soon(
    make, clock,
):
    harness = make()
    clock.set(utc(3, 0, 2))

    run_until([harness], utc(3, 0, 5))

    assert sent([harness]) == [(utc(3, 0, 3), "handoff.started", "bob", BOB_STARTED)]


def test_an_override_that_removes_the_person_cancels_their_notices(make, clock):
    harness = make()
    clock.set(utc(2, 22))
    run_until([harness], utc(2, 22, 30), step=5)  # bob's two notices are queued by now
    with transaction(harness.runtime.sessions) as session:
        overrides.create_override(
            session, config=harness.config, schedule="primary", user="carol", start=utc(3),
            end=utc(3, 12), kind="replace", replaces="bob", actor="test", surface="api",
            now=clock.now())

    run_until([harness], utc(3, 0, 30), step=5)

    assert [(w, k, u) for w, k, u, _text in sent([harness])] == [
        (utc(2, 23), "handoff.upcoming", "carol"),
        (utc(3, 0), "handoff.started", "carol"),
    ]
    bobs = [row for row in rows(harness) if row.user_id == "bob"]
    assert [row.status for row in bobs] == ["cancelled", "cancelled"]
    assert all("no longer on call" in row.detail for row in bobs)


def test_a_failed_send_is_retried_and_still_arrives_once(make, clock):
    harness = make()
    clock.set(utc(2, 22, 50))
    harness.channels["webhook"].fail_next(1)

    run_until([harness], utc(2, 23, 5))

    assert [(k, u) for _w, k, u, _text in sent([harness])] == [("handoff.upcoming", "bob")]
    [upcoming] = [row for row in rows(harness) if row.kind == "upcoming"]
    assert (upcoming.status, upcoming.attempts) == ("sent", 2)
    assert sent([harness])[0][0] - utc(2, 23) <= timedelta(minutes=1)
