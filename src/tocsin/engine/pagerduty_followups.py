"""Send the acknowledgements, resolves and new triggers of forwarded alerts
(notify.pagerduty_store).

Each follow-up is leased, sent with no lock held, then marked, like a
delivery. A far side that is down gets the follow-up later: retryable
failures are retried with backoff for `GIVE_UP_AFTER` from when the
follow-up was queued, so an acknowledgement outlives an outage of minutes
or hours. A follow-up waits while a trigger to the same routing key is
still being sent, so the far side never gets the acknowledgement first.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarSelect
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.service import add_timeline
from tocsin.alerts.store import TRIGGERED, Alert
from tocsin.clock import Clock
from tocsin.db import transaction
from tocsin.leases import CANCELLED, FAILED, QUEUED, SENT
from tocsin.logs import event
from tocsin.notify import pagerduty_store as store
from tocsin.notify.base import DeliveryOutcome, Notifier, Page
from tocsin.notify.pagerduty_forward import FollowUp, FollowUpNotifier
from tocsin.notify.retry import backoff_seconds

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=6)
# How long a follow-up waits for a trigger still being sent before it looks again.
WAIT_FOR_TRIGGER = timedelta(seconds=5)


class _Wait(Exception):
    """A trigger to the same key is in flight: look again shortly."""


class _Needless(Exception):
    """A new trigger no longer needed: the alert is not triggered, or was paged there anew."""

    def __init__(self, why: str) -> None:
        self.why = why


@dataclass
class FollowUps:
    sessions: sessionmaker[Session]
    clock: Clock
    notifiers: Callable[[], dict[str, Notifier]]
    pool: Executor
    lease: timedelta
    rng: random.Random
    batch: int = 20

    def run_due(self) -> int:
        """Send every due follow-up; how many were claimed."""
        total = 0
        while True:
            now = self.clock.now()
            with transaction(self.sessions) as session:
                claimed = store.claim_due(session, now=now, lease_until=now + self.lease,
                                          limit=self.batch)
            if not claimed:
                return total
            forwarder = self.notifiers().get(store.CHANNEL)
            futures = [self.pool.submit(self.send, followup_id, forwarder)
                       for followup_id in claimed]
            for future in futures:
                future.result()
            total += len(claimed)

    def due_probes(self) -> list[ScalarSelect[Any]]:
        """When a follow-up is next due (see `leases.earliest`)."""
        return store.due_probes()

    def send(self, followup_id: int, forwarder: Notifier | None) -> None:
        try:
            followup = self._prepare(followup_id)
        except _Wait:
            self._postpone(followup_id)
            return
        except _Needless as needless:
            self._drop(followup_id, needless.why)
            return
        if followup is None:
            return
        if not isinstance(forwarder, FollowUpNotifier):
            outcome = DeliveryOutcome(ok=False, detail="no pagerduty provider is configured")
        else:
            outcome = self._call(forwarder, followup)
        self._record(followup, outcome)

    def _prepare(self, followup_id: int) -> FollowUp | None:
        with self.sessions() as session:
            row = session.get(store.PagerDutyFollowUp, followup_id)
            if row is None:
                return None
            if store.trigger_in_flight(session, alert_id=row.alert_id,
                                       routing_key=row.routing_key):
                raise _Wait
            page = None
            if row.action == store.TRIGGER:
                alert = session.get(Alert, row.alert_id)
                if alert is None or alert.status != TRIGGERED:
                    raise _Needless("the alert is no longer triggered")
                if store.paged_again(session, alert_id=row.alert_id,
                                     routing_key=row.routing_key, since=row.created_at):
                    raise _Needless("the escalation paged this key again itself")
                page = trigger_page(alert, user_id=row.user_id, routing_key=row.routing_key)
            return FollowUp(followup_id=row.id, alert_id=row.alert_id, action=row.action,
                            user_id=row.user_id, routing_key=row.routing_key, page=page)

    def _call(self, forwarder: FollowUpNotifier, followup: FollowUp) -> DeliveryOutcome:
        try:
            return forwarder.send_followup(followup)
        except Exception as exc:
            # An adapter bug must cost a retry, not the follow-up.
            log.exception("pagerduty.followup_crashed",
                          extra={"followup_id": followup.followup_id})
            return DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__)

    def _postpone(self, followup_id: int) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            row = session.get(store.PagerDutyFollowUp, followup_id)
            if row is None:
                return
            row.status = QUEUED
            row.attempts -= 1  # nothing was sent: the wait is not a failed attempt
            row.due_at = now + WAIT_FOR_TRIGGER
            row.lease_until = None
        event(log, "pagerduty.followup_waiting", followup_id=followup_id)

    def _drop(self, followup_id: int, why: str) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            row = session.get(store.PagerDutyFollowUp, followup_id)
            if row is None:
                return
            row.status, row.finished_at, row.lease_until = CANCELLED, now, None
            row.detail = f"not sent: {why}"
        event(log, "pagerduty.followup_dropped", followup_id=followup_id, reason=why)

    def _record(self, followup: FollowUp, outcome: DeliveryOutcome) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            row = session.get(store.PagerDutyFollowUp, followup.followup_id)
            if row is None:
                return
            status = self._next_status(row, outcome, now)
            row.status = status
            row.detail = outcome.detail
            row.lease_until = None
            if status != QUEUED:
                row.finished_at = now
            alert = session.get(Alert, row.alert_id)
            if alert is not None:
                add_timeline(session, alert, kind="forwarded", now=now,
                             message=_describe(followup, status, outcome, row.attempts),
                             data={"user": followup.user_id, "channel": store.CHANNEL,
                                   "action": followup.action, "status": status,
                                   "attempt": row.attempts, "followup_id": row.id})
        level = logging.WARNING if status == FAILED else logging.INFO
        event(log, "pagerduty.followup_" + status, level=level,
              followup_id=followup.followup_id, alert_id=followup.alert_id,
              action=followup.action, user=followup.user_id, detail=outcome.detail)

    def _next_status(self, row: store.PagerDutyFollowUp, outcome: DeliveryOutcome,
                     now: datetime) -> str:
        if outcome.ok:
            return SENT
        if outcome.retryable and now < row.created_at + GIVE_UP_AFTER:
            row.due_at = now + timedelta(seconds=backoff_seconds(row.attempts, self.rng))
            return QUEUED
        return FAILED


def trigger_page(alert: Alert, *, user_id: str, routing_key: str) -> Page:
    """The alert as a page to `routing_key`, for a new trigger with the same dedup_key."""
    return Page(
        delivery_id=0, idempotency_key="", alert_id=alert.id, title=alert.title,
        status=alert.status, user_id=user_id, user_name=user_id, address=routing_key,
        triggered_at=alert.triggered_at, step=max(alert.step, 0) + 1, severity=alert.severity,
        service=alert.service, description=alert.description, source_url=alert.source_url,
        runbook_url=alert.runbook_url,
        labels={str(k): str(v) for k, v in (alert.labels or {}).items()},
    )


def _describe(followup: FollowUp, status: str, outcome: DeliveryOutcome, attempt: int) -> str:
    what = f"{followup.action} for {followup.user_id} via pagerduty"
    if status == SENT:
        return f"forwarded {what}"
    if status == QUEUED:
        return f"attempt {attempt} to forward {what} failed ({outcome.detail}); will retry"
    return f"could not forward {what}: {outcome.detail}"
