"""Migration 0024: the report's indexes, present at head, gone below it, as the models say."""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from tests.support.migrations import downgraded, schema_differences, upgrade_to_head

INDEXES = {"alert_events": "ix_alert_events_first", "deliveries": "ix_deliveries_finished"}


def _present(connection: Connection) -> list[bool]:
    found = inspect(connection)
    return [name in {index["name"] for index in found.get_indexes(table)}
            for table, name in INDEXES.items()]


def test_migration_0024_adds_the_report_indexes_and_goes_down_and_up(db_url: str):
    mine = [d for d in schema_differences(db_url)
            if any(name in repr(d) for name in INDEXES.values())]
    with downgraded(db_url, "0023") as connection:
        down = _present(connection)
        upgrade_to_head(connection)
        up = _present(connection)

    assert mine == []
    assert (down, up) == ([False, False], [True, True])
