"""Restrictions: a layer puts people on call only inside local windows, and a
period the windows leave empty uses up nobody's turn.

2026-01-05 is a Monday. New York changes on 2026-03-08 (02:00 -> 03:00) and
2026-11-01 (02:00 -> 01:00).
"""

import time as wallclock
from datetime import UTC, date, datetime, time, timedelta

from tocsin.config.model import Layer, Restriction, Schedule
from tocsin.oncall.rules import Shift, oncall_at, shifts

WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")
BUSINESS = Restriction(time(9), time(17), WEEKDAYS_ONLY)
SEVEN = tuple(f"p{i}" for i in range(7))
FOURTEEN = tuple(f"p{i:02}" for i in range(14))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def layer(
    people: tuple[str, ...],
    *windows: Restriction,
    start_date: date | None = date(2026, 1, 5),
    start_time: time = time(9),
    name: str = "rotation",
) -> Layer:
    return Layer(
        "daily", people, start_time, start_date=start_date, name=name, restrictions=windows
    )


def schedule(*layers: Layer, zone: str = "UTC") -> Schedule:
    return Schedule("s", zone, layers)


def summary(found: list[Shift]) -> list[tuple[str, datetime, datetime]]:
    return [(s.user, s.start, s.end) for s in found]


def test_business_hours_with_seven_people_skip_weekends_without_using_turns():
    found = shifts(schedule(layer(SEVEN, BUSINESS)), utc(2026, 1, 5), utc(2026, 1, 31))
    days = [s.start.date() for s in found]
    assert all(day.weekday() < 5 for day in days)
    assert len(found) == 20  # four working weeks
    # Turns go round the seven people over working days only: week two
    # starts with p5, not with p0 as it would if the weekend used two turns.
    assert [s.user for s in found] == [SEVEN[i % 7] for i in range(20)]
    assert all((s.start.time(), s.end.time()) == (time(9), time(17)) for s in found)


def test_business_hours_with_fourteen_people_give_everyone_a_day_in_turn():
    found = shifts(schedule(layer(FOURTEEN, BUSINESS)), utc(2026, 1, 5), utc(2026, 2, 14))
    assert [s.user for s in found] == [FOURTEEN[i % 14] for i in range(30)]
    # Fourteen working days on, p00 is back: Friday of the third week.
    assert found[14] == Shift("p00", utc(2026, 1, 23, 9), utc(2026, 1, 23, 17), "rotation")


def test_turns_from_the_default_anchor_in_1970_are_counted_not_walked():
    rotation = layer(SEVEN, BUSINESS, start_date=None)
    began = wallclock.perf_counter()
    (found,) = oncall_at(schedule(rotation), utc(2026, 6, 3, 12))  # a Wednesday
    assert wallclock.perf_counter() - began < 0.5
    working_days = sum(
        1
        for n in range((date(2026, 6, 3) - date(1970, 1, 5)).days)
        if (date(1970, 1, 5) + timedelta(days=n)).weekday() < 5
    )
    assert found.user == SEVEN[working_days % 7]


def test_a_weekday_window_on_a_weekly_rotation_never_skips_a_week():
    weekly = Layer(
        "weekly", ("ann", "bob"), time(9), "mon", date(2026, 1, 5),
        restrictions=(Restriction(time(10), time(12), ("wed",)),),
    )  # fmt: skip
    found = shifts(schedule(weekly), utc(2026, 1, 5), utc(2026, 1, 26))
    assert summary(found) == [
        ("ann", utc(2026, 1, 7, 10), utc(2026, 1, 7, 12)),
        ("bob", utc(2026, 1, 14, 10), utc(2026, 1, 14, 12)),
        ("ann", utc(2026, 1, 21, 10), utc(2026, 1, 21, 12)),
    ]


def test_one_period_cut_by_two_windows_gives_two_shifts_of_one_person():
    split = layer(("ann", "bob"), Restriction(time(9), time(12)), Restriction(time(13), time(17)))
    found = shifts(schedule(split), utc(2026, 1, 5, 9), utc(2026, 1, 5, 20))
    assert summary(found) == [
        ("ann", utc(2026, 1, 5, 9), utc(2026, 1, 5, 12)),
        ("ann", utc(2026, 1, 5, 13), utc(2026, 1, 5, 17)),
    ]
    assert oncall_at(schedule(split), utc(2026, 1, 5, 12, 30)) == []


def test_touching_windows_read_as_one_shift():
    joined = layer(("ann",), Restriction(time(9), time(12)), Restriction(time(12), time(17)))
    assert summary(oncall_at(schedule(joined), utc(2026, 1, 5, 10))) == [
        ("ann", utc(2026, 1, 5, 9), utc(2026, 1, 5, 17)),
    ]


def test_overnight_window_runs_past_midnight_inside_one_period():
    nights = layer(("ann", "bob"), Restriction(time(22), time(6)))
    found = shifts(schedule(nights), utc(2026, 1, 5), utc(2026, 1, 8))
    assert summary(found) == [
        ("ann", utc(2026, 1, 5, 22), utc(2026, 1, 6, 6)),
        ("bob", utc(2026, 1, 6, 22), utc(2026, 1, 7, 6)),
        ("ann", utc(2026, 1, 7, 22), utc(2026, 1, 8, 6)),
    ]


