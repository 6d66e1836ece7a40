"""The outbox of pages: one row per person, channel and escalation step.

A delivery is claimed with a lease, sent outside any transaction with an
idempotency key, then marked; a worker that dies mid-send leaves the lease
to expire and another sends again. That is at-least-once, on purpose: a
page sent twice is better than a page lost.
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
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import leases
from tocsin.db import Base, UTCDateTime
from tocsin.leases import CANCELLED as CANCELLED
from tocsin.leases import FAILED as FAILED
from tocsin.leases import QUEUED as QUEUED
from tocsin.leases import SENDING as SENDING
from tocsin.leases import SENT as SENT

# Waiting in a storm bundle (notify.bundle_store), which sends it and then marks it.
BUNDLED = "bundled"
# Waiting for its contact's rate limit window to free (engine.pacing); due_at is then.
HELD = "held"

# Pages not delivered yet whose hard failover has not happened (engine.overdue):
# the partial index keeps finding them cheap however many pages went before.
# session.info: (now, ids of alerts found with no rule page waiting), see note_none_waiting.
_NONE_WAITING = "tocsin.outbox.none_waiting"

WATCHED = text("failed_over_at IS NULL AND status IN ('queued', 'sending', 'held', 'bundled')")


def _first_due(context: DefaultExecutionContext) -> datetime | None:
    # The column default is the row's own due time, whoever inserts it.
    params = context.get_current_parameters()  # type: ignore[no-untyped-call]
    due: datetime | None = params.get("due_at")
    return due


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "due_at"),
        Index("ix_deliveries_alert", "alert_id", "status"),
        Index("ix_deliveries_failover", "first_due_at", sqlite_where=WATCHED,
              postgresql_where=WATCHED),
        Index("ix_deliveries_contact", "channel", "address", "finished_at"),
        # The report counts the pages sent in a window (metrics.queries).
        Index("ix_deliveries_finished", "status", "finished_at", "user_id", "alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text)
    step: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # When the page first became due: its first due time, or when a failover
    # brought it forward. Retries and holds leave it; the hard failover counts from it.
    first_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                          default=_first_due)
    # When its failover happened (the person's next rule brought forward, or
    # found none); a page fails over once.
    failed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The policy (escalation chain) whose step queued it: a further policy's name, as
    # its timers name it (escalation.store); None for the alert's own policy.
    chain: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(default=False)
    detail: Mapped[str] = mapped_column(Text, default="")


def cancel_for_alert(session: Session, *, alert_id: int, now: datetime, reason: str,
                     held: bool = False) -> int:
    """Cancel the alert's pages still to go; `held`: those a rate limit holds too.

    Acknowledging or resolving leaves held pages: they drop out, with a
    timeline note, when their contact's window frees (engine.pacing).
    """
    waiting = (QUEUED, BUNDLED, HELD) if held else (QUEUED, BUNDLED)
    result = session.execute(
        update(Delivery)
        .where(Delivery.alert_id == alert_id, Delivery.status.in_(waiting))
        .values(status=CANCELLED, finished_at=now, detail=reason)
        # "fetch" touches only the rows it changed; the default scans the whole
        # session on every call, quadratic when one transaction resolves thousands.
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def waiting_rule_pages(session: Session, *, alert_id: int, chain: str | None,
                       now: datetime) -> list[Delivery]:
    """The alert's pages a notification rule's delay still holds back, soonest first,
    of the policy `chain` only (None: the alert's own).

    Only pages never tried and not yet due: a retry, a held or bundled page is
    already on its way. No autoflush: a batch of escalations queues its pages
    for one insert at its end (alerts.paging.queued_together), and a page
    queued in this transaction is never one to cancel. `note_none_waiting`
    counts every policy's pages: an alert with none waiting has none of `chain`.
    """
    known = session.info.get(_NONE_WAITING)
    if known is not None and known[0] == now and alert_id in known[1]:
        return []
    of_chain = Delivery.chain.is_(None) if chain is None else Delivery.chain == chain
    with session.no_autoflush:
        return list(session.scalars(
            select(Delivery)
            .where(Delivery.alert_id == alert_id, Delivery.status == QUEUED,
                   Delivery.due_at > now, Delivery.attempts == 0, of_chain)
            .order_by(Delivery.due_at, Delivery.id)))


def note_none_waiting(session: Session, *, alert_ids: Sequence[int], now: datetime) -> None:
    """Find in one statement which of a batch's alerts have no rule page waiting;
    `waiting_rule_pages` then answers those in this session without a statement each.

    The caller holds the alerts' row locks, so no other transaction queues one meanwhile.
    """
    with session.no_autoflush:
        waiting = set(session.scalars(
            select(Delivery.alert_id).distinct()
            .where(Delivery.alert_id.in_(alert_ids), Delivery.status == QUEUED,
                   Delivery.due_at > now, Delivery.attempts == 0)))
    session.info[_NONE_WAITING] = (now, set(alert_ids) - waiting)


def cancel_rows(rows: list[Delivery], *, now: datetime, reason: str) -> None:
    for row in rows:
        row.status, row.finished_at, row.detail = CANCELLED, now, reason


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due deliveries, oldest first; an expired lease is taken again.

    As `leases.claim_due`, in two statements whatever the batch (no row objects):
    the rows are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL), then leased.
    """
    due = or_((Delivery.status == QUEUED) & (Delivery.due_at <= now),
              (Delivery.status == SENDING) & (Delivery.lease_until <= now))
    query = (select(Delivery.id).where(due).order_by(Delivery.due_at, Delivery.id).limit(limit)
             .with_for_update(skip_locked=True))
    claimed = list(session.scalars(query))
    if claimed:
        session.execute(
            update(Delivery).where(Delivery.id.in_(claimed))
            .values(status=SENDING, lease_until=lease_until, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False))
    return claimed


def earliest_due(session: Session) -> datetime | None:
    return leases.earliest_due(session, Delivery)


def due_probes() -> list[ScalarSelect[Any]]:
    """As `earliest_due`, for the engine to read with other tables' (`leases.earliest`)."""
    return leases.due_probes(Delivery)
