"""Migration 0022: the post-mortem, action item and survey tables, and the alerts column."""

from __future__ import annotations

from sqlalchemy import inspect

from tests.support.migrations import downgraded, schema_differences, upgrade_to_head

NEW_TABLES = ("postmortems", "action_items", "shift_surveys")


def _state(connection) -> tuple[list[bool], bool]:
    found = inspect(connection)
    tables = [found.has_table(name) for name in NEW_TABLES]
    column = "not_actionable" in {c["name"] for c in found.get_columns("alerts")}
    return tables, column


def test_migration_0022_matches_the_models_and_goes_down_and_up(db_url: str):
    differences = schema_differences(db_url)
    with downgraded(db_url, "0021") as connection:
        down = _state(connection)
        upgrade_to_head(connection)
        up = _state(connection)

    assert differences == []
    assert down == ([False, False, False], False)
    assert up == ([True, True, True], True)
