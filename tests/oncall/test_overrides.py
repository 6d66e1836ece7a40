"""Overrides: whole, add and replace, applied after the layers in list order.

The base rotation hands over weekly on Mondays at 09:00 UTC; 2026-01-05 is a
Monday.
"""

from datetime import UTC, date, datetime, time

import pytest

from tocsin.config.model import Layer, Override, OverrideKind, Restriction, Schedule
from tocsin.oncall.rules import Shift, oncall_at, shifts

BASE = Layer("weekly", ("alice", "bob"), time(9), "mon", date(2026, 1, 5), name="rotation")
WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")
DAYS = Layer(
    "daily", ("ann", "ben", "cat"), time(9), start_date=date(2026, 1, 5), name="days",
    restrictions=(Restriction(time(9), time(17), WEEKDAYS_ONLY),),
)  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def override(
    user: str,
    start: datetime,
    end: datetime,
    kind: OverrideKind = "whole",
    replaces: str | None = None,
    id: str = "o1",
) -> Override:
    return Override(user, start, end, kind, replaces, id)


def schedule(*overrides: Override, layers: tuple[Layer, ...] = (BASE,)) -> Schedule:
    return Schedule("s", "UTC", layers, overrides)


def summary(found: list[Shift]) -> list[tuple[str, str, datetime, datetime]]:
    return [(s.user, s.source, s.start, s.end) for s in found]


def test_whole_override_in_the_middle_of_a_shift_cuts_it_in_two():
    cover = override("carol", utc(2026, 1, 7, 12), utc(2026, 1, 8, 12))
    found = shifts(schedule(cover), utc(2026, 1, 5, 9), utc(2026, 1, 12, 9))
    assert summary(found) == [
        ("alice", "rotation", utc(2026, 1, 5, 9), utc(2026, 1, 7, 12)),
        ("carol", "override:o1", utc(2026, 1, 7, 12), utc(2026, 1, 8, 12)),
        ("alice", "rotation", utc(2026, 1, 8, 12), utc(2026, 1, 12, 9)),
    ]


def test_pieces_of_a_cut_shift_are_whole_whatever_range_is_asked():
    cover = override("carol", utc(2026, 1, 7, 12), utc(2026, 1, 8, 12))
    wide = shifts(schedule(cover), utc(2026, 1, 1), utc(2026, 2, 1))
    for instant in (utc(2026, 1, 6), utc(2026, 1, 8), utc(2026, 1, 10)):
        (found,) = oncall_at(schedule(cover), instant)
        assert found in wide


def test_override_across_a_handoff_ends_one_shift_early_and_starts_the_next_late():
    cover = override("carol", utc(2026, 1, 11, 12), utc(2026, 1, 13, 12))
    found = shifts(schedule(cover), utc(2026, 1, 10), utc(2026, 1, 14))
    assert summary(found) == [
        ("alice", "rotation", utc(2026, 1, 5, 9), utc(2026, 1, 11, 12)),
        ("carol", "override:o1", utc(2026, 1, 11, 12), utc(2026, 1, 13, 12)),
        ("bob", "rotation", utc(2026, 1, 13, 12), utc(2026, 1, 19, 9)),
    ]


def test_replace_across_several_shifts_with_gaps_covers_only_their_time():
    # ann holds Monday and Thursday of the week; carol covers both days.
    cover = override("carol", utc(2026, 1, 5), utc(2026, 1, 10), "replace", "ann")
    found = shifts(schedule(cover, layers=(DAYS,)), utc(2026, 1, 5), utc(2026, 1, 10))
    assert summary(found) == [
        ("carol", "override:o1", utc(2026, 1, 5, 9), utc(2026, 1, 5, 17)),
        ("ben", "days", utc(2026, 1, 6, 9), utc(2026, 1, 6, 17)),
        ("cat", "days", utc(2026, 1, 7, 9), utc(2026, 1, 7, 17)),
        ("carol", "override:o1", utc(2026, 1, 8, 9), utc(2026, 1, 8, 17)),
        ("ben", "days", utc(2026, 1, 9, 9), utc(2026, 1, 9, 17)),
    ]


def test_replace_that_begins_and_ends_mid_shift():
    cover = override("carol", utc(2026, 1, 6), utc(2026, 1, 7), "replace", "alice")
    found = shifts(schedule(cover), utc(2026, 1, 5, 9), utc(2026, 1, 12, 9))
    assert summary(found) == [
        ("alice", "rotation", utc(2026, 1, 5, 9), utc(2026, 1, 6)),
        ("carol", "override:o1", utc(2026, 1, 6), utc(2026, 1, 7)),
        ("alice", "rotation", utc(2026, 1, 7), utc(2026, 1, 12, 9)),
    ]


def test_replace_when_the_replaced_person_is_not_on_call_changes_nothing():
    window = (utc(2026, 1, 1), utc(2026, 2, 1))
    absent = override("carol", utc(2026, 1, 6), utc(2026, 1, 9), "replace", "bob")
    stranger = override("carol", utc(2026, 1, 6), utc(2026, 1, 9), "replace", "zed", "o2")
    assert shifts(schedule(absent, stranger), *window) == shifts(schedule(), *window)
    # In a gap of a restricted layer nobody is on call, so nobody is replaced.
    weekend = override("carol", utc(2026, 1, 10), utc(2026, 1, 12), "replace", "ann")
    assert oncall_at(schedule(weekend, layers=(DAYS,)), utc(2026, 1, 10, 12)) == []


