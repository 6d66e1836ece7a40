"""Overrides made in the UI, API or CLI. The file's own overrides live in the config."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Index, Integer, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime


class ScheduleOverride(Base):
    """One override, kept after deletion (with who deleted it) for the audit trail.

    Deleting one before it begins takes it out of force; deleting one that is
    running ends it then (`end_at` moves to `deleted_at`) and keeps the part
    served. So a row is in force unless it was deleted at or before its start.
    """

    __tablename__ = "schedule_overrides"
    __table_args__ = (Index("ix_schedule_overrides_range", "schedule", "end_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(10))  # replace | add | whole
    replaces: Mapped[str | None] = mapped_column(String(320), nullable=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(40))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


def in_force() -> ColumnElement[bool]:
    """The rows that still apply over [start_at, end_at): see the class docstring."""
    return or_(ScheduleOverride.deleted_at.is_(None),
               ScheduleOverride.deleted_at > ScheduleOverride.start_at)


def live_overlapping(
    session: Session, *, schedule: str, start: datetime, end: datetime,
) -> list[ScheduleOverride]:
    """Overrides of `schedule` in force that overlap [start, end), oldest first."""
    query = (
        select(ScheduleOverride)
        .where(
            ScheduleOverride.schedule == schedule,
            in_force(),
            ScheduleOverride.start_at < end,
            ScheduleOverride.end_at > start,
        )
        .order_by(ScheduleOverride.id)
    )
    return list(session.scalars(query))
