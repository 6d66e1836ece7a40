"""Status page rules with hand-computed answers: worst-of, the indicator, state, uptime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.statuspage import rules

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Upd:
    id: int
    status: str
    display_at: datetime


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_group_shows_the_worst_of_its_members():
    assert rules.worst(["operational", "degraded_performance", "under_maintenance"]) == \
        "degraded_performance"
    assert rules.worst(["operational", "major_outage", "partial_outage"]) == "major_outage"
    assert rules.worst(["operational", "under_maintenance"]) == "under_maintenance"
    assert rules.worst([]) == "operational"


@pytest.mark.parametrize(("statuses", "impacts", "expected"), [
    ([], [], ("none", "All Systems Operational")),
    (["operational", "under_maintenance"], [], ("maintenance", "Service Under Maintenance")),
    (["under_maintenance"], ["minor"], ("minor", "Minor Service Disruption")),
    (["degraded_performance"], [], ("minor", "Minor Service Disruption")),
    (["partial_outage"], ["minor"], ("major", "Partial System Outage")),
    (["operational"], ["critical", "none"], ("critical", "Major System Outage")),
    (["major_outage"], [], ("critical", "Major System Outage")),
    (["operational"], ["none"], ("none", "All Systems Operational")),
])
def test_the_page_indicator_is_the_worst_of_components_and_open_incidents(
        statuses, impacts, expected):
    found = rules.page_indicator(statuses, impacts)

    assert (found.indicator, found.description) == expected


def test_maintenance_shows_over_a_component_unless_it_is_in_outage():
    assert rules.shown_status("operational", True) == "under_maintenance"
    assert rules.shown_status("degraded_performance", True) == "under_maintenance"
    assert rules.shown_status("major_outage", True) == "major_outage"
    assert rules.shown_status("degraded_performance", False) == "degraded_performance"


def test_the_state_is_the_latest_update_by_display_time_not_entry_order():
    # Entered: investigating, resolved, then a backdated monitoring update.
    updates = [Upd(1, "investigating", at(0)), Upd(2, "resolved", at(60)),
               Upd(3, "monitoring", at(30))]

    state = rules.incident_state(updates)

    assert (state.status, state.open) == ("resolved", False)
    assert (state.started_at, state.monitoring_at, state.resolved_at) == (at(0), at(30), at(60))


def test_a_backdated_update_does_not_reopen_a_later_state():
    updates = [Upd(1, "investigating", at(0)), Upd(2, "monitoring", at(40)),
               Upd(3, "identified", at(20))]

    state = rules.incident_state(updates)

    assert (state.status, state.open, state.monitoring_at, state.resolved_at) == \
        ("monitoring", True, at(40), None)


def test_updates_at_the_same_display_time_go_in_entry_order():
    state = rules.incident_state([Upd(5, "resolved", at(10)), Upd(7, "identified", at(10))])

    assert (state.status, state.resolved_at) == ("identified", None)


def test_a_postmortem_keeps_the_resolve_time():
    state = rules.incident_state([Upd(1, "investigating", at(0)), Upd(2, "resolved", at(45)),
                                  Upd(3, "postmortem", at(3000))])

    assert (state.status, state.resolved_at, state.open) == ("postmortem", at(45), False)


def test_uptime_counts_partial_and_major_outage_only():
    # Over 100 minutes: degraded 10..20 (counts as up), partial 20..30, major 30..45, ok after.
    history = [(at(10), "degraded_performance"), (at(20), "partial_outage"),
               (at(30), "major_outage"), (at(45), "operational")]

    assert rules.uptime(history, at(0), at(100)) == pytest.approx(0.75)
    assert rules.uptime(history, at(25), at(35)) == pytest.approx(0.0)
    assert rules.uptime(history, at(40), at(60)) == pytest.approx(0.75)


def test_uptime_with_an_outage_open_at_the_end_and_before_the_start():
    history = [(at(-60), "major_outage"), (at(30), "operational"), (at(90), "partial_outage")]

    # 0..30 down, 30..90 up, 90..120 down: 60 of 120 minutes up.
    assert rules.uptime(history, at(0), at(120)) == pytest.approx(0.5)
    assert rules.uptime([], at(0), at(1)) == 1.0


def test_maintenance_is_not_downtime():
    history = [(at(0), "under_maintenance"), (at(50), "operational")]

    assert rules.uptime(history, at(0), at(100)) == 1.0


def test_daily_uptime_uses_local_days_across_a_dst_change():
    # Berlin springs forward on 2026-03-29: that local day is 23 hours long.
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 2026-03-29 00:00 local
    history = [(start, "major_outage"), (start + timedelta(hours=23), "operational")]
    now = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # 12:00 local on the 30th

    days = rules.daily_uptime(history, rules.local_days(days=3, zone=zone, now=now))

    assert [d.day for d in days] == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    assert [d.uptime for d in days] == [1.0, 0.0, 1.0]
    assert [d.worst for d in days] == ["operational", "major_outage", "operational"]


def test_daily_uptime_counts_today_up_to_now_only():
    zone = ZoneInfo("UTC")
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    history = [(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "partial_outage")]

    (today,) = rules.daily_uptime(history, rules.local_days(days=1, zone=zone, now=now))

    assert today.uptime == pytest.approx(9 / 12)


def test_maintenance_status_moves_with_time():
    assert [rules.maintenance_status(at(10), at(20), at(m)) for m in (0, 10, 19, 20)] == \
        ["scheduled", "in_progress", "in_progress", "completed"]


def test_ids_are_stable_and_differ_by_kind():
    assert rules.public_id("component", "API") == rules.public_id("component", "API")
    assert rules.public_id("component", "API") != rules.public_id("group", "API")


@pytest.mark.parametrize(("value", "problem"), [
    (7, "must be a string"), ("  ", "must not be empty"), ("a" * 11, "is longer than 10"),
    ("a\x00", "NUL"), ("\ud800", "surrogate"),
])
def test_bad_text_says_why(value, problem):
    assert problem in (rules.text_problem(value, limit=10) or "")
