"""Wall-clock times to UTC by the design's rule: gaps move to their end, repeats come first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.config.convert import local_to_utc

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        # An ordinary time.
        (datetime(2026, 1, 5, 9, 0), "Asia/Bangkok", datetime(2026, 1, 5, 2, 0)),
        # New York springs forward at 02:00: the whole gap lands on 03:00 EDT (07:00Z).
        (datetime(2026, 3, 8, 2, 0), "America/New_York", datetime(2026, 3, 8, 7, 0)),
        (datetime(2026, 3, 8, 2, 30), "America/New_York", datetime(2026, 3, 8, 7, 0)),
        (datetime(2026, 3, 8, 2, 59, 59, 999999), "America/New_York", datetime(2026, 3, 8, 7)),
        (datetime(2026, 3, 8, 3, 0), "America/New_York", datetime(2026, 3, 8, 7, 0)),
        # New York falls back at 02:00 EDT: 01:30 happens twice; the first is EDT.
        (datetime(2026, 11, 1, 1, 30), "America/New_York", datetime(2026, 11, 1, 5, 30)),
        # Lord Howe moves by half an hour.
        (datetime(2026, 10, 4, 2, 15), "Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30)),
        # Samoa skipped 30 December 2011 entirely.
        (datetime(2011, 12, 30, 12, 0), "Pacific/Apia", datetime(2011, 12, 30, 10, 0)),
    ],
)
def test_local_to_utc(local: datetime, zone: str, expected: datetime) -> None:
    found = local_to_utc(local, ZoneInfo(zone))

    assert found == expected.replace(tzinfo=UTC)
    assert found.tzinfo is UTC


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)))
def test_a_time_that_exists_comes_back_as_the_same_wall_time(local: datetime) -> None:
    found = local_to_utc(local, NEW_YORK)
    shown = found.astimezone(NEW_YORK).replace(tzinfo=None)

    if shown != local:
        # Only a time in a gap moves, and only forward to the gap's end.
        assert local < shown <= local + timedelta(hours=1)
        assert shown.minute == 0
    else:
        # A repeated wall time is its first occurrence: an hour earlier is another time.
        earlier = (found - timedelta(hours=1)).astimezone(NEW_YORK).replace(tzinfo=None)
        assert earlier != local
