"""Handoff notices: "your shift starts in 1 hour" and "you are now on call".

One row per schedule, person, shift start and kind. The unique constraint on
those four is what sends each notice once: every worker that plans the same
shift tries to insert the same row, and all but the first insert nothing,
whether they run at once or after a restart. Sending then works like a
delivery: claimed with a lease, sent with an idempotency key, then marked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, ScalarSelect, String, Text, UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.db import Base, UTCDateTime
from tocsin.leases import CANCELLED as CANCELLED
from tocsin.leases import FAILED as FAILED
from tocsin.leases import QUEUED as QUEUED
from tocsin.leases import SENDING as SENDING
from tocsin.leases import SENT as SENT

UPCOMING = "upcoming"
STARTED = "started"



class HandoffNotice(Base):
    __tablename__ = "handoff_notices"
    __table_args__ = (
        UniqueConstraint("schedule", "user_id", "shift_start", "kind",
                         name="uq_handoff_notices_shift"),
        Index("ix_handoff_notices_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(320))
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))  # upcoming | started
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")

    @property
    def idempotency_key(self) -> str:
        return f"handoff-{self.id}"


def insert_if_absent(
    session: Session, *, schedule: str, user_id: str, shift_start: datetime, kind: str,
    due_at: datetime, now: datetime,
) -> int | None:
    """Queue a notice unless it exists already; the new row's id, or None.

    ON CONFLICT DO NOTHING rather than catching IntegrityError: on PostgreSQL
    a failed insert aborts the whole transaction, and the other notices
    planned in it with it.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(HandoffNotice)
        .values(schedule=schedule, user_id=user_id, shift_start=shift_start, kind=kind,
                due_at=due_at, status=QUEUED, attempts=0, created_at=now, detail="")
        .on_conflict_do_nothing(index_elements=["schedule", "user_id", "shift_start", "kind"])
        .returning(HandoffNotice.id)
    )
    return session.scalars(statement).first()


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due notices; an expired lease is taken again."""
    return leases.claim_due(session, HandoffNotice, now=now, lease_until=lease_until,
                            limit=limit)


def earliest_due(session: Session) -> datetime | None:
    """When the next queued notice is due, or a lease runs out."""
    return leases.earliest_due(session, HandoffNotice)


def due_probes() -> list[ScalarSelect[Any]]:
    """As `earliest_due`, for the engine to read with other tables' (`leases.earliest`)."""
    return leases.due_probes(HandoffNotice)
