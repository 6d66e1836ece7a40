"""What the status page shows, from plain values: statuses, the indicator, uptime.

Everything here is pure: times come in as arguments, nothing reads a clock
or a database. The words are Statuspage's (WIRE_FORMATS.md), so existing
widgets read them unchanged.

Ordering. A public incident's updates can be entered in any order and
backdated; its state is always the update with the latest display time
(ties: the one entered last). A component's status history is ordered the
same way, so a late-entered update lands where its display time puts it.

Uptime has DESIGN.md's one definition: the share of a window a component
spends outside partial and major outage. Before its first history entry a
component is operational.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
MAINTENANCE = "under_maintenance"
# Best to worst; a group shows the worst of its members.
COMPONENT_STATUSES = (OPERATIONAL, MAINTENANCE, DEGRADED, PARTIAL, MAJOR)
OUTAGES = frozenset({PARTIAL, MAJOR})

INVESTIGATING, IDENTIFIED, MONITORING = "investigating", "identified", "monitoring"
RESOLVED, POSTMORTEM = "resolved", "postmortem"
UPDATE_STATUSES = (INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED, POSTMORTEM)
CLOSED = frozenset({RESOLVED, POSTMORTEM})

IMPACTS = ("none", "minor", "major", "critical")
# The page indicator, least to most severe.
INDICATORS = ("none", "maintenance", "minor", "major", "critical")
INDICATOR_WORDS = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Disruption",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
_INDICATOR_OF = {OPERATIONAL: "none", MAINTENANCE: "maintenance", DEGRADED: "minor",
                 PARTIAL: "major", MAJOR: "critical"}

SCHEDULED, IN_PROGRESS, COMPLETED = "scheduled", "in_progress", "completed"
VERIFYING = "verifying"
# A window's components show under maintenance while it is in one of these.
UNDER_WAY = frozenset({IN_PROGRESS, VERIFYING})


def public_id(kind: str, name: str) -> str:
    """A stable id for a component, group or page: the same name gives the same id."""
    return hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:12]


def worst(statuses: Iterable[str]) -> str:
    """The worst component status; operational for none at all."""
    return max(statuses, key=COMPONENT_STATUSES.index, default=OPERATIONAL)


def shown_status(recorded: str, in_maintenance: bool) -> str:
    """A component's status with maintenance laid over it.

    A running maintenance window shows as under maintenance, unless an
    incident has put the component in outage: customers must see that.
    """
    if in_maintenance and recorded not in OUTAGES:
        return MAINTENANCE
    return recorded


@dataclass(frozen=True)
class Indicator:
    indicator: str
    description: str


def page_indicator(statuses: Iterable[str], impacts: Iterable[str]) -> Indicator:
    """The page's indicator from its public components and open public incidents' impact."""
    found = [_INDICATOR_OF[status] for status in statuses]
    found += [impact for impact in impacts if impact != "none"]
    level = max(found, key=INDICATORS.index, default="none")
    return Indicator(level, INDICATOR_WORDS[level])


class Update(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def display_at(self) -> datetime: ...


U = TypeVar("U", bound=Update)


def by_display_time(updates: Iterable[U]) -> list[U]:
    """Oldest first by display time; updates shown at the same time in entry order."""
    return sorted(updates, key=lambda update: (update.display_at, update.id))


@dataclass(frozen=True)
class IncidentState:
    status: str
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None

    @property
    def open(self) -> bool:
        return self.status not in CLOSED


def incident_state(updates: Sequence[Update]) -> IncidentState:
    """A public incident's state from its updates, whatever order they were entered in."""
    if not updates:
        raise ValueError("a public incident has at least one update")
    ordered = by_display_time(updates)
    latest = ordered[-1]
    monitoring = [u.display_at for u in ordered if u.status == MONITORING]
    resolved = [u.display_at for u in ordered if u.status == RESOLVED]
    closed = latest.status in CLOSED
    return IncidentState(
        status=latest.status,
        started_at=ordered[0].display_at,
        monitoring_at=monitoring[-1] if monitoring and (closed or latest.status == MONITORING)
        else None,
        resolved_at=(resolved[-1] if resolved else latest.display_at) if closed else None,
    )


History = Sequence[tuple[datetime, str]]


