"""The TIME a user types after --at, --from and --to."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tocsin.oncall.rules import format_utc, parse_time

NEW_YORK = ZoneInfo("America/New_York")
BANGKOK = ZoneInfo("Asia/Bangkok")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-08T09:00:00Z", utc(2026, 3, 8, 9)),
        ("2026-03-08t09:00z", utc(2026, 3, 8, 9)),
        ("2026-03-08T09:00+07:00", utc(2026, 3, 8, 2)),
        ("2026-03-08T09:00:00-05:00", utc(2026, 3, 8, 14)),
        ("2026-03-08T09:00+0545", utc(2026, 3, 8, 3, 15)),
        ("  2026-03-08T09:00:00+00:00 ", utc(2026, 3, 8, 9)),
    ],
)
def test_an_offset_or_z_names_that_instant_whatever_the_zone(text, expected):
    assert parse_time(text, NEW_YORK) == expected
    assert parse_time(text, BANGKOK) == expected


def test_result_is_utc():
    assert parse_time("2026-03-08T09:00+07:00", NEW_YORK).utcoffset().total_seconds() == 0
    assert parse_time("2026-03-08T09:00", BANGKOK).tzinfo is UTC


def test_without_an_offset_the_time_is_local_to_the_schedule():
    assert parse_time("2026-03-08T09:00", BANGKOK) == utc(2026, 3, 8, 2)
    assert parse_time("2026-03-08T09:00", NEW_YORK) == utc(2026, 3, 8, 13)  # EDT by then
    assert parse_time("2026-03-07 09:00", NEW_YORK) == utc(2026, 3, 7, 14)  # still EST


def test_a_date_alone_means_local_midnight():
    assert parse_time("2026-03-08", BANGKOK) == utc(2026, 3, 7, 17)
    assert parse_time("2026-03-08", NEW_YORK) == utc(2026, 3, 8, 5)


def test_a_local_time_in_the_spring_gap_moves_to_the_gap_end():
    # zoneinfo alone (fold=0) would say 03:30 EDT, i.e. 07:30Z.
    assert parse_time("2026-03-08T02:30", NEW_YORK) == utc(2026, 3, 8, 7)


def test_a_repeated_local_time_takes_its_first_occurrence():
    assert parse_time("2026-11-01T01:30", NEW_YORK) == utc(2026, 11, 1, 5, 30)


def test_a_date_whose_midnight_is_skipped_means_when_the_day_begins():
    santiago = ZoneInfo("America/Santiago")
    moment = parse_time("2026-09-06", santiago)
    assert moment.astimezone(santiago).replace(tzinfo=None) == datetime(2026, 9, 6, 1)


def test_round_trips_through_format_utc():
    text = "2026-03-08T07:00:00Z"
    assert format_utc(parse_time(text, BANGKOK)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "09:00",
        "2026-13-01",
        "2026-03-08T25:00",
        "8 March 2026",
        "1700000000",
    ],
)
def test_anything_else_is_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="not a time") as refused:
        parse_time(text, NEW_YORK)
    message = str(refused.value)
    assert "ISO 8601" in message
    assert "2026-03-08T09:00:00Z" in message
    assert "2026-03-08 (00:00" in message
