"""The table of alert groups, and the queries that touch only it.

A group row is written in the transaction that routed its first alert.
`open_key` names the route and key values while the group is open and is
NULL once it resolves; its unique constraint makes "one open group per
route and key" hold even when two requests race to open the same group
(the loser's insert does nothing and it joins the winner's group).

`alert_count` and `firing_count` are kept on the row, changed under its
lock, so a webhook of thousands of alerts joining one group counts them
without a query each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db import Base, UTCDateTime

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"


class AlertGroup(Base):
    """Alerts that took one route with equal `group_by` label values: they page once."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("open_key", name="uq_alert_groups_open_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    route: Mapped[str] = mapped_column(Text)  # the route's path, e.g. routes[0].routes[1]
    key: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {label: value}
    open_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=TRIGGERED)
    # The member whose escalation pages for the group. Not a foreign key:
    # alerts refer to their group, and the two rows never need each other first.
    lead_alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    firing_count: Mapped[int] = mapped_column(Integer, default=0)  # members not resolved
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


def find_open(session: Session, open_key: str) -> AlertGroup | None:
    """The open group with this key, locked."""
    query = select(AlertGroup).where(AlertGroup.open_key == open_key).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def insert_open(session: Session, values: dict[str, Any]) -> AlertGroup | None:
    """Insert an open group; None when an open group with its key exists already.

    The insert does nothing on a conflict rather than failing, so the
    transaction goes on and the caller joins the group that won.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(AlertGroup).values(**values)
                 .on_conflict_do_nothing(index_elements=["open_key"])
                 .returning(AlertGroup))
    return session.scalars(statement).first()


def lock(session: Session, group_id: int) -> AlertGroup | None:
    query = select(AlertGroup).where(AlertGroup.id == group_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def by_ids(session: Session, ids: Iterable[int]) -> dict[int, AlertGroup]:
    """Groups by id, unlocked, for showing."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {group.id: group for group in
            session.scalars(select(AlertGroup).where(AlertGroup.id.in_(wanted)))}
