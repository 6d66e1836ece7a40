"""Answered requests: a Slack click or a Twilio reply acts once, however often it arrives.

Slack and Twilio retry a delivery they think failed, and a signed request
can be posted again by anyone who saw it. Each answer that acts on an alert
first inserts its request's key here, in the transaction that acts; the
unique (source, key) lets only one copy through, on SQLite (one writer at a
time) and on PostgreSQL (a second insert waits for the first and then finds
it). A repeat within `KEEP` is told what the first was told and changes
nothing. Rows older than `KEEP` are deleted a few at a time as new ones come.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Index, String, Text, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime
from tocsin.logs import event

logger = logging.getLogger(__name__)

SLACK = "slack"  # key: the X-Slack-Signature value (unique per timestamp and body)
SMS = "sms"  # key: Twilio's MessageSid, else SmsSid
KEYPAD = "phone"  # key: Twilio's CallSid and the digits pressed
UI_FORM = "ui_form"  # key: the user and the one-time token of a form that creates

KEEP = timedelta(days=1)
_PRUNE_BATCH = 100
_KEY_LENGTH = 200


class AnsweredRequest(Base):
    __tablename__ = "answered_requests"
    __table_args__ = (
        UniqueConstraint("source", "key", name="uq_answered_requests_source_key"),
        Index("ix_answered_requests_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(_KEY_LENGTH))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reply: Mapped[str] = mapped_column(Text, default="")  # what the first copy was told


def claim(session: Session, *, source: str, key: str, now: datetime,
          alert_id: int | None = None) -> bool:
    """Record that `key` is being answered; False when a copy of it already was."""
    _prune(session, now)
    values = {"source": source, "key": key[:_KEY_LENGTH], "answered_at": now, "reply": ""}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(AnsweredRequest).values(values)
                 .on_conflict_do_nothing(index_elements=["source", "key"])
                 .returning(AnsweredRequest.id))
    inserted = session.execute(statement).scalar_one_or_none() is not None
    if not inserted:
        event(logger, "replay.ignored", source=source, alert_id=alert_id)
    return inserted


def remember_reply(session: Session, *, source: str, key: str, reply: str) -> None:
    """Keep what the claimed request was told, for its repeats."""
    row = _find(session, source, key)
    if row is not None:
        row.reply = reply
        session.flush()


def first_reply(session: Session, *, source: str, key: str) -> str:
    """What the first copy of `key` was told; "" when it said nothing."""
    row = _find(session, source, key)
    return row.reply if row is not None else ""


def _find(session: Session, source: str, key: str) -> AnsweredRequest | None:
    query = select(AnsweredRequest).where(AnsweredRequest.source == source,
                                          AnsweredRequest.key == key[:_KEY_LENGTH])
    return session.scalars(query).first()


def _prune(session: Session, now: datetime) -> None:
    old = (select(AnsweredRequest.id).where(AnsweredRequest.answered_at < now - KEEP)
           .order_by(AnsweredRequest.answered_at).limit(_PRUNE_BATCH))
    session.execute(delete(AnsweredRequest).where(AnsweredRequest.id.in_(old))
                    .execution_options(synchronize_session=False))
