"""Rotation maths: who is on call, from a schedule and an instant.

Pure functions: plain values in, plain values out. The caller passes every
instant in; nothing here reads a clock, a file or a database.

Two kinds of time meet here. Instants (when a page fires) are aware UTC
datetimes. Handoffs are wall-clock times in the schedule's zone ("Monday
09:00 in Bangkok"). A rotation steps through LOCAL DATES and turns each
handoff into an instant on its own, with `local_to_utc`. Adding a timedelta
to an aware local datetime instead would keep the UTC offset of the start
and drift by an hour across a daylight-saving change.

Restrictions cut each rotation period to its windows (local wall clock; a
window whose end is at or before its start runs past midnight; `days` are
the days a window starts on). A period left with no time in any window is
skipped: it uses up nobody's turn. Participants take turns over the OPEN
periods only, counted from the anchor. For example, a daily rotation of
ann, bob and cat from Monday 2026-01-05 at 09:00, restricted to weekdays
09:00-17:00:

    Mon ann, Tue bob, Wed cat, Thu ann, Fri bob,
    Sat and Sun nobody (no turn used),
    Mon cat, Tue ann, ...

so the weekend does not starve anyone. Windows repeat weekly, so which
periods are open repeats every lcm(period, 7 days): the turns before
period k are counted per cycle, not by walking from the anchor. Openness is
judged on the wall clock, like the windows: DST never makes a date open or
shut, except that a window lying wholly inside a spring-forward gap
(02:00-02:30 that night) still counts as time, though it yields no shift.

Overrides and the stacking of layers live in `overlay`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from tocsin.config.model import WEEKDAYS, Layer, Override, Schedule
from tocsin.oncall.overlay import (
    Piece,
    apply_overrides,
    covers,
    join,
    joins,
    subtract,
    union,
)

# The anchor of a layer without start_date. A Monday, so that weekly
# rotations without a date line up the same way on every installation.
DEFAULT_ANCHOR_DATE = date(1970, 1, 5)

_ONE_SECOND = timedelta(seconds=1)
_MAX_BOUNDARIES = 20_000  # per layer: decades of daily handoffs
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
    source: str  # the name of the layer the shift comes from, or "override:<id>"


# --- Wall clock and instants -------------------------------------------------


def _require_aware(when: datetime, name: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {when.isoformat()}")


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """What a wall clock in `zone` reads at `instant`, as a naive datetime."""
    return instant.astimezone(zone).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant a naive wall-clock time in `zone` names, as aware UTC.

    Cached: a pure function of its arguments, and every shift boundary of
    every schedule asks it again on each query.

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


def _period_days(layer: Layer) -> int | None:
    """A period's length in wall-clock days; None for a rotation by elapsed hours."""
    return {"daily": 1, "weekly": 7, "days": layer.every, "weeks": 7 * layer.every}.get(
        layer.rotation
    )


