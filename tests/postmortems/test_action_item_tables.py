"""Migration 0023: the action item notice and push tables, and the tracker error column."""

from __future__ import annotations

from sqlalchemy import inspect

from tests.support.migrations import downgraded, schema_differences, upgrade_to_head

NEW_TABLES = ("action_item_notices", "action_item_pushes")


def _state(connection) -> tuple[list[bool], bool]:  # type: ignore[no-untyped-def]
    found = inspect(connection)
    tables = [found.has_table(name) for name in NEW_TABLES]
    column = "tracker_error" in {c["name"] for c in found.get_columns("action_items")}
    return tables, column


def test_migration_0023_matches_the_models_and_goes_down_and_up(db_url: str) -> None:
    differences = schema_differences(db_url)
    with downgraded(db_url, "0022") as connection:
        down = _state(connection)
        upgrade_to_head(connection)
        up = _state(connection)

    assert differences == []
    assert down == ([False, False], False)
    assert up == ([True, True], True)
