"""Storm bundles: one outbox row per person, channel and minute, with its pages.

A page for an alert in a storm is not sent on its own: its delivery row
joins the person's open bundle on that channel (status `bundled`) and the
bundle is sent instead, leased and retried like a delivery. A bundle is
open while it is queued and has never been tried; the partial unique index
keeps one open bundle per person and channel, even with several engines.
Once tried, its list is closed: a retry carries the same idempotency key,
so it must never list an alert the first try did not. A bundle's `reason`
says why its pages went together: a storm, or a rate limit that held them
(engine.pacing); only a storm's bundles keep their alerts bundled later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    ScalarSelect,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.db import Base, UTCDateTime
from tocsin.leases import CANCELLED, QUEUED
from tocsin.notify.bundles import STORM
from tocsin.notify.store import BUNDLED, SENT, Delivery

_OPEN = text("status = 'queued' AND attempts = 0")
# Ids per IN (...): far below both backends' bind-parameter limits.
_CHUNK = 1000


class StormBundle(Base):
    __tablename__ = "storm_bundles"
    __table_args__ = (
        Index("ix_storm_bundles_due", "status", "due_at"),
        Index("ix_storm_bundles_user", "user_id", "channel", "due_at"),
        # Rate limits count what a contact got lately (engine.pacing).
        Index("ix_storm_bundles_contact", "channel", "address", "finished_at"),
        Index("uq_storm_bundles_open", "user_id", "channel", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # How many alerts the page that went listed; 0 until one went.
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    # notify.bundles.STORM or RATE_LIMIT; rows from before it was kept were storms.
    reason: Mapped[str] = mapped_column(String(20), default=STORM, server_default=STORM)


class StormBundleItem(Base):
    """One page (a delivery row) in a bundle, and the alert it is about."""

    __tablename__ = "storm_bundle_items"
    __table_args__ = (
        Index("ix_storm_bundle_items_bundle", "bundle_id"),
        Index("ix_storm_bundle_items_alert", "alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("storm_bundles.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))


def open_bundle(session: Session, *, user_id: str, channel: str) -> StormBundle | None:
    """The person's bundle on `channel` that pages may still join, locked."""
    query = (
        select(StormBundle)
        .where(StormBundle.user_id == user_id, StormBundle.channel == channel,
               StormBundle.status == QUEUED, StormBundle.attempts == 0)
        .with_for_update()
    )
    return session.scalars(query).first()


def last_due(session: Session, *, user_id: str, channel: str) -> datetime | None:
    """When the person's latest bundle on `channel` was due; cancelled ones never went."""
    query = select(func.max(StormBundle.due_at)).where(
        StormBundle.user_id == user_id, StormBundle.channel == channel,
        StormBundle.status != CANCELLED)
    found: datetime | None = session.scalar(query)
    return found


def bundled_alerts(session: Session, alert_ids: Sequence[int]) -> set[int]:
    """Those of the alerts that ever had a page in a storm's bundle.

    Pages a rate limit held and sent together do not count: those alerts were
    never in a storm, and their next pages go on their own.
    """
    found: set[int] = set()
    unique = sorted(set(alert_ids))
    for start in range(0, len(unique), _CHUNK):
        query = (
            select(StormBundleItem.alert_id)
            .join(StormBundle, StormBundle.id == StormBundleItem.bundle_id)
            .where(StormBundleItem.alert_id.in_(unique[start:start + _CHUNK]),
                   StormBundle.reason == STORM)
            .distinct()
        )
        found.update(session.scalars(query))
    return found


def listed_alert_ids(session: Session, bundle_id: int) -> list[int]:
    """The alerts a bundle lists: its pages still waiting in it, or sent in it.

    A page left out when the bundle went (its alert was acknowledged or
    resolved by then) is cancelled and not listed.
    """
    query = (
        select(StormBundleItem.alert_id)
        .join(Delivery, Delivery.id == StormBundleItem.delivery_id)
        .where(StormBundleItem.bundle_id == bundle_id, Delivery.status.in_((BUNDLED, SENT)))
        .order_by(StormBundleItem.alert_id)
    )
    return list(dict.fromkeys(session.scalars(query)))


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due bundles; from here their lists are closed."""
    return leases.claim_due(session, StormBundle, now=now, lease_until=lease_until, limit=limit)


def earliest_due(session: Session) -> datetime | None:
    return leases.earliest_due(session, StormBundle)


def due_probes() -> list[ScalarSelect[Any]]:
    """As `earliest_due`, for the engine to read with other tables' (`leases.earliest`)."""
    return leases.due_probes(StormBundle)
