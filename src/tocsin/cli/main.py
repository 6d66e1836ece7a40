"""The `tocsin` command. It talks to the database through the services, never over HTTP."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from tocsin.cli import (
    action_items,
    alerts,
    demo,
    incidents,
    maintenance,
    oncall,
    overrides,
    page,
    postmortems,
    report,
    routes,
    serve,
    users,
)
from tocsin.cli.common import ConfigOption, DbOption, config_path, db_url, fail
from tocsin.cli.coverage_check import coverage_warnings
from tocsin.cli.status import status as status_verb
from tocsin.config.loader import ConfigError, load_config
from tocsin.db import make_engine
from tocsin.migrate import upgrade

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Tocsin: alerts in, the right person paged.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(alerts.alert_app, name="alert")
app.add_typer(incidents.incident_app, name="incident")
app.add_typer(action_items.action_item_app, name="action-item")
app.add_typer(postmortems.postmortem_app, name="postmortem")
app.add_typer(overrides.override_app, name="override")
app.add_typer(users.user_app, name="user")
app.add_typer(routes.route_app, name="route")
app.add_typer(maintenance.maintenance_app, name="maintenance")
alerts.alert_app.command("snooze")(page.snooze)
alerts.alert_app.command("unack")(page.unack)
alerts.alert_app.command("escalate")(page.escalate)
alerts.alert_app.command("reassign")(page.reassign)
alerts.alert_app.command("add-responder")(page.add_responder)
app.command("page")(page.page)
app.command("oncall")(oncall.oncall)
app.command("shifts")(oncall.shifts)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.command("status")(status_verb)
app.command("report")(report.report)
app.command("demo")(demo.demo)


@app.command("check")
def check(
    file: Annotated[str | None, typer.Argument(help="Config file to validate")] = None,
    config: ConfigOption = None,
) -> None:
    """Validate a config: every problem at once, one line each, sorted by line.

    Also warns about each schedule with nobody on call somewhere in the next 14 days.
    """
    path = file or config_path(config)
    try:
        loaded, file_warnings = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(problem.format() + "\n")
        errors = sum(1 for p in exc.problems if p.severity == "error")
        sys.stderr.write(f"{path}: {errors} error(s); the configuration is not valid\n")
        raise typer.Exit(1) from None
    # Coverage depends on today, so it is checked here, at the edge, not by the loader.
    gap_warnings = coverage_warnings(loaded, datetime.now(UTC))
    warnings = sorted([*file_warnings, *gap_warnings], key=lambda problem: problem.line)
    for problem in warnings:
        sys.stderr.write(problem.format() + "\n")
    sys.stdout.write(f"{path}: valid ({len(warnings)} warning(s))\n")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the database or bring its schema up to date."""
    url = db_url(db)
    try:
        revision = upgrade(make_engine(url))
    except Exception as exc:
        fail(f"could not upgrade the database: {type(exc).__name__}: {exc}")
    sys.stdout.write(f"database at revision {revision}\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
