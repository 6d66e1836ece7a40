"""Durable timers (the next escalation step, an acknowledgement lapse) and chains.

A timer is written in the same transaction as the change that caused it, so
a crash never loses one; the engine claims it and applies it in a single
transaction, so it takes effect exactly once.

An alert runs its own policy; routes with `continue` can add further ones,
each escalating on its own timing. A timer names the policy of its chain
(None: the alert's own), and each further policy has a `Chain` row with the
step it reached, as the alert row keeps it for its own policy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    ScalarSelect,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime

ESCALATE = "escalate"
ACK_LAPSE = "ack_lapse"
# Declare an incident for the alert (a route's `declare_incident`); claimed by
# `incidents.auto`, never by the escalation pass.
DECLARE_INCIDENT = "declare_incident"

PENDING = "pending"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"  # applying it raised; the alert went to the fallback contact


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "state", "due_at"),
        Index("ix_timers_alert", "alert_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    step: Mapped[int] = mapped_column(Integer, default=0)
    pass_number: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The chain it advances: a further policy's name; None for the alert's own policy.
    policy: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Chain(Base):
    """A further policy escalating on an alert beside the alert's own.

    `step` is the step it reached (from 0; -1 before its first), `pass_number`
    its pass. `stopped_at` is set when a severity change left the policy
    without a route; a later change may start it again.
    """

    __tablename__ = "escalation_chains"
    __table_args__ = (UniqueConstraint("alert_id", "policy", name="uq_escalation_chains_policy"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    policy: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(Text)  # the route that added it, for people
    step: Mapped[int] = mapped_column(Integer, default=-1)
    pass_number: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def schedule(
    session: Session, *, kind: str, alert_id: int, due_at: datetime, now: datetime,
    step: int = 0, pass_number: int = 0, policy: str | None = None,
) -> Timer:
    # Every column is set, even to None: batch ingest writes new timers as one
    # multi-row insert, which needs every row to name the same columns.
    timer = Timer(
        kind=kind, alert_id=alert_id, due_at=due_at, step=step, pass_number=pass_number,
        state=PENDING, created_at=now, done_at=None, policy=policy,
    )
    session.add(timer)
    return timer


def cancel_for_alert(session: Session, *, alert_id: int, now: datetime) -> int:
    """Cancel the alert's escalation timers; a pending incident declaration stays
    (an acknowledged alert still gets the incident its route asked for)."""
    result = session.execute(
        update(Timer)
        .where(Timer.alert_id == alert_id, Timer.state == PENDING,
               Timer.kind != DECLARE_INCIDENT)
        .values(state=CANCELLED, done_at=now)
        .execution_options(synchronize_session="fetch")  # see notify.store.cancel_for_alert
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cancel_for_chain(session: Session, *, alert_id: int, policy: str, now: datetime) -> int:
    result = session.execute(
        update(Timer)
        .where(Timer.alert_id == alert_id, Timer.policy == policy, Timer.state == PENDING)
        .values(state=CANCELLED, done_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def has_pending(
    session: Session, *, alert_id: int, kind: str, policy: str | None = None,
) -> bool:
    """Whether a timer of `kind` waits for the alert's chain `policy` (None: its own
    policy's), written or still in the session."""
    if any(isinstance(obj, Timer) and obj.alert_id == alert_id and obj.kind == kind
           and obj.state == PENDING and obj.policy == policy for obj in session.new):
        return True
    chain = Timer.policy.is_(None) if policy is None else Timer.policy == policy
    query = select(Timer.id).where(
        Timer.alert_id == alert_id, Timer.kind == kind, Timer.state == PENDING, chain).limit(1)
    return session.scalars(query).first() is not None


def chains_of(session: Session, alert_id: int, *, running_only: bool = True) -> list[Chain]:
    """The alert's further policies, in the order they were added."""
    query = select(Chain).where(Chain.alert_id == alert_id)
    if running_only:
        query = query.where(Chain.stopped_at.is_(None))
    return list(session.scalars(query.order_by(Chain.id)))


def chain(session: Session, alert_id: int, policy: str) -> Chain | None:
    query = select(Chain).where(Chain.alert_id == alert_id, Chain.policy == policy)
    return session.scalars(query).first()


def start_chain(
    session: Session, *, alert_id: int, policy: str, route: str, now: datetime,
) -> Chain:
    """A chain for `policy` at its start, new or started again after a stop."""
    found = chain(session, alert_id, policy)
    if found is None:
        found = Chain(alert_id=alert_id, policy=policy, pass_number=0)
        session.add(found)
    found.route, found.step, found.pass_number = route, -1, 0
    found.started_at, found.stopped_at = now, None
    return found


def claim_due(session: Session, *, now: datetime, limit: int = 1,
              kinds: tuple[str, ...] | None = None) -> list[Timer]:
    """Up to `limit` of the oldest due timers, locked so no other worker can take them.

    On PostgreSQL this is `FOR UPDATE SKIP LOCKED`; SQLite has one writer at
    a time (the transaction began IMMEDIATE), so the plain select is enough.
    `kinds`: only these; None: the escalation pass's (every kind but
    DECLARE_INCIDENT).
    """
    wanted = Timer.kind.in_(kinds) if kinds is not None else Timer.kind != DECLARE_INCIDENT
    query = (
        select(Timer)
        .where(Timer.state == PENDING, Timer.due_at <= now, wanted)
        .order_by(Timer.due_at, Timer.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def earliest_due(session: Session) -> datetime | None:
    return session.scalar(select(due_probe()))


def due_probe() -> ScalarSelect[datetime]:
    """The next pending timer's due time, as a subquery (see `leases.earliest`)."""
    return (select(Timer.due_at).where(Timer.state == PENDING).order_by(Timer.due_at)
            .limit(1).scalar_subquery())
