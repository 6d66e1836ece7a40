"""Gap notices: the schedule's team hears of a coverage gap three days ahead, once.

`weekdays` has someone on call from Monday 00:00 to Saturday 00:00 UTC and
nobody at the weekend, so the first gap runs from Saturday 2026-03-07 00:00
to Monday 2026-03-09 00:00 UTC; with the default `gap_notice_days: 3` its
notice is due on Wednesday 2026-03-04 at 00:00. The fake clock starts on
Monday 2026-03-02 at 03:00.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.oncall import overrides
from tocsin.oncall.gap_notice_store import GapNotice

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {webhook: "http://hooks.test/a"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/b"}}
  - {id: carol, name: Carol, timezone: Europe/Berlin, contacts: {webhook: "http://hooks.test/c"}}
  - {id: dave, name: Dave, contacts: {webhook: "http://hooks.test/d"}}
teams:
  - {name: ops, members: [carol, dave]}
schedules:
  - name: weekdays
    team: ops
    rotation: daily
    start_date: 2026-03-02
    participants: [alice, bob]
    restrictions:
      - {days: [mon, tue, wed, thu, fri], from: "00:00", to: "12:00"}
      - {days: [mon, tue, wed, thu, fri], from: "12:00", to: "00:00"}
notifications:
  webhook: {secret: test-webhook-secret}
"""

URL = "http://tocsin.test/ui/schedules/weekdays"
CAROL = ("Coverage gap: nobody is on call for weekdays from Sat 07 Mar 01:00 Europe/Berlin "
         f"until Mon 09 Mar 01:00 Europe/Berlin. Cover it with an override: {URL}")
DAVE = ("Coverage gap: nobody is on call for weekdays from Sat 07 Mar 00:00 UTC "
        f"until Mon 09 Mar 00:00 UTC. Cover it with an override: {URL}")


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def make(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Callable[..., Harness]]:
    """Harnesses sharing one database and one clock: each is a worker or a restart."""
    made: list[Harness] = []

    def build(config: str = CONFIG) -> Harness:
        made.append(Harness(tmp_path, db_url, clock, config))
        return made[-1]

    yield build
    for harness in made:
        harness.close()


def run_at(harnesses: list[Harness], when: datetime, *, passes: int = 1) -> None:
    """Move the clock to `when`; every engine runs `passes` times, all at once."""
    harnesses[0].clock.set(when)
    threads = [threading.Thread(target=h.runtime.engine.run_due)
               for h in harnesses for _ in range(passes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def sent(harnesses: list[Harness]) -> list[tuple[datetime, str, str, str]]:
    """(when, kind, user, text) of every gap notice the webhook fakes got, in time order.

    Handoff notices for the same shifts go out too; they are tested elsewhere.
    """
    return sorted(
        (when, notice.kind, notice.user_id, notice.text)
        for harness in harnesses
        for when, notice in zip(harness.channels["webhook"].notice_times,
                                harness.channels["webhook"].notices, strict=True)
        if notice.kind == "gap.upcoming"
    )


def rows(harness: Harness) -> list[GapNotice]:
    with harness.runtime.sessions() as session:
        return list(session.scalars(select(GapNotice).order_by(GapNotice.id)))


def test_the_team_hears_of_a_gap_three_days_ahead_once_each(make):
    harness = make()

    run_at([harness], utc(3, 23, 55))  # plans every 5 minutes: the next pass is at 00:00
    assert sent([harness]) == []
    for when in (utc(4), utc(4, 0, 10), utc(5, 12)):
        run_at([harness], when)

    assert sent([harness]) == [
        (utc(4), "gap.upcoming", "carol", CAROL),
        (utc(4), "gap.upcoming", "dave", DAVE),
    ]
    keys = sorted(n.idempotency_key for n in harness.channels["webhook"].notices
                  if n.kind == "gap.upcoming")
    assert keys == sorted(f"gap_notice-{row.id}" for row in rows(harness))
    assert {(row.status, row.gap_key) for row in rows(harness)} == {
        ("sent", "2026-03-07T00:00:00Z/2026-03-09T00:00:00Z")}


def test_a_second_worker_and_a_restart_send_nothing_twice(make):
    first, second = make(), make()

    run_at([first, second], utc(4), passes=3)
    first.close()
    restarted = make()
    run_at([second, restarted], utc(4, 1), passes=2)

    assert [user for _when, _kind, user, _text in sent([first, second, restarted])] == [
        "carol", "dave"]
    assert len(rows(second)) == 2


def test_a_gap_an_override_changes_is_noticed_again_and_the_stale_notice_cancelled(make):
    harness = make()
    harness.channels["webhook"].fail_next(10)  # every notice of this pass waits for a retry
    run_at([harness], utc(4))
    harness.channels["webhook"].failures.clear()
    with transaction(harness.runtime.sessions) as session:
        overrides.create_override(
            session, config=harness.config, schedule="weekdays", user="alice", start=utc(7),
            end=utc(8), kind="whole", replaces=None, actor="carol", surface="ui", now=utc(4))

    run_at([harness], utc(4, 0, 10))
    assert sent([harness]) == []
    assert [(row.status, row.detail) for row in rows(harness)] == [
        ("cancelled", "the gap has been covered or has changed since it was planned")] * 2
    run_at([harness], utc(5))

    assert [(user, text.split(" from ")[1][:15]) for _w, _k, user, text in sent([harness])] == [
        ("carol", "Sun 08 Mar 01:0"), ("dave", "Sun 08 Mar 00:0")]


def test_without_a_team_the_schedules_participants_hear(make):
    harness = make(CONFIG.replace("    team: ops\n", ""))

    run_at([harness], utc(4))

    assert [user for _when, _kind, user, _text in sent([harness])] == ["alice", "bob"]


def test_gap_notice_days_0_sends_none(make):
    harness = make(CONFIG.replace("    team: ops\n", "    team: ops\n    gap_notice_days: 0\n"))

    for when in (utc(4), utc(6), utc(7, 1)):
        run_at([harness], when)

    assert sent([harness]) == [] and rows(harness) == []


def test_a_gap_under_way_when_the_engine_starts_is_noticed_as_such(make):
    harness = make()

    run_at([harness], utc(7, 10))

    assert [text for _when, _kind, user, text in sent([harness]) if user == "dave"] == [
        "Coverage gap: nobody has been on call for weekdays since Sat 07 Mar 00:00 UTC "
        f"until Mon 09 Mar 00:00 UTC. Cover it with an override: {URL}"]
