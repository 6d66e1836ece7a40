"""Heartbeat state: one row per heartbeat name, made by its first ping or miss.

The definitions (interval, grace, key) live in the config; this row holds
what happened: the last ping, and whether the heartbeat is missed now and
which alert that raised. A ping and the engine's check both lock the row
first, so they take turns and the second sees what the first wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime


class HeartbeatState(Base):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_ping_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pings: Mapped[int] = mapped_column(Integer, default=0)
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The alert the latest miss raised; kept after the heartbeat recovers.
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
    )
    expiries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def lock(
    session: Session, *, name: str, now: datetime, skip_locked: bool = False,
) -> HeartbeatState | None:
    """The heartbeat's row, made if absent, locked for this transaction.

    With `skip_locked`, None when another transaction holds it (the engine
    then leaves the heartbeat to that one). ON CONFLICT DO NOTHING because a
    failed insert would abort the whole transaction on PostgreSQL.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(HeartbeatState)
        .values(name=name, pings=0, expired=False, expiries=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    query = (
        select(HeartbeatState)
        .where(HeartbeatState.name == name)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def states(session: Session, names: Iterable[str]) -> dict[str, HeartbeatState]:
    """The rows of these heartbeats that exist, by name; nothing is locked."""
    wanted = list(names)
    if not wanted:
        return {}
    rows = session.scalars(select(HeartbeatState).where(HeartbeatState.name.in_(wanted)))
    return {row.name: row for row in rows}
