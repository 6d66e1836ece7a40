"""The audit log: every change made by a person or a token.

Actor, surface (api, cli, ui, slack, sms, link, source), time, and the
state before and after. Rows are only ever added.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session, *, now: datetime, actor: str, surface: str, action: str,
    object_type: str, object_id: str | int,
    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now, actor=actor, surface=surface, action=action, object_type=object_type,
        object_id=str(object_id), before=before or {}, after=after or {},
    )
    session.add(entry)
    return entry
