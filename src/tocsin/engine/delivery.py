"""Send one leased delivery and record what happened.

The alert is read again just before sending, so nothing goes out after an
acknowledgement; no row lock is held while the provider is called. The
engine records a batch of sent pages in one transaction (`record_all`); a
page sent but not recorded (a crash between) keeps its lease and is sent
again when the lease runs out, with the same idempotency key. Pages
for alerts in a storm never get here: the engine sorts them into bundles
first (engine.storms), and sends those (engine.bundles).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.batch import write_added_rows
from tocsin.alerts.paging import CONSOLE
from tocsin.alerts.service import add_timeline, paging_fallback
from tocsin.alerts.store import RESOLVED, TRIGGERED, Alert, AlertEvent
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.failover import fail_over
from tocsin.links import LinkSigner
from tocsin.logs import event
from tocsin.notify import store as outbox
from tocsin.notify.base import DeliveryOutcome, Notifier, Page
from tocsin.notify.retry import backoff_seconds
from tocsin.telemetry import PAGES

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5


class Delivered(NamedTuple):
    """A page that was sent (or tried), waiting to be recorded."""

    delivery_id: int
    page: Page
    channel: str
    outcome: DeliveryOutcome


@dataclass
class Sender:
    sessions: sessionmaker[Session]
    config: Config
    notifiers: dict[str, Notifier]
    links: LinkSigner
    clock: Clock
    rng: random.Random

    def send(self, delivery_id: int) -> None:
        done = self.deliver(delivery_id)
        if done is not None:
            self._record(*done)

    def deliver(self, delivery_id: int) -> Delivered | None:
        """Send the page, or cancel it when its alert no longer pages; record nothing yet."""
        try:
            page, channel = self._prepare(delivery_id)
        except _Skip as skip:
            self._cancel(delivery_id, str(skip))
            return None
        notifier = self.notifiers.get(channel)
        if notifier is None:
            outcome = DeliveryOutcome(ok=False, detail=f"no provider is configured for {channel}")
        else:
            outcome = self._call(notifier, page)
        return Delivered(delivery_id, page, channel, outcome)

    def record_all(self, done: Sequence[Delivered]) -> None:
        """Record what became of a batch of sent pages in one transaction.

        When that fails, each is recorded in a transaction of its own, so one
        page's failure to record neither loses the others' nor sends them twice.
        """
        if not done:
            return
        now = self.clock.now()
        try:
            with transaction(self.sessions) as session:
                ids = [item.delivery_id for item in done]
                rows = {row.id: row for row in session.scalars(
                    select(outbox.Delivery).where(outbox.Delivery.id.in_(ids)))}
                alert_ids = sorted({row.alert_id for row in rows.values()})
                # Locked in id order, as every batch does: no two batches deadlock.
                alerts = {alert.id: alert for alert in session.scalars(
                    select(Alert).where(Alert.id.in_(alert_ids)).order_by(Alert.id)
                    .with_for_update())}
                statuses = {item.delivery_id: self._record_in(
                    session, rows[item.delivery_id], alerts.get(rows[item.delivery_id].alert_id),
                    item, now) for item in done if item.delivery_id in rows}
                # Attempts and timeline rows as one insert each, not one per row.
                with session.no_autoflush:
                    write_added_rows(session, (outbox.DeliveryAttempt, AlertEvent))
        except Exception:
            log.exception("delivery.batch_record_failed")
            for item in done:
                self._record(*item)
            return
        for item in done:
            if item.delivery_id in statuses:
                self._note(item, statuses[item.delivery_id])

    def _prepare(self, delivery_id: int) -> tuple[Page, str]:
        # The writer's turn on SQLite, whose every transaction takes the write
        # lock: waiting in turn is quicker than SQLite's busy handler.
        with transaction(self.sessions) as session:
            query = (select(outbox.Delivery, Alert)
                     .join(Alert, Alert.id == outbox.Delivery.alert_id, isouter=True)
                     .where(outbox.Delivery.id == delivery_id))
            found = session.execute(query).first()
            if found is None:
                raise _Skip("delivery no longer exists")
            row, alert = found
            if alert is None:
                raise _Skip("alert no longer exists")
            paging_live = alert.status == TRIGGERED or (row.step == 0 and alert.status != RESOLVED)
            if not paging_live:
                raise _Skip(f"alert is {alert.status}; page not sent")
            return self._page(row, alert), row.channel

    def _page(self, row: outbox.Delivery, alert: Alert) -> Page:
        user = self.config.users.get(row.user_id)
        return Page(
            delivery_id=row.id, idempotency_key=row.idempotency_key, alert_id=alert.id,
            title=alert.title, status=alert.status, user_id=row.user_id,
            user_name=user.display if user else row.user_id, address=row.address,
            triggered_at=alert.triggered_at, step=row.step, severity=alert.severity,
            service=alert.service, description=alert.description, source_url=alert.source_url,
            runbook_url=alert.runbook_url, ack_url=self.links.url(alert.id, row.user_id),
            labels={str(k): str(v) for k, v in (alert.labels or {}).items()},
        )

    def _call(self, notifier: Notifier, page: Page) -> DeliveryOutcome:
        try:
            return notifier.send(page)
        except Exception as exc:
            # An adapter bug must cost a retry, not the page.
            log.exception("delivery.adapter_crashed")
            return DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__)

    def _record(self, delivery_id: int, page: Page, channel: str, outcome: DeliveryOutcome) -> None:
        now = self.clock.now()
        done = Delivered(delivery_id, page, channel, outcome)
        with transaction(self.sessions) as session:
            row = session.get(outbox.Delivery, delivery_id)
            if row is None:
                return
            # The alert row is locked first: two channels of one person failing
            # at once then decide in turn whether anything still reaches them,
            # and the second sees the first's failure, so the fallback is paged.
            alert = session.get(Alert, row.alert_id, with_for_update=True)
            status = self._record_in(session, row, alert, done, now)
        self._note(done, status)

    def _record_in(self, session: Session, row: outbox.Delivery, alert: Alert | None,
                   done: Delivered, now: datetime) -> str:
        """Write the attempt, the page's new status and the timeline; the caller
        holds the alert's row lock."""
        page, channel, outcome = done.page, done.channel, done.outcome
        session.add(outbox.DeliveryAttempt(delivery_id=row.id, at=now, ok=outcome.ok,
                                           detail=outcome.detail))
        row.detail = outcome.detail
        row.provider_id = outcome.provider_id
        status = self._next_status(row, outcome, now)
        row.status = status
        row.lease_until = None
        if status != outbox.QUEUED:
            row.finished_at = now
        if alert is not None:
            add_timeline(session, alert, kind="notification", now=now,
                         message=_describe(page, channel, status, outcome, row.attempts),
                         data={"user": page.user_id, "channel": channel, "status": status,
                               "attempt": row.attempts, "delivery_id": row.id})
            if status == outbox.FAILED:
                fail_over(session, alert=alert, failed=row, user_name=page.user_name,
                          now=now)
            if status == outbox.FAILED and nothing_else_reaches(session, row):
                paging_fallback(session, config=self.config, alert=alert, now=now,
                                why=f"no channel could deliver the page to {page.user_name}",
                                reason="undeliverable")
        return status

    def _note(self, done: Delivered, status: str) -> None:
        PAGES.labels(channel=done.channel, outcome=status).inc()
        event(log, "delivery." + status, delivery_id=done.delivery_id,
              alert_id=done.page.alert_id, user=done.page.user_id, channel=done.channel,
              detail=done.outcome.detail)

    def _next_status(self, row: outbox.Delivery, outcome: DeliveryOutcome, now: datetime) -> str:
        if outcome.ok:
            return outbox.SENT
        limit = self._max_attempts(row.channel)
        if outcome.retryable and row.attempts < limit:
            row.due_at = now + timedelta(seconds=backoff_seconds(row.attempts, self.rng))
            return outbox.QUEUED
        return outbox.FAILED

    def _max_attempts(self, channel: str) -> int:
        webhook = self.config.notifications.webhook
        if channel == "webhook" and webhook is not None:
            return webhook.max_attempts
        return DEFAULT_MAX_ATTEMPTS

    def _cancel(self, delivery_id: int, detail: str) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            row = session.get(outbox.Delivery, delivery_id)
            if row is None:
                return
            row.status = outbox.CANCELLED
            row.detail = detail
            row.finished_at = now
            row.lease_until = None
        event(log, "delivery.cancelled", delivery_id=delivery_id, detail=detail)


