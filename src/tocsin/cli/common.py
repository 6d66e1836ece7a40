"""What every verb shares: finding the config and the database, and failing well."""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.config.loader import ConfigError, load_config
from tocsin.config.model import Config
from tocsin.db import (
    DEFAULT_URL,
    is_sqlite,
    make_engine,
    make_sessionmaker,
    normalise_url,
    sqlite_path,
)
from tocsin.incidents.paging import user_id
from tocsin.migrate import current_revision, head_revision
from tocsin.notify.console import printable

ConfigOption = Annotated[
    str | None,
    typer.Option("--config", "-c", help="Config file [env TOCSIN_CONFIG; ./tocsin.yaml]"),
]
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL [env TOCSIN_DATABASE_URL; sqlite:///./tocsin.db]"),
]
ActorOption = Annotated[
    str | None, typer.Option("--as", help="Who is acting, for the audit log [cli:$USER]"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON")]


# C0 (with DEL) and C1 control characters: a stored text never moves the terminal.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def plain(text: str | None) -> str:
    """Stored text as a Rich cell prints it literally: control characters dropped,
    markup (`[bold]`, `[link=...]`) escaped."""
    if text is None:
        return ""
    clean = printable(_CONTROLS.sub("", text))  # and bidi overrides, line separators
    # escape() doubles a final backslash (for text glued before markup); a cell is whole.
    body = clean.rstrip("\\")
    return escape(body) + clean[len(body):]


def fail(message: str, code: int = 1) -> NoReturn:
    sys.stderr.write(f"tocsin: {message}\n")
    raise typer.Exit(code)


def config_path(option: str | None) -> str:
    return option or os.environ.get("TOCSIN_CONFIG") or "tocsin.yaml"


def db_url(option: str | None) -> str:
    return option or os.environ.get("TOCSIN_DATABASE_URL") or DEFAULT_URL


def actor_name(option: str | None) -> str:
    if option:
        return option
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def config_actor(config: Config, option: str | None) -> str:
    """`--as` naming a config user (id, e-mail or unique name, as `incident create` reads
    it), recorded as their id; unset: cli:$USER. Anyone else is refused, so the audit
    log never names a person who does not exist."""
    if not option:
        return actor_name(None)
    found = user_id(config, option)
    if found is None:
        fail(f"--as {option!r} is not a user in the config; give a user's id, e-mail or "
             "name from its users list, or leave --as out to act as cli:$USER")
    return found


def load(option: str | None) -> Config:
    """The config, or every problem on stderr and exit status 1."""
    path = config_path(option)
    try:
        config, _warnings = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(problem.format() + "\n")
        fail(f"{path} is not a valid configuration; run `tocsin check {path}`")
    return config


def database_exists(url: str) -> bool:
    if not is_sqlite(url):
        return True
    path = sqlite_path(url)
    return path is not None and Path(path).exists()


@contextmanager
def optional_session(db: str | None) -> Iterator[Session | None]:
    """A session when the database exists; None, to answer from the file alone."""
    url = db_url(db)
    if not database_exists(url):
        yield None
        return
    _engine, sessions = open_database(url)
    with sessions() as session:
        yield session


def engine_for(url: str) -> Engine:
    """The SQLAlchemy engine for `url`; exit 1 naming the forms a URL takes if it is none."""
    try:
        return make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        fail(f"cannot use the database URL: {type(exc).__name__}; use sqlite:///PATH or "
             "postgresql://USER@HOST:PORT/DBNAME")


def unreachable(url: str, exc: OperationalError) -> NoReturn:
    """Exit 1: the database at `url` (password hidden) could not be opened, and why."""
    shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
    fail(f"cannot open the database at {shown}: {exc.orig}")


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """An existing, migrated database; verbs other than serve never create one."""
    if not database_exists(url):
        fail(f"no database at {sqlite_path(url)}; start `tocsin serve` or run "
             "`tocsin db upgrade` first")
    engine = engine_for(url)
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        unreachable(url, exc)
    if revision != head_revision():
        fail("the database schema is not current; run `tocsin db upgrade`")
    return engine, make_sessionmaker(engine)
