"""The rotation maths against a slow oracle written from the definitions.

The oracle walks time in steps of 15 minutes and decides who is on call at
each instant on its own; the generated schedules put every handoff, window
and override on a quarter hour, and the zones below change their offsets
on quarter hours of UTC, so nothing happens between two steps.

It never turns a local time into an instant. Instead it reads the wall
clock, and uses the decided rule backwards: a local time L has come once
the wall clock has read L or later at some instant so far (that is the
first occurrence of a repeated time, and the end of the gap for a skipped
one). So at instant t the oracle compares everything with `reached(t)`, the
highest wall-clock reading up to t; a fall-back drop lasts at most two
hours, so looking back two hours finds it.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.config.model import WEEKDAYS, Layer, Override, Restriction, Schedule
from tocsin.oncall.rules import Shift, oncall_at, shifts

STEP = timedelta(minutes=15)
LOOK_BACK = 8  # steps: two hours
PEOPLE = ("ann", "bob", "cat", "dan", "eve")
# 2026 changes: New York 03-08 and 11-01, London 03-29 and 10-25, Sydney
# 04-05 and 10-04; Kathmandu has none (+05:45 all year).
CHANGES = {
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Europe/London": (date(2026, 3, 29), date(2026, 10, 25)),
    "Australia/Sydney": (date(2026, 4, 5), date(2026, 10, 4)),
    "Asia/Kathmandu": (date(2026, 6, 1),),
}

OnCall = frozenset[tuple[str, str]]  # (user, source) pairs


# --- The oracle -----------------------------------------------------------------


def reached(instant: datetime, zone: ZoneInfo) -> datetime:
    """The highest wall-clock reading at or before `instant`."""
    readings = (instant - n * STEP for n in range(LOOK_BACK + 1))
    return max(at.astimezone(zone).replace(tzinfo=None) for at in readings)


def period_days(layer: Layer) -> int:
    return {"daily": 1, "weekly": 7, "days": layer.every, "weeks": 7 * layer.every}[
        layer.rotation
    ]


def anchor(layer: Layer) -> date:
    day = layer.start_date or date(1970, 1, 5)
    while layer.rotation in ("weekly", "weeks") and WEEKDAYS[day.weekday()] != layer.start_day:
        day += timedelta(days=1)
    return day


def handoff(layer: Layer, k: int) -> datetime:
    day = anchor(layer) + timedelta(days=k * period_days(layer))
    return datetime.combine(day, layer.start_time)


@cache
def first_handoff(layer: Layer, zone: ZoneInfo) -> datetime:
    """The first instant the wall clock has reached the layer's first handoff."""
    at = datetime.combine(anchor(layer) - timedelta(days=1), time(0), UTC)
    while reached(at, zone) < datetime.combine(anchor(layer), layer.start_time):
        at += STEP
    return at


def hours_holder(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    """A rotation by hours: periods of elapsed time from the first handoff."""
    begins = first_handoff(layer, zone)
    if at < begins:
        return None
    k = (at - begins) // timedelta(hours=layer.every)
    return layer.participants[k % len(layer.participants)]


def period_of(layer: Layer, wall: datetime) -> int:
    """The last period whose handoff the wall clock has reached; -1 before the first."""
    k = (wall.date() - anchor(layer)).days // period_days(layer) + 1
    while k >= 0 and handoff(layer, k) > wall:
        k -= 1
    return k


def in_window(layer: Layer, wall: datetime) -> bool:
    if not layer.restrictions:
        return True
    for window in layer.restrictions:
        for day in (wall.date() - timedelta(days=1), wall.date()):
            if window.days and WEEKDAYS[day.weekday()] not in window.days:
                continue
            opens = datetime.combine(day, window.start)
            closes = datetime.combine(day, window.end)
            if closes <= opens:
                closes += timedelta(days=1)
            if opens <= wall < closes:
                return True
    return False


@cache
def is_open(layer: Layer, k: int) -> bool:
    """Whether any quarter hour of period k's wall-clock span is in a window."""
    wall, finish = handoff(layer, k), handoff(layer, k + 1)
    while wall < finish:
        if in_window(layer, wall):
            return True
        wall += STEP
    return False


def holder(layer: Layer, wall: datetime) -> str | None:
    k = period_of(layer, wall)
    if k < 0 or not layer.participants or not in_window(layer, wall):
        return None
    turn = sum(1 for j in range(k) if is_open(layer, j))
    return layer.participants[turn % len(layer.participants)]


def oracle(schedule: Schedule, overrides: list[Override], at: datetime) -> OnCall:
    zone = ZoneInfo(schedule.timezone)
    wall = reached(at, zone)
    found: set[tuple[str, str]] = set()
    for layer in reversed(schedule.layers):
        by_hours = layer.rotation == "hours"
        user = hours_holder(layer, zone, at) if by_hours else holder(layer, wall)
        if user is not None:
            found = {(user, layer.name)}
            break
    for override in (*schedule.overrides, *overrides):
        if not override.start <= at < override.end:
            continue
        mine = (override.user, f"override:{override.id}")
        if override.kind == "whole":
            found = {mine}
        elif override.kind == "add":
            found.add(mine)
        elif any(user == override.replaces for user, _ in found):
            found = {item for item in found if item[0] != override.replaces} | {mine}
    return frozenset(found)


# --- Random schedules -----------------------------------------------------------

quarter_hours = st.builds(time, st.integers(0, 23), st.sampled_from((0, 15, 30, 45)))
# Handoffs and windows crowd round the small hours, where the clocks change.
local_times = st.one_of(
    st.builds(time, st.integers(0, 3), st.sampled_from((0, 15, 30, 45))), quarter_hours
)
windows = st.builds(
    Restriction,
    local_times,
    local_times,
    # Mostly a few days, so that some periods are empty and skipped.
    st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=4).map(tuple),
)


