"""Migration tests: compare the migrated schema with the models, and step down and back up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from tocsin.db import make_engine
from tocsin.migrate import alembic_config
from tocsin.models import Base


def schema_differences(db_url: str) -> list[Any]:
    """Every difference between the migrated database and the models."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def upgrade_to_head(connection: Connection) -> None:
    """Migrate the database behind `connection` up to the newest revision and commit."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    connection.commit()


@contextmanager
def downgraded(db_url: str, revision: str) -> Iterator[Connection]:
    """A connection to the database migrated down to `revision`; back at head afterwards."""
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
            yield connection
    finally:
        with engine.connect() as connection:
            upgrade_to_head(connection)
        engine.dispose()
