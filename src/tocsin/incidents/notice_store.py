"""E-mail notices to stakeholders: an incident declared, an update posted.

Stakeholders are told, never paged: a notice goes only to a person's e-mail
contact, through the engine's notice sender (leased, sent with an
idempotency key, retried), like handoff notices. Slack channels and Slack
direct messages go through the incident's Slack work instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, ScalarSelect, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.db import Base, UTCDateTime
from tocsin.leases import QUEUED


class IncidentNotice(Base):
    __tablename__ = "incident_notices"
    __table_args__ = (Index("ix_incident_notices_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


def queue(session: Session, *, incident_id: int, user_id: str, text: str,
          now: datetime) -> IncidentNotice:
    notice = IncidentNotice(incident_id=incident_id, user_id=user_id, text=text, due_at=now,
                            status=QUEUED, attempts=0, created_at=now, detail="")
    session.add(notice)
    return notice


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due notices; an expired lease is taken again."""
    return leases.claim_due(session, IncidentNotice, now=now, lease_until=lease_until,
                            limit=limit)


def earliest_due(session: Session) -> datetime | None:
    return leases.earliest_due(session, IncidentNotice)


def due_probes() -> list[ScalarSelect[Any]]:
    """As `earliest_due`, for the engine to read with other tables' (`leases.earliest`)."""
    return leases.due_probes(IncidentNotice)
