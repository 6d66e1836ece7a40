"""`tocsin report`: the five dashboards (recent incidents, on-call schedule, on-call
metrics, action items, reliability) from the database, as tables or plain JSON."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    DbOption,
    JsonOption,
    db_url,
    fail,
    load,
    open_database,
    plain,
)
from tocsin.errors import InvalidInput
from tocsin.incidents.rules import describe_duration
from tocsin.metrics.rules import Spread
from tocsin.metrics.service import RECENT_INCIDENTS, Report, build_report, day, window
from tocsin.metrics.views import report_view, uptime_note

WindowOption = Annotated[str | None, typer.Option(
    help="ISO 8601 with an offset or Z, or local to the config's timezone")]
ViewerOption = Annotated[str | None, typer.Option(
    "--as", help="Show only what this user may see (private incidents they are a member "
                 "of); default: everything, as the operator")]


def report(
    since: WindowOption = None, until: WindowOption = None, as_json_flag: JsonOption = False,
    config: ConfigOption = None, db: DbOption = None, viewer: ViewerOption = None,
) -> None:
    """Incidents, on-call load and reliability from stored events; default the last 30 days.

    --until is exclusive and defaults to now (a later one is cut to now); --since
    defaults to 30 days before it. Private incidents count in every figure; the lists
    name them to everyone unless --as USER limits them to what USER may see.
    """
    loaded = load(config)
    now = datetime.now(UTC)
    try:
        start, end = window(since, until, zone=ZoneInfo(loaded.timezone), now=now)
    except InvalidInput as exc:
        fail(exc.message + "".join(f"; --{f.path}: {f.message}" for f in exc.fields), code=2)
    _engine, sessions = open_database(db_url(db))
    with sessions() as session:
        found = build_report(session, config=loaded, since=start, until=end, now=now,
                             viewer=viewer, admin=viewer is None)
    if as_json_flag:
        sys.stdout.write(json.dumps(report_view(found)) + "\n")
        return
    _print(found, until_now=end == now)


def _when(at: datetime | None) -> str:
    return "" if at is None else f"{day(at)} {at:%H:%M}"


def _span(span: timedelta | None) -> str:
    return "-" if span is None else describe_duration(span) or "0s"


def _share(value: float | None, places: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{places}f}%"


def _uptime(value: float | None) -> str:
    return "no data" if value is None else _share(value, 3)


def _spread(found: Spread) -> str:
    if not found.count:
        return "- (none)"
    return (f"{_span(found.mean)} mean, {_span(found.median)} median, "
            f"{_span(found.p90)} p90 (n={found.count})")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def _print(found: Report, *, until_now: bool) -> None:
    console = Console()
    console.print(f"Report {_when(found.since)} to {_when(found.until)} UTC"
                  + (" (now)" if until_now else ""))
    recent = _table(f"Recent incidents (latest {RECENT_INCIDENTS})", "incident", "sev",
                    "title", "status", "duration", "commander", "affected", "root cause")
    for row in found.recent:
        recent.add_row(row.key, plain(row.severity), plain(row.title), row.status,
                       _span(row.duration), plain(row.commander), "" if row.users_affected
                       is None else f"{row.users_affected:,}", plain(row.root_cause))
    console.print(recent)
    shifts = _table("On-call schedule", "state", "schedule", "who", "start", "end", "pages")
    for shift in found.schedule:
        shifts.add_row(shift.state, plain(shift.schedule), plain(shift.name), _when(shift.start),
                       _when(shift.end), str(shift.pages))
    console.print(shifts)
    console.print(_metrics(found))
    console.print(_people(found))
    actions = _table("Post-mortem action items", "status", "priority", "action", "owner",
                     "due", "incident")
    for item in found.action_rows:
        actions.add_row(item.status, plain(item.priority), plain(item.title), plain(item.owner),
                        item.due.isoformat() if item.due else "", item.incident)
    console.print(actions)
    console.print(_reliability(found))


def _metrics(found: Report) -> Table:
    alerts = found.alerts
    table = _table("On-call metrics", "metric", "value")
    table.add_row("Incidents / week", f"{found.incidents_per_week:.1f}")
    table.add_row("Response time", _spread(found.response))
    table.add_row("MTTA (alerts)", _spread(Spread(alerts.acknowledged, alerts.ack_mean,
                                                  alerts.ack_median, alerts.ack_p90)))
    table.add_row("Escalation rate",
                  f"{_share(found.escalation_rate)} ({alerts.escalated}/{alerts.paged} paged)")
    table.add_row("Transient alerts",
                  f"{_share(found.transient_rate)} ({alerts.transient}/{alerts.total})")
    table.add_row("Not-actionable alerts", f"{_share(found.not_actionable_rate)} "
                  f"({alerts.not_actionable}/{alerts.total})")
    for row in found.mttr_by_severity:
        target = f" (target {_span(row.target)}, {row.within_target}/{row.mttr.count} met)"
        table.add_row(f"MTTR ({plain(row.severity)})", _spread(row.mttr) + target)
    survey = ("-" if found.survey_mean is None
              else f"{found.survey_mean:.1f}/5 ({found.survey_answers} answers)")
    table.add_row("On-call satisfaction", survey)
    return table


def _people(found: Report) -> Table:
    table = _table("Pages per person (their own time)", "who", "zone", "pages", "business",
                   "off hours", "of which sleep", "survey")
    for person in found.people:
        pages = person.pages
        survey = "" if person.survey_mean is None else f"{person.survey_mean:.1f}/5"
        table.add_row(plain(person.name), person.timezone, str(pages.total), str(pages.business),
                      str(pages.off), str(pages.sleep), survey)
    return table


def _reliability(found: Report) -> Table:
    days = round((found.until - found.since) / timedelta(days=1))
    table = _table("Reliability dashboard", "metric", "value")
    table.add_row(f"Uptime ({days} d)", _uptime(found.uptime))
    for service in found.services:
        note = uptime_note(service)
        table.add_row(f"  {plain(service.service)}", f"{_uptime(service.uptime)} "
                      f"(from {service.basis})" + (f"; {note}" if note else ""))
    table.add_row("Total incidents", str(found.incidents))
    for severity, count in found.by_severity.items():
        table.add_row(f"  {plain(severity)}", str(count))
    table.add_row("MTTR (all)", _spread(found.mttr))
    table.add_row("Post-mortems published",
                  f"{found.postmortems_published}/{found.postmortems_required} required"
                  f" ({found.postmortems_in_progress} in progress)")
    actions = found.actions
    done = _share(actions.done / actions.total, 0) if actions.total else "-"
    table.add_row("Action items completed", f"{actions.done}/{actions.total} ({done}); "
                  f"{actions.overdue} overdue")
    table.add_row("Recurring incidents", f"{found.recurring_count} (previous period "
                  f"{found.recurring_before})" + (f": {', '.join(found.recurring)}"
                                                  if found.recurring else ""))
    return table
