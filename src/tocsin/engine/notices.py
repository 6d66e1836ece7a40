"""Send one leased notice to every channel of its person, then mark it.

Handoff notices and gap notices are rows of their own tables, leased like
deliveries (`tocsin.leases`). A sender subclass says which table it reads
and how a row becomes a message (`prepare`); sending, retrying and marking
are the same for both. `prepare` raises `Skip` for a notice that no longer
holds (the shift or gap it was about has changed): it is cancelled, not sent.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, ClassVar

from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.paging import CONSOLE, reach
from tocsin.clock import Clock
from tocsin.config.model import Config, Schedule, User
from tocsin.db import transaction
from tocsin.leases import CANCELLED, FAILED, QUEUED, SENT
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome, Notice, NoticeNotifier, Notifier
from tocsin.notify.retry import backoff_seconds

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class Skip(Exception):
    """The notice no longer holds; the message says why."""


@dataclass(frozen=True)
class Ready:
    """A notice checked and worded, with the (channel, address) pairs to send it to."""

    kind: str
    text: str
    user: User
    contacts: list[tuple[str, str]]


def contacts_of(config: Config, user: User) -> list[tuple[str, str]]:
    """Every channel a notice goes to: the console, then each contact of the person."""
    return [(CONSOLE, user.id), *reach(config, user, None).contacts]


@dataclass
class NoticeSender:
    """The shared sending steps; a subclass sets `model` and `prefix` and writes `prepare`."""

    sessions: sessionmaker[Session]
    config: Config
    notifiers: dict[str, Notifier]
    clock: Clock
    rng: random.Random

    model: ClassVar[Any]  # the leased table
    prefix: ClassVar[str]  # of log events and idempotency keys: "handoff", "gap"

    def prepare(self, notice_id: int) -> Ready:
        raise NotImplementedError

    def send(self, notice_id: int) -> None:
        try:
            ready = self.prepare(notice_id)
        except Skip as skip:
            self._finish(notice_id, CANCELLED, str(skip))
            return
        outcomes: list[tuple[str, DeliveryOutcome]] = []
        for channel, address in ready.contacts:
            notice = Notice(notice_id=notice_id, idempotency_key=f"{self.prefix}-{notice_id}",
                            kind=ready.kind, user_id=ready.user.id,
                            user_name=ready.user.display, address=address, text=ready.text)
            outcomes.append((channel, self._call(channel, notice)))
        self._record(notice_id, outcomes)

    def _call(self, channel: str, notice: Notice) -> DeliveryOutcome:
        notifier = self.notifiers.get(channel)
        if not isinstance(notifier, NoticeNotifier):
            return DeliveryOutcome(ok=False, detail=f"no provider sends notices on {channel}")
        try:
            return notifier.send_notice(notice)
        except Exception as exc:
            # An adapter bug must cost a retry, not the notice.
            log.exception("notice.adapter_crashed", extra={"notice_id": notice.notice_id,
                                                           "kind": notice.kind})
            return DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__)

    def _record(self, notice_id: int, outcomes: list[tuple[str, DeliveryOutcome]]) -> None:
        # The console copy counts only in the laptop demo, as for pages.
        demo = not self.config.notifications.real_channels
        counted = [(ch, o) for ch, o in outcomes if demo or ch != CONSOLE]
        detail = "; ".join(f"{ch}: {o.detail}" for ch, o in counted) or "no contact to send to"
        if any(o.ok for _, o in counted):
            self._finish(notice_id, SENT, detail)
        elif any(o.retryable for _, o in counted):
            self._retry_or_fail(notice_id, detail)
        else:
            self._finish(notice_id, FAILED, detail)

    def _retry_or_fail(self, notice_id: int, detail: str) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            row = session.get(self.model, notice_id)
            if row is None:
                return
            if row.attempts >= MAX_ATTEMPTS:
                status = FAILED
                row.finished_at = now
            else:
                status = QUEUED
                row.due_at = now + timedelta(seconds=backoff_seconds(row.attempts, self.rng))
            row.status = status
            row.detail = detail
            row.lease_until = None
        event(log, f"{self.prefix}.{status}", notice_id=notice_id, detail=detail)

    def _finish(self, notice_id: int, status: str, detail: str) -> None:
        with transaction(self.sessions) as session:
            row = session.get(self.model, notice_id)
            if row is None:
                return
            row.status = status
            row.detail = detail
            row.finished_at = self.clock.now()
            row.lease_until = None
        event(log, f"{self.prefix}.{status}", notice_id=notice_id, detail=detail)


@dataclass
class NoticeStep:
    """An engine step that plans notices per schedule, then sends the due ones.

    A subclass names its `store` (with `claim_due`), its `sender`, its log
    `prefix` and how often to plan, and writes `plan_schedule`.
    """

    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    notifiers: Callable[[], dict[str, Notifier]]
    pool: Executor
    lease: timedelta
    rng: random.Random
    batch: int = 20
    _planned_at: datetime | None = field(default=None, init=False)

    store: ClassVar[ModuleType]
    sender: ClassVar[type[NoticeSender]]
    prefix: ClassVar[str]
    plan_every: ClassVar[timedelta]

    def plan_schedule(
        self, session: Session, config: Config, schedule: Schedule, now: datetime,
    ) -> int:
        """Queue the notices `schedule` calls for at `now`; how many were new."""
        raise NotImplementedError

    def run_due(self) -> int:
        self.plan()
        total = 0
        while sent := self._send_batch():
            total += sent
        return total

    def plan(self) -> int:
        now = self.clock.now()
        last = self._planned_at
        if last is not None and last <= now < last + self.plan_every:
            return 0
        config = self.config()
        queued = 0
        for schedule in config.schedules.values():
            try:
                with transaction(self.sessions) as session:
                    queued += self.plan_schedule(session, config, schedule, now)
            except Exception:
                # One schedule the maths cannot expand must not starve the rest
                # of their notices; paging does not depend on this step.
                log.exception("%s.plan_failed", self.prefix, extra={"schedule": schedule.name})
        self._planned_at = now
        return queued

    def _send_batch(self) -> int:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            claimed: list[int] = self.store.claim_due(
                session, now=now, lease_until=now + self.lease, limit=self.batch)
        for notice_id in claimed:
            event(log, f"{self.prefix}.sending", notice_id=notice_id)
        sender = self.sender(sessions=self.sessions, config=self.config(),
                             notifiers=self.notifiers(), clock=self.clock, rng=self.rng)
        for future in [self.pool.submit(sender.send, notice_id) for notice_id in claimed]:
            future.result()
        return len(claimed)
