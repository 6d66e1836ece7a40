"""The arithmetic of flapping: which changes count, when the next page may go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.alerts.flapping_rules import count, describe, first_page_at, is_flapping, kept
from tocsin.config.model import Flapping

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
DEFAULT = Flapping()


def minutes_ago(*values: float) -> list[datetime]:
    return [NOW - timedelta(minutes=value) for value in values]


def test_six_changes_in_ten_minutes_flap_by_default_and_five_do_not() -> None:
    six = minutes_ago(10, 8, 6, 4, 2, 0)

    assert is_flapping(count(six, now=NOW, setting=DEFAULT), DEFAULT)
    assert not is_flapping(count(six[1:], now=NOW, setting=DEFAULT), DEFAULT)


def test_changes_older_than_the_window_do_not_count() -> None:
    hourly = minutes_ago(300, 240, 180, 120, 60, 0)

    assert count(hourly, now=NOW, setting=DEFAULT) == 1
    assert count(minutes_ago(30, 29.9), now=NOW, setting=DEFAULT) == 1


def test_off_counts_nothing_and_keeps_nothing() -> None:
    many = minutes_ago(5, 4, 3, 2, 1, 0)

    assert count(many, now=NOW, setting=None) == 0
    assert not is_flapping(6, None)
    assert kept(many, now=NOW, setting=None) == []


def test_the_record_keeps_one_change_more_than_the_limit_inside_the_window() -> None:
    setting = Flapping(changes=2, minutes=10)
    times = minutes_ago(20, 9, 7, 5, 3, 1)

    assert kept(times, now=NOW, setting=setting) == minutes_ago(5, 3, 1)


def test_a_held_page_waits_one_window_after_the_last_page() -> None:
    last = NOW - timedelta(minutes=4)

    assert first_page_at(now=NOW, last_page=last, minutes=30) == last + timedelta(minutes=30)
    assert first_page_at(now=NOW, last_page=NOW - timedelta(minutes=31), minutes=30) == NOW
    assert first_page_at(now=NOW, last_page=None, minutes=30) == NOW


def test_the_timeline_words_name_the_count_and_the_window() -> None:
    assert describe(7, DEFAULT) == (
        "flapping: 7 changes in 30 minutes; pages at most once per 30 minutes")
