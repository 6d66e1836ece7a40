"""Who is on call: the one place every consumer asks.

The engine, the CLI, the API, the calendar feeds and the UI all call these
functions, so they never disagree. They combine the file's schedule with the
overrides stored in the database and hand both to the pure rotation maths.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.config.model import Override, Schedule
from tocsin.oncall import anchor_store, anchors, history_store, store
from tocsin.oncall.rules import Shift, shifts

# Shifts are returned whole, so an override outside the asked range can still
# cut a shift that overlaps it; look this far either side (longer than any
# rotation period a schedule can have).
OVERRIDE_REACH = timedelta(days=62)
_TICK = timedelta(microseconds=1)  # the resolution of datetime


def stored_overrides(
    session: Session | None, schedule: Schedule, start: datetime, end: datetime,
) -> list[Override]:
    if session is None:
        return []
    rows = store.live_overlapping(session, schedule=schedule.name, start=start, end=end)
    return [as_override(row) for row in rows]


def as_override(row: store.ScheduleOverride) -> Override:
    """A stored override as the rotation maths reads one, with its id as a string."""
    return Override(user=row.user_id, start=row.start_at, end=row.end_at,
                    kind=row.kind,  # type: ignore[arg-type]
                    replaces=row.replaces, id=str(row.id))


def computed_shifts(
    session: Session | None, schedule: Schedule, start: datetime, end: datetime,
) -> list[Shift]:
    """Whole shifts overlapping [start, end) as the config, rotation anchors and
    stored overrides make them now, ignoring what was recorded."""
    # Widen the override query: an override just outside the range can still
    # change a shift that overlaps it.
    overrides = stored_overrides(session, schedule, _far_past(start), _far_future(end))
    return shifts(_anchored(session, schedule), start, end, overrides=overrides)


def final_shifts(
    session: Session | None, schedule: Schedule, start: datetime, end: datetime,
) -> list[Shift]:
    """Whole final shifts overlapping [start, end), stored overrides applied.

    Recorded shifts stand for the time the engine has recorded; the rest is
    computed (see decision 0005). Without a session: computed from the file.
    """
    mark = None if session is None else history_store.watermark(session, schedule.name)
    if session is None or mark is None:
        return computed_shifts(session, schedule, start, end)
    span = (mark.recorded_from, mark.recorded_until)
    recorded = _recorded_around(session, schedule, span, start, end)
    low = min([start, *(p.start_at for p in recorded)])
    high = max([end, *(p.end_at for p in recorded)])
    computed = computed_shifts(session, schedule, low, high)
    # A computed shift that crosses into the recorded span keeps its
    # recorded part: fetch that too, so the shift comes back whole.
    crossing = [s.start for s in computed if s.start < span[1] and span[0] < s.end]
    known = {p.id for p in recorded}
    recorded += [p for p in history_store.of_shifts(
        session, schedule=schedule.name, shift_starts=crossing) if p.id not in known]
    pieces = [_Cut(p.user_id, p.start_at, p.end_at, p.source, p.shift_start) for p in recorded]
    pieces += [cut for shift in computed for cut in _outside(shift, span)]
    return [shift for shift in _join(pieces) if shift.start < end and start < shift.end]


def on_call(session: Session | None, schedule: Schedule, at: datetime) -> list[Shift]:
    """The shifts holding `at`: the final shifts of the instant, like every consumer's."""
    return final_shifts(session, schedule, at, at + _TICK)


def _anchored(session: Session | None, schedule: Schedule) -> Schedule:
    """The schedule with the rotation anchors the engine stored applied."""
    if session is None:
        return schedule
    return anchors.anchored(schedule, anchor_store.latest(session, schedule.name))


@dataclass(frozen=True)
class _Cut:
    """A piece of a whole shift; `shift_start` names the shift it belongs to."""

    user: str
    start: datetime
    end: datetime
    source: str
    shift_start: datetime


def _recorded_around(
    session: Session, schedule: Schedule, span: tuple[datetime, datetime],
    start: datetime, end: datetime,
) -> list[history_store.RecordedShift]:
    """Recorded pieces overlapping [start, end), with the rest of their shifts."""
    low, high = max(start, span[0]), min(end, span[1])
    if high <= low:
        return []
    found = history_store.overlapping(session, schedule=schedule.name, start=low, end=high)
    return history_store.of_shifts(
        session, schedule=schedule.name, shift_starts=[p.shift_start for p in found])


def _outside(shift: Shift, span: tuple[datetime, datetime]) -> list[_Cut]:
    """The parts of a computed shift before and after the recorded span."""
    parts = [(shift.start, min(shift.end, span[0])), (max(shift.start, span[1]), shift.end)]
    return [_Cut(shift.user, lo, hi, shift.source, shift.start) for lo, hi in parts if lo < hi]


def _continues(before: _Cut, piece: _Cut) -> bool:
    """Whether `piece`, starting where `before` ends, is the rest of its shift.

    Either both were cut from one shift, or `piece` was cut from a shift that
    began earlier (it continues across a recording seam, where an edit or a
    deleted override may have moved the computed start). A piece that starts
    its own shift never joins: a one-person rotation still hands over daily.
    """
    if (before.user, before.source) != (piece.user, piece.source):
        return False
    return before.shift_start == piece.shift_start or piece.shift_start < piece.start


def _join(pieces: list[_Cut]) -> list[Shift]:
    """Touching pieces of one shift as one shift, sorted by start then user."""
    joined: list[_Cut] = []
    for piece in sorted(set(pieces), key=lambda p: (p.start, p.user, p.end, p.source)):
        for index in range(len(joined) - 1, -1, -1):
            before = joined[index]
            if before.end == piece.start and _continues(before, piece):
                joined[index] = replace(before, end=piece.end)
                break
        else:
            joined.append(piece)
    shifts_ = [Shift(p.user, p.start, p.end, p.source) for p in joined]
    return sorted(shifts_, key=lambda s: (s.start, s.user, s.end, s.source))


def _far_past(when: datetime) -> datetime:
    return when - OVERRIDE_REACH


def _far_future(when: datetime) -> datetime:
    return when + OVERRIDE_REACH
