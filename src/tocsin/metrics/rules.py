"""Reliability and on-call metrics from plain values: the maths behind `tocsin report`.

Pure: durations, instants, zones and histories come in as arguments;
nothing here reads a clock or a database. The definitions each figure
follows are written in docs/metrics.md; the names below are the same.

Percentiles use the nearest-rank method: the p-th percentile of n sorted
values is the value at rank ceil(p/100 * n), so it is always one of the
measured values (the median of 1, 2, 3, 4 is 2, p90 of ten values is the
ninth).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from tocsin.config.model import WEEKDAYS, WorkingHours
from tocsin.oncall.load import intersect, windows
from tocsin.statuspage.rules import MAJOR, OPERATIONAL, PARTIAL, History, uptime, worst

# Which incident severities put a service with no status page component in
# outage, and how badly (DESIGN.md: SEV1 a major outage, SEV2 a partial one).
DEFAULT_OUTAGE_SEVERITIES: Mapping[str, str] = MappingProxyType({"SEV1": MAJOR, "SEV2": PARTIAL})
RECURRENCE_WINDOW = timedelta(days=90)

BUSINESS, OFF, SLEEP = "business", "off", "sleep"


@dataclass(frozen=True)
class Settings:
    """What a team may choose about its metrics; the defaults are DESIGN.md's."""

    outage_severities: Mapping[str, str] = field(default_factory=lambda: DEFAULT_OUTAGE_SEVERITIES)
    recurrence_window: timedelta = RECURRENCE_WINDOW
    # Root-cause categories that make incidents recurring; None: any recorded category.
    recurring_categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Spread:
    """Count, mean, median and p90 of some durations; None figures when there are none."""

    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None


def percentile(ordered: Sequence[timedelta], share: float) -> timedelta | None:
    """Nearest-rank percentile of values sorted ascending; `share` in (0, 100]."""
    if not ordered:
        return None
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(durations: Iterable[timedelta]) -> Spread:
    ordered = sorted(durations)
    if not ordered:
        return Spread(0, None, None, None)
    mean = sum(ordered, timedelta()) / len(ordered)
    return Spread(len(ordered), mean, percentile(ordered, 50), percentile(ordered, 90))


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return None if whole == 0 else part / whole


def per_week(count: int, start: datetime, end: datetime) -> float:
    """How many a week over [start, end), measured in UTC."""
    weeks = (end - start) / timedelta(weeks=1)
    if weeks <= 0:
        raise ValueError("the window must end after it starts")
    return count / weeks


# --- Uptime ------------------------------------------------------------------


def worst_history(histories: Iterable[History]) -> list[tuple[datetime, str]]:
    """One history that holds, at every instant, the worst status of several.

    Each history is oldest first. Changes at the same instant are applied
    together, so the merged history has one entry per distinct instant.
    """
    changes = sorted(
        ((when, index, order, status)
         for index, history in enumerate(histories)
         for order, (when, status) in enumerate(history)),
        key=lambda change: (change[0], change[1], change[2]),
    )
    current: dict[int, str] = {}
    merged: list[tuple[datetime, str]] = []
    for position, (when, index, _order, status) in enumerate(changes):
        current[index] = status
        following = changes[position + 1][0] if position + 1 < len(changes) else None
        if following != when:
            merged.append((when, worst(current.values())))
    return merged


@dataclass(frozen=True)
class Outage:
    """An incident's outage of a service: from impact start to mitigation (or resolve)."""

    start: datetime
    end: datetime | None  # None: still going on
    status: str  # PARTIAL or MAJOR


def outage_history(outages: Iterable[Outage]) -> list[tuple[datetime, str]]:
    """A status history (as the status page keeps one) from overlapping outages."""
    edges: list[tuple[datetime, int, str]] = []
    for outage in outages:
        if outage.end is not None and outage.end <= outage.start:
            continue
        edges.append((outage.start, +1, outage.status))
        if outage.end is not None:
            edges.append((outage.end, -1, outage.status))
    edges.sort(key=lambda edge: (edge[0], edge[1]))
    active: dict[str, int] = {}
    history: list[tuple[datetime, str]] = []
    for position, (when, step, status) in enumerate(edges):
        active[status] = active.get(status, 0) + step
        following = edges[position + 1][0] if position + 1 < len(edges) else None
        if following != when:
            now_status = worst(s for s, count in active.items() if count > 0)
            if not history or history[-1][1] != now_status:
                history.append((when, now_status))
    return history


