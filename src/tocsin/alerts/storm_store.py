"""Counting the alerts each route took lately, and which routes are in storm.

The count is one grouped query over the alerts of the last minute (through
the index on `triggered_at`), run by the engine, never by ingest. A route's
storm is a row, so every engine agrees when one starts and ends, and the
transition is logged once: an update only changes the row when it was in
the other state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.alerts.store import Alert
from tocsin.db import Base, UTCDateTime

ROUTE_LENGTH = 255


class RouteStorm(Base):
    __tablename__ = "route_storms"

    route: Mapped[str] = mapped_column(String(ROUTE_LENGTH), primary_key=True)  # its path
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # None: calm
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    peak: Mapped[int] = mapped_column(Integer, default=0)  # most alerts in a minute, this storm


def recent_counts(session: Session, *, since: datetime, until: datetime) -> dict[str, int]:
    """Alerts that triggered in (since, until], by the route they took."""
    query = (
        select(Alert.route, func.count())
        .where(Alert.triggered_at > since, Alert.triggered_at <= until, Alert.route.is_not(None))
        .group_by(Alert.route)
    )
    return {str(route): int(count) for route, count in session.execute(query)}


def raging(session: Session) -> dict[str, int]:
    """Routes in storm now, with the peak each has reached."""
    query = select(RouteStorm.route, RouteStorm.peak).where(RouteStorm.started_at.is_not(None))
    return {route: peak for route, peak in session.execute(query)}


def start(session: Session, *, route: str, alerts: int, now: datetime) -> bool:
    """Mark the route in storm; True when this call started the storm."""
    route = route[:ROUTE_LENGTH]
    changed = session.execute(
        update(RouteStorm).where(RouteStorm.route == route, RouteStorm.started_at.is_(None))
        .values(started_at=now, ended_at=None, peak=alerts))
    if changed.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(RouteStorm, route) is not None:
        raise_peak(session, route=route, alerts=alerts)
        return False  # another engine started it since we looked
    try:
        with session.begin_nested():
            session.add(RouteStorm(route=route, started_at=now, peak=alerts))
    except IntegrityError:
        return False  # another engine started it at the same moment
    return True


def raise_peak(session: Session, *, route: str, alerts: int) -> None:
    session.execute(update(RouteStorm)
                    .where(RouteStorm.route == route[:ROUTE_LENGTH], RouteStorm.peak < alerts)
                    .values(peak=alerts))


def end(session: Session, *, route: str, now: datetime) -> bool:
    """Mark the route calm again; True when this call ended the storm."""
    changed = session.execute(
        update(RouteStorm).where(RouteStorm.route == route[:ROUTE_LENGTH],
                                 RouteStorm.started_at.is_not(None))
        .values(started_at=None, ended_at=now))
    return bool(changed.rowcount)  # type: ignore[attr-defined]
