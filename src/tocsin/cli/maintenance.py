"""`tocsin maintenance add|list|end|remove`, through the same service as the API."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from tocsin.alerts import maintenance
from tocsin.alerts.maintenance_rules import describe_matchers
from tocsin.cli.common import (
    ActorOption,
    ConfigOption,
    DbOption,
    JsonOption,
    actor_name,
    db_url,
    fail,
    load,
    open_database,
    plain,
)
from tocsin.db import transaction
from tocsin.errors import TocsinError
from tocsin.oncall.rules import parse_time

maintenance_app = typer.Typer(
    no_args_is_help=True, help="Maintenance windows and silences: matching alerts page nobody.")

LabelOption = Annotated[list[str] | None, typer.Option(
    "--match", help="LABEL=VALUE the alert must carry; repeat for more")]
LabelReOption = Annotated[list[str] | None, typer.Option(
    "--match-re", help="LABEL=REGEX the label must fully match; repeat for more")]


def _now() -> datetime:
    return datetime.now(UTC)


def _fail_with(exc: TocsinError) -> NoReturn:
    for problem in exc.fields:
        sys.stderr.write(f"tocsin: {problem.path}: {problem.message}\n")
    fail(exc.message)


def _labels(pairs: list[str] | None, option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs or ():
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            fail(f"{option} {pair!r}: write LABEL=VALUE, e.g. {option} env=staging", code=2)
        found[name.strip()] = value
    return found


def _time(text: str, zone: ZoneInfo, option: str) -> datetime:
    try:
        return parse_time(text, zone)
    except (ValueError, OverflowError) as exc:
        fail(f"{option}: {exc}", code=2)


@maintenance_app.command("add")
def maintenance_add(
    end: Annotated[str, typer.Option("--to", help="ISO 8601 end, exclusive; local without "
                                                   "an offset")],
    reason: Annotated[str, typer.Option("--reason", help="Why: shown on every alert it holds")],
    services: Annotated[list[str] | None, typer.Option(
        "--service", help="A service whose alerts it holds; repeat for more")] = None,
    match: LabelOption = None, match_re: LabelReOption = None,
    start: Annotated[str | None, typer.Option(
        "--from", help="ISO 8601 start; local without an offset [now]")] = None,
    actor: ActorOption = None, as_json: JsonOption = False,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Hold the alerts of --service (and/or --match labels) from --from to --to.

    Times without an offset are in the config's timezone.
    """
    loaded = load(config)
    zone = ZoneInfo(loaded.timezone)
    now = _now()
    begin = _time(start, zone, "--from") if start is not None else now
    finish = _time(end, zone, "--to")
    labels, patterns = _labels(match, "--match"), _labels(match_re, "--match-re")
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            row = maintenance.create_window(
                session, services=services or [], match=labels, match_re=patterns,
                start=begin, end=finish, reason=reason, actor=actor_name(actor),
                surface="cli", now=now)
            shown = maintenance.describe_row(row, now)
    except TocsinError as exc:
        _fail_with(exc)
    if as_json:
        sys.stdout.write(json.dumps(shown) + "\n")
        return
    sys.stdout.write(f"maintenance {shown['id']}: {_summary(shown)}\n")


@maintenance_app.command("list")
def maintenance_list(
    include_all: Annotated[bool, typer.Option(
        "--all", help="Include windows that are over, cancelled or deleted")] = False,
    as_json: JsonOption = False, config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Windows from the config and made at run time that are not over yet, by start."""
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        found = maintenance.list_windows(session, config=loaded, include_all=include_all,
                                         now=_now())
    if as_json:
        sys.stdout.write(json.dumps({"maintenance": found}) + "\n")
        return
    if not found:
        sys.stdout.write("no maintenance windows\n")
        return
    table = Table()
    for column in ("id", "holds", "from", "to", "status", "reason", "by"):
        table.add_column(column)
    for item in found:
        made = "config" if item["surface"] == "config" else (
            f"{item['created_by']} ({item['surface']})")
        table.add_row(str(item["id"]), plain(_matchers(item)), item["start"], item["end"],
                      _status(item), plain(item["reason"]), plain(made))
    Console().print(table)


@maintenance_app.command("end")
def maintenance_end(
    window: Annotated[str, typer.Argument(metavar="ID", help="The window's id")],
    actor: ActorOption = None, as_json: JsonOption = False,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """End a window now: the alerts it holds start paging; one not started never will."""
    _change(window, maintenance.end_window, actor, as_json, config, db)


@maintenance_app.command("remove")
def maintenance_remove(
    window: Annotated[str, typer.Argument(metavar="ID", help="The window's id")],
    actor: ActorOption = None, as_json: JsonOption = False,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """End a window now and leave it out of listings; one that is over is kept."""
    _change(window, maintenance.delete_window, actor, as_json, config, db)


def _change(
    window: str, change: Any, actor: str | None, as_json: bool, config: str | None,
    db: str | None,
) -> None:
    del config  # accepted like every verb's; ending needs only the database
    now = _now()
    _engine, sessions = open_database(db_url(db))
    try:
        window_id = maintenance.window_id(window)
        with transaction(sessions) as session:
            row = change(session, window=window_id, actor=actor_name(actor), surface="cli",
                         now=now)
            shown = maintenance.describe_row(row, now)
    except TocsinError as exc:
        _fail_with(exc)
    if as_json:
        sys.stdout.write(json.dumps(shown) + "\n")
        return
    sys.stdout.write(f"maintenance {shown['id']}: {_status(shown)}\n")


def _matchers(item: dict[str, Any]) -> str:
    return describe_matchers(item["services"], item["match"], item["match_re"])


def _status(item: dict[str, Any]) -> str:
    status = str(item["status"]).replace("_", " ")
    if item.get("ended_at") and item["status"] in ("ended", "cancelled"):
        status += f" at {item['ended_at']} by {item['ended_by']}"
    if item.get("deleted_at"):
        status += ", deleted"
    return status


def _summary(item: dict[str, Any]) -> str:
    return (f"holds {_matchers(item)} from {item['start']} to {item['end']} "
            f"({_status(item)}): {item['reason']}")