def test_replace_across_a_one_person_handoff_is_one_override_shift():
    solo = Layer("daily", ("ann",), time(9), start_date=date(2026, 1, 1), name="solo")
    cover = override("carol", utc(2026, 1, 5, 12), utc(2026, 1, 7, 12), "replace", "ann")
    found = shifts(schedule(cover, layers=(solo,)), utc(2026, 1, 6), utc(2026, 1, 6, 1))
    assert summary(found) == [("carol", "override:o1", utc(2026, 1, 5, 12), utc(2026, 1, 7, 12))]


def test_add_puts_two_people_on_call_at_once():
    extra = override("carol", utc(2026, 1, 6), utc(2026, 1, 7), "add")
    both = oncall_at(schedule(extra), utc(2026, 1, 6, 12))
    assert summary(both) == [
        ("alice", "rotation", utc(2026, 1, 5, 9), utc(2026, 1, 12, 9)),
        ("carol", "override:o1", utc(2026, 1, 6), utc(2026, 1, 7)),
    ]
    found = shifts(schedule(extra), utc(2026, 1, 5, 9), utc(2026, 1, 12, 9))
    assert [s.user for s in found] == ["alice", "carol"]


def test_add_in_a_gap_puts_someone_on_call_where_nobody_was():
    extra = override("carol", utc(2026, 1, 10), utc(2026, 1, 11), "add")
    (found,) = oncall_at(schedule(extra, layers=(DAYS,)), utc(2026, 1, 10, 12))
    assert found.user == "carol"


def test_whole_wipes_out_an_earlier_add_and_a_later_replace_acts_on_the_whole():
    added = override("dave", utc(2026, 1, 6), utc(2026, 1, 8), "add", id="a")
    whole = override("carol", utc(2026, 1, 6, 12), utc(2026, 1, 7, 12), id="w")
    swap = override("erin", utc(2026, 1, 7), utc(2026, 1, 9), "replace", "carol", id="r")
    found = shifts(schedule(added, whole, swap), utc(2026, 1, 6, 12), utc(2026, 1, 7, 12))
    assert summary(found) == [
        ("carol", "override:w", utc(2026, 1, 6, 12), utc(2026, 1, 7)),
        ("erin", "override:r", utc(2026, 1, 7), utc(2026, 1, 7, 12)),
    ]


def test_overrides_from_the_database_apply_after_the_schedules_own():
    whole = override("carol", utc(2026, 1, 6), utc(2026, 1, 7), id="config:0")
    stored = override("dave", utc(2026, 1, 5), utc(2026, 1, 8), "replace", "carol", id="42")
    found = oncall_at(schedule(whole), utc(2026, 1, 6, 12), overrides=[stored])
    assert summary(found) == [("dave", "override:42", utc(2026, 1, 6), utc(2026, 1, 7))]
    assert [s.user for s in oncall_at(schedule(whole), utc(2026, 1, 6, 12))] == ["carol"]


def test_overrides_combine_with_layers_and_restrictions():
    upper = Layer(
        "daily", ("ann", "ben"), time(9), start_date=date(2026, 1, 5), name="days",
        restrictions=(Restriction(time(9), time(17), WEEKDAYS_ONLY),),
    )  # fmt: skip
    cover = override("zoe", utc(2026, 1, 6, 15), utc(2026, 1, 6, 20), "replace", "ben")
    night = override("zoe", utc(2026, 1, 6, 22), utc(2026, 1, 6, 23), "replace", "alice", "o2")
    layered = schedule(cover, night, layers=(BASE, upper))
    found = shifts(layered, utc(2026, 1, 6, 9), utc(2026, 1, 7, 9))
    # alice's night before ends at 09:00, where the range starts: not in it.
    assert summary(found) == [
        ("ben", "days", utc(2026, 1, 6, 9), utc(2026, 1, 6, 15)),
        ("zoe", "override:o1", utc(2026, 1, 6, 15), utc(2026, 1, 6, 17)),
        ("alice", "rotation", utc(2026, 1, 6, 17), utc(2026, 1, 6, 22)),
        ("zoe", "override:o2", utc(2026, 1, 6, 22), utc(2026, 1, 6, 23)),
        ("alice", "rotation", utc(2026, 1, 6, 23), utc(2026, 1, 7, 9)),
    ]


def test_an_empty_override_does_nothing_and_a_naive_one_is_refused():
    window = (utc(2026, 1, 1), utc(2026, 2, 1))
    empty = override("carol", utc(2026, 1, 6), utc(2026, 1, 6))
    assert shifts(schedule(empty), *window) == shifts(schedule(), *window)
    naive = override("carol", datetime(2026, 1, 6), datetime(2026, 1, 7))
    with pytest.raises(ValueError, match="timezone-aware"):
        shifts(schedule(), *window, overrides=[naive])
