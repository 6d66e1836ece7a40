"""Tables for maintenance windows made at run time, and the alerts windows hold.

Windows written in the file live in the config; these rows are the ones
made with the CLI, the API or the UI. A row is never deleted: ending it
early sets `ended_at`, deleting it also sets `deleted_at`, so the record
of past maintenance (which the status page will show) stays whole.

A hold is an alert a window keeps from paging: written in the transaction
that decided not to page, so a crash cannot lose it, and released by the
engine once no window holds the alert any more (`maintenance_release`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.alerts.store import RESOLVED, Alert
from tocsin.db import Base, UTCDateTime

HELD = "held"
RELEASED = "released"  # the window ended and the alert's paging started
CLOSED = "closed"  # the window ended with the alert acknowledged or resolved: nobody paged
FAILED = "failed"  # releasing raised; the alert went to the fallback contact


class StoredWindow(Base):
    """A maintenance window made with the CLI, the API or the UI.

    It holds alerts over [start_at, min(end_at, ended_at)). Ending one
    before it starts (`ended_at <= start_at`) means it never holds any.
    """

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_end", "end_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    match: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    match_re: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())  # as planned
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(40))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    @property
    def effective_end(self) -> datetime:
        """When it stops holding alerts: its planned end, or when it was ended."""
        if self.ended_at is not None and self.ended_at < self.end_at:
            return self.ended_at
        return self.end_at


class MaintenanceHold(Base):
    """An alert a window holds. `step` is None for an alert held before it was
    routed (it is routed on release); otherwise the escalation step (from 0)
    and pass to run when it is released, of the chain `policy` (None: the
    alert's own policy; a name: a further policy a route with `continue`
    added, held on its own row)."""

    __tablename__ = "maintenance_holds"
    __table_args__ = (
        Index("ix_maintenance_holds_state", "state"),
        Index("ix_maintenance_holds_alert", "alert_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    window: Mapped[str] = mapped_column(String(250))  # "config:<name>" or a window's id
    label: Mapped[str] = mapped_column(String(250))  # the window's name when it was held
    until: Mapped[datetime] = mapped_column(UTCDateTime())  # its end as known then
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pass_number: Mapped[int] = mapped_column(Integer, default=0)
    policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=HELD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def in_force_at(session: Session, at: datetime) -> list[StoredWindow]:
    query = (
        select(StoredWindow)
        .where(StoredWindow.start_at <= at, StoredWindow.end_at > at,
               or_(StoredWindow.ended_at.is_(None), StoredWindow.ended_at > at))
        .order_by(StoredWindow.id)
    )
    return list(session.scalars(query))


def by_ids(session: Session, ids: Iterable[int]) -> dict[int, StoredWindow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(StoredWindow).where(StoredWindow.id.in_(wanted)))
    return {row.id: row for row in rows}


def listed(session: Session, *, include_all: bool, now: datetime) -> list[StoredWindow]:
    """Windows by start; without `include_all`, only those not over nor deleted."""
    query = select(StoredWindow)
    if not include_all:
        query = query.where(
            StoredWindow.deleted_at.is_(None), StoredWindow.end_at > now,
            or_(StoredWindow.ended_at.is_(None), StoredWindow.ended_at > now))
    return list(session.scalars(query.order_by(StoredWindow.start_at, StoredWindow.id)))


def get_window(session: Session, window_id: int, *, lock: bool = False) -> StoredWindow | None:
    query = select(StoredWindow).where(StoredWindow.id == window_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def held(session: Session) -> list[MaintenanceHold]:
    query = select(MaintenanceHold).where(MaintenanceHold.state == HELD)
    return list(session.scalars(query.order_by(MaintenanceHold.id)))


def held_for(
    session: Session, alert_id: int, policy: str | None = None,
) -> MaintenanceHold | None:
    """The hold in force of the alert's chain `policy` (None: its own), if any;
    callers hold the alert's row lock."""
    chain = MaintenanceHold.policy.is_(None) if policy is None else (
        MaintenanceHold.policy == policy)
    query = select(MaintenanceHold).where(MaintenanceHold.alert_id == alert_id,
                                          MaintenanceHold.state == HELD, chain)
    return session.scalars(query.order_by(MaintenanceHold.id.desc()).limit(1)).first()


def lock_hold(session: Session, hold_id: int) -> MaintenanceHold | None:
    """The hold, locked and read afresh: another engine may have released it."""
    query = (
        select(MaintenanceHold)
        .where(MaintenanceHold.id == hold_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def held_alert_ids(session: Session, window: str) -> list[int]:
    """The open alerts the window `window` holds now, oldest first."""
    query = (
        select(MaintenanceHold.alert_id)
        .join(Alert, Alert.id == MaintenanceHold.alert_id)
        .where(MaintenanceHold.state == HELD, MaintenanceHold.window == window,
               Alert.status != RESOLVED)
        .distinct()  # an alert with several policies may have a hold for each
        .order_by(MaintenanceHold.alert_id)
    )
    return list(session.scalars(query))


def holds_of(session: Session, alert_id: int) -> list[MaintenanceHold]:
    query = select(MaintenanceHold).where(MaintenanceHold.alert_id == alert_id)
    return list(session.scalars(query.order_by(MaintenanceHold.id)))
