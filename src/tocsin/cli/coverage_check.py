"""Coverage warnings for `tocsin check`: schedules with nobody on call in the next 14 days.

The loader never reads the clock, so `now` comes from the command and
tests pin it. Shifts come from the file alone (its own overrides included,
not ones stored in the database), through the same function every other
consumer uses. A gap that restrictions make on purpose is still reported:
the warning says what is so and leaves the judgement to the reader.
"""

from __future__ import annotations

from datetime import datetime

from tocsin.config.model import Config, Schedule
from tocsin.config.schema import Problem
from tocsin.oncall import service
from tocsin.oncall.coverage import COVERAGE_HORIZON, gaps, upcoming_range
from tocsin.oncall.overlay import Interval
from tocsin.oncall.rules import format_utc

_FIX = "add a layer or an override, or accept the gap"


def coverage_warnings(config: Config, now: datetime) -> list[Problem]:
    """One warning per schedule that has a gap in [now, now + 14 days)."""
    start, end = upcoming_range(now)
    found: list[Problem] = []
    # A config that loaded has exactly one Schedule per `schedules` entry, in
    # file order, so the position here is the entry's index in the file.
    for index, schedule in enumerate(config.schedules.values()):
        holes = gaps(service.final_shifts(None, schedule, start, end), start, end)
        if holes:
            found.append(_warning(config.path, index, schedule, holes))
    return found


def _warning(file: str, index: int, schedule: Schedule, holes: list[Interval]) -> Problem:
    first_start, first_end = holes[0]
    days = COVERAGE_HORIZON.days
    message = (
        f"nobody is on call for {len(holes)} gap(s) in the next {days} days, "
        f"the first {format_utc(first_start)} to {format_utc(first_end)}"
    )
    return Problem(file, schedule.line, f"schedules[{index}]", message, _FIX, "warning")
