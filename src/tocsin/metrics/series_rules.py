"""Weekly series for the dashboard's charts, from plain values.

Pure: instants, zones and durations come in as arguments. A week starts
on Monday at 00:00 on the team's wall clock (the config's zone), so a week
around a clock change is 167 or 169 hours long; the first and last weeks
are cut at the window's edges and say so by their own start and end.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Week:
    start: datetime  # inclusive; the window's start for a first week cut short
    end: datetime  # exclusive; the window's end for a last week cut short
    # Cut short at either end: it does not run from Monday 00:00 to the next Monday 00:00
    # in the zone, however long it is (a window from Tuesday has a six-day first week).
    partial: bool = field(default=False, compare=False)


def weeks(start: datetime, end: datetime, zone: ZoneInfo) -> list[Week]:
    """The Monday-to-Monday weeks (wall clock in `zone`) covering [start, end)."""
    if end <= start:
        raise ValueError("the window must end after it starts")
    local = start.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    found: list[Week] = []
    cursor = start
    # Midnight on the wall clock, turned into an instant by the zone's rules.
    whole_from = cursor == datetime.combine(monday, time(0), tzinfo=zone)
    while cursor < end:
        monday += timedelta(days=7)
        following = datetime.combine(monday, time(0), tzinfo=zone)
        found.append(Week(cursor, min(following, end),
                          partial=not whole_from or following > end))
        cursor, whole_from = min(following, end), True
    return found


def week_of(found: Sequence[Week], at: datetime) -> int | None:
    """The index of the week holding `at`, or None outside them all."""
    if not found or at < found[0].start or at >= found[-1].end:
        return None
    return bisect_right([week.start for week in found], at) - 1


def count_by_week(found: Sequence[Week], events: Iterable[tuple[datetime, str]],
                  names: Sequence[str]) -> dict[str, list[int]]:
    """How many events of each name fell in each week; names not listed are added."""
    counts = {name: [0] * len(found) for name in names}
    for at, name in events:
        index = week_of(found, at)
        if index is not None:
            counts.setdefault(name, [0] * len(found))[index] += 1
    return counts


@dataclass(frozen=True)
class WeekMean:
    count: int
    mean: timedelta | None  # None in a week with nothing to average


def mean_by_week(found: Sequence[Week], spans: Iterable[tuple[datetime, str, timedelta]],
                 names: Sequence[str]) -> dict[str, list[WeekMean]]:
    """Per name and week, the mean of the durations whose instant fell in that week."""
    sums: dict[str, list[tuple[int, timedelta]]] = {
        name: [(0, timedelta())] * len(found) for name in names}
    for at, name, span in spans:
        index = week_of(found, at)
        if index is None:
            continue
        row = sums.setdefault(name, [(0, timedelta())] * len(found))
        count, total = row[index]
        row[index] = (count + 1, total + span)
    return {name: [WeekMean(count, total / count if count else None) for count, total in row]
            for name, row in sums.items()}


def repair_time(impact_start: datetime, resolved_at: datetime) -> timedelta:
    """Impact start to resolve; a backdated impact start never makes it negative."""
    return max(timedelta(0), resolved_at - impact_start)
