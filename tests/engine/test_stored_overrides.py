"""An override stored in the database changes who the engine pages.

`primary` hands over daily at 00:00 UTC: alice on Monday 2026-03-02, bob on
the 3rd, alice on the 4th. The clock starts at 2026-03-02 03:00.
"""

from __future__ import annotations

from datetime import datetime

from tests.support.harness import Harness
from tests.support.scenarios import ONE_STEP, utc
from tocsin.db import transaction
from tocsin.oncall import overrides


def store(harness: Harness, user: str, start: datetime, end: datetime, kind: str = "whole",
          replaces: str | None = None) -> int:
    with transaction(harness.runtime.sessions) as session:
        row = overrides.create_override(
            session, config=harness.config, schedule="primary", user=user, start=start,
            end=end, kind=kind, replaces=replaces, actor="test", surface="api",
            now=harness.clock.now())
        return row.id


def remove(harness: Harness, override_id: int) -> None:
    with transaction(harness.runtime.sessions) as session:
        overrides.delete_override(session, override_id=override_id, actor="test",
                                  surface="api", now=harness.clock.now())


def paged_users(harness: Harness) -> list[str]:
    return [user for _minute, user, _step in harness.paged()]


def fire_at(harness: Harness, when: datetime, key: str) -> None:
    harness.clock.set(when)
    harness.fire(key)


def test_during_a_whole_override_its_user_is_paged_and_after_it_the_rotation(make_harness):
    harness = make_harness(ONE_STEP)
    store(harness, "carol", utc(2, 3), utc(2, 5))

    harness.fire("during")
    fire_at(harness, utc(2, 5), "after")

    assert paged_users(harness) == ["carol", "alice"]


def test_an_add_override_pages_both_people(make_harness):
    harness = make_harness(ONE_STEP)
    store(harness, "erin", utc(2, 3), utc(2, 4), kind="add")

    harness.fire("both")

    assert sorted(paged_users(harness)) == ["alice", "erin"]
    assert {step for _minute, _user, step in harness.paged()} == {1}


def test_replace_pages_the_cover_only_while_the_replaced_person_is_on_call(make_harness):
    harness = make_harness(ONE_STEP)
    store(harness, "carol", utc(2, 3), utc(5), kind="replace", replaces="alice")

    harness.fire("alice-day")
    fire_at(harness, utc(3, 3), "bob-day")
    fire_at(harness, utc(4, 3), "alice-again")

    assert paged_users(harness) == ["carol", "bob", "carol"]


def test_deleting_an_override_restores_the_rotation(make_harness):
    harness = make_harness(ONE_STEP)
    override_id = store(harness, "carol", utc(2, 4), utc(2, 6))
    remove(harness, override_id)

    fire_at(harness, utc(2, 5), "restored")

    assert paged_users(harness) == ["alice"]


def test_ending_a_running_override_hands_back_at_once(make_harness):
    harness = make_harness(ONE_STEP)
    override_id = store(harness, "carol", utc(2, 3), utc(2, 9))
    harness.fire("covered")

    harness.clock.set(utc(2, 4))
    remove(harness, override_id)
    harness.fire("handed-back")

    assert paged_users(harness) == ["carol", "alice"]
