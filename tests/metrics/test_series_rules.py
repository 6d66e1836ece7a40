"""Weekly buckets for the dashboard's charts: team weeks, cut at the window's edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.metrics import series_rules
from tocsin.metrics.series_rules import Week, WeekMean

BERLIN = ZoneInfo("Europe/Berlin")
MIN = timedelta(minutes=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_weeks_start_on_monday_midnight_and_are_cut_at_the_edges():
    # Wednesday 4 March to Tuesday 17 March 2026, UTC.
    found = series_rules.weeks(utc(2026, 3, 4, 12), utc(2026, 3, 17), ZoneInfo("UTC"))

    assert found == [Week(utc(2026, 3, 4, 12), utc(2026, 3, 9)),
                     Week(utc(2026, 3, 9), utc(2026, 3, 16)),
                     Week(utc(2026, 3, 16), utc(2026, 3, 17))]
    assert [week.partial for week in found] == [True, False, True]


def test_a_week_over_the_clock_change_is_an_hour_short_on_the_wall_clock():
    # Berlin moves to summer time on Sunday 29 March 2026.
    found = series_rules.weeks(utc(2026, 3, 22, 23), utc(2026, 4, 5, 22), BERLIN)

    assert found[0] == Week(utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert found[0].end - found[0].start == timedelta(hours=167)
    assert not found[0].partial


def test_events_are_counted_in_their_week_and_outside_ones_dropped():
    found = series_rules.weeks(utc(2026, 3, 2), utc(2026, 3, 16), ZoneInfo("UTC"))
    events = [(utc(2026, 3, 2), "SEV1"), (utc(2026, 3, 8, 23, 59), "SEV2"),
              (utc(2026, 3, 9), "SEV1"), (utc(2026, 3, 16), "SEV1"),
              (utc(2026, 3, 1), "SEV1"), (utc(2026, 3, 10), "odd")]

    counts = series_rules.count_by_week(found, events, ["SEV1", "SEV2", "SEV3"])

    assert counts == {"SEV1": [1, 1], "SEV2": [1, 0], "SEV3": [0, 0], "odd": [0, 1]}


def test_the_mean_per_week_is_none_where_nothing_was_resolved():
    found = series_rules.weeks(utc(2026, 3, 2), utc(2026, 3, 16), ZoneInfo("UTC"))
    spans = [(utc(2026, 3, 3), "SEV1", 20 * MIN), (utc(2026, 3, 4), "SEV1", 60 * MIN)]

    means = series_rules.mean_by_week(found, spans, ["SEV1", "SEV2"])

    assert means == {"SEV1": [WeekMean(2, 40 * MIN), WeekMean(0, None)],
                     "SEV2": [WeekMean(0, None), WeekMean(0, None)]}


def test_a_backdated_impact_start_never_makes_a_negative_repair_time():
    assert series_rules.repair_time(utc(2026, 3, 2, 10), utc(2026, 3, 2, 9)) == timedelta(0)
    assert series_rules.repair_time(utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)) == 60 * MIN
