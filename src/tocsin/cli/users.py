"""`tocsin user set-password` (the web UI password) and `tocsin user test-page`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from tocsin import accounts
from tocsin.cli.common import (
    ActorOption,
    ConfigOption,
    DbOption,
    actor_name,
    db_url,
    fail,
    load,
    open_database,
)
from tocsin.cli.user_test_page import send_test_page
from tocsin.db import transaction

user_app = typer.Typer(no_args_is_help=True,
                       help="Web UI logins and test pages for users in the config.")
user_app.command("test-page")(send_test_page)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so `echo "$PW" | tocsin user set-password alice --password-stdin` works.
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("set-password")
def set_password(
    user: Annotated[str, typer.Argument(help="User id or e-mail address from the config")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    config: ConfigOption = None, db: DbOption = None, as_user: ActorOption = None,
) -> None:
    """Set USER's web UI password (asked twice, or read from --password-stdin)."""
    loaded = load(config)
    found = loaded.user_by_email_or_id(user)
    if found is None:
        fail(f"unknown user {user!r}; only users in the config can log in")
    _engine, sessions = open_database(db_url(db))
    password = _read_password(password_stdin)
    try:
        with transaction(sessions) as session:
            accounts.set_password(session, user_id=found.id, password=password,
                                  now=datetime.now(UTC), actor=actor_name(as_user),
                                  surface="cli")
    except accounts.WeakPassword as exc:
        fail(str(exc))
    sys.stdout.write(f"password set for {found.id}\n")
