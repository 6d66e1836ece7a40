"""`tocsin alert ...`, through the same services as the API (incidents: cli.incidents)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tocsin.alerts import marks, service, views
from tocsin.cli.common import (
    ActorOption,
    ConfigOption,
    DbOption,
    JsonOption,
    actor_name,
    config_actor,
    db_url,
    fail,
    load,
    open_database,
    plain,
)
from tocsin.db import transaction
from tocsin.errors import TocsinError

ALERT_STATUSES = ("triggered", "acknowledged", "resolved")

alert_app = typer.Typer(no_args_is_help=True, help="List and act on alerts.")


def _now() -> datetime:
    return datetime.now(UTC)


@alert_app.command("list")
def alert_list(
    status: Annotated[str | None, typer.Option(help="triggered, acknowledged or resolved")]
    = None,
    as_json: JsonOption = False, config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Recent alerts, newest first."""
    del config  # accepted like every verb's; listing needs only the database
    if status is not None and status not in ALERT_STATUSES:
        fail(f"--status must be one of {', '.join(ALERT_STATUSES)}", code=2)
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        alerts = views.list_alerts(session, status=status)
        groups = views.groups_of(session, alerts)
        found = [{**views.alert_summary(a),
                  "group": views.group_json(groups.get(a.group_id or 0))} for a in alerts]
    if as_json:
        sys.stdout.write(json.dumps({"alerts": found}) + "\n")
        return
    table = Table()
    for column in ("id", "status", "severity", "service", "title", "group", "triggered"):
        table.add_column(column)
    for item in found:
        status = f"{item['status']}, flapping" if item["flapping"] else item["status"]
        table.add_row(str(item["id"]), status, plain(item["severity"]),
                      plain(item["service"]), plain(item["title"]), _group_size(item["group"]),
                      item["triggered_at"])
    Console().print(table)


def _group_size(group: dict[str, Any] | None) -> str:
    """`#3: 7 (5 firing)`: the group's id, how many alerts it holds and how many fire."""
    if group is None:
        return ""
    return f"#{group['id']}: {group['alerts']} ({group['firing']} firing)"


@alert_app.command("show")
def alert_show(alert_id: int, config: ConfigOption = None, db: DbOption = None) -> None:
    """One alert with its timeline, as JSON."""
    del config
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        try:
            detail = views.alert_detail(session, service.get_alert(session, alert_id))
        except TocsinError as exc:
            fail(exc.message)
    sys.stdout.write(json.dumps(detail, indent=2) + "\n")


def _act(action: str, alert_id: int, config: str | None, db: str | None,
         actor: str | None) -> None:
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    act_on = service.acknowledge if action == "acknowledge" else service.resolve
    try:
        with transaction(sessions) as session:
            alert = act_on(session, config=loaded, alert_id=alert_id, actor=actor_name(actor),
                           surface="cli", now=_now())
            status = alert.status
    except TocsinError as exc:
        fail(exc.message)
    sys.stdout.write(f"alert {alert_id}: {status}\n")


@alert_app.command("ack")
def alert_ack(alert_id: int, config: ConfigOption = None, db: DbOption = None,
              actor: ActorOption = None) -> None:
    """Acknowledge an alert: its escalation stops and queued pages are cancelled."""
    _act("acknowledge", alert_id, config, db, actor)


@alert_app.command("resolve")
def alert_resolve(alert_id: int, config: ConfigOption = None, db: DbOption = None,
                  actor: ActorOption = None) -> None:
    """Resolve an alert."""
    _act("resolve", alert_id, config, db, actor)


@alert_app.command("not-actionable")
def alert_not_actionable(
    alert_id: int,
    undo: Annotated[bool, typer.Option("--undo", help="take the mark off again")] = False,
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
) -> None:
    """Mark an alert not actionable (nobody could or should have acted on it)."""
    # The config is read only to check who `--as` names; the mark needs only the database.
    who = config_actor(load(config), actor) if actor else actor_name(None)
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            done = marks.mark(session, alert_id=alert_id, not_actionable=not undo,
                              actor=who, surface="cli", now=_now())
    except TocsinError as exc:
        fail(exc.message)
    state = "actionable" if undo else "not actionable"
    note = "" if done.changed else " (already so)"
    sys.stdout.write(f"alert {alert_id}: {state}{note}\n")
