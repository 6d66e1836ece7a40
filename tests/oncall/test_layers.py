"""Several layers: a later layer wins wherever it has someone."""

from datetime import UTC, date, datetime, time

from tocsin.config.model import Layer, Schedule
from tocsin.oncall.rules import Shift, oncall_at, shifts

# 2026-01-05 is a Monday.
BASE = Layer("weekly", ("alice", "bob"), time(9), "mon", date(2026, 1, 5), name="rotation")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def schedule(*layers: Layer) -> Schedule:
    return Schedule("layered", "UTC", layers)


def summary(found: list[Shift]) -> list[tuple[str, str, datetime, datetime]]:
    return [(s.user, s.source, s.start, s.end) for s in found]


def cover(participants: tuple[str, ...], start: date, name: str = "cover") -> Layer:
    return Layer("daily", participants, time(9), start_date=start, name=name)


def test_later_layer_takes_over_from_its_first_shift_and_cuts_the_one_below():
    layered = schedule(BASE, cover(("carol", "dave"), date(2026, 1, 14)))
    assert summary(shifts(layered, utc(2026, 1, 5), utc(2026, 1, 16))) == [
        ("alice", "rotation", utc(2026, 1, 5, 9), utc(2026, 1, 12, 9)),
        ("bob", "rotation", utc(2026, 1, 12, 9), utc(2026, 1, 14, 9)),
        ("carol", "cover", utc(2026, 1, 14, 9), utc(2026, 1, 15, 9)),
        ("dave", "cover", utc(2026, 1, 15, 9), utc(2026, 1, 16, 9)),
    ]


def test_a_cut_shift_is_the_same_whatever_range_is_asked():
    layered = schedule(BASE, cover(("carol", "dave"), date(2026, 1, 14)))
    cut = Shift("bob", utc(2026, 1, 12, 9), utc(2026, 1, 14, 9), "rotation")
    assert oncall_at(layered, utc(2026, 1, 13)) == [cut]
    assert shifts(layered, utc(2026, 1, 13), utc(2026, 1, 13, 1)) == [cut]
    assert oncall_at(layered, utc(2026, 1, 14, 8, 59, 59)) == [cut]
    assert [s.user for s in oncall_at(layered, utc(2026, 1, 14, 9))] == ["carol"]


def test_later_layer_without_participants_changes_nothing():
    alone = schedule(BASE)
    layered = schedule(BASE, cover((), date(2026, 1, 14)))
    window = (utc(2026, 1, 1), utc(2026, 3, 1))
    assert shifts(layered, *window) == shifts(alone, *window)


def test_earlier_layer_never_shows_once_a_later_one_has_started():
    layered = schedule(BASE, cover(("carol",), date(2025, 12, 1)))
    found = shifts(layered, utc(2026, 1, 1), utc(2026, 2, 1))
    assert {s.source for s in found} == {"cover"}


def test_earlier_layer_fills_in_before_the_later_one_starts():
    early = Layer("daily", ("zed",), time(9), start_date=date(2025, 12, 1), name="early")
    layered = schedule(early, BASE)
    found = shifts(layered, utc(2026, 1, 4), utc(2026, 1, 6))
    assert summary(found) == [
        ("zed", "early", utc(2026, 1, 3, 9), utc(2026, 1, 4, 9)),
        ("zed", "early", utc(2026, 1, 4, 9), utc(2026, 1, 5, 9)),
        ("alice", "rotation", utc(2026, 1, 5, 9), utc(2026, 1, 12, 9)),
    ]


def test_three_layers_each_win_until_the_next_one_starts():
    middle = cover(("carol", "dave"), date(2026, 1, 14), name="middle")
    top = Layer("weekly", ("erin",), time(12), "tue", date(2026, 1, 20), name="top")
    found = shifts(schedule(BASE, middle, top), utc(2026, 1, 19, 12), utc(2026, 1, 21))
    assert summary(found) == [
        ("dave", "middle", utc(2026, 1, 19, 9), utc(2026, 1, 20, 9)),
        ("carol", "middle", utc(2026, 1, 20, 9), utc(2026, 1, 20, 12)),
        ("erin", "top", utc(2026, 1, 20, 12), utc(2026, 1, 27, 12)),
    ]


def test_same_person_and_source_across_a_layer_change_is_one_shift():
    # bob holds the base week from the 12th; the later layer, also named
    # "rotation", starts with bob on the 14th. He sees one stretch, not two.
    layered = schedule(BASE, cover(("bob", "carol"), date(2026, 1, 14), name="rotation"))
    joined = Shift("bob", utc(2026, 1, 12, 9), utc(2026, 1, 15, 9), "rotation")
    assert oncall_at(layered, utc(2026, 1, 12, 10)) == [joined]
    assert oncall_at(layered, utc(2026, 1, 14, 12)) == [joined]
    found = shifts(layered, utc(2026, 1, 10), utc(2026, 1, 17))
    assert [s.user for s in found] == ["alice", "bob", "carol", "bob"]
    assert joined in found


def test_same_person_from_differently_named_layers_stays_two_shifts():
    layered = schedule(BASE, cover(("bob", "carol"), date(2026, 1, 14)))
    found = shifts(layered, utc(2026, 1, 13), utc(2026, 1, 14, 12))
    assert summary(found) == [
        ("bob", "rotation", utc(2026, 1, 12, 9), utc(2026, 1, 14, 9)),
        ("bob", "cover", utc(2026, 1, 14, 9), utc(2026, 1, 15, 9)),
    ]


def test_a_one_person_rotation_still_has_one_shift_per_period():
    # Joining consecutive periods would make one endless shift with no end to show.
    solo = schedule(Layer("daily", ("ann",), time(9), start_date=date(2026, 1, 1)))
    found = shifts(solo, utc(2026, 1, 2), utc(2026, 1, 4))
    assert [(s.start, s.end) for s in found] == [
        (utc(2026, 1, 1, 9), utc(2026, 1, 2, 9)),
        (utc(2026, 1, 2, 9), utc(2026, 1, 3, 9)),
        (utc(2026, 1, 3, 9), utc(2026, 1, 4, 9)),
    ]
