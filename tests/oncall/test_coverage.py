"""Coverage gaps: where a schedule's final shifts leave nobody on call."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tocsin.config.model import Layer, Override, Restriction, Schedule
from tocsin.oncall.coverage import COVERAGE_HORIZON, gaps, upcoming_range
from tocsin.oncall.rules import Shift, shifts

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_gaps_are_the_uncovered_parts_of_the_range():
    found = [
        Shift("alice", utc(2026, 3, 1), utc(2026, 3, 2, 6), "r"),  # starts before the range
        Shift("bob", utc(2026, 3, 2, 8), utc(2026, 3, 2, 12), "r"),
        Shift("carol", utc(2026, 3, 2, 10), utc(2026, 3, 2, 14), "override:1"),  # overlaps bob
        Shift("dan", utc(2026, 3, 2, 14), utc(2026, 3, 2, 16), "r"),  # touches carol
    ]

    assert gaps(found, utc(2026, 3, 2), utc(2026, 3, 3)) == [
        (utc(2026, 3, 2, 6), utc(2026, 3, 2, 8)),
        (utc(2026, 3, 2, 16), utc(2026, 3, 3)),
    ]


def test_no_shifts_is_one_gap_and_full_cover_is_none():
    start, end = utc(2026, 3, 2), utc(2026, 3, 3)

    assert gaps([], start, end) == [(start, end)]
    assert gaps([Shift("a", utc(2026, 3, 1), utc(2026, 3, 4), "r")], start, end) == []


def test_a_restricted_schedule_has_a_gap_outside_its_windows():
    schedule = Schedule("day", "UTC", (
        Layer("daily", ("ann", "ben"), time(9), start_date=date(2026, 3, 2),
              restrictions=(Restriction(time(9), time(17), WEEKDAYS),)),
    ))
    start, end = upcoming_range(utc(2026, 3, 2, 3))

    found = gaps(shifts(schedule, start, end), start, end)

    assert found[0] == (utc(2026, 3, 2, 3), utc(2026, 3, 2, 9))
    assert (utc(2026, 3, 2, 17), utc(2026, 3, 3, 9)) in found
    assert (utc(2026, 3, 6, 17), utc(2026, 3, 9, 9)) in found  # the weekend
    assert found[-1] == (utc(2026, 3, 13, 17), utc(2026, 3, 16, 3))
    assert len(found) == 11  # before the first window, then after each of 10 weekdays


def test_a_schedule_that_starts_later_is_a_gap_until_its_first_shift():
    schedule = Schedule("later", "Asia/Bangkok", (
        Layer("weekly", ("ann",), time(9), "mon", date(2026, 3, 9)),
    ))
    start, end = upcoming_range(utc(2026, 3, 2, 3))

    found = gaps(shifts(schedule, start, end), start, end)

    assert found == [(start, utc(2026, 3, 9, 2))]  # Monday 09:00 in Bangkok


def test_an_override_fills_a_gap():
    schedule = Schedule("later", "UTC", (
        Layer("weekly", ("ann",), time(0), "mon", date(2026, 3, 9)),
    ), overrides=(Override("bob", utc(2026, 3, 2), utc(2026, 3, 9), "whole", id="c"),))
    start, end = upcoming_range(utc(2026, 3, 2, 3))

    assert gaps(shifts(schedule, start, end), start, end) == []


def test_the_horizon_is_fourteen_days():
    assert upcoming_range(utc(2026, 3, 2)) == (utc(2026, 3, 2), utc(2026, 3, 16))
    assert timedelta(days=14) == COVERAGE_HORIZON


def test_an_end_before_start_is_refused():
    with pytest.raises(ValueError, match="before start"):
        gaps([], utc(2026, 3, 2), utc(2026, 3, 1))
