"""The storm tables and the alerts index they count by, as the migration makes them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tocsin.db import make_engine
from tocsin.models import Base

MINE = ("storm_bundle", "route_storms", "ix_alerts_triggered_at")


def test_the_migrated_storm_tables_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    assert [diff for diff in found if any(name in repr(diff) for name in MINE)] == []