def status_at(history: History, at: datetime) -> str:
    """The status in force at `at`: the last entry at or before it (history in order)."""
    current = OPERATIONAL
    for when, status in history:
        if when > at:
            break
        current = status
    return current


def uptime(history: History, start: datetime, end: datetime) -> float:
    """Share of [start, end) outside partial and major outage; history oldest first."""
    if end <= start:
        raise ValueError("an uptime window must end after it starts")
    down = timedelta(0)
    current, since = status_at(history, start), start
    for when, status in history:
        if when <= start:
            continue
        if when >= end:
            break
        if current in OUTAGES:
            down += when - since
        current, since = status, when
    if current in OUTAGES:
        down += end - since
    return 1 - down / (end - start)


@dataclass(frozen=True)
class Day:
    day: date
    uptime: float | None  # None: the day has not started yet
    worst: str


LocalDay = tuple[date, datetime, datetime]  # the day, its start and end in UTC


def local_days(*, days: int, zone: ZoneInfo, now: datetime) -> list[LocalDay]:
    """The last `days` local days up to now, oldest first, with their UTC bounds.

    A day is its local midnight to the next: 23 or 25 hours long across a
    daylight-saving change. Today ends at `now`.
    """
    today = now.astimezone(zone).date()
    found: list[LocalDay] = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = _midnight(day, zone)
        found.append((day, start, min(_midnight(day + timedelta(days=1), zone), now)))
    return found


def daily_uptime(history: History, days: Sequence[LocalDay]) -> list[Day]:
    """Uptime and worst status of each day (see `local_days`); history oldest first."""
    found: list[Day] = []
    for day, start, end in days:
        if end <= start:
            found.append(Day(day, None, OPERATIONAL))
            continue
        inside = [status for when, status in history if start < when < end]
        found.append(Day(day, uptime(history, start, end),
                         worst([status_at(history, start), *inside])))
    return found


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def maintenance_status(start: datetime, end: datetime, now: datetime,
                       verifying: timedelta = timedelta(0)) -> str:
    """A window's maintenance status; `verifying` after its end, then completed."""
    if now < start:
        return SCHEDULED
    if now < end:
        return IN_PROGRESS
    return VERIFYING if now < end + verifying else COMPLETED


def maintenance_name(components: Iterable[str]) -> str:
    """A maintenance window's public name, from the public components it touches.

    A window's `reason` and name are written for colleagues ("move db-7 off
    the failing host"): the page never shows them.
    """
    return "Scheduled maintenance: " + ", ".join(components)


# The notices a maintenance window sends its subscribers, in order.
MAINTENANCE_NOTICES = (SCHEDULED, IN_PROGRESS, COMPLETED)


def maintenance_notice(*, start: datetime, end: datetime, announced_at: datetime,
                       now: datetime, told: Iterable[str],
                       verifying: timedelta = timedelta(0)) -> tuple[str, datetime] | None:
    """The notice a window owes its subscribers at `now`, and since when it is due.

    `told` holds the notices already sent. Scheduled goes only while the window
    is still ahead, from when it was announced (`announced_at`); started while
    it runs (or verifies); completed once it is over, and only when an earlier
    notice went: a window that started and ended unseen is not news.
    """
    sent = set(told)
    status = maintenance_status(start, end, now, verifying)
    if status == SCHEDULED:
        return None if SCHEDULED in sent else (SCHEDULED, min(announced_at, now))
    if status in (IN_PROGRESS, VERIFYING):
        return None if IN_PROGRESS in sent else (IN_PROGRESS, start)
    if COMPLETED in sent or not sent:
        return None
    return COMPLETED, end + verifying


def next_maintenance_change(start: datetime, end: datetime, now: datetime,
                            verifying: timedelta = timedelta(0)) -> datetime | None:
    """When a window's maintenance status next changes after `now`; None once completed."""
    for when in (start, end, end + verifying):
        if now < when:
            return when
    return None


def text_problem(value: object, *, limit: int) -> str | None:
    """Why `value` is not text a page can store and show, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be empty"
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if "\x00" in value:
        return "contains a NUL character (\\u0000), which cannot be stored"
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        return "contains a lone UTF-16 surrogate; send valid UTF-8"
    return None
