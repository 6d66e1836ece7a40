"""Bring a database to the newest schema, under a lock.

On PostgreSQL an advisory lock keeps two starting processes from migrating
at once; on SQLite the migration's transaction begins IMMEDIATE, which
takes the database's write lock for the same effect.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from tocsin.logs import event

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_ADVISORY_KEY = 0x70C5_1A  # any constant shared by every Tocsin process


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str | None:
    config = alembic_config()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": _ADVISORY_KEY})
                connection.commit()
    revision = current_revision(engine)
    event(log, "db.migrated", revision=revision)
    return revision