class _Skip(Exception):
    pass


def nothing_else_reaches(session: Session, failed: outbox.Delivery) -> bool:
    """True when this failure leaves the person with no page sent or on its way.

    Fallback pages (step 0) never fall back again, and the console copy of a
    page does not count as reaching anyone here.
    """
    if failed.step == 0 or failed.channel == CONSOLE:
        return False
    others = select(outbox.Delivery.id).where(
        outbox.Delivery.alert_id == failed.alert_id,
        outbox.Delivery.user_id == failed.user_id,
        outbox.Delivery.step == failed.step,
        outbox.Delivery.id != failed.id,
        outbox.Delivery.channel != CONSOLE,
        outbox.Delivery.status.in_((outbox.QUEUED, outbox.SENDING, outbox.SENT,
                                    outbox.BUNDLED, outbox.HELD)),
    )
    return session.scalars(others.limit(1)).first() is None


def _describe(page: Page, channel: str, status: str, outcome: DeliveryOutcome,
              attempt: int) -> str:
    who = f"{page.user_name} via {channel}"
    if status == outbox.SENT:
        return f"notified {who}"
    if status == outbox.QUEUED:
        return f"attempt {attempt} to notify {who} failed ({outcome.detail}); will retry"
    return f"could not notify {who}: {outcome.detail}"
