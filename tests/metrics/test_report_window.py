"""The report's window and how its dates, weeks and uptime notes read: pure values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.cli.report import _when
from tocsin.errors import InvalidInput
from tocsin.metrics.rules import Outage, unreflected
from tocsin.metrics.series_rules import weeks
from tocsin.metrics.service import ServiceUptime, window
from tocsin.metrics.views import stamp, uptime_note
from tocsin.web.ui_dashboard import _local

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def _problems(since: str | None, until: str | None, zone: ZoneInfo = UTC_ZONE,
              ) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        window(since, until, zone=zone, now=NOW)
    return [(f.path, f.message) for f in caught.value.fields]


def test_an_until_after_now_is_cut_to_now():
    assert window("2026-03-01", "2026-04-01", zone=UTC_ZONE, now=NOW) == (
        datetime(2026, 3, 1, tzinfo=UTC), NOW)
    assert window(None, "2030-01-01", zone=UTC_ZONE, now=NOW) == (
        NOW - timedelta(days=30), NOW)


def test_a_since_after_now_blames_since_not_until():
    [(path, message)] = _problems("2030-01-01", None)

    assert path == "since"
    assert "earlier since" in message


def test_a_window_before_the_calendar_allows_is_refused_not_an_overflow():
    # Tokyo is ahead of UTC: 0001-01-01 there is before the first instant in UTC.
    for zone in (UTC_ZONE, ZoneInfo("Asia/Tokyo")):
        found = _problems("0001-01-01", "0001-12-01", zone)
        assert [path for path, _message in found] == ["since", "until"]
        assert all("give a later" in message for _path, message in found)


def test_a_time_not_understood_names_the_files_zone():
    [(path, message)] = _problems("last week", None)

    assert path == "since"
    assert "in the file's zone" in message and "schedule" not in message


def test_years_before_1000_keep_four_digits():
    start, end = window("0002-06-01", "0002-07-01", zone=UTC_ZONE, now=NOW)

    assert stamp(start) == "0002-06-01T00:00:00Z"
    assert _when(end) == "0002-07-01 00:00"
    assert _local(start, UTC_ZONE) == "Sat 01 Jun 0002 00:00"


def test_a_week_cut_at_the_windows_start_is_partial_however_long():
    # From Tuesday: a six-day first week is still only part of one.
    found = weeks(datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC),
                  ZoneInfo("Europe/Paris"))

    assert [week.partial for week in found] == [True, False, True]
    whole = weeks(datetime(2026, 3, 8, 23, tzinfo=UTC), datetime(2026, 3, 15, 23, tzinfo=UTC),
                  ZoneInfo("Europe/Paris"))
    assert [week.partial for week in whole] == [False]


def test_outages_the_status_page_never_showed_are_counted():
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    history = [(datetime(2026, 3, 10, 10, tzinfo=UTC), "major_outage"),
               (datetime(2026, 3, 10, 11, tzinfo=UTC), "operational")]
    outages = [
        Outage(datetime(2026, 3, 10, 10, 30, tzinfo=UTC), datetime(2026, 3, 10, 12, tzinfo=UTC),
               "major_outage"),  # shown for half an hour: reflected
        Outage(datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 3, 20, 1, tzinfo=UTC),
               "partial_outage"),  # never shown
        Outage(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC),
               "major_outage"),  # before the window
    ]

    assert unreflected(history, outages, start=start, end=end) == 1
    assert uptime_note(ServiceUptime("payment", 1.0, "components", 1)) == (
        "1 outage incident not shown on the status page; uptime follows the status page")
    assert uptime_note(ServiceUptime("payment", 1.0, "components", 0)) is None
