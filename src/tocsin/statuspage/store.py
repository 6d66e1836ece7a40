"""Tables of the status page: public incidents, their updates, component history.

A public incident is the face customers see; it may name the incident (issue
6) it stands for by id, without a foreign key, so either can be kept or
archived alone. Its state is not stored twice: `status` and `resolved_at`
here are recomputed from all its updates on every write (`rules`).

The component history is one row per status a public update set, at the
update's display time, so uptime and the page read one ordered list.
Components are named as in the file; a renamed component starts a new history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime

MAX_TITLE = 300
MAX_BODY = 20_000


class StatusIncident(Base):
    __tablename__ = "status_incidents"
    __table_args__ = (Index("ix_status_incidents_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(MAX_TITLE))
    impact: Mapped[str] = mapped_column(String(20))
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # issue 6's
    status: Mapped[str] = mapped_column(String(20))  # of the latest update by display time
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusUpdate(Base):
    __tablename__ = "status_incident_updates"
    __table_args__ = (Index("ix_status_updates_incident", "status_incident_id", "display_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status_incident_id: Mapped[int] = mapped_column(
        ForeignKey("status_incidents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    display_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # {component name: new status} as the person wrote it (plus implied resolves).
    components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(40))


class ComponentChange(Base):
    __tablename__ = "status_component_history"
    __table_args__ = (Index("ix_status_history_component", "component", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    component: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_incident_updates.id", ondelete="CASCADE"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


def get_incident(session: Session, incident_id: int, *, lock: bool = False
                 ) -> StatusIncident | None:
    query = select(StatusIncident).where(StatusIncident.id == incident_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def incidents(session: Session, *, limit: int, open_only: bool = False,
              since: datetime | None = None) -> list[StatusIncident]:
    """Most recently started first."""
    query = select(StatusIncident)
    if open_only:
        query = query.where(StatusIncident.resolved_at.is_(None))
    if since is not None:
        query = query.where(StatusIncident.started_at >= since)
    query = query.order_by(StatusIncident.started_at.desc(), StatusIncident.id.desc())
    return list(session.scalars(query.limit(limit)))


def updates_of(session: Session, incident_ids: Iterable[int]) -> dict[int, list[StatusUpdate]]:
    wanted = sorted(set(incident_ids))
    found: dict[int, list[StatusUpdate]] = {incident: [] for incident in wanted}
    if not wanted:
        return found
    query = select(StatusUpdate).where(StatusUpdate.status_incident_id.in_(wanted))
    for row in session.scalars(query.order_by(StatusUpdate.display_at, StatusUpdate.id)):
        found[row.status_incident_id].append(row)
    return found


def history(session: Session, components: Iterable[str]) -> dict[str, list[ComponentChange]]:
    """Each component's changes, oldest first by display time then entry order."""
    wanted = sorted(set(components))
    found: dict[str, list[ComponentChange]] = {name: [] for name in wanted}
    if not wanted:
        return found
    query = select(ComponentChange).where(ComponentChange.component.in_(wanted))
    for row in session.scalars(query.order_by(ComponentChange.at, ComponentChange.id)):
        found[row.component].append(row)
    return found


def for_incident(session: Session, incident_id: int, *, lock: bool = False
                 ) -> StatusIncident | None:
    """The public face of an incident (issue 6's id): the most recently made, if any."""
    query = (select(StatusIncident).where(StatusIncident.incident_id == incident_id)
             .order_by(StatusIncident.id.desc()).limit(1))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()