# Rotation kinds with the lengths drawn for them; daily and weekly are length 1.
LENGTHS = {"daily": (1,), "weekly": (1,), "days": (2, 3, 5), "weeks": (2, 3),
           "hours": (1, 5, 8, 12, 36)}


@st.composite
def layers(draw: st.DrawFn, first_day: date, name: str) -> Layer:
    rotation = draw(st.sampled_from(sorted(LENGTHS)))
    # A rotation by hours takes no restrictions (the config refuses them).
    restricted = rotation != "hours"
    return Layer(
        rotation,
        tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))),
        draw(local_times),
        draw(st.sampled_from(WEEKDAYS)),
        first_day + timedelta(days=draw(st.integers(-40, 10))),
        name,
        tuple(draw(st.lists(windows, max_size=2 if restricted else 0))),
        draw(st.sampled_from(LENGTHS[rotation])),
    )


@st.composite
def overrides(draw: st.DrawFn, begin: datetime, span: int, id: str) -> Override:
    start = begin + STEP * draw(st.integers(-8, span))
    kind = draw(st.sampled_from(("whole", "add", "replace")))
    return Override(
        draw(st.sampled_from(PEOPLE)),
        start,
        start + STEP * draw(st.integers(1, 4 * 24 * 3)),
        kind,
        draw(st.sampled_from(PEOPLE)) if kind == "replace" else None,
        id,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, list[Override], datetime, datetime]:
    zone = draw(st.sampled_from(sorted(CHANGES)))
    change = draw(st.sampled_from(CHANGES[zone]))
    begin = datetime.combine(change, time(0), UTC) - STEP * draw(st.integers(0, 4 * 24 * 10))
    span = draw(st.integers(4 * 24, 4 * 24 * 20))  # in steps: 1 to 20 days
    names = st.sampled_from(("base", "cover", "base"))
    stack = tuple(draw(layers(begin.date(), draw(names))) for _ in range(draw(st.integers(1, 3))))
    made = [draw(overrides(begin, span, str(n))) for n in range(draw(st.integers(0, 3)))]
    cut = draw(st.integers(0, len(made)))  # some from the file, the rest stored
    return Schedule("s", zone, stack, tuple(made[:cut])), made[cut:], begin, begin + STEP * span


# --- The comparison -------------------------------------------------------------


def holding(found: list[Shift], at: datetime) -> OnCall:
    return frozenset((s.user, s.source) for s in found if s.start <= at < s.end)


# 100 examples take about 6 s; the profile's 200 would double that for little gain.
@settings(max_examples=100, deadline=None)
@given(cases())
def test_shifts_and_oncall_at_agree_with_the_oracle(
    case: tuple[Schedule, list[Override], datetime, datetime],
) -> None:
    schedule, stored, start, end = case
    found = shifts(schedule, start, end, overrides=stored)
    assert found == sorted(found, key=lambda s: (s.start, s.user))
    at = start
    while at < end:
        assert holding(found, at) == oracle(schedule, stored, at), at
        at += STEP
    # Shifts are whole: right beyond the range too, wherever they reach.
    for shift in found:
        for at in (shift.start, shift.end - STEP):
            assert (shift.user, shift.source) in oracle(schedule, stored, at)
        if shift.start >= start:
            # Every shift holding an instant of the range is in `found`.
            expected = [s for s in found if s.start <= shift.start < s.end]
            assert oncall_at(schedule, shift.start, overrides=stored) == expected
