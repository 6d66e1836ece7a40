"""The flapping tables as the migration makes them, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from tocsin.db import make_engine
from tocsin.migrate import alembic_config
from tocsin.models import Base


def test_the_migrated_tables_match_the_model(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    assert [diff for diff in found
            if "alert_key_changes" in repr(diff) or "flapping" in repr(diff)] == []


def test_alerts_stored_before_the_migration_are_not_flapping(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0013")
            connection.execute(text(
                "INSERT INTO alerts (integration, dedup_key, status, title, labels, details, "
                "urgency, step, pass_number, event_count, triggered_at, last_event_at) "
                "VALUES ('prom', 'old', 'triggered', 'Old', '{}', '{}', 'high', -1, 0, 1, "
                "'2026-03-02 03:00:00', '2026-03-02 03:00:00')"))
            command.upgrade(config, "head")
            connection.commit()
            flags = connection.execute(text("SELECT flapping FROM alerts")).scalars().all()
            rows = connection.execute(text("SELECT count(*) FROM alert_key_changes")).scalar()
    finally:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        engine.dispose()

    assert [bool(flag) for flag in flags] == [False]
    assert rows == 0
