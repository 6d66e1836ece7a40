"""Editing a rotation's participants takes effect from now (decision 0005, part 2).

`primary` hands over daily at 00:00 UTC from Monday 2026-03-02. Each test
first sets its participants, then lets the engine see them at 2026-03-02
00:00 (the first sight stores the file's own definition), edits the file
and moves the clock a minute so the recorder sees the edit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.support.harness import Harness
from tocsin.oncall import anchor_store, service

ONE_STEP = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
routes:
  - {notify: critical}
"""
MINUTE = timedelta(minutes=1)


def utc(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def edit(harness: Harness, new: str, *, old: str = "participants: [alice, bob]") -> None:
    text = harness.config_path.read_text(encoding="utf-8")
    assert old in text
    harness.config_path.write_text(text.replace(old, new, 1), encoding="utf-8")
    harness.runtime.config.reload()


def started(make_harness, participants: str, *, at: datetime) -> Harness:
    """A harness whose engine saw `participants` from the 2nd and ran until `at`."""
    harness: Harness = make_harness(ONE_STEP)
    edit(harness, f"participants: [{participants}]")
    harness.clock.set(utc(2))
    harness.runtime.engine.run_due()
    harness.clock.set(at)
    harness.runtime.engine.run_due()
    return harness


def final(harness: Harness, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    schedule = harness.config.schedules["primary"]
    with harness.runtime.sessions() as session:
        return [(s.user, s.start) for s in service.final_shifts(session, schedule, start, end)]


def anchors(harness: Harness) -> int:
    with harness.runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(anchor_store.RotationAnchor)
            .where(anchor_store.RotationAnchor.schedule == "primary")) or 0


def test_removing_someone_off_call_keeps_the_current_shift(make_harness):
    # alice, bob, carol, dave: bob holds the 3rd.
    harness = started(make_harness, "alice, bob, carol, dave", at=utc(3, 3))
    edit(harness, "participants: [bob, carol, dave]", old="participants: [alice, bob, carol, dave]")
    harness.advance(1)

    # From the file alone, the 3rd would now be carol's.
    assert final(harness, utc(3, 6), utc(6, 6)) == [
        ("bob", utc(3)), ("carol", utc(4)), ("dave", utc(5)), ("bob", utc(6))]
    harness.fire("still-bob")
    assert [user for _minute, user, _step in harness.paged()] == ["bob"]


def test_removing_the_person_on_call_hands_the_rest_of_the_shift_on(make_harness):
    harness = started(make_harness, "alice, bob, carol", at=utc(3, 3))
    edit(harness, "participants: [alice, carol]", old="participants: [alice, bob, carol]")
    harness.advance(1)

    # carol came after bob in the old order; the turns go on from her.
    assert final(harness, utc(3), utc(5, 6)) == [
        ("bob", utc(3)), ("carol", utc(3, 3) + MINUTE), ("alice", utc(4)), ("carol", utc(5))]
    harness.fire("after-removal")
    assert [user for _minute, user, _step in harness.paged()] == ["carol"]


def test_adding_someone_does_not_move_the_current_shift(make_harness):
    harness = started(make_harness, "alice, bob", at=utc(4, 3))  # alice holds the 4th
    edit(harness, "participants: [carol, alice, bob]")
    harness.advance(1)

    # From the file alone the 4th would be bob's; the new order goes on after alice.
    assert final(harness, utc(4, 6), utc(6, 6)) == [
        ("alice", utc(4)), ("bob", utc(5)), ("carol", utc(6))]


def test_reordering_keeps_the_holder_and_the_new_order_follows(make_harness):
    harness = started(make_harness, "alice, bob, carol", at=utc(3, 3))  # bob holds the 3rd
    edit(harness, "participants: [carol, bob, alice]", old="participants: [alice, bob, carol]")
    harness.advance(1)

    assert final(harness, utc(3, 6), utc(5, 6)) == [
        ("bob", utc(3)), ("alice", utc(4)), ("carol", utc(5))]


def test_a_second_edit_builds_on_the_first(make_harness):
    harness = started(make_harness, "alice, bob, carol", at=utc(3, 3))
    edit(harness, "participants: [bob, carol]", old="participants: [alice, bob, carol]")
    harness.advance(1)  # bob keeps the 3rd, carol the 4th
    harness.clock.set(utc(4, 3))
    harness.runtime.engine.run_due()
    edit(harness, "participants: [bob, carol, dave]", old="participants: [bob, carol]")
    harness.advance(1)

    assert final(harness, utc(2), utc(6, 6)) == [
        ("alice", utc(2)), ("bob", utc(3)), ("carol", utc(4)), ("dave", utc(5)),
        ("bob", utc(6))]
    assert anchors(harness) == 3  # first sight and two edits


def test_an_unchanged_list_stores_one_anchor(make_harness):
    harness = started(make_harness, "alice, bob", at=utc(3, 3))
    harness.advance(5)

    assert anchors(harness) == 1
    assert final(harness, utc(2), utc(4, 6)) == [
        ("alice", utc(2)), ("bob", utc(3)), ("alice", utc(4))]


def test_two_engines_store_one_anchor_for_one_change(make_harness):
    first = started(make_harness, "alice, bob, carol", at=utc(3, 3))
    second = Harness(first.config_path.parent, str(first.runtime.db.url.render_as_string(
        hide_password=False)), first.clock, first.config_path.read_text(encoding="utf-8"))
    try:
        edit(first, "participants: [alice, carol]", old="participants: [alice, bob, carol]")
        second.runtime.config.reload()
        first.clock.advance(minutes=1)
        first.runtime.engine.run_due()
        second.runtime.engine.run_due()

        assert anchors(first) == 2
        assert final(second, utc(3, 6), utc(4, 6)) == [
            ("carol", utc(3, 3) + MINUTE), ("alice", utc(4))]
    finally:
        second.close()


def test_a_rotation_by_hours_keeps_its_grid_when_someone_leaves(make_harness):
    # Every 12 h from 2026-03-02 00:00 UTC: alice, bob, carol, alice, ...
    # At 3rd 03:00 the period from 3rd 00:00 is carol's (period 2).
    harness: Harness = make_harness(ONE_STEP)
    edit(harness, "rotation: {every: 12h}", old="rotation: daily")
    edit(harness, "participants: [alice, bob, carol]")
    harness.clock.set(utc(2))
    harness.runtime.engine.run_due()
    harness.clock.set(utc(3, 3))
    harness.runtime.engine.run_due()

    edit(harness, "participants: [alice, carol]", old="participants: [alice, bob, carol]")
    harness.advance(1)

    # carol keeps her shift; handoffs stay at 00:00 and 12:00, alternating.
    assert final(harness, utc(3, 6), utc(5)) == [
        ("carol", utc(3)), ("alice", utc(3, 12)), ("carol", utc(4)), ("alice", utc(4, 12))]
    harness.fire("still-carol")
    assert [user for _minute, user, _step in harness.paged()] == ["carol"]