def service_uptime(
    *, component_histories: Sequence[History], outages: Iterable[Outage],
    start: datetime, end: datetime,
) -> float:
    """DESIGN.md's one uptime: from the service's components if it has any, else from
    the outages its incidents imply."""
    if component_histories:
        return uptime(worst_history(component_histories), start, end)
    return uptime(outage_history(outages), start, end)


def outage_of(severity: str, outage_severities: Mapping[str, str]) -> str | None:
    """The outage a severity stands for (names compared ignoring case), or None."""
    for name, status in outage_severities.items():
        if name.casefold() == severity.casefold():
            return status if status != OPERATIONAL else None
    return None


# --- Interruptions -----------------------------------------------------------


@dataclass(frozen=True)
class Interruptions:
    total: int
    business: int
    off: int  # every page outside business hours (total = business + off)
    sleep: int  # the part of `off` inside the sleep window


def interruptions(
    pages: Iterable[float], *, zone: ZoneInfo, hours: WorkingHours,
    start: datetime, end: datetime,
) -> Interruptions:
    """Classify the instants a person was paged (POSIX seconds) by their own wall clock.

    Uses the same windows as the on-call load (oncall.load), so an hour
    counted as a sleep hour there is one here; business wins where a custom
    definition lets the two overlap. Counts by window, not by page: a year
    has a few hundred windows and may have a million pages.
    """
    ordered = sorted(pages)
    business, sleep, both = _day_parts(zone, hours, start, end)
    in_business = _inside(ordered, business)
    asleep = _inside(ordered, sleep) - _inside(ordered, both)
    return Interruptions(len(ordered), in_business, len(ordered) - in_business, asleep)


Seconds = tuple[tuple[float, float], ...]


@lru_cache(maxsize=32)
def _day_parts(zone: ZoneInfo, hours: WorkingHours, start: datetime, end: datetime,
               ) -> tuple[Seconds, Seconds, Seconds]:
    """The business windows, the sleep windows and where they overlap, in [start, end),
    as POSIX seconds: made once per zone, not per person (a year: 20 people, 6 zones)."""
    business = windows(hours.business, hours.days, zone, start, end)
    sleep = windows(hours.sleep, WEEKDAYS, zone, start, end)
    return (_as_seconds(business), _as_seconds(sleep),
            _as_seconds(intersect(sleep, business)))


def _as_seconds(intervals: Iterable[tuple[datetime, datetime]]) -> Seconds:
    return tuple((a.timestamp(), b.timestamp()) for a, b in intervals)


def _inside(ordered: Sequence[float], intervals: Seconds) -> int:
    """How many of the sorted instants fall in the disjoint [start, end) intervals."""
    return sum(bisect_left(ordered, b) - bisect_left(ordered, a) for a, b in intervals)


# --- Recurring incidents -----------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """An incident's services and root-cause category, when it started."""

    incident_id: int
    started_at: datetime
    services: tuple[str, ...]
    category: str | None


def recurring(
    causes: Iterable[Cause], *, start: datetime, end: datetime, window: timedelta,
    categories: Sequence[str] | None = None,
) -> list[int]:
    """Ids of incidents started in [start, end) that repeat an earlier one: an incident
    of a shared service and the same root-cause category that started at most `window`
    before it. Categories compare ignoring case; `categories` limits which count."""
    allowed = None if categories is None else {c.casefold() for c in categories}
    earlier: dict[tuple[str, str], list[datetime]] = {}
    found: list[int] = []
    for cause in sorted(causes, key=lambda c: (c.started_at, c.incident_id)):
        if not cause.category:
            continue
        category = cause.category.casefold()
        if allowed is not None and category not in allowed:
            continue
        keys = [(service, category) for service in cause.services]
        repeats = any(cause.started_at - seen <= window
                      for key in keys for seen in earlier.get(key, ())[-1:])
        if repeats and start <= cause.started_at < end:
            found.append(cause.incident_id)
        for key in keys:
            earlier.setdefault(key, []).append(cause.started_at)
    return found


def unreflected(history: History, outages: Iterable[Outage], *, start: datetime,
                end: datetime) -> int:
    """How many outages overlap [start, end) while the status `history` showed no outage
    at any moment of the overlap: incidents the status page never reflected."""
    instants = [when for when, _status in history]
    count = 0
    for outage in outages:
        first, last = max(outage.start, start), min(outage.end or end, end)
        if last <= first:
            continue
        # `uptime` reads only the change in force at `first` and those before `last`:
        # a year's outages each read the whole year's history otherwise.
        shown = history[max(bisect_right(instants, first) - 1, 0):bisect_left(instants, last)]
        if uptime(shown, first, last) == 1.0:
            count += 1
    return count
