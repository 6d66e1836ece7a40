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
import random
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.paging import CONSOLE, reach
from tocsin.clock import Clock
from tocsin.config.model import Config, Schedule, User
from tocsin.db import transaction
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome, Notice, NoticeNotifier, Notifier
from tocsin.notify.retry import backoff_seconds
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
MAX_ATTEMPTS = 5


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
class Handoffs:
    """The engine's handoff step: `run_due` once per pass."""

    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    notifiers: Callable[[], dict[str, Notifier]]
    pool: Executor
    lease: timedelta
    rng: random.Random
    batch: int = 20
    _planned_at: datetime | None = field(default=None, init=False)

    def run_due(self) -> int:
        self.plan()
        total = 0
        while sent := self._send_batch():
            total += sent
        return total

    def plan(self) -> int:
        now = self.clock.now()
        last = self._planned_at
        if last is not None and last <= now < last + PLAN_EVERY:
            return 0
        config = self.config()
        queued = 0
        for schedule in config.schedules.values():
            try:
                with transaction(self.sessions) as session:
                    queued += _plan_schedule(session, schedule, now)
            except Exception:
                # One schedule the maths cannot expand must not starve the rest
                # of their notices; paging does not depend on this step.
                log.exception("handoff.plan_failed")
        self._planned_at = now
        return queued

    def _send_batch(self) -> int:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            claimed = store.claim_due(session, now=now, lease_until=now + self.lease,
                                      limit=self.batch)
        for notice_id in claimed:
            event(log, "handoff.sending", notice_id=notice_id)
        sender = NoticeSender(sessions=self.sessions, config=self.config(),
                              notifiers=self.notifiers(), clock=self.clock, rng=self.rng)
        for future in [self.pool.submit(sender.send, notice_id) for notice_id in claimed]:
            future.result()
        return len(claimed)


def _plan_schedule(session: Session, schedule: Schedule, now: datetime) -> int:
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


class _Skip(Exception):
    pass


@dataclass(frozen=True)
class _Ready:
    """A notice checked and worded, with the (channel, address) pairs to send it to."""

    kind: str
    text: str
    user: User
    contacts: list[tuple[str, str]]


@dataclass
class NoticeSender:
    """Send one leased notice to every channel of its person, then mark it."""

    sessions: sessionmaker[Session]
    config: Config
    notifiers: dict[str, Notifier]
    clock: Clock
    rng: random.Random

    def send(self, notice_id: int) -> None:
        try:
            ready = self._prepare(notice_id)
        except _Skip as skip:
            self._finish(notice_id, store.CANCELLED, str(skip))
            return
        outcomes: list[tuple[str, DeliveryOutcome]] = []
        for channel, address in ready.contacts:
            notice = Notice(notice_id=notice_id, idempotency_key=f"handoff-{notice_id}",
                            kind=ready.kind, user_id=ready.user.id,
                            user_name=ready.user.display, address=address, text=ready.text)
            outcomes.append((channel, self._call(channel, notice)))
        self._record(notice_id, outcomes)

    def _prepare(self, notice_id: int) -> _Ready:
        with self.sessions() as session:
            row = session.get(store.HandoffNotice, notice_id)
            if row is None:
                raise _Skip("notice no longer exists")
            schedule = self.config.schedules.get(row.schedule)
            user = self.config.users.get(row.user_id)
            if schedule is None or user is None:
                raise _Skip("schedule or person no longer in the config")
            shift = _holding(session, schedule, row.user_id, row.shift_start)
        now = self.clock.now()
        if shift is None:
            raise _Skip(f"{row.user_id} is no longer on call at {row.shift_start.isoformat()}")
        if row.kind == store.UPCOMING and now >= shift.start:
            raise _Skip("the shift has already started")
        if now >= shift.end:
            raise _Skip("the shift is over")
        zone = ZoneInfo(user.timezone or self.config.timezone)
        return _Ready(
            kind="handoff." + row.kind, text=_text(row.kind, schedule.name, shift, now, zone),
            user=user, contacts=[(CONSOLE, user.id), *reach(self.config, user, None).contacts],
        )

    def _call(self, channel: str, notice: Notice) -> DeliveryOutcome:
        notifier = self.notifiers.get(channel)
        if not isinstance(notifier, NoticeNotifier):
            return DeliveryOutcome(ok=False, detail=f"no provider sends notices on {channel}")
        try:
            return notifier.send_notice(notice)
        except Exception as exc:
            # An adapter bug must cost a retry, not the notice.
            log.exception("handoff.adapter_crashed")
            return DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__)

    def _record(self, notice_id: int, outcomes: list[tuple[str, DeliveryOutcome]]) -> None:
        # The console copy counts only in the laptop demo, as for pages.
        demo = not self.config.notifications.real_channels
        counted = [(ch, o) for ch, o in outcomes if demo or ch != CONSOLE]
        detail = "; ".join(f"{ch}: {o.detail}" for ch, o in counted) or "no contact to send to"
        if any(o.ok for _, o in counted):
            self._finish(notice_id, store.SENT, detail)
        elif any(o.retryable for _, o in counted):
            self._retry_or_fail(notice_id, detail)
        else:
            self._finish(notice_id, store.FAILED, detail)

    def _retry_or_fail(self, notice_id: int, detail: str) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            row = session.get(store.HandoffNotice, notice_id)
            if row is None:
                return
            if row.attempts >= MAX_ATTEMPTS:
                status = store.FAILED
                row.finished_at = now
            else:
                status = store.QUEUED
                row.due_at = now + timedelta(seconds=backoff_seconds(row.attempts, self.rng))
            row.status = status
            row.detail = detail
            row.lease_until = None
        event(log, "handoff." + status, notice_id=notice_id, detail=detail)

    def _finish(self, notice_id: int, status: str, detail: str) -> None:
        with transaction(self.sessions) as session:
            row = session.get(store.HandoffNotice, notice_id)
            if row is None:
                return
            row.status = status
            row.detail = detail
            row.finished_at = self.clock.now()
            row.lease_until = None
        event(log, "handoff." + status, notice_id=notice_id, detail=detail)


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
