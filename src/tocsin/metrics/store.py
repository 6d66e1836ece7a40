"""Tables the metrics need that no other domain keeps: on-call survey answers.

Everything else the metrics show is computed from rows other domains
already write (alerts, alert events, incidents, their timelines, recorded
shifts, status history, post-mortems, action items); nothing is typed in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
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
