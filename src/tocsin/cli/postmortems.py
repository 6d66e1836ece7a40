"""`tocsin postmortem ...`: draft, show, export, move and list post-mortems, through the
same services as the API and the web editor. Whoever runs the CLI holds the database,
so they see every post-mortem, private incidents' too, like an admin."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
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
from tocsin.postmortems import service, views
from tocsin.postmortems.store import Postmortem

postmortem_app = typer.Typer(no_args_is_help=True,
                             help="Draft, review, publish and export post-mortems.")


def _now() -> datetime:
    return datetime.now(UTC)


def _failed(exc: TocsinError) -> NoReturn:
    # A field's problem the message already says is not said twice.
    fail(exc.message + "".join(f"; {f.path}: {f.message}" for f in exc.fields
                               if f.message != exc.message))


def _change(config: str | None, db: str | None,
            act: Callable[[Session, Config], Postmortem]) -> dict[str, Any]:
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    try:
        with transaction(sessions) as session:
            postmortem = act(session, loaded)
            session.flush()
            incident, found = service.get(session, f"INC-{postmortem.incident_id}",
                                          viewer=None, admin=True)
            return views.detail(session, loaded, found, incident, _now())
    except TocsinError as exc:
        _failed(exc)


def _read(config: str | None, db: str | None, key: str,
          show: Callable[[Session, Config, Any, Postmortem], Any]) -> Any:
    loaded = load(config)
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        try:
            incident, found = service.get(session, key, viewer=None, admin=True)
            return show(session, loaded, incident, found)
        except TocsinError as exc:
            _failed(exc)


def _text(shown: dict[str, Any]) -> str:
    def said(value: Any) -> str:
        return printable(str(value)) if value not in (None, "") else "-"

    lines = [f"{shown['incident']} post-mortem ({shown['status']}): {said(shown['title'])}",
             f"Due: {said(shown['due_at'])}" + (" (overdue)" if shown["overdue"] else ""),
             f"Summary: {said(shown['summary'])}",
             f"Root cause [{said(shown['root_cause_category'])}]: "
             f"{said(shown['root_cause'])}"]
    lines += [f"  {n}. why: {said(s['why'])} because: {said(s['because'])}"
              for n, s in enumerate(shown["whys"], start=1)]
    lines += [f"Suggestion ({s['field']}): {said(s['sentence'])}: {s['reason']}; {s['hint']}"
              for s in shown["suggestions"]]
    return "\n".join(lines)


def _print(shown: dict[str, Any], as_json: bool) -> None:
    sys.stdout.write((json.dumps(shown) if as_json else _text(shown)) + "\n")


@postmortem_app.command("draft")
def postmortem_draft(key: str, config: ConfigOption = None, db: DbOption = None,
                     actor: ActorOption = None, as_json: JsonOption = False) -> None:
    """Draft the incident's post-mortem from its timeline (or show the one there is)."""
    who = actor_name(actor)
    _print(_change(config, db, lambda s, c: service.draft(
        s, config=c, key=key, actor=who, surface="cli", now=_now(), admin=True)), as_json)


@postmortem_app.command("show")
def postmortem_show(key: str, config: ConfigOption = None, db: DbOption = None,
                    as_json: JsonOption = False) -> None:
    """The post-mortem's sections and its blameless-review suggestions."""
    _print(_read(config, db, key, lambda s, c, i, p: views.detail(s, c, p, i, _now())),
           as_json)


@postmortem_app.command("export")
def postmortem_export(
    key: str,
    output: Annotated[Path | None, typer.Option(help="Write to this file [stdout]")] = None,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """The post-mortem as Markdown, through the configured template."""
    text = _read(config, db, key, lambda s, c, i, p: service.export(
        s, config=c, incident=i, postmortem=p))
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write the post-mortem to {output}: {exc.strerror or exc}; give a path "
             "in a folder that exists and that you may write to")
    sys.stdout.write(f"{key}: post-mortem written to {output}\n")


@postmortem_app.command("state")
def postmortem_state(
    key: str,
    status: Annotated[str, typer.Argument(help="draft, in_review or published")],
    config: ConfigOption = None, db: DbOption = None, actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move it: draft -> in_review -> published; in_review or published back to draft."""
    who = actor_name(actor)
    shown = _change(config, db, lambda s, _c: service.set_state(
        s, key=key, status=status, actor=who, surface="cli", now=_now(), admin=True))
    if as_json:
        _print(shown, True)
    else:
        sys.stdout.write(f"{shown['incident']}: post-mortem is {shown['status']}\n")


@postmortem_app.command("list")
def postmortem_list(
    search: Annotated[str | None, typer.Option(
        "--search", "-q", help="Words to find in published post-mortems")] = None,
    status: Annotated[str | None, typer.Option(help="draft, in_review or published")] = None,
    service_name: Annotated[str | None, typer.Option("--service", help="A service")] = None,
    severity: Annotated[str | None, typer.Option(help="A severity, e.g. SEV1")] = None,
    overdue: Annotated[bool, typer.Option(help="Only unpublished ones past due")] = False,
    config: ConfigOption = None, db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Post-mortems, most recently changed first."""
    del config
    now = _now()
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        try:
            found = [views.summary(p, i, now) for p, i in service.listing(
                session, now=now, q=search, status=status, service=service_name,
                severity=severity, overdue=overdue, admin=True)]
        except TocsinError as exc:
            _failed(exc)
    if as_json:
        sys.stdout.write(json.dumps({"postmortems": found}) + "\n")
        return
    table = Table()
    for column in ("incident", "severity", "status", "due", "title"):
        table.add_column(column)
    for item in found:
        due = (item["due_at"] or "") + (" overdue" if item["overdue"] else "")
        table.add_row(item["incident"], plain(item["severity"]), item["status"], due,
                      plain(item["title"]))
    Console().print(table)
