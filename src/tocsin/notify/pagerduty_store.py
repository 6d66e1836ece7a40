"""Follow-ups to forwarded pages: an acknowledge, resolve or trigger per routing key.

When an alert whose trigger was forwarded to an Events v2 endpoint
(`contacts.pagerduty`) is acknowledged or resolved, or goes back to
triggered (an acknowledgement lapsed, unacknowledge, escalate now on an
acknowledged alert), one row per routing key that received the trigger is
written in the same transaction. The
engine leases and sends them like deliveries (`tocsin.leases`), retrying
while the far side is down, so the far side's alert follows Tocsin's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, ScalarSelect, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.config.model import Notifications
from tocsin.db import Base, UTCDateTime
from tocsin.leases import CANCELLED, QUEUED, SENDING, SENT
from tocsin.notify.store import Delivery

CHANNEL = "pagerduty"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
TRIGGER = "trigger"  # the alert is triggered again here: the same dedup_key, a new trigger


class PagerDutyFollowUp(Base):
    __tablename__ = "pagerduty_followups"
    __table_args__ = (
        Index("ix_pagerduty_followups_due", "status", "due_at"),
        Index("ix_pagerduty_followups_alert", "alert_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(320))
    routing_key: Mapped[str] = mapped_column(Text)  # a secret, like a delivery's address
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


def forwarded_to(session: Session, alert_id: int) -> list[tuple[str, str]]:
    """(user id, routing key) of every trigger of the alert sent, or being sent, on."""
    query = (
        select(Delivery.user_id, Delivery.address)
        .where(Delivery.alert_id == alert_id, Delivery.channel == CHANNEL,
               Delivery.status.in_((SENDING, SENT)))
        .distinct()
        .order_by(Delivery.user_id, Delivery.address)
    )
    return [(user_id, address) for user_id, address in session.execute(query)]


def queue(
    session: Session, *, notifications: Notifications, alert_id: int, action: str,
    now: datetime,
) -> int:
    """Queue `action` for every routing key the alert's trigger reached; how many rows.

    Without a pagerduty provider nothing could send them, so nothing is
    looked up (a storm's thousands of resolves cost no query). A resolve
    replaces an acknowledgement still waiting for the same key: the far side
    needs only the last word. A trigger likewise replaces a waiting
    acknowledgement.
    """
    if notifications.pagerduty is None:
        return 0
    targets = forwarded_to(session, alert_id)
    if not targets:
        return 0
    if action in (RESOLVE, TRIGGER):
        replaced = (ACKNOWLEDGE, TRIGGER) if action == RESOLVE else (ACKNOWLEDGE,)
        session.execute(
            update(PagerDutyFollowUp)
            .where(PagerDutyFollowUp.alert_id == alert_id,
                   PagerDutyFollowUp.action.in_(replaced),
                   PagerDutyFollowUp.status == QUEUED)
            .values(status=CANCELLED, finished_at=now, detail=f"replaced by the {action}")
            .execution_options(synchronize_session="fetch")
        )
    for user_id, routing_key in targets:
        session.add(PagerDutyFollowUp(
            alert_id=alert_id, user_id=user_id, routing_key=routing_key, action=action,
            status=QUEUED, attempts=0, due_at=now, created_at=now, detail="",
        ))
    return len(targets)


def paged_again(session: Session, *, alert_id: int, routing_key: str, since: datetime) -> bool:
    """True when the escalation itself sent, or will send, the key a trigger since `since`."""
    query = select(Delivery.id).where(
        Delivery.alert_id == alert_id, Delivery.channel == CHANNEL,
        Delivery.address == routing_key, Delivery.created_at >= since,
        Delivery.status.in_((QUEUED, SENDING, SENT)),
    )
    return session.scalars(query.limit(1)).first() is not None


def trigger_in_flight(session: Session, *, alert_id: int, routing_key: str) -> bool:
    """True while a trigger of the alert to this key is being sent: a follow-up waits for it."""
    query = select(Delivery.id).where(
        Delivery.alert_id == alert_id, Delivery.channel == CHANNEL,
        Delivery.address == routing_key, Delivery.status == SENDING,
    )
    return session.scalars(query.limit(1)).first() is not None


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    return leases.claim_due(session, PagerDutyFollowUp, now=now, lease_until=lease_until,
                            limit=limit)


def earliest_due(session: Session) -> datetime | None:
    return leases.earliest_due(session, PagerDutyFollowUp)


def due_probes() -> list[ScalarSelect[Any]]:
    """As `earliest_due`, for the engine to read with other tables' (`leases.earliest`)."""
    return leases.due_probes(PagerDutyFollowUp)
