"""`tocsin action-item list|add|update|push`: action items through the same
service as the API. Whoever runs the CLI holds the database, so they see the
items of private incidents like an admin. A push is queued: the engine of a
running `tocsin serve` or `tocsin worker` creates the issue."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

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
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.errors import TocsinError
from tocsin.notify.console import printable
from tocsin.postmortems import actions, actions_trackers
from tocsin.postmortems.actions_views import item_json
from tocsin.postmortems.store import ActionItem

action_item_app = typer.Typer(no_args_is_help=True,
                              help="Action items: list, add, update, push to a tracker.")

DueOption = Annotated[str | None, typer.Option(
    "--due", help="Due date YYYY-MM-DD; 'none' clears it")]
PriorityOption = Annotated[str | None, typer.Option(help="P0, P1 or P2")]


def _now() -> datetime:
    return datetime.now(UTC)


def _failed(exc: TocsinError) -> NoReturn:
    fail(exc.message + "".join(f"; {f.path}: {f.message}" for f in exc.fields))


def _due(value: str | None) -> Any:
    if value is None:
        return actions.KEEP
    if value.strip().lower() == "none":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"--due: {value!r} is not a date; write YYYY-MM-DD, or none to clear it",
             code=2)


def _change(config: str | None, db: str | None,
            act: Callable[[Session, Config], ActionItem]) -> dict[str, Any]:
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            item = act(session, loaded)
            session.flush()
            return item_json(item, config=loaded, now=_now())
    except TocsinError as exc:
        _failed(exc)


def _who(actor: str | None) -> dict[str, Any]:
    return {"actor": actor_name(actor), "surface": "cli", "now": _now(), "admin": True}


def _line(shown: dict[str, Any]) -> str:
    due = shown["due_date"] or "no due date"
    late = " OVERDUE" if shown["overdue"] else ""
    tracker = shown["tracker"]
    far = f" [{tracker['name']} {tracker['key'] or 'pending'}]" if tracker else ""
    return (f"#{shown['id']} {shown['incident']} {shown['priority']} {shown['status']}{late}: "
            f"{printable(shown['title'])} (owner {shown['owner']}, due {due}){far}")


def _print(shown: dict[str, Any], as_json: bool) -> None:
    sys.stdout.write((json.dumps(shown) if as_json else _line(shown)) + "\n")


@action_item_app.command("list")
def item_list(
    incident: Annotated[str | None, typer.Option(help="INC-12")] = None,
    owner: Annotated[str | None, typer.Option(help="A user id or e-mail")] = None,
    team: Annotated[str | None, typer.Option(help="Items owned by a team's members")] = None,
    status: Annotated[str | None, typer.Option(
        help="open, or planned, in_progress, done")] = None,
    overdue: Annotated[bool, typer.Option(help="Only open items past their due date")]
    = False,
    config: ConfigOption = None, db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Action items, open ones first by due date."""
    loaded = load(config)
    now = _now()
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        try:
            found = [item_json(i, config=loaded, now=now) for i in actions.listing(
                session, config=loaded, now=now, viewer=None, admin=True,
                filters=actions.Filters(incident=incident, owner=owner, team=team,
                                        status=status, overdue=overdue))]
        except TocsinError as exc:
            _failed(exc)
    if as_json:
        sys.stdout.write(json.dumps({"action_items": found}) + "\n")
        return
    table = Table()
    for column in ("id", "incident", "priority", "status", "owner", "due", "title", "tracker"):
        table.add_column(column)
    for item in found:
        tracker = item["tracker"]
        table.add_row(str(item["id"]), item["incident"], plain(item["priority"]),
                      item["status"] + (" (overdue)" if item["overdue"] else ""),
                      plain(item["owner"]), item["due_date"] or "", plain(item["title"]),
                      plain(f"{tracker['name']} {tracker['key'] or 'pending'}")
                      if tracker else "")
    Console().print(table)


@action_item_app.command("add")
def item_add(
    incident: Annotated[str, typer.Argument(help="The incident, e.g. INC-12")],
    title: Annotated[str, typer.Argument(help="What will be done, in one line")],
    owner: Annotated[str, typer.Option(help="A user id or e-mail from the config")],
    due: DueOption = None, priority: Annotated[str, typer.Option(help="P0, P1 or P2")] = "P1",
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an action item to an incident; its owner is reminded before it is due."""
    due_date = _due(due)
    shown = _change(config, db, lambda s, c: actions.create(
        s, config=c, incident=incident, title=title, owner=owner,
        due_date=None if due_date is actions.KEEP else due_date, priority=priority,
        **_who(actor)))
    _print(shown, as_json)


@action_item_app.command("update")
def item_update(
    item_id: Annotated[int, typer.Argument(help="The item's number")],
    title: Annotated[str | None, typer.Option(help="A new title")] = None,
    owner: Annotated[str | None, typer.Option(help="A user id or e-mail")] = None,
    due: DueOption = None, priority: PriorityOption = None,
    status: Annotated[str | None, typer.Option(help="planned, in_progress or done")] = None,
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an item; done records when, and back from done clears it."""
    given: dict[str, Any] = {key: value for key, value in (
        ("title", title), ("owner", owner), ("priority", priority), ("status", status))
        if value is not None}
    if (due_date := _due(due)) is not actions.KEEP:
        given["due_date"] = due_date
    shown = _change(config, db, lambda s, c: actions.update(
        s, config=c, item_id=item_id, **given, **_who(actor)))
    _print(shown, as_json)


@action_item_app.command("push")
def item_push(
    item_id: Annotated[int, typer.Argument(help="The item's number")],
    tracker: Annotated[str, typer.Option(help="jira, github or webhook (as configured)")],
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue the item's push to an issue tracker; the running engine creates the issue."""
    who = _who(actor)

    def act(session: Session, loaded: Config) -> ActionItem:
        push = actions_trackers.request_push(session, config=loaded, item_id=item_id,
                                             tracker=tracker, **who)
        return actions.get(session, push.item_id, viewer=None, admin=True)

    shown = _change(config, db, act)
    _print(shown, as_json)
