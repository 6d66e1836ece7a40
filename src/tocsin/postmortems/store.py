"""Tables for post-mortems and their action items.

A post-mortem is one document per incident. Its sections are columns (the
why-chain and the chosen timeline entries as JSON lists), so the Markdown
export, the web editor and the metrics read the same values; the Markdown
template only decides how they are laid out. Action items belong to an
incident and, when written from one, to its post-mortem; an item pushed to
an issue tracker remembers where, and the tracker's status comes back here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from tocsin.db import Base, UTCDateTime

DRAFT, IN_REVIEW, PUBLISHED = "draft", "in_review", "published"
POSTMORTEM_STATES = (DRAFT, IN_REVIEW, PUBLISHED)

PLANNED, IN_PROGRESS, DONE = "planned", "in_progress", "done"
ACTION_STATES = (PLANNED, IN_PROGRESS, DONE)
PRIORITIES = ("P0", "P1", "P2")


class Postmortem(Base):
    """The blameless post-mortem of one incident."""

    __tablename__ = "postmortems"
    __table_args__ = (
        UniqueConstraint("incident_id", name="uq_postmortems_incident"),
        Index("ix_postmortems_status", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    # Impact beside the incident's own users_affected (copied on draft, editable here).
    users_affected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    estimated_cost: Mapped[str | None] = mapped_column(String(200), nullable=True)
    support_tickets: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"at": ISO-8601 Z, "text": str, "entry_id": int | None}] in display order.
    timeline: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    root_cause: Mapped[str] = mapped_column(Text, default="")
    # One of the config's root-cause categories; recurring incidents share one.
    root_cause_category: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # [{"why": str, "because": str}]: five empty steps on draft, any number allowed.
    whys: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # The why-chain's words as plain text, kept in step with `whys` (which JSON stores with
    # \u escapes), so search finds any word typed as it was written (migration 0025).
    whys_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    contributing_factors: Mapped[str] = mapped_column(Text, default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Counts every change; an edit made on an older version is refused (migration 0025).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @validates("whys")
    def _keep_whys_text(self, _key: str, value: list[dict[str, str]]) -> list[dict[str, str]]:
        self.whys_text = whys_text(value)
        return value


def whys_text(whys: list[dict[str, str]] | None) -> str:
    """The why-chain's words, one per line, as search reads them."""
    return "\n".join(str(step.get(part) or "") for step in whys or []
                     for part in ("why", "because"))


class ActionItem(Base):
    """A follow-up with an owner and a due date, tracked to done."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_incident", "incident_id"),
        Index("ix_action_items_open", "status", "due_date"),
        Index("ix_action_items_owner", "owner", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    postmortem_id: Mapped[int | None] = mapped_column(
        ForeignKey("postmortems.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))  # a config user id
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    priority: Mapped[str] = mapped_column(String(2), default="P1")
    status: Mapped[str] = mapped_column(String(20), default=PLANNED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Where it was pushed: "jira", "github" or "webhook"; the far side's key and page.
    tracker: Mapped[str | None] = mapped_column(String(20), nullable=True)
    tracker_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tracker_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    tracker_status: Mapped[str | None] = mapped_column(String(80), nullable=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last push or sync failure, as shown to people: never a token (migration 0023).
    tracker_error: Mapped[str | None] = mapped_column(Text, nullable=True)
