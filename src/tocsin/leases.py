"""Leased outbox rows: claim what is due, take back what a dead worker held.

Deliveries and handoff notices are both rows with a status, a due time and
a lease. A worker leases due rows (`FOR UPDATE SKIP LOCKED`, so workers
never take the same row), sends with no lock held, then marks them; a
worker that dies leaves its lease to run out and another sends again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, or_, select
from sqlalchemy.orm import Session

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"


def claim_due(
    session: Session, model: Any, *, now: datetime, lease_until: datetime, limit: int,
) -> list[int]:
    """Lease up to `limit` due rows of `model`; an expired lease is taken again."""
    due = or_(
        (model.status == QUEUED) & (model.due_at <= now),
        (model.status == SENDING) & (model.lease_until <= now),
    )
    query = (
        select(model)
        .where(due)
        .order_by(model.due_at, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(session.scalars(query))
    for row in claimed:
        row.status = SENDING
        row.lease_until = lease_until
        row.attempts += 1
    return [row.id for row in claimed]


def earliest_due(session: Session, model: Any) -> datetime | None:
    """When the next queued row of `model` is due, or a lease runs out."""
    return earliest(session, due_probes(model))


def due_probes(model: Any) -> list[ScalarSelect[Any]]:
    """The due time of `model`'s next queued row and the first of its leases to run
    out, as subqueries: `earliest` reads many tables' in one statement."""
    queued = select(model.due_at).where(model.status == QUEUED).order_by(model.due_at)
    leased = (select(model.lease_until).where(model.status == SENDING)
              .order_by(model.lease_until))
    return [queued.limit(1).scalar_subquery(), leased.limit(1).scalar_subquery()]


def earliest(session: Session, probes: Sequence[ScalarSelect[Any]]) -> datetime | None:
    """The earliest time the probes find, all read in one round trip; None if none does.

    The engine asks when work is next due at every pass: one statement, not one
    per table, keeps an idle pass cheap."""
    found = [t for t in session.execute(select(*probes)).one() if t is not None]
    return min(found) if found else None
