"""Tables the metrics need that no other domain keeps: on-call survey answers, and
the report's per-day rollups.

Everything else the metrics show is computed from rows other domains
already write (alerts, alert events, incidents, their timelines, recorded
shifts, status history, post-mortems, action items); nothing is typed in.
The rollups (`metrics.rollups`, docs/metrics.md) are figures of whole UTC days
kept so that a year's report need not read a year's alerts; database triggers
(migration 0027) delete a day's rollup whenever a row it was computed from changes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, UTCDateTime


class ShiftSurvey(Base):
    """The one-question survey (1 to 5) sent to a person when their shift ends."""

    __tablename__ = "shift_surveys"
    __table_args__ = (
        UniqueConstraint("user_id", "schedule", "shift_end", name="uq_shift_surveys_shift"),
        Index("ix_shift_surveys_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(200))
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime())
    shift_end: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlertDay(Base):
    """The alert figures of the alerts triggered on one UTC day (`queries.alert_figures`
    over that day), and the day's times to first acknowledgement, sorted, as doubles
    (`array('d')`). The row is the day's mark: no row, no rollup."""

    __tablename__ = "report_alert_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    paged: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[int] = mapped_column(Integer)
    marked: Mapped[int] = mapped_column(Integer)
    sourced: Mapped[int] = mapped_column(Integer)
    acked: Mapped[int] = mapped_column(Integer)
    sourced_acked: Mapped[int] = mapped_column(Integer)
    ack_sum: Mapped[float] = mapped_column(Float)
    ack_seconds: Mapped[bytes] = mapped_column(LargeBinary)


class PageDay(Base):
    """The mark of a UTC day whose first pages are rolled up (`FirstPages`,
    `RepeatPage`): no row, no rollup, whatever rows those tables hold for the day."""

    __tablename__ = "report_page_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class FirstPages(Base):
    """One person's pages of one UTC day that were the first page of their alert to them
    ever, as POSIX seconds, sorted, as doubles (`array('d')`)."""

    __tablename__ = "report_first_pages"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    seconds: Mapped[bytes] = mapped_column(LargeBinary)


class RepeatPage(Base):
    """A page that was the first of its alert to its person that UTC day but not the
    first ever: it counts in a window that starts after `previous`, the latest earlier
    page of that alert to that person."""

    __tablename__ = "report_repeat_pages"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    alert_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seconds: Mapped[float] = mapped_column(Float)
    previous: Mapped[datetime] = mapped_column(UTCDateTime())
