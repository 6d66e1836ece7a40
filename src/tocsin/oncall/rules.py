"""Rotation maths: who is on call, from a schedule and an instant.

Pure functions: plain values in, plain values out. The caller passes every
instant in; nothing here reads a clock, a file or a database.

Two kinds of time meet here. Instants (when a page fires) are aware UTC
datetimes. Handoffs are wall-clock times in the schedule's zone ("Monday
09:00 in Bangkok"). A rotation steps through LOCAL DATES and turns each
handoff into an instant on its own, with `local_to_utc`. Adding a timedelta
to an aware local datetime instead would keep the UTC offset of the start
and drift by an hour across a daylight-saving change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.config.model import WEEKDAYS, Layer, Schedule

# The anchor of a layer without start_date. A Monday, so that weekly
# rotations without a date line up the same way on every installation.
DEFAULT_ANCHOR_DATE = date(1970, 1, 5)

_PERIOD_DAYS = {"daily": 1, "weekly": 7}
_ONE_SECOND = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)  # the resolution of datetime
_ACCEPTED_FORMS = (
    "use ISO 8601: 2026-03-08T09:00:00Z, 2026-03-08T09:00+07:00, "
    "2026-03-08T09:00 (in the schedule's zone) or 2026-03-08 (00:00 in the schedule's zone)"
)


@dataclass(frozen=True)
class Shift:
    """A stretch of time one user holds, handed over at `end` (exclusive)."""

    user: str  # user id, as Layer.participants holds it
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, exclusive
    source: str  # the name of the layer the shift comes from


# --- Wall clock and instants -------------------------------------------------


def _require_aware(when: datetime, name: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {when.isoformat()}")


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """What a wall clock in `zone` reads at `instant`, as a naive datetime."""
    return instant.astimezone(zone).replace(tzinfo=None)


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant a naive wall-clock time in `zone` names, as aware UTC.

    Both cases of daylight saving follow one rule: the answer is the first
    instant at which the wall clock reads `local` or later. For a time that
    occurs twice (fall back) that is its first occurrence; for a time that
    never occurs (spring forward) it is the moment the gap ends, so 02:30 on
    a day that jumps from 02:00 to 03:00 gives 03:00. The rule is monotonic,
    which is what keeps consecutive shifts contiguous.
    """
    if local.tzinfo is not None:
        raise ValueError(f"local time must be naive, got {local.isoformat()}")
    candidates = [
        instant
        for instant in (
            local.replace(tzinfo=zone, fold=0).astimezone(UTC),
            local.replace(tzinfo=zone, fold=1).astimezone(UTC),
        )
        if _wall(instant, zone) == local
    ]
    if candidates:
        return min(candidates)
    return _gap_end(local, zone)


