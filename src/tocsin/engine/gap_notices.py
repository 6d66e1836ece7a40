"""Gap notices: tell a schedule's team of a coverage gap a few days ahead, once per gap.

Planning looks at each schedule's final shifts from a day back to 14 days
ahead (`coverage.notice_range`, the same gap finder as `tocsin check`, the
API and the UI) and queues one notice per person for each gap starting
within the schedule's `gap_notice_days`, or begun less than a day ago and
still running. Who hears is `coverage.audience`: the schedule's `team`, else
the teams paged through it, else its participants.

A gap is named by its start and end, and the table's unique key on
(schedule, gap, person) sends each notice once, in every worker and after
every restart. An edit that moves a gap's start or end makes another gap,
noticed once more; a notice is checked again just before it goes out, so
one for a gap that has since changed or been covered is cancelled, not sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.config.model import Config, Schedule
from tocsin.engine import notices
from tocsin.logs import event
from tocsin.oncall import coverage
from tocsin.oncall import gap_notice_store as store
from tocsin.oncall.service import final_shifts

log = logging.getLogger(__name__)

KIND = "gap.upcoming"
# Gaps are noticed days ahead; looking every five minutes of engine time is
# plenty, and spares a 15-day expansion of every schedule on every pass.
PLAN_EVERY = timedelta(minutes=5)


def current_gaps(session: Session, schedule: Schedule, now: datetime) -> list[coverage.Gap]:
    """The gaps of `schedule` a notice is due for at `now`."""
    start, end = coverage.notice_range(now)
    found = final_shifts(session, schedule, start, end)
    return coverage.gaps_to_notice(found, now, schedule.gap_notice_days)


@dataclass
class GapNotices(notices.NoticeStep):
    """The engine's gap-notice step: `run_due` once per pass."""

    store: ClassVar[ModuleType] = store
    prefix: ClassVar[str] = "gap_notice"
    plan_every: ClassVar[timedelta] = PLAN_EVERY

    def plan_schedule(
        self, session: Session, config: Config, schedule: Schedule, now: datetime,
    ) -> int:
        if schedule.gap_notice_days <= 0:
            return 0
        queued = 0
        people = coverage.audience(config, schedule)
        for gap in current_gaps(session, schedule, now):
            for user_id in people:
                notice_id = store.insert_if_absent(
                    session, schedule=schedule.name, gap_key=gap.key, gap_start=gap.start,
                    gap_end=gap.end, user_id=user_id, now=now)
                if notice_id is not None:
                    queued += 1
                    event(log, "gap_notice.queued", notice_id=notice_id,
                          schedule=schedule.name, user=user_id, gap=gap.key)
        return queued


@dataclass
class GapNoticeSender(notices.NoticeSender):
    """Send one leased gap notice, if the gap is still there and the person still hears."""

    model: ClassVar[Any] = store.GapNotice
    prefix: ClassVar[str] = "gap_notice"

    def prepare(self, notice_id: int) -> notices.Ready:
        now = self.clock.now()
        with self.sessions() as session:
            row = session.get(store.GapNotice, notice_id)
            if row is None:
                raise notices.Skip("notice no longer exists")
            schedule = self.config.schedules.get(row.schedule)
            user = self.config.users.get(row.user_id)
            if schedule is None or user is None:
                raise notices.Skip("schedule or person no longer in the config")
            found = {gap.key: gap for gap in current_gaps(session, schedule, now)}
        gap = found.get(row.gap_key)
        if gap is None:
            raise notices.Skip("the gap has been covered or has changed since it was planned")
        if user.id not in coverage.audience(self.config, schedule):
            raise notices.Skip(f"{user.id} no longer hears of {schedule.name}'s gaps")
        zone = ZoneInfo(user.timezone or self.config.timezone)
        return notices.Ready(kind=KIND, text=_text(self.config, schedule, gap, now, zone),
                             user=user, contacts=notices.contacts_of(self.config, user))


def _text(config: Config, schedule: Schedule, gap: coverage.Gap, now: datetime,
          zone: ZoneInfo) -> str:
    until = (_local(gap.end, zone) if gap.end is not None
             else f"beyond {_local(coverage.notice_range(now)[1], zone)}")
    if gap.start <= now:
        when = f"has been on call for {schedule.name} since {_local(gap.start, zone)}"
    else:
        when = f"is on call for {schedule.name} from {_local(gap.start, zone)}"
    url = f"{config.public_url.rstrip('/')}/ui/schedules/{quote(schedule.name)}"
    return f"Coverage gap: nobody {when} until {until}. Cover it with an override: {url}"


def _local(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%a %d %b %H:%M} {zone.key}"


GapNotices.sender = GapNoticeSender
