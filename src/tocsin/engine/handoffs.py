"""Handoff notices: plan them from the final shifts, then send the due ones.

Planning looks `HORIZON` ahead in every schedule and inserts the notices it
finds missing; the table's unique key makes that safe to repeat in every
pass, in every worker and after every restart. A notice is checked again
just before it goes out, against the final shifts at that moment, so one
for a shift an override has since taken away is cancelled, not sent.

After downtime nothing stale goes out: a shift that began more than `GRACE`
ago gets no notices, "starts in 1 hour" is never sent once the shift has
begun, and "you are now on call" only while the shift is still running.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.config.model import Config, Schedule
from tocsin.engine import notices
from tocsin.logs import event
from tocsin.oncall import handoff_store as store
from tocsin.oncall.rules import Shift
from tocsin.oncall.service import final_shifts

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=2)
LEAD = timedelta(hours=1)  # "starts in 1 hour"
# A shift that began this recently still gets its notices: covers a restart
# or a slow pass, not a long outage.
GRACE = timedelta(minutes=5)
# Shifts are planned a horizon ahead, so looking again every pass would only
# repeat the same queries; once a minute of engine time is enough.
PLAN_EVERY = timedelta(minutes=1)


def wanted(shifts: list[Shift], now: datetime) -> list[tuple[str, Shift, datetime]]:
    """(kind, shift, due time) of each notice `shifts` call for, seen at `now`."""
    found: list[tuple[str, Shift, datetime]] = []
    for shift in shifts:
        if shift.start < now - GRACE:
            continue
        if now < shift.start:
            found.append((store.UPCOMING, shift, shift.start - LEAD))
        if now < shift.end:
            found.append((store.STARTED, shift, shift.start))
    return found


@dataclass
class Handoffs(notices.NoticeStep):
    """The engine's handoff step: `run_due` once per pass."""

    store: ClassVar[ModuleType] = store
    prefix: ClassVar[str] = "handoff"
    plan_every: ClassVar[timedelta] = PLAN_EVERY

    def plan_schedule(
        self, session: Session, config: Config, schedule: Schedule, now: datetime,
    ) -> int:
        queued = 0
        shifts = final_shifts(session, schedule, now - GRACE, now + HORIZON)
        for kind, shift, due in wanted(shifts, now):
            notice_id = store.insert_if_absent(
                session, schedule=schedule.name, user_id=shift.user, shift_start=shift.start,
                kind=kind, due_at=due, now=now)
            if notice_id is not None:
                queued += 1
                event(log, "handoff.queued", notice_id=notice_id, schedule=schedule.name,
                      user=shift.user, kind=kind, due_at=due.isoformat())
        return queued


@dataclass
class NoticeSender(notices.NoticeSender):
    """Send one leased handoff notice, checked against the final shifts of the moment."""

    model: ClassVar[Any] = store.HandoffNotice
    prefix: ClassVar[str] = "handoff"

    def prepare(self, notice_id: int) -> notices.Ready:
        with self.sessions() as session:
            row = session.get(store.HandoffNotice, notice_id)
            if row is None:
                raise notices.Skip("notice no longer exists")
            schedule = self.config.schedules.get(row.schedule)
            user = self.config.users.get(row.user_id)
            if schedule is None or user is None:
                raise notices.Skip("schedule or person no longer in the config")
            shift = _holding(session, schedule, row.user_id, row.shift_start)
        now = self.clock.now()
        if shift is None:
            raise notices.Skip(
                f"{row.user_id} is no longer on call at {row.shift_start.isoformat()}")
        if row.kind == store.UPCOMING and now >= shift.start:
            raise notices.Skip("the shift has already started")
        if now >= shift.end:
            raise notices.Skip("the shift is over")
        zone = ZoneInfo(user.timezone or self.config.timezone)
        return notices.Ready(
            kind="handoff." + row.kind, text=_text(row.kind, schedule.name, shift, now, zone),
            user=user, contacts=notices.contacts_of(self.config, user),
        )


def _holding(session: Session, schedule: Schedule, user_id: str, at: datetime) -> Shift | None:
    """`user_id`'s final shift holding the instant `at`, if they have one now."""
    for shift in final_shifts(session, schedule, at, at + timedelta(seconds=1)):
        if shift.user == user_id and shift.start <= at < shift.end:
            return shift
    return None


def _text(kind: str, schedule: str, shift: Shift, now: datetime, zone: ZoneInfo) -> str:
    if kind == store.UPCOMING:
        return (f"Your on-call shift for {schedule} starts in {_until(shift.start - now)}"
                f" ({_local(shift.start, zone)})")
    return f"You are now on call for {schedule} until {_local(shift.end, zone)}"


def _until(delta: timedelta) -> str:
    # Sent on time that is "1 hour"; after a delay or a late override, the truth.
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes >= 59:
        return "1 hour"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _local(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%a %d %b %H:%M} {zone.key}"


Handoffs.sender = NoticeSender