def test_overnight_window_split_by_a_midnight_handoff_belongs_to_two_periods():
    # Friday's night window: 22:00-24:00 lies in Friday's period, 00:00-06:00
    # in Saturday's. Both periods have time, so both take a turn.
    friday_night = layer(
        ("ann", "bob", "cat"), Restriction(time(22), time(6), ("fri",)), start_time=time(0)
    )
    found = shifts(schedule(friday_night), utc(2026, 1, 5), utc(2026, 1, 18))
    assert summary(found) == [
        ("ann", utc(2026, 1, 9, 22), utc(2026, 1, 10)),
        ("bob", utc(2026, 1, 10), utc(2026, 1, 10, 6)),
        ("cat", utc(2026, 1, 16, 22), utc(2026, 1, 17)),
        ("ann", utc(2026, 1, 17), utc(2026, 1, 17, 6)),
    ]


def test_night_window_on_spring_forward_night_is_an_hour_shorter():
    nights = layer(("ann", "bob"), Restriction(time(1), time(5)), start_date=date(2026, 3, 1))
    ny = schedule(nights, zone="America/New_York")
    (before,) = oncall_at(ny, utc(2026, 3, 7, 7))  # 02:00 EST on the 7th
    (during,) = oncall_at(ny, utc(2026, 3, 8, 7))  # 03:00 EDT on the 8th
    assert (before.start, before.end) == (utc(2026, 3, 7, 6), utc(2026, 3, 7, 10))
    assert (during.start, during.end) == (utc(2026, 3, 8, 6), utc(2026, 3, 8, 9))
    assert during.user != before.user


def test_night_window_on_fall_back_night_is_an_hour_longer():
    nights = layer(("ann", "bob"), Restriction(time(1), time(5)), start_date=date(2026, 10, 25))
    (during,) = oncall_at(schedule(nights, zone="America/New_York"), utc(2026, 11, 1, 7))
    assert (during.start, during.end) == (utc(2026, 11, 1, 5), utc(2026, 11, 1, 10))


def test_window_starting_in_the_gap_opens_when_the_gap_ends():
    gap = layer(("ann",), Restriction(time(2, 30), time(4)), start_date=date(2026, 3, 1))
    (found,) = oncall_at(schedule(gap, zone="America/New_York"), utc(2026, 3, 8, 7, 30))
    assert (found.start, found.end) == (utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))


def test_window_wholly_inside_the_gap_has_no_shift_but_still_takes_a_turn():
    # Documented limit: openness is judged on the wall clock (see rules.py).
    gap = layer(("ann", "bob"), Restriction(time(2), time(2, 30)), start_date=date(2026, 3, 6))
    ny = schedule(gap, zone="America/New_York")
    found = shifts(ny, utc(2026, 3, 6), utc(2026, 3, 10))
    # The 6th's period holds 02:00 on the 7th (ann); the 7th's holds the
    # skipped 02:00 on the 8th (bob, no shift); the 8th's holds the 9th's.
    assert [(s.user, s.start.date()) for s in found] == [
        ("ann", date(2026, 3, 7)),
        ("ann", date(2026, 3, 9)),
    ]


def test_business_hours_follow_local_time_across_both_changes():
    ny = schedule(layer(SEVEN, BUSINESS, start_date=date(2026, 3, 2)), zone="America/New_York")
    (friday,) = oncall_at(ny, utc(2026, 3, 6, 15))
    (monday,) = oncall_at(ny, utc(2026, 3, 9, 14))
    assert (friday.start, friday.end) == (utc(2026, 3, 6, 14), utc(2026, 3, 6, 22))
    assert (monday.start, monday.end) == (utc(2026, 3, 9, 13), utc(2026, 3, 9, 21))
    assert monday.user == SEVEN[5]
    later = schedule(layer(SEVEN, BUSINESS, start_date=date(2026, 10, 26)), zone="America/New_York")
    (after,) = oncall_at(later, utc(2026, 11, 2, 15))
    assert after == Shift("p5", utc(2026, 11, 2, 14), utc(2026, 11, 2, 22), "rotation")


def test_lower_layer_shows_through_outside_the_upper_layers_windows():
    base = Layer("weekly", ("ann", "bob"), time(9), "mon", date(2026, 1, 5), name="base")
    day = layer(("carol", "dave"), BUSINESS, name="day")
    found = shifts(schedule(base, day), utc(2026, 1, 5, 9), utc(2026, 1, 7, 9))
    assert [(s.user, s.source, s.start, s.end) for s in found] == [
        ("carol", "day", utc(2026, 1, 5, 9), utc(2026, 1, 5, 17)),
        ("ann", "base", utc(2026, 1, 5, 17), utc(2026, 1, 6, 9)),
        ("dave", "day", utc(2026, 1, 6, 9), utc(2026, 1, 6, 17)),
        ("ann", "base", utc(2026, 1, 6, 17), utc(2026, 1, 7, 9)),
    ]
    # The pieces are whole whatever the range asked about.
    (night,) = oncall_at(schedule(base, day), utc(2026, 1, 6, 3))
    assert (night.start, night.end) == (utc(2026, 1, 5, 17), utc(2026, 1, 6, 9))
    (weekend,) = oncall_at(schedule(base, day), utc(2026, 1, 10, 12))
    assert (weekend.start, weekend.end) == (utc(2026, 1, 9, 17), utc(2026, 1, 12, 9))


def test_gaps_where_no_layer_has_anyone_have_no_shifts():
    only_days = schedule(layer(SEVEN, BUSINESS))
    assert oncall_at(only_days, utc(2026, 1, 10, 12)) == []
    assert shifts(only_days, utc(2026, 1, 10), utc(2026, 1, 12)) == []
