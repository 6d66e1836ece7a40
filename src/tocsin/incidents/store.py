"""Tables for incidents. The workflow grows in later releases; the model starts here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, UTCDateTime

STATUSES = ("investigating", "identified", "monitoring", "resolved")


class Incident(Base):
    """An incident. Its number never repeats, even after rows are deleted."""

    __tablename__ = "incidents"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="investigating")
    commander: Mapped[str | None] = mapped_column(String(200), nullable=True)
    target_mttr_minutes: Mapped[float] = mapped_column(Float, default=0)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    declared_by: Mapped[str] = mapped_column(String(200))
    impact_start: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def key(self) -> str:
        return f"INC-{self.id}"
