"""Tables of status page subscribers and the notices queued for them.

A subscriber is an e-mail address (sent nothing until it confirms) or a
webhook endpoint (with its own signing secret), to the whole page (no
components) or to the components it chose. `status_notices` is their
outbox: one row per subscriber and public update (or maintenance notice),
plus the confirmation e-mail, sent by the engine (`engine.status_notices`).
`status_fanout` marks each public update (and maintenance notice) already
queued for the subscribers of its time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime

EMAIL, WEBHOOK = "email", "webhook"
CONFIRM, UPDATE = "confirm", "update"
# A maintenance notice: `update_id` holds its number (maintenance_notices.notice_number).
MAINTENANCE = "maint"
PENDING, SENT, FAILED = "pending", "sent", "failed"
MAX_ADDRESS = 500


class StatusSubscriber(Base):
    __tablename__ = "status_subscribers"
    __table_args__ = (Index("ix_status_subscribers_address", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(MAX_ADDRESS))
    components: Mapped[list[str]] = mapped_column(JSON)  # empty: the whole page
    secret: Mapped[str | None] = mapped_column(String(100), nullable=True)  # webhooks
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StatusNotice(Base):
    __tablename__ = "status_notices"
    __table_args__ = (UniqueConstraint("subscriber_id", "update_id",
                                       name="uq_status_notices_subscriber_update"),
                      Index("ix_status_notices_due", "state", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("status_subscribers.id"))
    kind: Mapped[str] = mapped_column(String(10))
    update_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # also the lease while sending
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StatusFanout(Base):
    __tablename__ = "status_fanout"

    update_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


def earliest_due(session: Session) -> datetime | None:
    return session.scalars(select(StatusNotice.due_at).where(StatusNotice.state == PENDING)
                           .order_by(StatusNotice.due_at).limit(1)).first()
