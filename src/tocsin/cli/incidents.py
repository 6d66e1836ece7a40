"""`tocsin incident ...`: declare, list, show and run incidents, through the same
services as the API and Slack. Whoever runs the CLI holds the database, so they
see and act on private incidents like an admin."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

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
from tocsin.incidents import rules, service, views
from tocsin.notify.console import printable
from tocsin.oncall.rules import parse_time

T = TypeVar("T")

incident_app = typer.Typer(no_args_is_help=True, help="Declare, list and run incidents.")

SeverityOption = Annotated[str | None, typer.Option(help="A severity from the config, e.g. SEV2")]
TimeOption = Annotated[str | None, typer.Option(
    help="ISO 8601 with an offset or Z, or local to the config's timezone")]


def _now() -> datetime:
    return datetime.now(UTC)


def _failed(exc: TocsinError) -> NoReturn:
    fail(exc.message + "".join(f"; {f.path}: {f.message}" for f in exc.fields))


def _change(config: str | None, db: str | None, act: Callable[[Session, Config], T],
            show: Callable[[Session, T], dict[str, Any]]) -> dict[str, Any]:
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            result = act(session, loaded)
            session.flush()
            return show(session, result)
    except TocsinError as exc:
        _failed(exc)


def _who(actor: str | None) -> dict[str, Any]:
    return {"actor": actor_name(actor), "surface": "cli", "now": _now(), "admin": True}


def _time(config: Config, value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, ZoneInfo(config.timezone))
    except ValueError as exc:
        # parse_time speaks of a schedule's zone; here a local time is in the config's.
        said = str(exc).replace("the schedule's zone", f"the config's timezone, {config.timezone}")
        fail(f"{option}: {said}", code=2)


def _print(shown: dict[str, Any], as_json: bool, line: str) -> None:
    sys.stdout.write((json.dumps(shown) if as_json else line) + "\n")


def _shown(session: Session, key: str) -> dict[str, Any]:
    return views.detail(session, service.get(session, key, admin=True))


@incident_app.command("create")
def incident_create(
    title: Annotated[str, typer.Argument(help="What is wrong, in one line")],
    severity: Annotated[str, typer.Option(help="A severity from the config, e.g. SEV1")]
    = "SEV3",
    commander: Annotated[str | None, typer.Option(help="Incident Commander [you]")] = None,
    service_names: Annotated[list[str] | None, typer.Option(
        "--service", help="An affected service; its on-call is paged (repeatable)")] = None,
    alert: Annotated[list[int] | None, typer.Option(help="Link an alert (repeatable)")] = None,
    private: Annotated[bool, typer.Option(help="Visible only to its members")] = False,
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Declare an incident: commander, pages, channel and the first timeline entries."""
    who = _who(actor)
    shown = _change(config, db, lambda s, c: service.declare(
        s, config=c, title=title, severity=severity, commander=commander,
        services=service_names or (), alert_ids=alert or (), private=private, **who),
        views.detail)
    _print(shown, as_json, f"{shown['id']} declared: [{shown['severity']}] {shown['title']} "
                           f"(commander {shown['commander'] or 'none yet'}, target MTTR "
                           f"{shown['target_mttr_minutes']:g} min)")


