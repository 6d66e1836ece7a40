"""What `tocsin status` reports: how far behind the engine is and what failed.

Every query here reads an index (deliveries by status and due time, timers
by state and due time) or a bounded window, so it is cheap to run often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts.store import AlertEvent
from tocsin.engine.selfwatch import last_ping
from tocsin.escalation import store as timers
from tocsin.notify import store as outbox

FAILING_WINDOW = timedelta(hours=1)
FALLBACK_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Fallback:
    alert_id: int
    at: datetime
    paged_nobody: bool
    message: str


@dataclass(frozen=True)
class Status:
    now: datetime
    max_lag_seconds: float
    oldest_due_timer: datetime | None
    oldest_due_delivery: datetime | None
    queued_by_channel: dict[str, int] = field(default_factory=dict)
    failed_by_channel: dict[str, int] = field(default_factory=dict)
    fallbacks: list[Fallback] = field(default_factory=list)
    last_heartbeat: datetime | None = None

    @property
    def lag_seconds(self) -> float:
        """How late the oldest due timer or delivery is; 0 when none is overdue."""
        due = [t for t in (self.oldest_due_timer, self.oldest_due_delivery) if t is not None]
        return max(0.0, (self.now - min(due)).total_seconds()) if due else 0.0

    @property
    def lagging(self) -> bool:
        return self.lag_seconds > self.max_lag_seconds


def _by_channel(session: Session, *conditions: object) -> dict[str, int]:
    query = (select(outbox.Delivery.channel, func.count())
             .where(*conditions)  # type: ignore[arg-type]
             .group_by(outbox.Delivery.channel).order_by(outbox.Delivery.channel))
    return {channel: int(count) for channel, count in session.execute(query)}


def gather(session: Session, *, now: datetime, max_lag_seconds: float) -> Status:
    delivery = outbox.Delivery
    events = session.scalars(
        select(AlertEvent).where(AlertEvent.kind == "fallback",
                                 AlertEvent.at >= now - FALLBACK_WINDOW)
        .order_by(AlertEvent.at.desc(), AlertEvent.id.desc()))
    return Status(
        now=now, max_lag_seconds=max_lag_seconds,
        oldest_due_timer=timers.earliest_due(session),
        oldest_due_delivery=outbox.earliest_due(session),
        queued_by_channel=_by_channel(session, delivery.status == outbox.QUEUED),
        failed_by_channel=_by_channel(session, delivery.status == outbox.FAILED,
                                      delivery.finished_at >= now - FAILING_WINDOW),
        fallbacks=[Fallback(e.alert_id, e.at, "nobody was paged" in e.message, e.message)
                   for e in events],
        last_heartbeat=last_ping(session),
    )
