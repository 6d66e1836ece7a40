"""Recorded past shifts and the watermark up to which they are recorded.

Each schedule has one `shift_watermarks` row: shifts in [recorded_from,
recorded_until) are read from `recorded_shifts`, never recomputed. The
recorder locks that row for the whole of its transaction, so two workers
recording the same schedule take turns and the second sees the first's
watermark (see decision 0005).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime


class ShiftWatermark(Base):
    __tablename__ = "shift_watermarks"

    schedule: Mapped[str] = mapped_column(String(200), primary_key=True)
    recorded_from: Mapped[datetime] = mapped_column(UTCDateTime())  # the first watermark
    recorded_until: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordedShift(Base):
    """One piece of a final shift, clipped to the range recorded in one run.

    `shift_start` is the start of the whole shift the piece was cut from:
    pieces of one user, source and shift_start that touch are one shift.
    """

    __tablename__ = "recorded_shifts"
    __table_args__ = (
        UniqueConstraint("schedule", "user_id", "source", "start_at",
                         name="uq_recorded_shifts_piece"),
        Index("ix_recorded_shifts_range", "schedule", "end_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(250))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime())


def watermark(session: Session, schedule: str) -> ShiftWatermark | None:
    return session.get(ShiftWatermark, schedule)


def lock_watermark(session: Session, schedule: str, *, now: datetime) -> ShiftWatermark:
    """The schedule's watermark row, created at `now` if absent, locked until commit.

    FOR UPDATE makes a second recorder wait here and then read the row the
    first one committed; SQLite ignores it, but there every transaction
    begins IMMEDIATE and so already holds the write lock.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(ShiftWatermark)
        .values(schedule=schedule, recorded_from=now, recorded_until=now)
        .on_conflict_do_nothing(index_elements=["schedule"])
    )
    query = (select(ShiftWatermark).where(ShiftWatermark.schedule == schedule)
             .with_for_update().execution_options(populate_existing=True))
    return session.scalars(query).one()


def add_pieces(session: Session, pieces: Iterable[RecordedShift]) -> None:
    session.add_all(pieces)


def overlapping(
    session: Session, *, schedule: str, start: datetime, end: datetime,
) -> list[RecordedShift]:
    query = select(RecordedShift).where(
        RecordedShift.schedule == schedule,
        RecordedShift.start_at < end,
        RecordedShift.end_at > start,
    )
    return list(session.scalars(query))


def of_shifts(
    session: Session, *, schedule: str, shift_starts: Iterable[datetime],
) -> list[RecordedShift]:
    """Every recorded piece cut from a shift starting at one of `shift_starts`."""
    starts = sorted(set(shift_starts))
    if not starts:
        return []
    query = select(RecordedShift).where(
        RecordedShift.schedule == schedule, RecordedShift.shift_start.in_(starts),
    )
    return list(session.scalars(query))
