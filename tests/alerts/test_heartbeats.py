"""A heartbeat's deadline, and its table as the migration makes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tocsin.alerts.heartbeats import deadline
from tocsin.config.model import Heartbeat
from tocsin.db import make_engine
from tocsin.models import Base

BACKUP = Heartbeat("backup", interval_minutes=10, grace_minutes=2)
START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_the_deadline_counts_from_the_last_ping() -> None:
    ping = START + timedelta(minutes=30)

    assert deadline(BACKUP, last_ping=ping, watched_since=START) == ping + timedelta(minutes=12)


def test_never_pinged_counts_from_when_watching_began() -> None:
    assert deadline(BACKUP, last_ping=None, watched_since=START) == START + timedelta(minutes=12)


def test_a_ping_before_the_start_counts_from_the_start() -> None:
    ping = START - timedelta(hours=5)  # Tocsin was down since

    assert deadline(BACKUP, last_ping=ping, watched_since=START) == START + timedelta(minutes=12)


def test_fractional_minutes_are_kept() -> None:
    quick = Heartbeat("quick", interval_minutes=0.05, grace_minutes=0)

    assert deadline(quick, last_ping=START, watched_since=START) == START + timedelta(seconds=3)


def test_the_migrated_table_matches_the_model(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    assert [diff for diff in found if "heartbeats" in repr(diff)] == []
