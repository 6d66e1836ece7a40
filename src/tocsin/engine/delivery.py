"""Send one leased delivery and record what happened.

The alert is read again just before sending, so nothing goes out after an
acknowledgement; no row lock is held while the provider is called. Pages
for alerts in a storm never get here: the engine sorts them into bundles
first (engine.storms), and sends those (engine.bundles).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.paging import CONSOLE
from tocsin.alerts.service import add_timeline, paging_fallback
from tocsin.alerts.store import RESOLVED, TRIGGERED, Alert
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


@dataclass
class Sender:
    sessions: sessionmaker[Session]
    config: Config
    notifiers: dict[str, Notifier]
    links: LinkSigner
    clock: Clock
    rng: random.Random

    def send(self, delivery_id: int) -> None:
        try:
            page, channel = self._prepare(delivery_id)
        except _Skip as skip:
            self._cancel(delivery_id, str(skip))
            return
        notifier = self.notifiers.get(channel)
        if notifier is None:
            outcome = DeliveryOutcome(ok=False, detail=f"no provider is configured for {channel}")
        else:
            outcome = self._call(notifier, page)
        self._record(delivery_id, page, channel, outcome)

    def _prepare(self, delivery_id: int) -> tuple[Page, str]:
        with self.sessions() as session:
            row = session.get(outbox.Delivery, delivery_id)
            if row is None:
                raise _Skip("delivery no longer exists")
            alert = session.get(Alert, row.alert_id)
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
        with transaction(self.sessions) as session:
            row = session.get(outbox.Delivery, delivery_id)
            if row is None:
                return
            # The alert row is locked first: two channels of one person failing
            # at once then decide in turn whether anything still reaches them,
            # and the second sees the first's failure, so the fallback is paged.
            alert = session.get(Alert, row.alert_id, with_for_update=True)
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
        PAGES.labels(channel=channel, outcome=status).inc()
        event(log, "delivery." + status, delivery_id=delivery_id, alert_id=page.alert_id,
              user=page.user_id, channel=channel, detail=outcome.detail)

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
                                    outbox.BUNDLED)),
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
