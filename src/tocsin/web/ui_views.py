"""What the UI pages draw, worked out from final shifts: plain values for the templates.

The shifts come from `tocsin.oncall.service`, the one function every
consumer asks; this module only lays them out. Days are the schedule's
local days, so a day of 23 or 25 hours (daylight saving) is drawn as the
full width: positions are shares of that day's real length, computed in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.config.model import Config
from tocsin.oncall.rules import Shift, local_to_utc

DAYS_SHOWN = 14
# Light fills with dark text keep a contrast well above WCAG AA (4.5:1).
PALETTE = 6


@dataclass(frozen=True)
class Bar:
    gap: bool
    who: str
    source: str
    left: float  # percent of the day
    width: float
    lane: int
    colour: int  # index into the palette; -1 for a gap
    override: bool
    span: str  # "Mon 02 Mar 09:00 to Tue 03 Mar 09:00", schedule-local


@dataclass
class DayRow:
    label: str
    iso: str
    bars: list[Bar] = field(default_factory=list)
    lanes: int = 1
    now_at: float | None = None  # percent of the day where "now" falls, if today


@dataclass(frozen=True)
class Stretch:
    """A shift or a gap in the list under the timeline."""

    gap: bool
    who: str
    source: str
    start: str
    end: str
    start_viewer: str
    end_viewer: str


def local_time(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%a %d %b %H:%M}"


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return local_to_utc(datetime.combine(day, time(0, 0)), zone)


def source_label(source: str) -> str:
    """A shift's layer or override as people read it."""
    if not source.startswith("override:"):
        return f"layer {source}"
    ident = source.removeprefix("override:")
    if ident.startswith("config:"):
        return "override from the config file"
    return f"override #{ident}"


def display_name(config: Config, user_id: str) -> str:
    user = config.users.get(user_id)
    return user.display if user else user_id


def gaps(found: list[Shift], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Stretches of [start, end) where nobody holds a shift."""
    holes: list[tuple[datetime, datetime]] = []
    cursor = start
    for shift in sorted(found, key=lambda s: s.start):
        if shift.start > cursor:
            holes.append((cursor, min(shift.start, end)))
        cursor = max(cursor, shift.end)
        if cursor >= end:
            break
    if cursor < end:
        holes.append((cursor, end))
    return [(a, b) for a, b in holes if b > a]


def _lanes(found: list[Shift]) -> dict[Shift, int]:
    """A lane per shift so that shifts held at the same time (an "add" override) stack."""
    lane_ends: list[datetime] = []
    placed: dict[Shift, int] = {}
    for shift in sorted(found, key=lambda s: (s.start, s.user)):
        for index, busy_until in enumerate(lane_ends):
            if busy_until <= shift.start:
                lane_ends[index] = shift.end
                placed[shift] = index
                break
        else:
            lane_ends.append(shift.end)
            placed[shift] = len(lane_ends) - 1
    return placed


def _bar(start: datetime, end: datetime, bounds: tuple[datetime, datetime],
         zone: ZoneInfo) -> tuple[float, float, str]:
    day_from, day_to = bounds
    length = (day_to - day_from).total_seconds()
    left = (max(start, day_from) - day_from).total_seconds() / length * 100
    right = (min(end, day_to) - day_from).total_seconds() / length * 100
    span = f"{local_time(start, zone)} to {local_time(end, zone)}"
    return round(left, 3), round(right - left, 3), span


def timeline(config: Config, found: list[Shift], first: date, zone: ZoneInfo,
             now: datetime) -> list[DayRow]:
    """One row per local day from `first`, each with its shifts, gaps and the now marker."""
    lanes = _lanes(found)
    colours = {user: i % PALETTE for i, user in enumerate(sorted({s.user for s in found}))}
    end = day_start(first + timedelta(days=DAYS_SHOWN), zone)
    holes = gaps(found, day_start(first, zone), end)
    rows = []
    for offset in range(DAYS_SHOWN):
        day = first + timedelta(days=offset)
        bounds = (day_start(day, zone), day_start(day + timedelta(days=1), zone))
        row = DayRow(label=f"{day:%a %d %b}", iso=day.isoformat())
        for shift in found:
            if shift.start < bounds[1] and shift.end > bounds[0]:
                left, width, span = _bar(shift.start, shift.end, bounds, zone)
                row.bars.append(Bar(False, display_name(config, shift.user),
                                    source_label(shift.source), left, width, lanes[shift],
                                    colours[shift.user], shift.source.startswith("override:"),
                                    span))
        for hole_start, hole_end in holes:
            if hole_start < bounds[1] and hole_end > bounds[0]:
                left, width, span = _bar(hole_start, hole_end, bounds, zone)
                row.bars.append(Bar(True, "Gap", "nobody on call", left, width, 0, -1, False,
                                    span))
        row.lanes = max((b.lane for b in row.bars), default=0) + 1
        if bounds[0] <= now < bounds[1]:
            row.now_at = _bar(now, now, bounds, zone)[0]
        rows.append(row)
    return rows


def stretches(config: Config, found: list[Shift], start: datetime, end: datetime,
              zone: ZoneInfo, viewer_zone: ZoneInfo) -> list[Stretch]:
    """Shifts and gaps in time order, for the table under the timeline."""
    items = [(s.start, s.end, False, display_name(config, s.user), source_label(s.source))
             for s in found]
    items += [(a, b, True, "Gap: nobody on call", "") for a, b in gaps(found, start, end)]
    return [
        Stretch(gap, who, source, local_time(a, zone), local_time(b, zone),
                local_time(a, viewer_zone), local_time(b, viewer_zone))
        for a, b, gap, who, source in sorted(items, key=lambda i: (i[0], i[2]))
    ]
