"""Coverage gaps: the stretches of a schedule where nobody is on call.

Pure: final shifts (from `service.final_shifts`) and a range in, the
uncovered parts of the range out. A restriction window, a start_date still
ahead, or a layer with nobody in it all show up here the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tocsin.oncall.overlay import Interval, union
from tocsin.oncall.rules import Shift

# How far ahead coverage is checked and reported.
COVERAGE_HORIZON = timedelta(days=14)


def gaps(shifts: Iterable[Shift], start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) that no shift covers, in order."""
    if end < start:
        raise ValueError("end is before start")
    covered = union((max(s.start, start), min(s.end, end)) for s in shifts)
    found: list[Interval] = []
    cursor = start
    for begin, finish in covered:
        if begin > cursor:
            found.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        found.append((cursor, end))
    return found


def upcoming_range(now: datetime) -> tuple[datetime, datetime]:
    """The range coverage is checked over: [now, now + 14 days)."""
    return now, now + COVERAGE_HORIZON
