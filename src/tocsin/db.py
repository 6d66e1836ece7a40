"""Database plumbing shared by every store: the engine, the base, UTC times.

SQLite is the default store and PostgreSQL the production one; both are
driven through the same SQLAlchemy 2 tables. Two SQLite pitfalls are dealt
with here once: Python's driver begins transactions lazily (so a read then a
write is not atomic) and `DateTime(timezone=True)` comes back naive.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///./tocsin.db"
# Row ids are INTEGER: 32 bits on PostgreSQL, while SQLite's driver takes up
# to 2**63. Check a number a person typed against this before querying, so an
# id out of range is "not found" on both backends rather than a driver error.
MAX_ID = 2**31 - 1

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC values")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` spellings users paste."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return normalise_url(url).startswith("sqlite")


def sqlite_path(url: str) -> str | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    return path or None


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    # Take the write lock when a transaction begins, so that a read followed
    # by a write in one transaction cannot interleave with another writer.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with _writer_turn(factory.kw.get("bind")):
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


# One SQLite file has one writer at a time. A writer that finds the file
# locked sleeps in SQLite's busy handler, up to 100 ms a try, however soon
# the lock frees: under load, latency went to seconds. The threads of one
# process take turns through a lock of their own instead, and a waiting
# writer starts as soon as the last one is done. Other processes on the same
# file (the CLI) still meet SQLite's busy handler, as before.
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()
# SQLite's own busy timeout (PRAGMA busy_timeout): past it, a writer goes on
# without its turn and SQLite answers as before ("database is locked").
WRITER_WAIT_SECONDS = 30.0


@contextmanager
def _writer_turn(bind: Any) -> Iterator[None]:
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        yield
        return
    with _LOCKS_GUARD:
        lock = _WRITE_LOCKS.setdefault(bind, threading.RLock())
    turn = lock.acquire(timeout=WRITER_WAIT_SECONDS)
    try:
        yield
    finally:
        if turn:
            lock.release()
