"""Migration 0022 makes exactly the status page's tables, and steps down and back up."""

from __future__ import annotations

from sqlalchemy import inspect

from tests.support.migrations import downgraded, schema_differences
from tocsin.db import make_engine

MINE = ("status_incidents", "status_incident_updates", "status_component_history",
        "ix_status_")


def test_the_migrated_tables_match_the_models(db_url: str) -> None:
    found = schema_differences(db_url)

    assert [diff for diff in found if any(name in repr(diff) for name in MINE)] == []


def test_stepping_down_removes_the_tables_and_back_up_restores_them(db_url: str) -> None:
    with downgraded(db_url, "0019") as connection:
        below = set(inspect(connection).get_table_names())
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            above = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()

    assert not {"status_incidents", "status_incident_updates"} & below
    assert {"status_incidents", "status_incident_updates", "status_component_history"} <= above
