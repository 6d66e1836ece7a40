"""Send a batch of leased deliveries and record what happened.

The batch's alerts are read again, in one statement, just before its pages
are sent (`prepare_all`), so nothing goes out after an acknowledgement; no
row lock is held while the provider is called. The engine records the
batch in one transaction (`record_all`); a
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
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.batch import write_added_rows
from tocsin.alerts.paging import CONSOLE
from tocsin.alerts.service import paging_fallback
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


class Ready(NamedTuple):
    """A leased page whose alert still pages, about to be sent."""

    delivery_id: int
    page: Page
    channel: str


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

    def prepare_all(self, delivery_ids: Sequence[int]) -> list[Ready]:
        """Read the leased pages and their alerts in one statement, just before sending.

        A page whose alert no longer pages (acknowledged, resolved, gone) is
        cancelled here and left out; the others are returned, in the order given.
        """
        if not delivery_ids:
            return []
        now = self.clock.now()
        ready: list[Ready] = []
        cancelled: list[dict[str, Any]] = []
        # The writer's turn on SQLite, whose every transaction takes the write
        # lock: one transaction for the batch, not one per page. Columns, not
        # row objects: nothing here is changed through them.
        with transaction(self.sessions) as session:
            found = {row.id: row for row in session.execute(
                _PAGE_COLUMNS.where(outbox.Delivery.id.in_(delivery_ids)))}
            # One signed link per alert and person: the console copy shares the page's.
            links: dict[tuple[int, str], str] = {}
            for delivery_id in delivery_ids:
                row = found.get(delivery_id)
                if row is None:
                    continue  # deleted with its alert: nothing to send or to mark
                why = _not_paging(row.step, row.alert_status)
                if why is None:
                    key = (row.alert_id, row.user_id)
                    if key not in links:
                        links[key] = self.links.url(row.alert_id, row.user_id)
                    ready.append(Ready(delivery_id, self._page(row, links[key]), row.channel))
                    continue
                cancelled.append({"id": delivery_id, "status": outbox.CANCELLED, "detail": why,
                                  "finished_at": now, "lease_until": None})
            if cancelled:
                session.execute(update(outbox.Delivery), cancelled)
        for values in cancelled:
            event(log, "delivery.cancelled", delivery_id=values["id"], detail=values["detail"])
        return ready

    def call(self, ready: Ready) -> Delivered:
        """Send one prepared page; record nothing yet."""
        notifier = self.notifiers.get(ready.channel)
        if notifier is None:
            outcome = DeliveryOutcome(ok=False,
                                      detail=f"no provider is configured for {ready.channel}")
        else:
            outcome = self._call(notifier, ready.page)
        return Delivered(ready.delivery_id, ready.page, ready.channel, outcome)

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
                statuses = self._record_batch(session, done, now)
        except Exception:
            log.exception("delivery.batch_record_failed")
            for item in done:
                self._record(*item)
            return
        for item in done:
            if item.delivery_id in statuses:
                self._note(item, statuses[item.delivery_id])

    def _record_batch(self, session: Session, done: Sequence[Delivered], now: datetime,
                      ) -> dict[int, str]:
        """Pages delivered are written as one update and two inserts for the batch; a
        failure decides on retries, failover and fallback through the row objects."""
        query = (select(outbox.Delivery.id, outbox.Delivery.alert_id, outbox.Delivery.attempts)
                 .where(outbox.Delivery.id.in_([item.delivery_id for item in done])))
        rows = {row.id: row for row in session.execute(query)}
        alive = lock_alert_ids(session, [row.alert_id for row in rows.values()])
        statuses: dict[int, str] = {}
        delivered: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        timeline: list[dict[str, Any]] = []
        for item in done:
            row = rows.get(item.delivery_id)
            if row is None:
                continue  # deleted with its alert
            if not item.outcome.ok:
                alert = session.get(Alert, row.alert_id) if row.alert_id in alive else None
                statuses[row.id] = self._record_in(
                    session, session.get_one(outbox.Delivery, row.id), alert, item, now)
                continue
            statuses[row.id] = outbox.SENT
            detail = item.outcome.detail
            delivered.append({"row_id": row.id, "status": outbox.SENT, "detail": detail,
                              "provider_id": item.outcome.provider_id, "lease_until": None,
                              "finished_at": now})
            attempts.append({"delivery_id": row.id, "at": now, "ok": True, "detail": detail})
            if row.alert_id in alive:
                timeline.append(_timeline_row(row.alert_id, item, outbox.SENT, row.attempts,
                                              now))
        # Attempts and timeline rows as one insert each, not one per row.
        with session.no_autoflush:
            write_added_rows(session, (outbox.DeliveryAttempt, AlertEvent))
        # On the tables, not through the mapper: one executemany each.
        if delivered:
            session.execute(_MARK_DELIVERED, delivered)
            session.execute(insert(_TABLES["delivery_attempts"]), attempts)
        if timeline:
            session.execute(insert(_TABLES["alert_events"]), timeline)
        return statuses

    def _page(self, row: Any, ack_url: str) -> Page:
        """The page for a row of `_PAGE_COLUMNS`."""
        user = self.config.users.get(row.user_id)
        return Page(
            delivery_id=row.id, idempotency_key=row.idempotency_key, alert_id=row.alert_id,
            title=row.title, status=row.alert_status, user_id=row.user_id,
            user_name=user.display if user else row.user_id, address=row.address,
            triggered_at=row.triggered_at, step=row.step, severity=row.severity,
            service=row.service, description=row.description, source_url=row.source_url,
            runbook_url=row.runbook_url, ack_url=ack_url,
            labels={str(k): str(v) for k, v in (row.labels or {}).items()},
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
        page, outcome = done.page, done.outcome
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
            session.add(AlertEvent(**_timeline_row(alert.id, done, status, row.attempts, now)))
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

def _not_paging(step: int, alert_status: str | None) -> str | None:
    """Why a page of `step` must not go now (its alert stopped paging; None: the alert
    is gone); None when it may."""
    if alert_status is None:
        return "alert no longer exists"
    if alert_status == TRIGGERED or (step == 0 and alert_status != RESOLVED):
        return None
    return f"alert is {alert_status}; page not sent"


_TABLES = outbox.Delivery.metadata.tables
_DELIVERIES = _TABLES["deliveries"]
_MARK_DELIVERED = (
    update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("row_id"))
    .values(status=bindparam("status"), detail=bindparam("detail"),
            provider_id=bindparam("provider_id"), lease_until=bindparam("lease_until"),
            finished_at=bindparam("finished_at"))
)

# What a page needs of its delivery row and its alert, in one statement.
_PAGE_COLUMNS = (
    select(outbox.Delivery.id, outbox.Delivery.idempotency_key, outbox.Delivery.user_id,
           outbox.Delivery.address, outbox.Delivery.step, outbox.Delivery.channel,
           Alert.id.label("alert_id"), Alert.status.label("alert_status"), Alert.title,
           Alert.triggered_at, Alert.severity, Alert.service, Alert.description,
           Alert.source_url, Alert.runbook_url, Alert.labels)
    .join(Alert, Alert.id == outbox.Delivery.alert_id, isouter=True)
)


def _timeline_row(alert_id: int, done: Delivered, status: str, attempt: int,
                  now: datetime) -> dict[str, Any]:
    """The alert's timeline entry for what became of a page, as a row's values."""
    page, channel = done.page, done.channel
    return {"alert_id": alert_id, "at": now, "kind": "notification", "actor": None,
            "surface": None, "message": _describe(page, channel, status, done.outcome, attempt),
            "data": {"user": page.user_id, "channel": channel, "status": status,
                     "attempt": attempt, "delivery_id": done.delivery_id}}


def lock_alert_ids(session: Session, alert_ids: Sequence[int]) -> set[int]:
    """Lock the alerts as `lock_alerts` does, reading only their ids: those that exist."""
    if not alert_ids:
        return set()
    query = (select(Alert.id).where(Alert.id.in_(sorted(set(alert_ids)))).order_by(Alert.id)
             .with_for_update())
    return set(session.scalars(query))


def lock_alerts(session: Session, alert_ids: Sequence[int]) -> dict[int, Alert]:
    """Read and lock the alerts in one statement, in id order, as every batch locks
    them: two workers never take the same alerts in opposite orders."""
    if not alert_ids:
        return {}
    query = (select(Alert).where(Alert.id.in_(sorted(set(alert_ids)))).order_by(Alert.id)
             .with_for_update())
    return {alert.id: alert for alert in session.scalars(query)}


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
