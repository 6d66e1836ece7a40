"""Tables for incidents: the incident, its roles, timeline, members, linked
alerts, posted updates, and the Slack work it leaves for the Slack worker.

The timeline is a table, not a log: every change writes a row with its
actor and time, and manual entries may be backdated and edited (who edited
and when are kept). Slack work (`incident_slack_tasks`) is an outbox: a
row with a due time, written in the same transaction as the change that
caused it, leased and sent by the Slack worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db import Base, UTCDateTime

STATUSES = ("investigating", "identified", "monitoring", "resolved")
RESOLVED = "resolved"

# Kinds of Slack work; the payload of each is described in docs/incidents.md.
CREATE_CHANNEL = "create_channel"
POST = "post"
POST_CHANNEL = "post_channel"
INVITE = "invite"
SET_TOPIC = "set_topic"
REMIND_UPDATE = "remind_update"
TASK_KINDS = (CREATE_CHANNEL, POST, POST_CHANNEL, INVITE, SET_TOPIC, REMIND_UPDATE)
TASK_PENDING, TASK_DONE, TASK_FAILED = "pending", "done", "failed"


class Incident(Base):
    """An incident. Its number never repeats, even after rows are deleted."""

    __tablename__ = "incidents"
    __table_args__ = (
        # Every slash command in a channel and every reaction finds its incident by it.
        Index("ix_incidents_slack_channel", "slack_channel_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="investigating")
    commander: Mapped[str | None] = mapped_column(String(200), nullable=True)
    target_mttr_minutes: Mapped[float] = mapped_column(Float, default=0)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    declared_by: Mapped[str] = mapped_column(String(200))
    impact_start: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    services: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # customer-facing
    users_affected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    root_cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    slack_channel_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    slack_channel_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def key(self) -> str:
        return f"INC-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED


class IncidentRole(Base):
    """Who holds a role now; earlier holders are on the timeline."""

    __tablename__ = "incident_roles"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_incident_roles_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(80))  # as the config spells it
    user_id: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assigned_by: Mapped[str] = mapped_column(String(200))


class TimelineRow(Base):
    __tablename__ = "incident_timeline"
    __table_args__ = (
        UniqueConstraint("incident_id", "slack_ts", name="uq_incident_timeline_slack_ts"),
        Index("ix_incident_timeline_when", "incident_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    surface: Mapped[str | None] = mapped_column(String(40), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    edited_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The Slack message pinned into the timeline (a reaction); one entry per message.
    slack_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)


class IncidentAlert(Base):
    """An alert linked to an incident: by a person, or a page the incident sent."""

    __tablename__ = "incident_alerts"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))  # "linked" or "page"
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(String(200))


class IncidentMember(Base):
    """Who may see a private incident (admins see every incident)."""

    __tablename__ = "incident_members"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(200))


class IncidentUpdate(Base):
    """An update posted to the channel and the stakeholders."""

    __tablename__ = "incident_updates"
    __table_args__ = (Index("ix_incident_updates_incident", "incident_id", "posted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_by: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(40))


class SlackTask(Base):
    """Slack work for an incident, sent by the Slack worker after commit."""

    __tablename__ = "incident_slack_tasks"
    __table_args__ = (
        Index("ix_incident_slack_tasks_due", "status", "due_at"),
        Index("ix_incident_slack_tasks_incident", "incident_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[str] = mapped_column(Text)  # JSON text
    status: Mapped[str] = mapped_column(String(20), default=TASK_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
