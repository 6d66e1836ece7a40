"""On-call load: how many hours a person held, and when in their own day.

Pure: shifts, a zone and working hours in, durations out. Hours are counted
in UTC (a 23-hour spring-forward day on call is 23 hours, not 24), while
which of those hours are business, off or sleep hours is read from the
person's LOCAL wall clock: each day's windows are turned into instants with
`local_to_utc` and the on-call time is intersected with them.

The categories:

    business  inside the business window on a working day
    off       every other on-call hour (total = business + off)
    sleep     the part of the off hours inside the sleep window, any night

A window's `days` are the days it starts on; one that ends at or before it
starts runs past midnight. A person on call in two schedules at once holds
that hour once: the load is the time they could be paged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.config.model import WEEKDAYS, Weekday, WorkingHours
from tocsin.oncall.overlay import Interval, union
from tocsin.oncall.rules import Shift, local_to_utc

# WorkingHours is the config's own value (`Config.working_hours`), named here
# too so that callers of this module need not know where it is defined.
__all__ = [
    "DEFAULT_WORKING_HOURS", "Load", "Window", "WorkingHours", "held", "intersect",
    "oncall_load", "windows",
]

Window = tuple[time, time]
_ONE_DAY = timedelta(days=1)

DEFAULT_WORKING_HOURS = WorkingHours()


@dataclass(frozen=True)
class Load:
    on_call: timedelta
    business: timedelta
    off: timedelta
    sleep: timedelta  # part of `off`


def held(shifts: Iterable[Shift], user: str, start: datetime, end: datetime) -> list[Interval]:
    """The time `user` is on call inside [start, end), merged across shifts."""
    return union(
        (max(s.start, start), min(s.end, end)) for s in shifts if s.user == user
    )


def oncall_load(
    shifts: Iterable[Shift], *, user: str, zone: ZoneInfo, start: datetime, end: datetime,
    hours: WorkingHours = DEFAULT_WORKING_HOURS,
) -> Load:
    """The load of `user` over [start, end), classified in `zone`."""
    if end < start:
        raise ValueError("end is before start")
    mine = held(shifts, user, start, end)
    business_windows = windows(hours.business, hours.days, zone, start, end)
    sleep_windows = windows(hours.sleep, WEEKDAYS, zone, start, end)
    total = _length(mine)
    business = _length(intersect(mine, business_windows))
    night = intersect(mine, sleep_windows)
    # Where a custom definition lets sleep and business overlap, business wins.
    sleep = _length(night) - _length(intersect(night, business_windows))
    return Load(on_call=total, business=business, off=total - business, sleep=sleep)


def windows(
    window: Window, days: Iterable[Weekday], zone: ZoneInfo, start: datetime, end: datetime,
) -> list[Interval]:
    """The instants of a daily local window on `days`, within [start, end).

    Starts a day early: the window that opened the evening before `start`
    may still be open.
    """
    allowed = set(days)
    opens_at, closes_at = window
    day = start.astimezone(zone).date() - _ONE_DAY
    last = end.astimezone(zone).date()
    found: list[Interval] = []
    while day <= last:
        if WEEKDAYS[day.weekday()] in allowed:
            opens = datetime.combine(day, opens_at)
            closes = datetime.combine(day, closes_at)
            if closes <= opens:  # runs past midnight
                closes += _ONE_DAY
            found.append((local_to_utc(opens, zone), local_to_utc(closes, zone)))
        day += _ONE_DAY
    return union((max(a, start), min(b, end)) for a, b in found)


def intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """Where two sorted, disjoint interval lists overlap."""
    found: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            found.append((start, end))
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return found


def _length(intervals: Iterable[Interval]) -> timedelta:
    return sum((end - start for start, end in intervals), timedelta())
