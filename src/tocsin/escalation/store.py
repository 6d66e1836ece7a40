"""Durable timers: the next escalation step or an acknowledgement lapse.

A timer is written in the same transaction as the change that caused it, so
a crash never loses one; the engine claims it and applies it in a single
transaction, so it takes effect exactly once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime

ESCALATE = "escalate"
ACK_LAPSE = "ack_lapse"

PENDING = "pending"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"  # applying it raised; the alert went to the fallback contact


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "state", "due_at"),
        Index("ix_timers_alert", "alert_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    step: Mapped[int] = mapped_column(Integer, default=0)
    pass_number: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def schedule(
    session: Session, *, kind: str, alert_id: int, due_at: datetime, now: datetime,
    step: int = 0, pass_number: int = 0,
) -> Timer:
    timer = Timer(
        kind=kind, alert_id=alert_id, due_at=due_at, step=step, pass_number=pass_number,
        state=PENDING, created_at=now,
    )
    session.add(timer)
    return timer


def cancel_for_alert(session: Session, *, alert_id: int, now: datetime) -> int:
    result = session.execute(
        update(Timer)
        .where(Timer.alert_id == alert_id, Timer.state == PENDING)
        .values(state=CANCELLED, done_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def has_pending(session: Session, *, alert_id: int, kind: str) -> bool:
    """Whether a timer of `kind` waits for the alert, written or still in the session."""
    if any(isinstance(obj, Timer) and obj.alert_id == alert_id and obj.kind == kind
           and obj.state == PENDING for obj in session.new):
        return True
    query = select(Timer.id).where(
        Timer.alert_id == alert_id, Timer.kind == kind, Timer.state == PENDING).limit(1)
    return session.scalars(query).first() is not None


def claim_due(session: Session, *, now: datetime) -> Timer | None:
    """The oldest due timer, locked so no other worker can take it.

    On PostgreSQL this is `FOR UPDATE SKIP LOCKED`; SQLite has one writer at
    a time (the transaction began IMMEDIATE), so the plain select is enough.
    """
    query = (
        select(Timer)
        .where(Timer.state == PENDING, Timer.due_at <= now)
        .order_by(Timer.due_at, Timer.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).first()


def earliest_due(session: Session) -> datetime | None:
    query = select(Timer.due_at).where(Timer.state == PENDING).order_by(Timer.due_at).limit(1)
    return session.scalars(query).first()
