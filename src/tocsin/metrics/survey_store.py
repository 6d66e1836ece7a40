"""Queries on `shift_surveys` (the table is in metrics.store).

The table has no status or lease columns, so a survey row leases itself
with its due time: claiming moves `due_at` a lease ahead, and a worker that
dies before recording the send leaves it to fall due again, when another
worker sends it once more (at least once, like every outbox here).
`sent_at` marks a survey done: sent on `channel`, or given up (`NOT_SENT`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tocsin.metrics.store import ShiftSurvey

NOT_SENT = "none"  # `channel` of a survey no channel could deliver


def insert_if_absent(
    session: Session, *, user_id: str, schedule: str, shift_start: datetime,
    shift_end: datetime, due_at: datetime,
) -> int | None:
    """Queue a survey unless the shift has one; the new row's id, or None.

    ON CONFLICT DO NOTHING: every worker plans the same shifts, and on
    PostgreSQL a failed insert would abort the whole transaction.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ShiftSurvey)
        .values(user_id=user_id, schedule=schedule, shift_start=shift_start,
                shift_end=shift_end, due_at=due_at)
        .on_conflict_do_nothing(index_elements=["user_id", "schedule", "shift_end"])
        .returning(ShiftSurvey.id)
    )
    return session.scalars(statement).first()


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` unsent surveys that are due (or whose lease ran out)."""
    query = (
        select(ShiftSurvey)
        .where(ShiftSurvey.sent_at.is_(None), ShiftSurvey.due_at <= now)
        .order_by(ShiftSurvey.due_at, ShiftSurvey.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(session.scalars(query))
    for row in claimed:
        row.due_at = lease_until
    return [row.id for row in claimed]


def earliest_due(session: Session) -> datetime | None:
    """When the next unsent survey falls due (or a lease on one runs out)."""
    query = select(func.min(ShiftSurvey.due_at)).where(ShiftSurvey.sent_at.is_(None))
    return session.scalars(query).first()


def get(session: Session, survey_id: int, *, lock: bool = False) -> ShiftSurvey | None:
    if not 0 < survey_id < 2**31:
        return None
    query = select(ShiftSurvey).where(ShiftSurvey.id == survey_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()
