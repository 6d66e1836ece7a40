"""Gap notices: "nobody is on call for SCHEDULE from T1 to T2", once per gap and person.

One row per schedule, gap and person. A gap is named by its start and end
(`gap_key`), so the unique constraint on the three sends each notice once:
every worker that plans the same gap tries to insert the same row, and all
but the first insert nothing, whether at once or after a restart. An edit
that moves either end makes a different gap, noticed once more. Sending
works like a handoff notice: claimed with a lease, sent with an idempotency
key, then marked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, ScalarSelect, String, Text, UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.db import Base, UTCDateTime
from tocsin.leases import QUEUED


class GapNotice(Base):
    __tablename__ = "gap_notices"
    __table_args__ = (
        UniqueConstraint("schedule", "gap_key", "user_id", name="uq_gap_notices_gap"),
        Index("ix_gap_notices_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(200))
    # "<start>/<end>" in UTC, or "<start>/open" for a gap that outlasts the days looked at
    gap_key: Mapped[str] = mapped_column(String(60))
    gap_start: Mapped[datetime] = mapped_column(UTCDateTime())
    gap_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    user_id: Mapped[str] = mapped_column(String(320))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


def insert_if_absent(
    session: Session, *, schedule: str, gap_key: str, gap_start: datetime,
    gap_end: datetime | None, user_id: str, now: datetime,
) -> int | None:
    """Queue a notice, due now, unless it exists already; the new row's id, or None.

    ON CONFLICT DO NOTHING, as for handoff notices: on PostgreSQL a failed
    insert would abort the whole transaction.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(GapNotice)
        .values(schedule=schedule, gap_key=gap_key, gap_start=gap_start, gap_end=gap_end,
                user_id=user_id, due_at=now, status=QUEUED, attempts=0, created_at=now,
                detail="")
        .on_conflict_do_nothing(index_elements=["schedule", "gap_key", "user_id"])
        .returning(GapNotice.id)
    )
    return session.scalars(statement).first()


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due notices; an expired lease is taken again."""
    return leases.claim_due(session, GapNotice, now=now, lease_until=lease_until, limit=limit)


def earliest_due(session: Session) -> datetime | None:
    """When the next queued notice is due, or a lease runs out."""
    return leases.earliest_due(session, GapNotice)


def due_probes() -> list[ScalarSelect[Any]]:
    """As `earliest_due`, for the engine to read with other tables' (`leases.earliest`)."""
    return leases.due_probes(GapNotice)
