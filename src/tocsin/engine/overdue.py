"""The hard failover time: a page still not delivered brings the person's next rule forward.

A page that keeps failing with retryable errors, or waits for its contact's
rate limit (engine.pacing), could keep a person from their next
notification rule for the whole retry schedule. So when a page has not
been delivered `notifications.failover_after_minutes` after it first became
due, its failover happens then (engine.failover), once, while the page
itself goes on. The pages watched are the undelivered ones whose failover
has not happened, found through a partial index on when they first became
due; the engine wakes when the oldest of them reaches the time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.store import TRIGGERED, Alert
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.failover import fail_over
from tocsin.notify import store as outbox

log = logging.getLogger(__name__)

# The statuses `outbox.WATCHED` names.
_UNDELIVERED = (outbox.QUEUED, outbox.SENDING, outbox.HELD, outbox.BUNDLED)


def failover_after(config: Config) -> timedelta:
    return timedelta(minutes=config.notifications.failover_after_minutes)


@dataclass
class Overdue:
    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    batch: int = 100

    def run_due(self) -> int:
        """Fail over every page overdue by now; the number of pages looked at."""
        total = 0
        while True:
            done = self._run_batch()
            total += done
            if done < self.batch:
                return total

    def _run_batch(self) -> int:
        now = self.clock.now()
        config = self.config()
        late = failover_after(config)
        with transaction(self.sessions) as session:
            query = (
                select(outbox.Delivery.id, outbox.Delivery.alert_id)
                .where(outbox.WATCHED, outbox.Delivery.first_due_at <= now - late)
                .order_by(outbox.Delivery.first_due_at, outbox.Delivery.id)
                .limit(self.batch)
            )
            overdue = session.execute(query).all()
            for delivery_id, alert_id in overdue:
                self._fail_over(session, config, delivery_id, alert_id, late, now)
        return len(overdue)

    def _fail_over(self, session: Session, config: Config, delivery_id: int, alert_id: int,
                   late: timedelta, now: datetime) -> None:
        # The alert is locked before the page, in the order the senders lock them.
        alert = session.get(Alert, alert_id, with_for_update=True)
        page = session.get(outbox.Delivery, delivery_id, with_for_update=True,
                           populate_existing=True)
        if page is None or page.failed_over_at is not None or page.status not in _UNDELIVERED:
            return  # another engine got here first, or the page went meanwhile
        if alert is None or alert.status != TRIGGERED:
            # Its page goes nowhere now; nothing to bring forward.
            page.failed_over_at = now
            return
        user = config.users.get(page.user_id)
        name = user.display if user else page.user_id
        fail_over(session, alert=alert, failed=page, user_name=name, now=now, late=late)
        # Marked even when nothing was left to bring forward: looked at once.
        page.failed_over_at = now

    def next_due(self, session: Session) -> datetime | None:
        """When the oldest watched page becomes overdue."""
        oldest: datetime | None = session.scalar(
            select(func.min(outbox.Delivery.first_due_at)).where(outbox.WATCHED))
        if oldest is None:
            return None
        return oldest + failover_after(self.config())
