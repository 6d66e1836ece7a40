"""Handoffs follow the local wall clock across daylight-saving changes.

2026 transitions used below (local time):
  America/New_York   spring forward 03-08 02:00->03:00, fall back 11-01 02:00->01:00
  Europe/London      spring forward 03-29 01:00->02:00, fall back 10-25 02:00->01:00
  Europe/Berlin      spring forward 03-29 02:00->03:00, fall back 10-25 03:00->02:00
  Australia/Sydney   fall back 04-05 03:00->02:00, spring forward 10-04 02:00->03:00
  Australia/Lord_Howe  spring forward 10-04 02:00->02:30 (a 30-minute change)
"""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from tocsin.config.model import Layer, Schedule
from tocsin.oncall.rules import Shift, local_to_utc, oncall_at, shifts

PEOPLE = ("ann", "ben", "cat")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily(zone: str, at: time, start: date = date(2026, 1, 1)) -> Schedule:
    return Schedule("s", zone, (Layer("daily", PEOPLE, at, start_date=start),))


def shift_starting_on(schedule: Schedule, day: date) -> Shift:
    """The shift whose handoff falls on local `day`."""
    zone = ZoneInfo(schedule.timezone)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    found = shifts(schedule, start, start + timedelta(days=1))
    (shift,) = [s for s in found if s.start.astimezone(zone).date() == day]
    return shift


def local(shift_time: datetime, zone: str) -> datetime:
    return shift_time.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


# (zone, the day before a change, the day of it, hours in the local day between)
CHANGES = [
    ("America/New_York", date(2026, 3, 7), date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 10, 31), date(2026, 11, 1), 25),
    ("Europe/London", date(2026, 3, 28), date(2026, 3, 29), 23),
    ("Europe/London", date(2026, 10, 24), date(2026, 10, 25), 25),
    ("Europe/Berlin", date(2026, 3, 28), date(2026, 3, 29), 23),
    ("Europe/Berlin", date(2026, 10, 24), date(2026, 10, 25), 25),
    ("Australia/Sydney", date(2026, 4, 4), date(2026, 4, 5), 25),
    ("Australia/Sydney", date(2026, 10, 3), date(2026, 10, 4), 23),
]


@pytest.mark.parametrize(("zone", "before", "day", "hours"), CHANGES)
def test_0900_handoff_stays_at_0900_local_and_the_day_shift_stretches(zone, before, day, hours):
    schedule = daily(zone, time(9))
    across = shift_starting_on(schedule, before)
    after = shift_starting_on(schedule, day)
    assert local(across.start, zone) == datetime.combine(before, time(9))
    assert local(across.end, zone) == datetime.combine(day, time(9))
    assert across.end - across.start == timedelta(hours=hours)
    assert after.start == across.end
    assert after.end - after.start == timedelta(hours=24)


def test_new_york_0900_handoff_moves_from_1400z_to_1300z():
    schedule = daily("America/New_York", time(9))
    assert shift_starting_on(schedule, date(2026, 3, 7)).start == utc(2026, 3, 7, 14)
    assert shift_starting_on(schedule, date(2026, 3, 8)).start == utc(2026, 3, 8, 13)
    assert shift_starting_on(schedule, date(2026, 11, 1)).start == utc(2026, 11, 1, 14)


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc", "expected_local"),
    [
        # 02:30 does not exist: the handoff happens when the gap ends, 03:00 local.
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7), time(3)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1), time(3)),
        ("Europe/London", date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1), time(2)),
        ("Australia/Sydney", date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 16), time(3)),
        (
            "Australia/Lord_Howe",
            date(2026, 10, 4),
            time(2, 15),
            utc(2026, 10, 3, 15, 30),
            time(2, 30),
        ),
    ],
)
def test_handoff_inside_the_spring_gap_happens_when_the_gap_ends(
    zone, day, at, expected_utc, expected_local
):
    shift = shift_starting_on(daily(zone, at), day)
    assert shift.start == expected_utc
    assert local(shift.start, zone) == datetime.combine(day, expected_local)


def test_gap_handoff_shortens_the_shift_before_it_and_not_the_one_after():
    schedule = daily("America/New_York", time(2, 30))
    before = shift_starting_on(schedule, date(2026, 3, 7))  # 02:30 EST -> 03:00 EDT
    on_the_day = shift_starting_on(schedule, date(2026, 3, 8))  # 03:00 EDT -> 02:30 EDT
    assert before.end == on_the_day.start
    assert before.end - before.start == timedelta(hours=23, minutes=30)
    assert on_the_day.end - on_the_day.start == timedelta(hours=23, minutes=30)
    assert local(on_the_day.end, "America/New_York") == datetime(2026, 3, 9, 2, 30)