@dataclass(frozen=True)
class _Rotation:
    """A layer with its zone, anchor and turn counting worked out.

    Period k (k >= 0) starts on the local date `anchor + k * period_days` at
    the layer's start_time and ends where period k + 1 starts, so periods
    tile time from the anchor on. A rotation by hours instead steps from its
    first handoff by elapsed time: `every: 12h` hands off at 09:00 and 21:00
    until a daylight-saving change, then at 10:00 and 22:00 (or 08:00 and
    20:00). Restrictions (never on a rotation by hours) cut each period to
    their windows; `open_in_cycle[k % cycle]` says whether period k has any
    time left, and only such periods take a turn (see the module docstring).
    """

    layer: Layer
    zone: ZoneInfo
    anchor: date
    period_days: int | None  # None: `elapsed` hours
    elapsed: timedelta | None
    begins: datetime  # the start of period 0, UTC
    open_in_cycle: tuple[bool, ...]  # one flag per period of a weekly cycle
    # Per period of the cycle, its windows as offsets from the period's start
    # on the wall clock: the same for every period in that place of the cycle.
    windows_in_cycle: tuple[tuple[tuple[timedelta, timedelta], ...], ...] = ()
    # Period starts already worked out. Rotations are cached per layer, so
    # these outlive one query: the engine asks about the same days all day.
    _boundaries: dict[int, datetime] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _pieces: dict[tuple[int, int], tuple[Piece, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def of(cls, layer: Layer, zone: ZoneInfo) -> _Rotation:
        return _rotation_of(layer, zone)

    def day(self, k: int) -> date:
        """The local date period k starts on."""
        if self.period_days is None:
            return _wall(self.boundary(k), self.zone).date()
        return self.anchor + timedelta(days=k * self.period_days)

    def boundary(self, k: int) -> datetime:
        """Where period k starts, UTC."""
        known = self._boundaries.get(k)
        if known is not None:
            return known
        if self.elapsed is not None:
            return self.begins + k * self.elapsed
        if len(self._boundaries) >= _MAX_BOUNDARIES:
            self._boundaries.clear()
        found = local_to_utc(datetime.combine(self.day(k), self.layer.start_time), self.zone)
        self._boundaries[k] = found
        return found

    def index_at(self, at: datetime) -> int:
        """The period holding `at`; -1 before the anchor.

        A period is its length give or take the offset changes since the
        anchor, so dividing the elapsed UTC time lands on the right period
        or next to it; a step or two corrects it. No walk from 1970.
        """
        if at < self.begins:
            return -1
        k = (at - self.begins) // (self.elapsed or timedelta(days=self.period_days or 1))
        while self.boundary(k) > at:
            k -= 1
        while self.boundary(k + 1) <= at:
            k += 1
        return k

    def wall_windows(self, k: int) -> list[tuple[datetime, datetime]]:
        """Period k of a restricted rotation by days cut to its windows, in local wall time."""
        begin = datetime.combine(self.day(k), self.layer.start_time)
        return [(begin + opens, begin + closes)
                for opens, closes in self.windows_in_cycle[k % len(self.windows_in_cycle)]]

    def _cut_to_windows(self, k: int) -> list[tuple[datetime, datetime]]:
        """`wall_windows` the long way, from the restrictions themselves."""
        assert self.period_days is not None, "a rotation by hours has no restrictions"
        begin = datetime.combine(self.day(k), self.layer.start_time)
        finish = datetime.combine(self.day(k + 1), self.layer.start_time)
        found = []
        # A window that starts the day before the period may run into it.
        for offset in range(-1, self.period_days + 1):
            day = self.day(k) + timedelta(days=offset)
            for window in self.layer.restrictions:
                if window.days and WEEKDAYS[day.weekday()] not in window.days:
                    continue
                opens = datetime.combine(day, window.start)
                closes = datetime.combine(day, window.end)
                if closes <= opens:  # runs past midnight
                    closes += timedelta(days=1)
                if max(opens, begin) < min(closes, finish):
                    found.append((max(opens, begin), min(closes, finish)))
        return found

    def turns_before(self, k: int) -> int:
        """How many open periods come before period k: the turns used up."""
        cycle = len(self.open_in_cycle)
        whole, rest = divmod(k, cycle)
        return whole * sum(self.open_in_cycle) + sum(self.open_in_cycle[:rest])

    def period_pieces(self, k: int, index: int) -> tuple[Piece, ...]:
        """The on-call pieces of period k; `index` is the layer's position."""
        known = self._pieces.get((k, index))
        if known is not None:
            return known
        if len(self._pieces) >= _MAX_BOUNDARIES:
            self._pieces.clear()
        found = self._period_pieces(k, index)
        self._pieces[k, index] = found
        return found

    def _period_pieces(self, k: int, index: int) -> tuple[Piece, ...]:
        if not self.open_in_cycle[k % len(self.open_in_cycle)]:
            return ()
        participants = self.layer.participants
        user = participants[self.turns_before(k) % len(participants)]
        if not self.layer.restrictions:
            return (Piece(user, self.boundary(k), self.boundary(k + 1), self.layer.name, index),)
        # A wall window can hold no instant (all of it in a spring-forward
        # gap, or a whole skipped day); `union` drops those.
        instants = union(
            (local_to_utc(opens, self.zone), local_to_utc(closes, self.zone))
            for opens, closes in self.wall_windows(k)
        )
        return tuple(Piece(user, start, end, self.layer.name, index) for start, end in instants)

    def pieces(self, start: datetime, end: datetime, index: int) -> list[Piece]:
        """Whole pieces of this layer overlapping [start, end)."""
        if not self.layer.participants or end <= max(start, self.begins):
            return []
        k = max(self.index_at(start), 0)
        found: list[Piece] = []
        while self.boundary(k) < end:
            found.extend(p for p in self.period_pieces(k, index) if p.overlaps(start, end))
            k += 1
        return found


@lru_cache(maxsize=4096)
def _rotation_of(layer: Layer, zone: ZoneInfo) -> _Rotation:
    """The worked-out rotation of `layer`; cached, as a config's layers rarely change."""
    anchor = layer.start_date or DEFAULT_ANCHOR_DATE
    period_days = _period_days(layer)
    elapsed = timedelta(hours=layer.every) if period_days is None else None
    if layer.rotation in ("weekly", "weeks"):
        ahead = (WEEKDAYS.index(layer.start_day) - anchor.weekday()) % 7
        anchor += timedelta(days=ahead)
    begins = local_to_utc(datetime.combine(anchor, layer.start_time), zone)
    rotation = _Rotation(layer, zone, anchor, period_days, elapsed, begins, (True,))
    if period_days is None or not layer.restrictions:
        return rotation
    # Windows repeat every 7 days, so the windows of a period (and whether
    # it is open at all) repeat every lcm(period_days, 7) days: `cycle` periods.
    cycle = 7 // math.gcd(period_days, 7)
    windows = []
    for k in range(cycle):
        begin = datetime.combine(rotation.day(k), layer.start_time)
        windows.append(tuple((opens - begin, closes - begin)
                             for opens, closes in rotation._cut_to_windows(k)))
    return replace(rotation, open_in_cycle=tuple(bool(found) for found in windows),
                   windows_in_cycle=tuple(windows))


# --- Layers and overrides -------------------------------------------------------
#
# A later layer wins wherever it has someone; where it has nobody (before
# its first handoff, outside its windows) the layers below show through.
# Each layer's pieces are cut by the time any later layer covers, computed
# over the whole extent of those pieces so that what is left is whole too.


def _rotations(schedule: Schedule) -> list[_Rotation]:
    zone = ZoneInfo(schedule.timezone)
    return [_Rotation.of(layer, zone) for layer in schedule.layers if layer.participants]


def _layered(rotations: list[_Rotation], start: datetime, end: datetime) -> list[Piece]:
    """Whole pieces, after layering, overlapping [start, end)."""
    found: list[Piece] = []
    in_range = [rotation.pieces(start, end, index) for index, rotation in enumerate(rotations)]
    for index, own in enumerate(in_range):
        if not own:
            continue
        # Hidden in the range by the layers above: nothing of it can show,
        # so the cover of its whole extent need not be worked out.
        seen = union((max(p.start, start), min(p.end, end))
                     for later in in_range[index + 1:] for p in later)
        if all(covers(seen, max(p.start, start), min(p.end, end)) for p in own):
            continue
        extent = (min(p.start for p in own), max(p.end for p in own))
        cover = union(
            (p.start, p.end)
            for above, later in enumerate(rotations[index + 1 :], start=index + 1)
            for p in later.pieces(*extent, above)
        )
        found.extend(
            part for piece in own for part in subtract(piece, cover) if part.overlaps(start, end)
        )
    return found


@dataclass(frozen=True)
class _Plan:
    rotations: list[_Rotation]
    overrides: tuple[Override, ...]

    def pieces(self, start: datetime, end: datetime) -> list[Piece]:
        """Final whole pieces overlapping [start, end), before joining."""
        layered = _layered(self.rotations, start, end)
        final = apply_overrides(layered, self.overrides, start, end)
        return [piece for piece in final if piece.overlaps(start, end)]

    def whole(self, start: datetime, end: datetime) -> list[Piece]:
        """`pieces`, plus the pieces outside the range that join them.

        Only a piece reaching an edge of the range can join one outside it:
        any neighbour of an inner piece overlaps the range already.
        """
        found = set(self.pieces(start, end))
        edges = [p for p in found if p.start <= start or p.end >= end]
        while edges:
            piece = edges.pop()
            around = (piece.start - _TICK, piece.start), (piece.end, piece.end + _TICK)
            for near in (n for lo, hi in around for n in self.pieces(lo, hi)):
                if near not in found and (joins(near, piece) or joins(piece, near)):
                    found.add(near)
                    edges.append(near)
        return join(found)


def shifts(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    *,
    overrides: Sequence[Override] = (),
) -> list[Shift]:
    """The final shifts overlapping [start, end), sorted by start then user.

    Each shift is whole: it keeps its real start and end even where they lie
    outside the range, so asking about a minute or a month gives the same
    shift. Several shifts may overlap where an override adds someone.
    `overrides` (made in the UI or API) apply after the schedule's own.
    Raises ValueError for a naive datetime or an end before start.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end < start:
        raise ValueError(f"end {format_utc(end)} is before start {format_utc(start)}")
    for override in (*schedule.overrides, *overrides):
        _require_aware(override.start, "override start")
        _require_aware(override.end, "override end")
    plan = _Plan(_rotations(schedule), (*schedule.overrides, *overrides))
    return [Shift(p.user, p.start, p.end, p.source) for p in plan.whole(start, end)]


def oncall_at(
    schedule: Schedule, at: datetime, *, overrides: Sequence[Override] = ()
) -> list[Shift]:
    """The shifts holding `at` (start <= at < end); [] when nobody is on call."""
    _require_aware(at, "at")
    return shifts(schedule, at, at + _TICK, overrides=overrides)


def clear_caches() -> None:
    """Forget cached rotations and wall-clock conversions (for measuring cold starts)."""
    _rotation_of.cache_clear()
    local_to_utc.cache_clear()


def period_index(layer: Layer, timezone: str, at: datetime) -> int:
    """Which rotation period of `layer` holds `at`, counted from 0; -1 before the first."""
    _require_aware(at, "at")
    return _Rotation.of(layer, ZoneInfo(timezone)).index_at(at)


def turn_at(layer: Layer, timezone: str, at: datetime) -> tuple[date, str] | None:
    """The local start date of the rotation period holding `at`, and whose turn it is.

    Periods are laid out by dates alone, so this answers outside the
    restriction windows too. In a period that restrictions leave empty it
    names whoever takes the next open period, since the empty one uses up
    nobody's turn. None before the layer's first period or without
    participants.
    """
    _require_aware(at, "at")
    if not layer.participants:
        return None
    rotation = _Rotation.of(layer, ZoneInfo(timezone))
    k = rotation.index_at(at)
    if k < 0:
        return None
    return rotation.day(k), layer.participants[rotation.turns_before(k) % len(layer.participants)]
