"""The pure parts of rotation anchors: who takes the current period, from when."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from tocsin.config.model import Layer, Restriction, Schedule
from tocsin.oncall import anchors
from tocsin.oncall.anchor_store import RotationAnchor
from tocsin.oncall.rules import shifts, turn_at

WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")


def test_rotated_keeps_the_cyclic_order():
    assert anchors.rotated(("ann", "bob", "cat"), "cat") == ("cat", "ann", "bob")


def test_successor_is_the_holder_or_the_next_still_listed():
    old = ("ann", "bob", "cat", "dan")
    assert anchors.successor(old, "bob", ("ann", "bob")) == "bob"
    assert anchors.successor(old, "bob", ("ann", "dan")) == "dan"
    assert anchors.successor(old, "dan", ("bob", "cat")) == "bob"  # wraps around
    assert anchors.successor(old, "bob", ("eve", "fay")) == "eve"  # nobody left


def test_a_weekly_period_starts_on_its_start_day():
    layer = Layer("weekly", ("ann", "bob"), start_day="mon", start_date=date(2026, 3, 2))
    # Thursday of the second week: bob's, which began on Monday the 9th.
    assert turn_at(layer, "UTC", datetime(2026, 3, 12, 5, tzinfo=UTC)) == (date(2026, 3, 9), "bob")


def test_outside_the_windows_the_period_still_names_its_turn():
    layer = Layer("daily", ("ann", "bob"), start_time=time(9), start_date=date(2026, 3, 2),
                  restrictions=(Restriction(time(9), time(17), WEEKDAYS_ONLY),))
    # Tuesday 20:00: out of the window, but Tuesday's period is bob's.
    assert turn_at(layer, "UTC", datetime(2026, 3, 3, 20, tzinfo=UTC)) == (date(2026, 3, 3), "bob")
    # ann, bob, ann, bob, ann from Monday; Saturday uses no turn and names
    # whoever takes the next open period (Monday the 9th): bob.
    assert turn_at(layer, "UTC", datetime(2026, 3, 7, 12, tzinfo=UTC)) == (date(2026, 3, 7), "bob")


def test_an_anchor_on_an_empty_period_gives_the_next_open_one_to_its_person():
    layer = Layer("daily", ("ann", "bob"), start_time=time(9), start_date=date(2026, 3, 2),
                  restrictions=(Restriction(time(9), time(17), WEEKDAYS_ONLY),))
    schedule = Schedule("s", "UTC", (layer,))
    anchor = RotationAnchor(schedule="s", layer="rotation", participants=["ann", "bob"],
                            anchor_date=date(2026, 3, 7), first_participant="bob")
    applied = anchors.anchored(schedule, {"rotation": anchor})

    found = shifts(applied, datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    assert [(s.user, s.start.day) for s in found] == [("bob", 9), ("ann", 10)]


def test_an_anchor_for_another_list_is_not_applied():
    layer = Layer("daily", ("ann", "bob", "cat"), start_date=date(2026, 3, 2))
    schedule = Schedule("s", "UTC", (layer,))
    anchor = RotationAnchor(schedule="s", layer="rotation", participants=["ann", "bob"],
                            anchor_date=date(2026, 3, 5), first_participant="bob")
    assert anchors.anchored(schedule, {"rotation": anchor}) == schedule


def test_an_anchor_on_a_rotation_by_hours_turns_the_list_not_the_grid():
    # Every 8 h from Monday 06:00 UTC: ann 06-14, bob 14-22, cat 22-06, ann ...
    layer = Layer("hours", ("ann", "cat"), start_time=time(6), start_date=date(2026, 3, 2),
                  every=8)
    schedule = Schedule("s", "UTC", (layer,))
    # cat was on call at Monday 23:00 (period 2) when bob left the list.
    anchor = RotationAnchor(schedule="s", layer="rotation", participants=["ann", "cat"],
                            anchor_date=date(2026, 3, 2), first_participant="cat",
                            created_at=datetime(2026, 3, 2, 23, tzinfo=UTC))
    applied = anchors.anchored(schedule, {"rotation": anchor})

    found = shifts(applied, datetime(2026, 3, 2, 23, tzinfo=UTC),
                   datetime(2026, 3, 3, 23, tzinfo=UTC))
    assert [(s.user, s.start.hour) for s in found] == [
        ("cat", 22), ("ann", 6), ("cat", 14), ("ann", 22)]
