"""Who is on call: the one place every consumer asks.

The engine, the CLI, the API, the calendar feeds and the UI all call these
functions, so they never disagree. They combine the file's schedule with the
overrides stored in the database and hand both to the pure rotation maths.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.config.model import Override, Schedule
from tocsin.oncall import store
from tocsin.oncall.rules import Shift, oncall_at, shifts

# Shifts are returned whole, so an override outside the asked range can still
# cut a shift that overlaps it; look this far either side (longer than any
# rotation period a schedule can have).
OVERRIDE_REACH = timedelta(days=62)


def stored_overrides(
    session: Session | None, schedule: Schedule, start: datetime, end: datetime,
) -> list[Override]:
    if session is None:
        return []
    rows = store.live_overlapping(session, schedule=schedule.name, start=start, end=end)
    return [
        Override(user=row.user_id, start=row.start_at, end=row.end_at,
                 kind=row.kind,  # type: ignore[arg-type]
                 replaces=row.replaces, id=str(row.id))
        for row in rows
    ]


def final_shifts(
    session: Session | None, schedule: Schedule, start: datetime, end: datetime,
) -> list[Shift]:
    """Whole final shifts overlapping [start, end), stored overrides applied."""
    # Widen the override query: an override just outside the range can still
    # change a shift that overlaps it.
    overrides = stored_overrides(session, schedule, _far_past(start), _far_future(end))
    return shifts(schedule, start, end, overrides=overrides)


def on_call(session: Session | None, schedule: Schedule, at: datetime) -> list[Shift]:
    overrides = stored_overrides(session, schedule, _far_past(at), _far_future(at))
    return oncall_at(schedule, at, overrides=overrides)


def _far_past(when: datetime) -> datetime:
    return when - OVERRIDE_REACH


def _far_future(when: datetime) -> datetime:
    return when + OVERRIDE_REACH