@pytest.mark.parametrize(
    ("zone", "day", "at", "first_occurrence"),
    [
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # EDT
        ("Europe/London", date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 0, 30)),  # BST
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),  # CEST
        ("Australia/Sydney", date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 15, 30)),  # AEDT
    ],
)
def test_handoff_at_a_repeated_time_happens_at_its_first_occurrence(
    zone, day, at, first_occurrence
):
    schedule = daily(zone, at)
    shift = shift_starting_on(schedule, day)
    assert shift.start == first_occurrence
    # One hour later the clock reads the same time again; nothing hands off then.
    assert oncall_at(schedule, first_occurrence + timedelta(hours=1)) == [shift]


def test_weekly_shift_across_the_change_is_one_hour_shorter_or_longer():
    schedule = Schedule(
        "w", "America/New_York", (Layer("weekly", PEOPLE, time(9), "mon", date(2026, 1, 1)),)
    )
    (spring,) = oncall_at(schedule, utc(2026, 3, 8, 12))
    (autumn,) = oncall_at(schedule, utc(2026, 11, 1, 12))
    assert spring.end - spring.start == timedelta(hours=7 * 24 - 1)
    assert autumn.end - autumn.start == timedelta(hours=7 * 24 + 1)
    assert local(spring.end, "America/New_York") == datetime(2026, 3, 9, 9)
    assert local(autumn.end, "America/New_York") == datetime(2026, 11, 2, 9)


def test_anchor_in_a_gap_starts_the_rotation_when_the_gap_ends():
    schedule = daily("America/New_York", time(2, 30), start=date(2026, 3, 8))
    assert oncall_at(schedule, utc(2026, 3, 8, 6, 59, 59)) == []
    (first,) = oncall_at(schedule, utc(2026, 3, 8, 7))
    assert (first.user, first.start) == ("ann", utc(2026, 3, 8, 7))


def test_midnight_handoff_where_midnight_is_skipped():
    # Chile springs forward at midnight: 2026-09-06 00:00 becomes 01:00.
    shift = shift_starting_on(daily("America/Santiago", time(0)), date(2026, 9, 6))
    assert local(shift.start, "America/Santiago") == datetime(2026, 9, 6, 1)
    assert shift.end - shift.start == timedelta(hours=23)


def test_a_skipped_calendar_day_leaves_no_empty_shift():
    # Samoa skipped 2011-12-30 entirely when it moved across the date line.
    # That day's period holds no time: no shift for it, and no hole either.
    schedule = daily("Pacific/Apia", time(0), start=date(2011, 12, 1))
    found = shifts(schedule, utc(2011, 12, 28), utc(2012, 1, 2))
    assert all(s.start < s.end for s in found)
    assert all(a.end == b.start for a, b in pairwise(found))
    days = [local(s.start, "Pacific/Apia").date() for s in found]
    assert date(2011, 12, 29) in days and date(2011, 12, 31) in days
    assert date(2011, 12, 30) not in days


def test_local_to_utc_is_plain_conversion_outside_changes():
    nine = datetime(2026, 7, 1, 9)
    assert local_to_utc(nine, ZoneInfo("America/New_York")) == utc(2026, 7, 1, 13)
    assert local_to_utc(nine, ZoneInfo("Asia/Kathmandu")) == utc(2026, 7, 1, 3, 15)


def test_local_to_utc_refuses_an_aware_datetime():
    with pytest.raises(ValueError, match="naive"):
        local_to_utc(utc(2026, 7, 1), ZoneInfo("UTC"))


def test_offset_change_since_the_anchor_does_not_shift_the_handoff():
    # Anchored in summer (09:00 EDT = 13:00Z). In winter 09:00 is 14:00Z, so at
    # 13:30Z the previous day's person is still on, though whole 24-hour steps
    # from the anchor would already have handed over.
    summer = daily("America/New_York", time(9), start=date(2026, 7, 1))
    (shift,) = oncall_at(summer, utc(2026, 12, 1, 13, 30))
    assert (shift.start, shift.end) == (utc(2026, 11, 30, 14), utc(2026, 12, 1, 14))
    # Anchored in winter: in summer 09:00 is 13:00Z, an hour before the steps say.
    winter = daily("America/New_York", time(9), start=date(2026, 1, 1))
    (shift,) = oncall_at(winter, utc(2026, 7, 1, 13, 30))
    assert (shift.start, shift.end) == (utc(2026, 7, 1, 13), utc(2026, 7, 2, 13))
