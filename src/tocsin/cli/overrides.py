"""`tocsin override add|list|remove`, through the same service as the API."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

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
)
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.errors import TocsinError
from tocsin.oncall import overrides
from tocsin.oncall.rules import parse_time

override_app = typer.Typer(no_args_is_help=True, help="Cover for someone, or add a person.")


def _now() -> datetime:
    return datetime.now(UTC)


def _fail_with(exc: TocsinError) -> NoReturn:
    for problem in exc.fields:
        sys.stderr.write(f"tocsin: {problem.path}: {problem.message}\n")
    fail(exc.message)


def _kind(replaces: str | None, add: bool) -> str:
    if replaces and add:
        fail("--replaces and --add do not go together; pick one", code=2)
    if replaces:
        return "replace"
    return "add" if add else "whole"


def _zone(config: Config, schedule: str) -> ZoneInfo:
    found = config.schedules.get(schedule)
    if found is None:
        known = ", ".join(sorted(config.schedules)) or "none"
        fail(f"unknown schedule {schedule!r}; schedules in this config: {known}")
    return ZoneInfo(found.timezone)


def _time(text: str, zone: ZoneInfo, option: str) -> datetime:
    try:
        return parse_time(text, zone)
    except (ValueError, OverflowError) as exc:
        fail(f"{option}: {exc}", code=2)


@override_app.command("add")
def override_add(
    schedule: Annotated[str, typer.Argument(help="Schedule name")],
    user: Annotated[str, typer.Argument(help="Who covers: a user id or e-mail")],
    start: Annotated[str, typer.Option("--from", help="ISO 8601; without an offset, local")],
    end: Annotated[str, typer.Option("--to", help="ISO 8601 end, exclusive")],
    replaces: Annotated[str | None, typer.Option(
        "--replaces", help="Cover for this person only while they are on call")] = None,
    add: Annotated[bool, typer.Option(
        "--add", help="Put USER on call beside whoever is")] = False,
    actor: ActorOption = None, as_json: JsonOption = False,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Override SCHEDULE: USER takes the whole schedule unless --replaces or --add."""
    loaded = load(config)
    kind = _kind(replaces, add)
    zone = _zone(loaded, schedule)
    begin, finish = _time(start, zone, "--from"), _time(end, zone, "--to")
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            row = overrides.create_override(
                session, config=loaded, schedule=schedule, user=user, start=begin, end=finish,
                kind=kind, replaces=replaces, actor=actor_name(actor), surface="cli",
                now=_now())
            shown = overrides.describe(row)
    except TocsinError as exc:
        _fail_with(exc)
    if as_json:
        sys.stdout.write(json.dumps(shown) + "\n")
        return
    sys.stdout.write(f"override {shown['id']}: {_summary(shown)}\n")


@override_app.command("list")
def override_list(
    schedule: Annotated[str | None, typer.Argument(help="Only this schedule")] = None,
    include_all: Annotated[bool, typer.Option(
        "--all", help="Include overrides that have ended or were deleted")] = False,
    as_json: JsonOption = False, config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Overrides that have not ended yet (with --all, ended and deleted ones too), by start."""
    loaded = load(config)
    if schedule is not None:
        _zone(loaded, schedule)
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        found = [overrides.describe(row) for row in overrides.list_overrides(
            session, schedule=schedule, include_past=include_all,
            include_deleted=include_all, now=_now())]
    if as_json:
        sys.stdout.write(json.dumps({"overrides": found}) + "\n")
        return
    if not found:
        sys.stdout.write("no overrides\n")
        return
    table = Table()
    columns = ["id", "schedule", "who", "kind", "from", "to", "by"]
    deleted = any(item["deleted_at"] for item in found)
    for column in [*columns, "deleted"] if deleted else columns:
        table.add_column(column)
    for item in found:
        who = item["user"] + (f" for {item['replaces']}" if item["replaces"] else "")
        cells = [str(item["id"]), item["schedule"], who, item["kind"], item["start"],
                 item["end"], f"{item['created_by']} ({item['surface']})"]
        if deleted:
            cells.append(_deletion(item))
        table.add_row(*cells)
    Console().print(table)


@override_app.command("remove")
def override_remove(
    override_id: Annotated[int, typer.Argument(metavar="ID", help="The override's id")],
    actor: ActorOption = None, config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Delete an override not started yet; end a running one now."""
    del config  # accepted like every verb's; removing needs only the database
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            row = overrides.delete_override(session, override_id=override_id,
                                            actor=actor_name(actor), surface="cli", now=_now())
            shown = overrides.describe(row)
    except TocsinError as exc:
        _fail_with(exc)
    sys.stdout.write(f"override {shown['id']}: {_deletion(shown)}\n")


def _deletion(item: dict[str, Any]) -> str:
    """How an override was deleted: gone before it began, or ended early while running."""
    if not item["deleted_at"]:
        return ""
    # A running override is ended at the moment it is deleted; its end says so.
    if item["end"] == item["deleted_at"]:
        return f"ended at {item['end']} by {item['deleted_by']}"
    return f"deleted by {item['deleted_by']} at {item['deleted_at']}"


def _summary(item: dict[str, Any]) -> str:
    what = {"replace": f"replaces {item['replaces']}", "add": "added beside whoever is on call",
            "whole": "takes the whole schedule"}[item["kind"]]
    return f"{item['user']} {what} in {item['schedule']} from {item['start']} to {item['end']}"
