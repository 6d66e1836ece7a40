"""The demo's clock: walk a fake time forward, doing what the engine would on the way.

Every change goes through the services with `now` at the scripted moment:
alerts are ingested, due escalation steps applied, and the pages they queue
marked delivered on the console, as the engine does when no provider is
configured. All in the one session the caller passes, so a failed load
leaves the database as empty as it was.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts import marks
from tocsin.alerts.escalate import apply_timer
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import acknowledge, add_timeline, get_alert, ingest, resolve
from tocsin.alerts.store import TRIGGERED, Alert
from tocsin.cli.demo_data import AlertKind
from tocsin.config.model import Config, Integration
from tocsin.escalation import store as timers
from tocsin.logs import event
from tocsin.notify import store as outbox

log = logging.getLogger(__name__)

Action = Callable[[datetime], None]
# What the console adapter answers for a page it printed.
CONSOLE_DETAIL = "shown on the console"


class Walk:
    """Scripted actions, run in time order; due steps and pages in between."""

    def __init__(self, session: Session, config: Config, integration: Integration) -> None:
        self.session = session
        self.config = config
        self.integration = integration
        self._queue: list[tuple[datetime, int, Action]] = []
        self._order = itertools.count()
        self._keys = itertools.count(1)
        self.now: datetime | None = None

    def at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self._queue, (when, next(self._order), action))

    def run(self) -> None:
        while self._queue:
            when, _order, action = heapq.heappop(self._queue)
            self.advance(when)
            action(when)

    def advance(self, until: datetime) -> None:
        """Apply every step and send every page due up to `until`, each at its due time."""
        while True:
            due = self._earliest_due()
            if due is None or due > until:
                break
            self.now = due
            for timer in timers.claim_due(self.session, now=self.now, limit=100):
                apply_timer(self.session, config=self.config, timer=timer, now=self.now)
            self._send_due(self.now)
            self.session.flush()
        self.now = until

    def _earliest_due(self) -> datetime | None:
        """The next step or page due, in one statement (pages are never leased here)."""
        # As the escalation pass: a route's incident declaration is the engine's own step.
        step = (select(func.min(timers.Timer.due_at))
                .where(timers.Timer.state == timers.PENDING,
                       timers.Timer.kind != timers.DECLARE_INCIDENT).scalar_subquery())
        page = (select(func.min(outbox.Delivery.due_at))
                .where(outbox.Delivery.status == outbox.QUEUED).scalar_subquery())
        found = self.session.execute(select(step, page)).one()
        times = [t for t in found if t is not None]
        return min(times) if times else None

    def _send_due(self, now: datetime) -> None:
        query = (select(outbox.Delivery)
                 .where(outbox.Delivery.status == outbox.QUEUED, outbox.Delivery.due_at <= now)
                 .order_by(outbox.Delivery.due_at, outbox.Delivery.id))
        for row in self.session.scalars(query):
            row.status, row.attempts, row.finished_at = outbox.SENT, row.attempts + 1, now
            row.detail, row.lease_until = CONSOLE_DETAIL, None
            self.session.add(outbox.DeliveryAttempt(delivery_id=row.id, at=now, ok=True,
                                                    detail=CONSOLE_DETAIL))
            user = self.config.users.get(row.user_id)
            name = user.display if user is not None else row.user_id
            alert = self.session.get(Alert, row.alert_id)
            assert alert is not None
            add_timeline(self.session, alert, kind="notification", now=now,
                         message=f"notified {name} via {row.channel}",
                         data={"user": row.user_id, "channel": row.channel,
                               "status": outbox.SENT, "attempt": row.attempts,
                               "delivery_id": row.id})
            event(log, "demo.page_delivered", delivery_id=row.id, alert_id=row.alert_id,
                  user=row.user_id, channel=row.channel)

    # -- what people and sources do --------------------------------------------

    def fire(self, kind: AlertKind, now: datetime, title: str | None = None) -> int:
        """A firing from Alertmanager; the new alert's id."""
        number = next(self._keys)
        incoming = IncomingEvent(
            action="trigger", dedup_key=f"{kind.name.lower()}-{number:04d}",
            title=title or kind.title, instance=now.isoformat(), instance_time=now,
            source_time=now, severity=kind.severity, service=kind.service,
            source="prometheus", labels={"alertname": kind.name, "severity": kind.severity,
                                         "service": kind.service})
        result = ingest(self.session, config=self.config, integration=self.integration,
                        incoming=incoming, now=now)
        assert result.alert_id is not None, result.reason
        return result.alert_id

    def source_resolves(self, alert_id: int, now: datetime) -> None:
        alert = get_alert(self.session, alert_id)
        incoming = IncomingEvent(action="resolve", dedup_key=alert.dedup_key,
                                 instance=alert.instance, instance_time=alert.source_time,
                                 source_time=now)
        ingest(self.session, config=self.config, integration=self.integration,
               incoming=incoming, now=now)

    def paged_last(self, alert_id: int) -> str | None:
        """Who the alert's latest page went to: the person who picks it up."""
        query = (select(outbox.Delivery.user_id).where(outbox.Delivery.alert_id == alert_id)
                 .order_by(outbox.Delivery.id.desc()).limit(1))
        return self.session.scalars(query).first()

    def acknowledge(self, alert_id: int, now: datetime, surface: str) -> str | None:
        """The person paged last acknowledges; who that was (None: nobody was paged)."""
        person = self.paged_last(alert_id)
        alert = get_alert(self.session, alert_id)
        if person is None or alert.status != TRIGGERED:
            return None
        acknowledge(self.session, config=self.config, alert_id=alert_id, actor=person,
                    surface=surface, now=now)
        return person

    def dismiss(self, alert_id: int, now: datetime) -> None:
        """Whoever acknowledged finds nothing to do: marked not actionable and resolved."""
        alert = get_alert(self.session, alert_id)
        person = alert.acknowledged_by or "tocsin"
        marks.mark(self.session, alert_id=alert_id, not_actionable=True, actor=person,
                   surface="ui", now=now)
        resolve(self.session, config=self.config, alert_id=alert_id, actor=person,
                surface="ui", now=now)
