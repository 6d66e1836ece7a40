"""Shared fixtures: a migrated database on each backend, a fake clock.

Every storage test runs twice, on SQLite and on PostgreSQL at
127.0.0.1:5432. Under CI=true an unreachable PostgreSQL fails the run
instead of skipping, since a skipped storage test proves nothing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

import tocsin.engine.runtime
from tocsin import accounts
from tocsin.clock import FakeClock
from tocsin.db import make_engine
from tocsin.migrate import upgrade
from tocsin.models import Base

PG_ADMIN_URL = os.environ.get(
    "TOCSIN_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI") == "true"

# Argon2 at the library's recommended cost (64 MiB, three passes, four lanes) takes
# about 0.2 s of CPU a hash or check, and the UI tests set and check passwords
# hundreds of times. Tests hash at the lowest cost Argon2 allows; the code that
# hashes, checks and refreshes is the same (the cost is written into each hash, so
# `tocsin serve` in the browser tests checks these and rehashes them at full cost).
accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

# Every PostgreSQL test of a worker uses the same database (emptied between tests),
# so their runtimes share one SQLAlchemy engine: its cache of compiled statements
# then lasts the worker's life instead of being rebuilt in each test. A runtime's
# teardown disposes of the pool's connections; the engine opens new ones.
_pg_engines: dict[str, Engine] = {}


def _shared_pg_engine(url: str, **options: Any) -> Engine:
    if options or url.startswith("sqlite"):
        return make_engine(url, **options)
    if url not in _pg_engines:
        _pg_engines[url] = make_engine(url)
    return _pg_engines[url]


tocsin.engine.runtime.make_engine = _shared_pg_engine  # type: ignore[assignment]

# Bounded examples and no per-example deadline in CI: a shared runner misses
# deadlines for reasons that have nothing to do with the code.
settings.register_profile("ci", max_examples=200, deadline=None)
if IN_CI:
    settings.load_profile("ci")


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database made for this test run and dropped after it."""
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI needs it")
        pytest.skip("PostgreSQL is not reachable")
    name = f"tocsin_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not wait for the disk at each commit; a crash of
        # PostgreSQL itself, the only case this changes, is not what tests cover.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# The sequences owned by the tables a test may fill, found once per database.
_OWNED_SEQUENCES = text("""
    SELECT s.relname FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.relkind = 'S' AND t.relname <> 'app_secrets'
""")


def _empty_pg(url: str) -> None:
    """Empty every table but `app_secrets` and restart their ids at 1.

    DELETE with foreign-key triggers off, not TRUNCATE: TRUNCATE makes new
    files for each of the ninety-odd tables and cost about 0.4 s a test.
    """
    engine = make_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name != "app_secrets"]
    with engine.begin() as connection:
        sequences = list(connection.scalars(_OWNED_SEQUENCES))
        # Table names from our own models, never input.
        deletes = "; ".join(f'DELETE FROM "{name}"' for name in tables)  # noqa: S608
        connection.exec_driver_sql(
            f"SET LOCAL session_replication_role = replica; {deletes}")
        if sequences:
            restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
            connection.exec_driver_sql(f"SELECT {restarts}")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "tocsin.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test fails the run: it proved nothing."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(f"CI=true: {skipped} test(s) skipped; failing the run", red=True)
