"""Rotations of any length: hours elapsed, days and weeks on the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tocsin.config.model import Layer, Restriction, Schedule
from tocsin.oncall.rules import oncall_at, shifts

NEW_YORK = ZoneInfo("America/New_York")


def local(shift_start: datetime) -> str:
    return shift_start.astimezone(NEW_YORK).strftime("%m-%d %H:%M")


def starts(layer: Layer, begin: datetime, end: datetime) -> list[tuple[str, str]]:
    schedule = Schedule("s", "America/New_York", (layer,))
    return [(s.user, local(s.start)) for s in shifts(schedule, begin, end)]


def test_every_12_hours_counts_elapsed_time_across_spring_forward():
    # New York springs forward on 2026-03-08 at 02:00: 12 h after 21:00 EST
    # on the 7th is 10:00 EDT on the 8th, and the grid stays there.
    layer = Layer("hours", ("ann", "bob"), start_time=time(9), start_date=date(2026, 3, 6),
                  every=12)
    found = starts(layer, datetime(2026, 3, 7, 15, tzinfo=UTC), datetime(2026, 3, 9, 3, tzinfo=UTC))

    assert found == [("ann", "03-07 09:00"), ("bob", "03-07 21:00"),
                     ("ann", "03-08 10:00"), ("bob", "03-08 22:00")]


def test_every_3_days_hands_off_at_the_local_time_whatever_the_offset():
    layer = Layer("days", ("ann", "bob", "cat"), start_time=time(9), start_date=date(2026, 3, 2),
                  every=3)
    found = starts(layer, datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 12, tzinfo=UTC))

    assert found == [("ann", "03-02 09:00"), ("bob", "03-05 09:00"), ("cat", "03-08 09:00"),
                     ("ann", "03-11 09:00")]


def test_every_2_weeks_starts_on_the_start_day_on_or_after_the_start_date():
    # 2026-03-04 is a Wednesday: the first handoff is Monday the 9th.
    layer = Layer("weeks", ("ann", "bob"), start_time=time(9), start_day="mon",
                  start_date=date(2026, 3, 4), every=2)
    schedule = Schedule("s", "America/New_York", (layer,))

    assert oncall_at(schedule, datetime(2026, 3, 8, 12, tzinfo=UTC)) == []
    found = starts(layer, datetime(2026, 3, 9, 14, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC))
    assert found == [("ann", "03-09 09:00"), ("bob", "03-23 09:00"), ("ann", "04-06 09:00")]


def test_a_rotation_by_days_skips_periods_its_restrictions_leave_empty():
    # Every 2 days from Monday the 2nd, on call weekdays 09:00-17:00 only.
    # Periods start Mon 2, Wed 4, Fri 6, Sun 8, Tue 10, Thu 12, Sat 14, Mon 16:
    # the one from Saturday the 14th has no weekday in it and uses nobody's
    # turn, so Monday the 16th is ann's, not bob's.
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    layer = Layer("days", ("ann", "bob"), start_time=time(9), start_date=date(2026, 3, 2),
                  every=2, restrictions=(Restriction(time(9), time(17), weekdays),))
    found = starts(layer, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 18, tzinfo=UTC))

    assert found == [("ann", "03-02 09:00"), ("ann", "03-03 09:00"),
                     ("bob", "03-04 09:00"), ("bob", "03-05 09:00"),
                     ("ann", "03-06 09:00"),
                     ("bob", "03-09 09:00"),
                     ("ann", "03-10 09:00"), ("ann", "03-11 09:00"),
                     ("bob", "03-12 09:00"), ("bob", "03-13 09:00"),
                     ("ann", "03-16 09:00"), ("ann", "03-17 09:00")]