def _gap_end(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant the gap holding `local` ends: where the clock jumps past it.

    In a gap, zoneinfo reads `local` once with the offset before the jump and
    once with the offset after (PEP 495), giving two instants on either side
    of the transition. tzdata puts transitions on whole seconds, so a binary
    search over the seconds between them finds it in a few dozen steps even
    for a gap of a whole day.
    """
    pair = (
        local.replace(tzinfo=zone, fold=0).astimezone(UTC),
        local.replace(tzinfo=zone, fold=1).astimezone(UTC),
    )
    base = min(pair).replace(microsecond=0)  # the clock reads before `local` here
    below, above = 0, math.ceil((max(pair) - base) / _ONE_SECOND)  # ... and past it here
    while above - below > 1:
        middle = (below + above) // 2
        if _wall(base + middle * _ONE_SECOND, zone) >= local:
            above = middle
        else:
            below = middle
    return base + above * _ONE_SECOND


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """Read a command-line TIME as an aware UTC instant.

    ISO 8601 with an offset or Z names that instant. Without an offset it is
    a wall-clock time in `zone` (see `local_to_utc` for gaps and repeats); a
    date alone means 00:00 that day.
    """
    try:
        # RFC 3339 allows a lower-case "t" and "z"; fromisoformat does not.
        parsed = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise ValueError(f"not a time: {text!r}; {_ACCEPTED_FORMS}") from None
    if parsed.tzinfo is None:
        return local_to_utc(parsed, zone)
    return parsed.astimezone(UTC)


def format_utc(when: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the timestamp shape of every --json output."""
    _require_aware(when, "time")
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


# --- One layer -----------------------------------------------------------------


@dataclass(frozen=True)
class _Rotation:
    """A layer with its zone and anchor worked out.

    Period k (k >= 0) starts on the local date `anchor + k * period_days` at
    the layer's start_time and is held by participant k mod n. It ends where
    period k + 1 starts, so the shifts tile time from the anchor on.
    """

    layer: Layer
    zone: ZoneInfo
    anchor: date
    period_days: int
    begins: datetime  # the start of period 0, UTC

    @classmethod
    def of(cls, layer: Layer, zone: ZoneInfo) -> _Rotation:
        anchor = layer.start_date or DEFAULT_ANCHOR_DATE
        period_days = _PERIOD_DAYS[layer.rotation]
        if layer.rotation == "weekly":
            ahead = (WEEKDAYS.index(layer.start_day) - anchor.weekday()) % 7
            anchor += timedelta(days=ahead)
        begins = local_to_utc(datetime.combine(anchor, layer.start_time), zone)
        return cls(layer, zone, anchor, period_days, begins)

    def boundary(self, k: int) -> datetime:
        day = self.anchor + timedelta(days=k * self.period_days)
        return local_to_utc(datetime.combine(day, self.layer.start_time), self.zone)

    def index_at(self, at: datetime) -> int:
        """The period holding `at`; -1 before the anchor.

        A period is 24 h or 7 x 24 h give or take the offset changes since
        the anchor, so dividing the elapsed UTC time lands on the right
        period or next to it; a step or two corrects it. No walk from 1970.
        """
        if at < self.begins:
            return -1
        k = (at - self.begins) // timedelta(days=self.period_days)
        while self.boundary(k) > at:
            k -= 1
        while self.boundary(k + 1) <= at:
            k += 1
        return k

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """Whole shifts of this layer overlapping [start, end)."""
        participants = self.layer.participants
        if not participants or end <= max(start, self.begins):
            return []
        k = max(self.index_at(start), 0)
        found: list[Shift] = []
        shift_start = self.boundary(k)
        while shift_start < end:
            shift_end = self.boundary(k + 1)
            # A period is empty only where the zone skipped a whole calendar
            # day (Samoa, 2011-12-30); it holds no time, so no shift.
            if shift_start < shift_end:
                user = participants[k % len(participants)]
                found.append(Shift(user, shift_start, shift_end, self.layer.name))
            k += 1
            shift_start = shift_end
        return found


# --- Layers ---------------------------------------------------------------------
#
# A later layer wins wherever it has someone. A layer with participants has
# someone at every instant from its first handoff on, so layer i wins on one
# interval: from its own first handoff to the earliest first handoff of any
# later layer. The final shifts are each layer's shifts cut to that interval.


@dataclass(frozen=True)
class _Piece:
    shift: Shift
    layer: int  # position in the schedule's layers


def _rotations(schedule: Schedule) -> list[_Rotation]:
    zone = ZoneInfo(schedule.timezone)
    return [_Rotation.of(layer, zone) for layer in schedule.layers if layer.participants]


def _pieces(rotations: list[_Rotation], start: datetime, end: datetime) -> list[_Piece]:
    """Final shifts overlapping [start, end), before any merging."""
    pieces: list[_Piece] = []
    for index, rotation in enumerate(rotations):
        later = [other.begins for other in rotations[index + 1 :]]
        cut = min(later) if later else None
        upper = end if cut is None else min(end, cut)
        for shift in rotation.shifts(max(start, rotation.begins), upper):
            end_at = shift.end if cut is None else min(shift.end, cut)
            pieces.append(_Piece(replace(shift, end=end_at), index))
    return sorted(pieces, key=lambda piece: (piece.shift.start, piece.shift.user))


def _joins(first: _Piece, second: _Piece) -> bool:
    """Whether two pieces read as one shift: the same person and source,
    meeting where one layer hands over to another.

    Consecutive periods of one layer never join, even with the same person:
    a one-person rotation would otherwise be a single endless shift, and a
    "whole" shift would depend on the range asked about.
    """
    return (
        first.shift.end == second.shift.start
        and first.shift.user == second.shift.user
        and first.shift.source == second.shift.source
        and first.layer != second.layer
    )


def _widen(rotations: list[_Rotation], pieces: list[_Piece]) -> list[_Piece]:
    """Add the pieces outside the range that join the first or last piece,
    so that a joined shift comes back whole. Each layer wins on a single
    interval, so this adds at most one piece per layer."""
    while pieces:
        before = _pieces(rotations, pieces[0].shift.start - _TICK, pieces[0].shift.start)
        if before and _joins(before[0], pieces[0]):
            pieces.insert(0, before[0])
            continue
        after = _pieces(rotations, pieces[-1].shift.end, pieces[-1].shift.end + _TICK)
        if after and _joins(pieces[-1], after[0]):
            pieces.append(after[0])
            continue
        break
    return pieces


def _join(pieces: list[_Piece]) -> list[Shift]:
    joined: list[_Piece] = []
    for piece in pieces:
        if joined and _joins(joined[-1], piece):
            whole = replace(joined[-1].shift, end=piece.shift.end)
            joined[-1] = _Piece(whole, piece.layer)
        else:
            joined.append(piece)
    return [piece.shift for piece in joined]


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final shifts overlapping [start, end), sorted by start then user.

    Each shift is whole: it keeps its real start and end even where they lie
    outside the range, so asking about a minute or a month gives the same
    shift. Raises ValueError for a naive datetime or an end before start.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end < start:
        raise ValueError(f"end {format_utc(end)} is before start {format_utc(start)}")
    rotations = _rotations(schedule)
    return _join(_widen(rotations, _pieces(rotations, start, end)))


def oncall_at(schedule: Schedule, at: datetime) -> list[Shift]:
    """The shifts holding `at` (start <= at < end); [] when nobody is on call."""
    _require_aware(at, "at")
    return shifts(schedule, at, at + _TICK)
