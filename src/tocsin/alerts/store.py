"""Tables for alerts, their timelines, and the changes sources report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, UTCDateTime

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"


class Alert(Base):
    """One alert: an integration plus a dedup key, from trigger to resolve.

    `open_key` holds the dedup key while the alert is open and NULL once it is
    resolved; the unique constraint on it makes "one open alert per key" hold
    even when two requests race.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("integration", "open_key", name="uq_alerts_open_key"),
        Index("ix_alerts_integration_dedup", "integration", "dedup_key"),
        Index("ix_alerts_status", "status"),
        Index("ix_alerts_group", "group_id"),
        # Storm detection counts the alerts of the last minute (alerts.storm_store).
        Index("ix_alerts_triggered_at", "triggered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(200))
    dedup_key: Mapped[str] = mapped_column(String(255))
    open_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    instance: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=TRIGGERED)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str | None] = mapped_column(String(64), nullable=True)
    service: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    runbook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    route: Mapped[str | None] = mapped_column(Text, nullable=True)
    policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    urgency: Mapped[str] = mapped_column(String(10), default="high")
    channels: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # Targets the sender named for this alert ([{kind, name}]), paged instead
    # of the route's; NULL for alerts that follow their route.
    responders: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=-1)
    pass_number: Mapped[int] = mapped_column(Integer, default=0)
    event_count: Mapped[int] = mapped_column(Integer, default=1)
    # Set while the alert's key flaps (alerts.flapping); cleared at a later event. The
    # migration gives it a server default for old rows; the model none, so that a batch
    # of new alerts needs no RETURNING and stays one executemany.
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    triggered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The first acknowledgement ever, kept through unacknowledge and lapse: the report's
    # time to acknowledge with no join over alert_events (migration 0026).
    first_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(),
                                                                   nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The group a route's `group_by` put it in (alerts.groups); NULL: not grouped.
    # Not a foreign key: SQLite would rebuild this table to add one, and
    # groups, like alerts, are never deleted.
    group_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Marked by a responder as needing no action (a metric; who and when: alert_events).
    # No server default here (migration 0022 has one for old rows): with one, SQLite
    # would insert a storm's alerts one statement each to read the default back.
    not_actionable: Mapped[bool] = mapped_column(Boolean, default=False)


class AlertEvent(Base):
    """A row of an alert's timeline: what happened, when, and who did it."""

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("ix_alert_events_alert", "alert_id", "id"),
        # The report reads each alert's first acknowledgement with one seek (metrics.queries).
        Index("ix_alert_events_first", "alert_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    surface: Mapped[str | None] = mapped_column(String(40), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChangeEvent(Base):
    """A change a source reported (a deploy, a flag flip): shown beside alerts, pages nobody."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_service", "service", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the source says the change happened; when it does not say, when it arrived.
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    details: Mapped[Any] = mapped_column(JSON, nullable=True)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
