"""Which ended shifts get the survey, and which answers are scores (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.metrics.survey_rules import score_problem, still_due, surveys_due
from tocsin.oncall.rules import Shift

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def shift(user: str, start_hour: float, end_hour: float) -> Shift:
    base = datetime(2026, 3, 3, tzinfo=UTC)
    return Shift(user, base + timedelta(hours=start_hour), base + timedelta(hours=end_hour),
                 "rotation")


def test_an_hour_long_shift_gets_a_survey_and_a_59_minute_one_does_not():
    found = surveys_due([shift("alice", 8, 9), shift("bob", 7, 7 + 59 / 60)], now=NOW,
                        after=timedelta(0))
    assert [(d.user, d.due_at) for d in found] == [("alice", NOW)]


def test_the_delay_moves_the_due_time_and_the_window():
    after = timedelta(minutes=30)
    ended = NOW - timedelta(minutes=25)
    found = surveys_due([shift("alice", 0, 8 + 35 / 60), shift("bob", 0, 9)], now=NOW,
                        after=after)
    # Alice's is due in 5 minutes (within the 10-minute look-ahead), bob's in 30.
    assert [(d.user, d.shift_end, d.due_at) for d in found] == [
        ("alice", ended, ended + after)]


def test_shifts_ended_more_than_six_hours_before_their_due_time_get_none():
    found = surveys_due([shift("alice", 0, 2.99), shift("bob", 0, 3)], now=NOW,
                        after=timedelta(0))
    assert [d.user for d in found] == ["bob"]


def test_a_planned_survey_holds_only_while_its_shift_ends_then_and_lasts_an_hour():
    end = shift("alice", 8, 9).end
    assert still_due(shift("alice", 8, 9), end)
    assert not still_due(None, end)
    assert not still_due(shift("alice", 8.5, 9), end)
    assert not still_due(shift("alice", 8, 8.9), end)


def test_only_whole_numbers_from_1_to_5_are_scores():
    assert [score_problem(n) for n in (1, 5)] == [None, None]
    for bad in (0, 6, 2.5, "3", True, None):
        assert score_problem(bad) is not None, bad
    assert "6 is out of range" in (score_problem(6) or "")
