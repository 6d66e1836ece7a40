"""Which ended shifts get the one-question survey, and what a valid answer is.

Pure: shifts and times in, decisions out. A shift gets a survey when it
lasts at least `MIN_SHIFT`; the survey is written up to `LOOKAHEAD` before
it falls due (the engine plans on its full passes, which may be minutes
apart, and checks the shift again just before sending). A shift that ended
longer than `GRACE` before its survey fell due gets none, so after a long
outage nobody is asked about a night that is long past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.oncall.rules import Shift

# Shorter shifts (an override for a meeting, a restriction's sliver) are not
# worth a question: asking after each would train people to ignore it.
MIN_SHIFT = timedelta(hours=1)
GRACE = timedelta(hours=6)
# Longer than the engine's gap between full passes (engine.runner.FULL_PASS_EVERY).
LOOKAHEAD = timedelta(minutes=10)
LOWEST, HIGHEST = 1, 5
SCORE_HELP = f"give a whole number from {LOWEST} (awful) to {HIGHEST} (great)"


@dataclass(frozen=True)
class Due:
    """A survey to write: who, which shift, when it goes."""

    user: str
    shift_start: datetime
    shift_end: datetime
    due_at: datetime


def window(now: datetime, after: timedelta) -> tuple[datetime, datetime]:
    """The range whose shifts' ends `surveys_due` looks at, seen at `now`."""
    return now - after - GRACE, now - after + LOOKAHEAD


def surveys_due(shifts: list[Shift], *, now: datetime, after: timedelta) -> list[Due]:
    """The surveys `shifts` call for at `now`, `after` the end of each."""
    low, high = window(now, after)
    found: list[Due] = []
    for shift in shifts:
        if not low <= shift.end <= high:
            continue
        if shift.end - shift.start < MIN_SHIFT:
            continue
        found.append(Due(shift.user, shift.start, shift.end, shift.end + after))
    return found


def still_due(shift: Shift | None, shift_end: datetime) -> bool:
    """Whether `shift` (the person's final shift ending at `shift_end`, if any) still
    calls for the survey planned for it."""
    return (shift is not None and shift.end == shift_end
            and shift.end - shift.start >= MIN_SHIFT)


def score_problem(value: object) -> str | None:
    """Why `value` is not a survey answer; None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return SCORE_HELP
    if not LOWEST <= value <= HIGHEST:
        return f"{value} is out of range; {SCORE_HELP}"
    return None
