"""Who is on call for plain daily and weekly rotations, away from DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.config.model import Layer, Schedule
from tocsin.oncall.rules import Shift, format_utc, oncall_at, shifts

SEED_PEOPLE = ("alice", "bob", "carol", "dave")

# The seed article's schedule: weekly, Monday 09:00 in Bangkok (UTC+7, no DST).
SEED = Schedule(
    name="primary-oncall",
    timezone="Asia/Bangkok",
    layers=(Layer("weekly", SEED_PEOPLE, start_time=time(9, 0), start_day="mon"),),
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def users(found: list[Shift]) -> list[str]:
    return [shift.user for shift in found]


def test_seed_schedule_hands_off_on_monday_at_0900_bangkok():
    # No start_date: the anchor is Monday 1970-01-05 09:00 local. 2026-01-05 is
    # 2922 weeks later, and 2922 mod 4 = 2, so carol takes over then.
    assert users(oncall_at(SEED, utc(2026, 1, 5, 1, 59, 59))) == ["bob"]
    (shift,) = oncall_at(SEED, utc(2026, 1, 5, 2, 0))
    assert shift == Shift("carol", utc(2026, 1, 5, 2), utc(2026, 1, 12, 2), "rotation")


def test_seed_schedule_cycles_through_everyone_in_order():
    found = shifts(SEED, utc(2026, 1, 5, 2), utc(2026, 2, 2, 2))
    assert users(found) == ["carol", "dave", "alice", "bob"]
    assert [format_utc(shift.start) for shift in found] == [
        "2026-01-05T02:00:00Z",
        "2026-01-12T02:00:00Z",
        "2026-01-19T02:00:00Z",
        "2026-01-26T02:00:00Z",
    ]


def test_nobody_is_on_call_before_the_first_shift():
    schedule = Schedule(
        "p", "Asia/Bangkok", (Layer("weekly", SEED_PEOPLE, time(9), "mon", date(2026, 1, 5)),)
    )
    assert oncall_at(schedule, utc(2026, 1, 5, 1, 59, 59)) == []
    assert users(oncall_at(schedule, utc(2026, 1, 5, 2))) == ["alice"]
    assert users(shifts(schedule, utc(2025, 12, 1), utc(2026, 1, 13))) == ["alice", "bob"]


def test_weekly_start_date_midweek_waits_for_the_start_day():
    # 2026-01-07 is a Wednesday: the first Monday 09:00 on or after it is the 12th.
    schedule = Schedule(
        "p", "UTC", (Layer("weekly", ("ann", "ben"), time(9), "mon", date(2026, 1, 7)),)
    )
    assert oncall_at(schedule, utc(2026, 1, 12, 8, 59)) == []
    (first,) = oncall_at(schedule, utc(2026, 1, 12, 9))
    assert (first.user, first.start) == ("ann", utc(2026, 1, 12, 9))


def test_weekly_start_day_other_than_monday():
    schedule = Schedule(
        "p", "UTC", (Layer("weekly", ("ann", "ben"), time(17, 30), "fri", date(2026, 1, 1)),)
    )
    found = shifts(schedule, utc(2026, 1, 1), utc(2026, 1, 10))
    assert [(s.user, s.start) for s in found] == [
        ("ann", utc(2026, 1, 2, 17, 30)),
        ("ben", utc(2026, 1, 9, 17, 30)),
    ]


def test_daily_rotation_hands_off_every_day_at_start_time():
    schedule = Schedule(
        "d", "UTC", (Layer("daily", ("ann", "ben", "cat"), time(8), start_date=date(2026, 5, 1)),)
    )
    found = shifts(schedule, utc(2026, 5, 1), utc(2026, 5, 5))
    assert users(found) == ["ann", "ben", "cat", "ann"]
    assert [s.start for s in found] == [utc(2026, 5, d, 8) for d in (1, 2, 3, 4)]
    assert all(s.end - s.start == timedelta(days=1) for s in found)


def test_shifts_come_back_whole_not_clipped_to_the_range():
    found = shifts(SEED, utc(2026, 1, 7, 12), utc(2026, 1, 7, 13))
    assert found == [Shift("carol", utc(2026, 1, 5, 2), utc(2026, 1, 12, 2), "rotation")]


def test_range_end_is_exclusive():
    assert users(shifts(SEED, utc(2026, 1, 1), utc(2026, 1, 5, 2))) == ["bob"]
    assert users(shifts(SEED, utc(2026, 1, 1), utc(2026, 1, 5, 2, 0, 1))) == ["bob", "carol"]


def test_source_is_the_layer_name():
    schedule = Schedule("p", "UTC", (Layer("daily", ("ann",), name="primary"),))
    (shift,) = oncall_at(schedule, utc(2026, 1, 1))
    assert shift.source == "primary"


def test_instants_in_any_offset_work_and_results_are_utc():
    just_before = datetime(2026, 1, 5, 8, 59, tzinfo=ZoneInfo("Asia/Bangkok"))
    (shift,) = oncall_at(SEED, just_before + timedelta(minutes=1))
    assert shift.user == "carol"
    assert shift.start.utcoffset() == timedelta(0)
    assert shift.end.utcoffset() == timedelta(0)
    assert users(oncall_at(SEED, just_before)) == ["bob"]


def test_no_participants_means_nobody_on_call():
    schedule = Schedule("empty", "UTC", (Layer("weekly", ()),))
    assert oncall_at(schedule, utc(2026, 1, 1)) == []
    assert shifts(schedule, utc(2026, 1, 1), utc(2027, 1, 1)) == []


def test_empty_range_has_no_shifts():
    assert shifts(SEED, utc(2026, 1, 7), utc(2026, 1, 7)) == []


def test_end_before_start_is_refused():
    with pytest.raises(ValueError, match="before start"):
        shifts(SEED, utc(2026, 1, 8), utc(2026, 1, 7))


@pytest.mark.parametrize(
    "call",
    [
        lambda: oncall_at(SEED, datetime(2026, 1, 5, 9)),
        lambda: shifts(SEED, datetime(2026, 1, 5), utc(2026, 1, 6)),
        lambda: shifts(SEED, utc(2026, 1, 5), datetime(2026, 1, 6)),
        lambda: format_utc(datetime(2026, 1, 5)),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.timeout(5)
def test_far_future_answer_is_computed_directly():
    # A walk from 1970, one day at a time, would take minutes to reach 9000.
    schedule = Schedule("d", "America/New_York", (Layer("daily", SEED_PEOPLE, time(9)),))
    day = date(9000, 7, 14)
    expected = SEED_PEOPLE[(day - date(1970, 1, 5)).days % 4]
    (shift,) = oncall_at(schedule, utc(9000, 7, 14, 13, 0))  # 09:00 EDT
    assert (shift.user, shift.start) == (expected, utc(9000, 7, 14, 13, 0))


def test_format_utc_converts_and_drops_fractions():
    when = datetime(2026, 3, 8, 3, 0, 0, 999_999, tzinfo=ZoneInfo("America/New_York"))
    assert format_utc(when) == "2026-03-08T07:00:00Z"
    assert format_utc(utc(1, 1, 1)) == "0001-01-01T00:00:00Z"
