"""Coverage gaps: the stretches of a schedule where nobody is on call.

Pure: final shifts (from `service.final_shifts`) and a range in, the
uncovered parts of the range out. A restriction window, a start_date still
ahead, or a layer with nobody in it all show up here the same way. Also who
hears of a schedule's gaps, and which gaps a notice is due for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.config.model import Config, Schedule
from tocsin.oncall.overlay import Interval, union
from tocsin.oncall.rules import Shift, format_utc

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


# Gap notices look this far back too, to find where a gap under way began.
LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Gap:
    """A gap in coverage; `end` None when it lasts past the 14 days looked at."""

    start: datetime
    end: datetime | None

    @property
    def key(self) -> str:
        """Its name: a gap whose start or end an edit moves is another gap."""
        return f"{format_utc(self.start)}/{format_utc(self.end) if self.end else 'open'}"


def notice_range(now: datetime) -> tuple[datetime, datetime]:
    """The range gap notices look over: a day back to the 14 days ahead."""
    return now - LOOKBACK, now + COVERAGE_HORIZON


def gaps_to_notice(shifts: Iterable[Shift], now: datetime, days: float) -> list[Gap]:
    """The gaps that start within `days` of `now`, or began less than a day ago and run on.

    `shifts` are the final shifts over `notice_range(now)`. A gap that began
    before that range is skipped: its start is unknown, so it could not keep
    one name from pass to pass (and it was noticed when it lay ahead).
    """
    start, end = notice_range(now)
    ahead = now + timedelta(days=days)
    return [
        Gap(begin, None if finish >= end else finish)
        for begin, finish in gaps(shifts, start, end)
        if start < begin <= ahead and finish > now
    ]


def audience(config: Config, schedule: Schedule) -> tuple[str, ...]:
    """Who hears of `schedule`'s gaps, as user ids in a stable order.

    The members of its `team`; without one, of the teams whose services'
    escalation policies target it; when that finds nobody, its participants.
    """
    teams = (schedule.team,) if schedule.team else _teams_paged_by(config, schedule.name)
    members = [m for name in teams if name in config.teams for m in config.teams[name].members]
    if not members:
        members = [user for layer in schedule.layers for user in layer.participants]
    return tuple(dict.fromkeys(members))


def _teams_paged_by(config: Config, schedule: str) -> tuple[str, ...]:
    """Teams owning a service whose policy has `schedule` among its targets, by name."""
    policies = {
        policy.name for policy in config.escalation_policies.values()
        if any(t.kind == "schedule" and t.name == schedule
               for step in policy.steps for t in step.targets)
    }
    services = {s.name for s in config.services.values() if s.escalation_policy in policies}
    named = {s.team for s in config.services.values() if s.name in services and s.team}
    listing = {t.name for t in config.teams.values() if services.intersection(t.services)}
    return tuple(sorted(named | listing))
