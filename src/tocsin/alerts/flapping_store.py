"""The recent changes of each alert key, and when a key last paged anyone.

A key gets a row at its first change (a resolve, usually) and keeps only
the changes inside its flapping window, so a row stays a few dozen bytes.
Rows are read and written while the key's latest alert is locked (every
change happens to that alert), so two writers of one key take turns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.alerts.store import Alert
from tocsin.db import Base, UTCDateTime
from tocsin.notify.store import Delivery

# Keys per query, as in batch_store: far below both backends' parameter limits.
CHUNK = 1000


class KeyChanges(Base):
    """One alert key's recent changes, and whether it is flapping."""

    __tablename__ = "alert_key_changes"

    integration: Mapped[str] = mapped_column(String(200), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Unix times (seconds) of the changes inside the window, oldest first.
    changes: Mapped[list[float]] = mapped_column(JSON, default=list)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def times(self) -> list[datetime]:
        return [datetime.fromtimestamp(at, UTC) for at in self.changes]

    @times.setter
    def times(self, value: Sequence[datetime]) -> None:
        # A new list, never one changed in place: JSON columns see only assignment.
        self.changes = [round(at.timestamp(), 3) for at in value]


def records(session: Session, integration: str, keys: Sequence[str]) -> dict[str, KeyChanges]:
    """The rows of those `keys` of `integration` that have one."""
    found: dict[str, KeyChanges] = {}
    for chunk in _chunks(keys):
        query = select(KeyChanges).where(KeyChanges.integration == integration,
                                         KeyChanges.dedup_key.in_(chunk))
        found.update((row.dedup_key, row) for row in session.scalars(query))
    return found


def last_pages(
    session: Session, integration: str, keys: Sequence[str], *, since: datetime,
) -> dict[str, datetime]:
    """When each key last paged someone (any of its alerts, any step), if at or after `since`."""
    found: dict[str, datetime] = {}
    for chunk in _chunks(keys):
        query = (
            select(Alert.dedup_key, func.max(Delivery.created_at))
            .join(Delivery, Delivery.alert_id == Alert.id)
            .where(Alert.integration == integration, Alert.dedup_key.in_(chunk),
                   Delivery.created_at >= since)
            .group_by(Alert.dedup_key)
        )
        found.update((key, at) for key, at in session.execute(query) if at is not None)
    return found


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start:start + CHUNK]
