"""Outbox tables of action items: reminders and digests to people, pushes to trackers.

A notice row is one message to one person: a reminder about one item at
one reminder time, or a team's weekly digest for one member. Its `key`
names that message (item, owner and reminder time; or team, member and
week), and the unique constraint on it is what sends each message once:
the service that changes an item and every engine pass that plans may all
try to insert the same row, and all but the first insert nothing. Sending
works like a delivery: claimed with a lease, sent with an idempotency key,
then marked.

A push row asks the engine to create the item's issue in a tracker; it is
leased and retried with backoff like a notice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.db import Base, UTCDateTime
from tocsin.leases import QUEUED as QUEUED
from tocsin.leases import SENDING as SENDING

BEFORE, DUE, OVERDUE, DIGEST = "before", "due", "overdue", "digest"
REMINDER_KINDS = (BEFORE, DUE, OVERDUE)


class ActionItemNotice(Base):
    __tablename__ = "action_item_notices"
    __table_args__ = (
        Index("ix_action_item_notices_due", "status", "due_at"),
        Index("ix_action_item_notices_item", "item_id", "slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_items.id", ondelete="CASCADE"), nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    user_id: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(20))  # before | due | overdue | digest
    slot: Mapped[datetime] = mapped_column(UTCDateTime())  # the planned reminder/digest time
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class TrackerPush(Base):
    __tablename__ = "action_item_pushes"
    __table_args__ = (Index("ix_action_item_pushes_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id", ondelete="CASCADE"))
    tracker: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


def insert_notice(
    session: Session, *, key: str, item_id: int | None, team: str | None, user_id: str,
    kind: str, slot: datetime, due_at: datetime, now: datetime,
) -> int | None:
    """Queue a notice unless one with `key` exists; the new row's id, or None.

    ON CONFLICT DO NOTHING rather than catching IntegrityError: on PostgreSQL
    a failed insert aborts the whole transaction it runs in.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ActionItemNotice)
        .values(key=key, item_id=item_id, team=team, user_id=user_id, kind=kind, slot=slot,
                due_at=due_at, status=QUEUED, attempts=0, created_at=now, detail="")
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ActionItemNotice.id)
    )
    return session.scalars(statement).first()


def drop_queued_reminders(session: Session, item_id: int) -> int:
    """Delete the item's reminders not yet claimed; they are planned again from its new state.

    Deleted, not cancelled, so the same reminder time may be queued again
    (an owner changed away and back, a due date moved and moved back).
    """
    result = session.execute(
        delete(ActionItemNotice)
        .where(ActionItemNotice.item_id == item_id, ActionItemNotice.status == QUEUED)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def last_reminder_slot(session: Session, item_id: int) -> datetime | None:
    """The latest reminder time already queued, sent or given up for the item."""
    return session.scalars(
        select(ActionItemNotice.slot).where(ActionItemNotice.item_id == item_id)
        .order_by(ActionItemNotice.slot.desc()).limit(1)).first()


def has_queued_reminder(session: Session, item_id: int) -> bool:
    return session.scalars(
        select(ActionItemNotice.id).where(ActionItemNotice.item_id == item_id,
                                          ActionItemNotice.status.in_((QUEUED,
                                                                       SENDING)))
        .limit(1)).first() is not None


def queue_push(session: Session, *, item_id: int, tracker: str, requested_by: str,
               now: datetime) -> TrackerPush:
    push = TrackerPush(item_id=item_id, tracker=tracker, requested_by=requested_by, due_at=now,
                       status=QUEUED, attempts=0, created_at=now, detail="")
    session.add(push)
    session.flush()
    return push


def open_push(session: Session, item_id: int) -> TrackerPush | None:
    """A push of the item still waiting or under way."""
    return session.scalars(
        select(TrackerPush).where(TrackerPush.item_id == item_id,
                                  TrackerPush.status.in_((QUEUED, SENDING)))
        .limit(1)).first()


def claim_due(session: Session, *, now: datetime, lease_until: datetime,
                  limit: int) -> list[int]:
    return leases.claim_due(session, ActionItemNotice, now=now, lease_until=lease_until,
                            limit=limit)


def claim_pushes(session: Session, *, now: datetime, lease_until: datetime,
                 limit: int) -> list[int]:
    return leases.claim_due(session, TrackerPush, now=now, lease_until=lease_until,
                            limit=limit)


def earliest_due(session: Session) -> datetime | None:
    found = [leases.earliest_due(session, ActionItemNotice),
             leases.earliest_due(session, TrackerPush)]
    times = [t for t in found if t is not None]
    return min(times) if times else None