@incident_app.command("list")
def incident_list(
    status: Annotated[str | None, typer.Option(help="open, or one status")] = None,
    severity: SeverityOption = None,
    service_name: Annotated[str | None, typer.Option("--service", help="A service")] = None,
    config: ConfigOption = None, db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Incidents, open ones first, newest first."""
    del config
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        try:
            found = [views.summary(i) for i in service.listing(
                session, status=status, severity=severity, service=service_name, admin=True)]
        except TocsinError as exc:
            _failed(exc)
    if as_json:
        sys.stdout.write(json.dumps({"incidents": found}) + "\n")
        return
    table = Table()
    for column in ("id", "severity", "status", "commander", "title", "declared"):
        table.add_column(column)
    for item in found:
        table.add_row(item["id"], plain(item["severity"]), item["status"],
                      plain(item["commander"]), plain(item["title"]), item["declared_at"])
    Console().print(table)


@incident_app.command("show")
def incident_show(key: str, config: ConfigOption = None, db: DbOption = None,
                  as_json: JsonOption = False) -> None:
    """One incident with its roles, clocks, alerts and timeline."""
    del config
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        try:
            shown = _shown(session, key)
        except TocsinError as exc:
            _failed(exc)
    _print(shown, as_json, _detail_text(shown))


def _detail_text(shown: dict[str, Any]) -> str:
    """The incident as lines to read; what people typed is escaped (see `printable`)."""
    def text(value: Any) -> str:
        return printable(str(value)) if value not in (None, "") else "-"

    clocks = shown["clocks"]
    roles = ", ".join(f"{role} {user}" for role, user in shown["roles"].items())
    lines = [
        f"{shown['id']} [{shown['severity']}] {shown['status']}: {text(shown['title'])}"
        + (" (private)" if shown["private"] else ""),
        f"Declared: {shown['declared_at']} by {text(shown['declared_by'])}; "
        f"target MTTR {shown['target_mttr_minutes']:g} min",
        f"Roles: {text(roles)}",
        f"Services: {text(', '.join(shown['services']))}",
        f"Impact start: {shown['impact_start']}; users affected: "
        f"{text(shown['users_affected'])}",
        f"Summary: {text(shown['summary'])}",
        f"Root cause: {text(shown['root_cause'])}",
        f"Time to acknowledge: {_minutes(clocks['time_to_acknowledge_seconds'])}; "
        f"to mitigate: {_minutes(clocks['time_to_mitigate_seconds'])}; "
        f"duration: {_minutes(clocks['duration_seconds'])}",
        f"Alerts: {text(', '.join(str(a['alert_id']) for a in shown['alerts']))}",
        f"Slack: {text(shown['slack_channel'] and '#' + shown['slack_channel'])}",
        "Timeline:",
    ]
    lines += [f"  {e['occurred_at']}  {e['kind']:<12} {text(e['actor'])}: {text(e['text'])}"
              + (f" (edited by {text(e['edited_by'])})" if e["edited_by"] else "")
              for e in shown["timeline"]]
    return "\n".join(lines)


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


@incident_app.command("update")
def incident_update(
    key: str,
    status: Annotated[str | None, typer.Option(
        help="investigating, identified, monitoring or resolved")] = None,
    note: Annotated[str | None, typer.Option(help="Said with the status")] = None,
    severity: SeverityOption = None,
    mitigated: Annotated[bool, typer.Option(help="Mark the impact mitigated")] = False,
    impact_start: TimeOption = None,
    users_affected: Annotated[int | None, typer.Option(min=0)] = None,
    summary: Annotated[str | None, typer.Option(help="Customer-facing summary")] = None,
    root_cause: Annotated[str | None, typer.Option()] = None,
    message: Annotated[str | None, typer.Option(
        help="Post an update to the channel and the stakeholders")] = None,
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change status, severity or impact, mark it mitigated, or post an update."""
    def act(session: Session, loaded: Config) -> str:
        who = {**_who(actor), "config": loaded, "key": key}
        if severity is not None:
            service.set_severity(session, severity=severity, **who)
        start = _time(loaded, impact_start, "--impact-start")
        if any(v is not None for v in (start, users_affected, summary, root_cause)):
            service.set_impact(session, impact_start=start, users_affected=users_affected,
                               summary=summary, root_cause=root_cause, **who)
        if mitigated:
            service.mark_mitigated(session, **who)
        if status is not None:
            service.set_status(session, status=status, note=note, **who)
        if message is not None:
            service.post_update(session, text=message, **who)
        return key

    if all(v is None for v in (status, severity, impact_start, users_affected, summary,
                               root_cause, message)) and not mitigated:
        fail("nothing to change; fix: give --status, --severity, --mitigated, an impact "
             "option or --message", code=2)
    shown = _change(config, db, act, _shown)
    _print(shown, as_json, f"{shown['id']}: [{shown['severity']}] {shown['status']}")


@incident_app.command("resolve")
def incident_resolve(
    key: str, note: Annotated[str | None, typer.Option(help="What fixed it")] = None,
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve an incident."""
    shown = _change(config, db, lambda s, c: service.set_status(
        s, config=c, key=key, status="resolved", note=note, **_who(actor)).key, _shown)
    clocks = shown["clocks"]
    _print(shown, as_json, f"{shown['id']}: resolved after "
                           f"{(clocks['duration_seconds'] or 0) / 60:.0f} min")


@incident_app.command("note")
def incident_note(
    key: str, text: Annotated[str, typer.Argument(help="The note")],
    at: Annotated[str | None, typer.Option(
        help="When it happened (backdate): ISO 8601 with an offset or Z, or local to the "
             "config's timezone")] = None,
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a note to the timeline, backdated with --at."""
    def act(session: Session, loaded: Config) -> dict[str, Any]:
        entry = service.add_note(session, config=loaded, key=key, text=text,
                                 occurred_at=_time(loaded, at, "--at"), **_who(actor))
        return views.entry_json(entry)

    shown = _change(config, db, act, lambda _s, entry: entry)
    number = rules.parse_key(key.strip())
    _print(shown, as_json, f"INC-{number}: note #{shown['id']} at {shown['occurred_at']}: "
                           f"{printable(shown['text'])}")


@incident_app.command("role")
def incident_role(
    key: str, role: Annotated[str, typer.Argument(help="A role from the config")],
    user: Annotated[str, typer.Argument(help="A user id, e-mail or name")],
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assign a role (Commander, Communicator, Investigator, Scribe by default)."""
    shown = _change(config, db, lambda s, c: service.assign_role(
        s, config=c, key=key, role=role, user=user, **_who(actor)),
        lambda _s, r: {"incident": r.incident.key, "role": r.role, "user": r.user,
                       "duty": r.duty, "previous": r.previous})
    _print(shown, as_json, f"{shown['incident']}: {shown['user']} is {shown['role']}: "
                           f"{shown['duty']}")
