"""Pure incident rules: ids, statuses, the timeline's values and the clocks.

The clocks (duration, time to acknowledge, time to mitigate) are derived
from the timeline, never typed in: the status entries say when it was
resolved (a later non-resolved status reopens it), the first `mitigated`
entry (else the first resolve) when it was mitigated, and the first
`acknowledged` entry (a page of the incident acknowledged) when someone
answered. They run from the incident's impact start, which a person may
move earlier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tocsin.config.model import IncidentSettings, Stakeholders

STATUSES = ("investigating", "identified", "monitoring", "resolved")
RESOLVED = "resolved"

# Timeline kinds. Automatic entries record what Tocsin did and are never edited;
# notes and updates are a person's words and may be edited and backdated.
DECLARED = "declared"
ROLE = "role"
PAGED = "paged"
NOT_PAGED = "not_paged"
ALERT_LINKED = "alert_linked"
STATUS = "status"
MITIGATED = "mitigated"
SEVERITY = "severity"
IMPACT = "impact"
RESPONDER = "responder"
PAGES_RESOLVED = "pages_resolved"
ACKNOWLEDGED = "acknowledged"
NOTE = "note"
UPDATE = "update"
EDITABLE = (NOTE, UPDATE)

MAX_TITLE = 500
MAX_TEXT = 10_000
# When an impact began or a note happened: not before this, and not later than now plus
# a little, so a clock running slightly ahead of the server's is not refused.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)
_KEY = re.compile(r"\s*(?:inc-?)?(\d{1,10})\s*", re.IGNORECASE)


def one_line(text: str) -> str:
    """A title as one line: each run of whitespace or control characters (newlines, tabs,
    escape codes) becomes one space, and the ends are trimmed."""
    return " ".join(_CONTROLS.sub(" ", text).split())


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def past_time_fix(value: datetime, now: datetime) -> str | None:
    """How to fix `value` as when something in an incident happened; None: it is fine."""
    if value < EARLIEST:
        return "give a time from 2000-01-01 on"
    if value > now + CLOCK_SKEW:
        return "give a time at or before now"
    return None


def parse_key(key: str) -> int | None:
    """The number of `INC-142`, `inc142` or `142`; None for anything else."""
    found = _KEY.fullmatch(key)
    return int(found[1]) if found else None


@dataclass(frozen=True)
class TimelineEntry:
    """One row of an incident's timeline. `id` is None for an entry read from a
    linked alert (its acknowledgement), which lives on the alert's own timeline."""

    id: int | None
    kind: str
    text: str
    actor: str | None
    occurred_at: datetime
    recorded_at: datetime
    surface: str | None = None
    edited_at: datetime | None = None
    edited_by: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    slack_ts: str | None = None

    @property
    def editable(self) -> bool:
        return self.id is not None and self.kind in EDITABLE


def ordered(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """By the time it happened, then as recorded; entries from alerts after stored ones."""
    return sorted(entries, key=lambda e: (e.occurred_at, e.id is None, e.id or 0,
                                          e.recorded_at))


class HasImpactStart(Protocol):
    @property
    def impact_start(self) -> datetime: ...


@dataclass(frozen=True)
class Clocks:
    started_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    duration: timedelta | None  # None while open
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None


def clocks(incident: HasImpactStart, entries: Sequence[TimelineEntry]) -> Clocks:
    start = incident.impact_start
    timeline = ordered(entries)
    # An alert linked later may have been acknowledged before the impact began.
    acknowledged = next((e.occurred_at for e in timeline
                         if e.kind == ACKNOWLEDGED and e.occurred_at >= start), None)
    mitigated = next((e.occurred_at for e in timeline if e.kind == MITIGATED), None)
    resolves = [e.occurred_at for e in timeline
                if e.kind == STATUS and e.data.get("status") == RESOLVED]
    resolved: datetime | None = None
    for entry in timeline:
        if entry.kind == STATUS:
            resolved = entry.occurred_at if entry.data.get("status") == RESOLVED else None
    # Never marked mitigated: the impact stopped when it was first resolved.
    if mitigated is None and resolves:
        mitigated = resolves[0]
    return Clocks(
        started_at=start, acknowledged_at=acknowledged, mitigated_at=mitigated,
        resolved_at=resolved, duration=_since(start, resolved),
        time_to_acknowledge=_since(start, acknowledged),
        time_to_mitigate=_since(start, mitigated),
    )


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    # A backdated entry may sit before the impact start; a clock is never negative.
    return None if end is None else max(timedelta(0), end - start)


def stakeholders_for(
    settings: IncidentSettings, services: Sequence[str], severity: str,
) -> list[Stakeholders]:
    """The stakeholder entries an incident of these services and severity tells."""
    found = []
    for entry in settings.stakeholders:
        if entry.services and not set(entry.services) & set(services):
            continue
        if entry.severities and severity.casefold() not in {s.casefold()
                                                            for s in entry.severities}:
            continue
        found.append(entry)
    return found


def reminder_due(last: datetime, every_minutes: float | None) -> datetime | None:
    return None if every_minutes is None else last + timedelta(minutes=every_minutes)


def describe_duration(span: timedelta | None) -> str:
    """`1h 05m`, `12m`, `40s`; an empty string for None."""
    if span is None:
        return ""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{seconds}s"
