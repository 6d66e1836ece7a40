"""Opsgenie-style request records: what became of each accepted write.

Opsgenie answers a write with 202 and a request id, and its clients poll
`GET /v2/alerts/requests/{id}` for the outcome. Tocsin applies the write
before answering, so the record is written in the same transaction as the
alert it touched and is complete by the time the client can ask.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime


class AlertRequest(Base):
    __tablename__ = "alert_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID, as Opsgenie's
    integration: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))  # Create, Acknowledge, Close
    success: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text)  # in words: "Created alert", ...
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True)
    alias: Mapped[str | None] = mapped_column(Text, nullable=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def record(
    session: Session, *, request_id: str, integration: str, action: str, success: bool,
    status: str, alert_id: int | None, alias: str | None, now: datetime,
) -> AlertRequest:
    row = AlertRequest(id=request_id, integration=integration, action=action, success=success,
                       status=status, alert_id=alert_id, alias=alias, processed_at=now)
    session.add(row)
    session.flush()
    return row


def find(session: Session, *, request_id: str, integration: str) -> AlertRequest | None:
    """The request, only for the integration that made it."""
    query = select(AlertRequest).where(AlertRequest.id == request_id,
                                       AlertRequest.integration == integration)
    return session.scalars(query).first()
