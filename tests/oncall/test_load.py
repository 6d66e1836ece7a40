"""On-call load: hours counted in UTC, classified on the person's own wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.config.model import Layer, Schedule
from tocsin.oncall.load import Load, WorkingHours, oncall_load
from tocsin.oncall.rules import Shift, local_to_utc, shifts

NEW_YORK = ZoneInfo("America/New_York")
BANGKOK = ZoneInfo("Asia/Bangkok")
H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return local_to_utc(datetime(*args), zone)


def hours(load: Load) -> tuple[float, float, float, float]:
    return (load.on_call / H, load.business / H, load.off / H, load.sleep / H)


@pytest.mark.parametrize(("day", "length", "night"), [
    (date(2026, 3, 8), 23, 7 + 2),  # spring forward: 00:00-08:00 is 7 real hours
    (date(2026, 11, 1), 25, 9 + 2),  # fall back: 00:00-08:00 is 9 real hours
    (date(2026, 3, 15), 24, 8 + 2),
])  # fmt: skip
def test_a_whole_local_day_on_call_across_dst_counts_real_hours(day, length, night):
    # Each of these days is a Sunday: no business hours.
    schedule = Schedule("nyc", "America/New_York", (
        Layer("daily", ("bob",), time(0), start_date=date(2026, 1, 1)),
    ))
    start = local(NEW_YORK, day.year, day.month, day.day)
    end = local(NEW_YORK, *(day + timedelta(days=1)).timetuple()[:3])
    found = shifts(schedule, start, end)

    load = oncall_load(found, user="bob", zone=NEW_YORK, start=start, end=end)

    assert hours(load) == (length, 0, length, night)


def test_a_bangkok_user_on_a_utc_schedule_is_classified_on_bangkok_time():
    # 00:00-12:00 UTC on Monday is 07:00-19:00 in Bangkok.
    found = [Shift("alice", utc(2026, 3, 2, 0), utc(2026, 3, 2, 12), "rotation")]

    load = oncall_load(found, user="alice", zone=BANGKOK, start=utc(2026, 3, 1),
                       end=utc(2026, 3, 9))

    assert hours(load) == (12, 10, 2, 1)  # 08-18 business; 07-08 the end of the night


def test_the_same_utc_hours_weigh_differently_in_another_zone():
    found = [Shift("alice", utc(2026, 3, 2, 0), utc(2026, 3, 2, 12), "rotation")]

    load = oncall_load(found, user="alice", zone=ZoneInfo("UTC"), start=utc(2026, 3, 1),
                       end=utc(2026, 3, 9))

    assert hours(load) == (12, 4, 8, 8)


def test_weekends_have_no_business_hours_but_do_have_nights():
    # Saturday 2026-03-07 in UTC, the whole day.
    found = [Shift("alice", utc(2026, 3, 7), utc(2026, 3, 8), "rotation")]

    load = oncall_load(found, user="alice", zone=ZoneInfo("UTC"), start=utc(2026, 3, 1),
                       end=utc(2026, 3, 9))

    assert hours(load) == (24, 0, 24, 10)


def test_only_the_range_and_only_the_user_count():
    found = [
        Shift("alice", utc(2026, 3, 1), utc(2026, 3, 8), "rotation"),
        Shift("bob", utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), "rotation"),
    ]

    load = oncall_load(found, user="alice", zone=ZoneInfo("UTC"), start=utc(2026, 3, 2, 9),
                       end=utc(2026, 3, 2, 11))

    assert hours(load) == (2, 2, 0, 0)


def test_overlapping_shifts_in_two_schedules_count_once():
    found = [
        Shift("alice", utc(2026, 3, 2, 9), utc(2026, 3, 2, 12), "primary"),
        Shift("alice", utc(2026, 3, 2, 10), utc(2026, 3, 2, 13), "override:1"),
    ]

    load = oncall_load(found, user="alice", zone=ZoneInfo("UTC"), start=utc(2026, 3, 1),
                       end=utc(2026, 3, 9))

    assert hours(load) == (4, 4, 0, 0)


def test_custom_working_hours_with_overlapping_windows_let_business_win():
    custom = WorkingHours(business_start=time(6), business_end=time(14),
                          sleep_start=time(22), sleep_end=time(7),
                          days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    found = [Shift("alice", utc(2026, 3, 7, 0), utc(2026, 3, 8, 0), "rotation")]

    load = oncall_load(found, user="alice", zone=ZoneInfo("UTC"), start=utc(2026, 3, 1),
                       end=utc(2026, 3, 9), hours=custom)

    # Sleep 00-06 and 22-24 (06-07 is business); business 06-14.
    assert hours(load) == (24, 8, 16, 8)


def test_nobody_on_call_is_no_load():
    load = oncall_load([], user="alice", zone=BANGKOK, start=utc(2026, 3, 1),
                       end=utc(2026, 3, 2))

    assert hours(load) == (0, 0, 0, 0)


def test_an_end_before_start_is_refused():
    with pytest.raises(ValueError, match="before start"):
        oncall_load([], user="alice", zone=BANGKOK, start=utc(2026, 3, 2), end=utc(2026, 3, 1))


def test_a_business_window_past_midnight_belongs_to_the_day_it_starts_on():
    # A night shop: business 22:00-06:00 opening on Fridays only, so Saturday
    # 00:00-06:00 is business time and Saturday night is not.
    night_shop = WorkingHours(business_start=time(22), business_end=time(6), days=("fri",))
    found = [Shift("alice", utc(2026, 3, 6, 20), utc(2026, 3, 8, 8), "rotation")]

    load = oncall_load(found, user="alice", zone=ZoneInfo("UTC"), start=utc(2026, 3, 1),
                       end=utc(2026, 3, 9), hours=night_shop)

    # Business Fri 22 - Sat 06; sleep 06-08 Saturday, 22-08 into Sunday.
    assert hours(load) == (36, 8, 28, 12)
