"""What the reliability dashboard shows: tiles, charts and their tables, from the report.

Plain values in, plain values out: the page's route reads the report and
the weekly series, this module turns them into text and chart specs. No
incident title appears anywhere here, so a private incident shows as its
key at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.incidents.rules import describe_duration
from tocsin.metrics.rules import Spread
from tocsin.metrics.series import WeeklySeries
from tocsin.metrics.service import Report
from tocsin.metrics.views import uptime_note
from tocsin.web import charts

NONE = "no data"
# Bars of a severity's MTTR panel in minutes up to this, in hours above it.
MINUTES_UP_TO = 180
PEOPLE_LEGEND = ("business hours", "off hours, awake", "sleep hours")
MTTR_LEGEND = ("within target", "over target")


def span(value: timedelta | None) -> str:
    return NONE if value is None else describe_duration(value) or "0s"


def share(value: float | None, places: int = 1) -> str:
    return NONE if value is None else f"{value * 100:.{places}f}%"


def spread_text(found: Spread) -> str:
    if not found.count:
        return NONE
    return f"median {span(found.median)}, p90 {span(found.p90)}, {found.count} counted"


@dataclass(frozen=True)
class Tile:
    key: str  # a stable name for tests and styling
    label: str
    value: str
    detail: str = ""


def tiles(report: Report) -> list[Tile]:
    alerts = report.alerts
    severities = ", ".join(f"{name} {count}" for name, count in report.by_severity.items())
    return [
        Tile("mtta", "MTTA (mean time to acknowledge)", span(alerts.ack_mean),
             f"median {span(alerts.ack_median)}, p90 {span(alerts.ack_p90)}, "
             f"{alerts.acknowledged} acknowledged" if alerts.acknowledged else ""),
        Tile("incidents", "Incidents declared", str(report.incidents),
             f"{report.incidents_per_week:.1f} a week" + (f"; {severities}" if severities
                                                          else "")),
        Tile("escalation", "Escalation rate", share(report.escalation_rate),
             f"{alerts.escalated} of {alerts.paged} paged alerts"),
        Tile("transient", "Transient alerts", share(report.transient_rate),
             f"{alerts.transient} of {alerts.total} alerts"),
        Tile("not-actionable", "Not actionable", share(report.not_actionable_rate),
             f"{alerts.not_actionable} of {alerts.total} alerts"),
        Tile("postmortems", "Post-mortems written",
             f"{report.postmortems_published} of {report.postmortems_required}",
             f"{report.postmortems_in_progress} in progress"),
        Tile("actions", "Action items done",
             f"{report.actions.done} of {report.actions.total}",
             f"{report.actions.overdue} overdue"),
        Tile("recurring", "Recurring incidents", str(report.recurring_count),
             (", ".join(report.recurring) + "; " if report.recurring else "")
             + f"{report.recurring_before} in the period before"),
        Tile("survey", "On-call survey average",
             NONE if report.survey_mean is None else f"{report.survey_mean:.1f} / 5",
             f"{report.survey_answers} answers"),
    ]


def mttr_rows(report: Report) -> list[dict[str, Any]]:
    rows = []
    for row in report.mttr_by_severity:
        over = (row.target is not None and row.mttr.mean is not None
                and row.mttr.mean > row.target)
        verdict = "" if row.mttr.mean is None or row.target is None else (
            "over target" if over else "within target")
        rows.append({"severity": row.severity, "target": span(row.target),
                     "mean": span(row.mttr.mean), "median": span(row.mttr.median),
                     "p90": span(row.mttr.p90), "count": row.mttr.count,
                     "within": row.within_target, "verdict": verdict})
    return rows


def uptime_rows(report: Report) -> list[dict[str, str]]:
    return [{"service": s.service, "uptime": share(s.uptime, 2), "basis": s.basis,
             "note": uptime_note(s) or ""} for s in report.services]


# --- Charts ------------------------------------------------------------------------


def week_labels(series: WeeklySeries, zone: ZoneInfo) -> list[str]:
    return [f"{week.start.astimezone(zone):%d %b}" for week in series.weeks]


def week_names(series: WeeklySeries, zone: ZoneInfo) -> list[str]:
    """The weeks as a table says them: their first day, and "part" when cut short."""
    return [_day(week.start.astimezone(zone)) + (" (part)" if week.partial else "")
            for week in series.weeks]


def _day(local: datetime) -> str:
    # The year with four digits even before 1000 (strftime's %Y would drop the zeros).
    return f"{local:%a %d %b} {local.year:04d}"


def incidents_chart(series: WeeklySeries, zone: ZoneInfo) -> tuple[charts.Chart, dict[str, Any]]:
    shown = [name for name in series.severities if any(series.declared[name])]
    chart = charts.Chart(
        id="chart-incidents", title="Incidents per week",
        description="Incidents declared each week (Monday to Sunday), stacked by severity.",
        legend=shown, panels=[charts.Panel(
            "Incidents declared", week_labels(series, zone),
            [[float(n) for n in series.declared[name]] for name in shown], whole=True)])
    table = {"columns": [*shown, "total"], "rows": [
        {"label": label, "cells": [*(series.declared[name][i] for name in shown),
                                   sum(series.declared[name][i] for name in shown)]}
        for i, label in enumerate(week_names(series, zone))]}
    return chart, table


def mttr_chart(series: WeeklySeries, zone: ZoneInfo) -> tuple[charts.Chart, dict[str, Any]]:
    shown = [name for name in series.severities
             if any(week.count for week in series.mttr[name])]
    panels = [_mttr_panel(series, name, week_labels(series, zone)) for name in shown]
    chart = charts.Chart(
        id="chart-mttr", title="MTTR by severity per week",
        description="Mean time to resolve of the incidents resolved each week, one panel "
                    "per severity, against its target (dashed line); a bar over the "
                    "target is hatched.",
        legend=MTTR_LEGEND, panels=panels)
    table = {"columns": [f"{name} (target {span(series.targets[name])})" for name in shown],
             "rows": [{"label": label, "cells": [_mean_cell(series, name, i) for name in shown]}
                      for i, label in enumerate(week_names(series, zone))]}
    return chart, table


def _mttr_panel(series: WeeklySeries, name: str, labels: list[str]) -> charts.Panel:
    means = [week.mean.total_seconds() if week.mean else 0.0 for week in series.mttr[name]]
    target = series.targets[name]
    target_seconds = target.total_seconds() if target else None
    unit, suffix = ((60, "min") if max([*means, target_seconds or 0]) <= MINUTES_UP_TO * 60
                    else (3600, "h"))
    within = [m / unit if target_seconds is None or m <= target_seconds else 0.0 for m in means]
    over = [m / unit if target_seconds is not None and m > target_seconds else 0.0
            for m in means]
    return charts.Panel(
        f"{name}: mean MTTR" + ("" if target else " (no target set)"), labels, [within, over],
        tick_label=lambda value: f"{value:g} {suffix}",
        value_label=lambda value: f"{value:.1f} {suffix}",
        target=None if target_seconds is None else target_seconds / unit,
        target_label=f"{name} target {span(target)}")


def _mean_cell(series: WeeklySeries, name: str, index: int) -> str:
    week = series.mttr[name][index]
    return "" if week.mean is None else f"{span(week.mean)} ({week.count})"


def people_chart(report: Report) -> tuple[charts.Chart, dict[str, Any]]:
    people = [person for person in report.people if person.pages.total]
    chart = charts.Chart(
        id="chart-people", title="Interruptions per person",
        description="Alerts that paged each person, by their own clock: in business hours, "
                    "off hours while awake, and in sleep hours.",
        legend=PEOPLE_LEGEND, panels=[charts.Panel(
            "Pages", [person.name for person in people],
            [[float(p.pages.business) for p in people],
             [float(p.pages.off - p.pages.sleep) for p in people],
             [float(p.pages.sleep) for p in people]], whole=True)])
    table = {"columns": [*PEOPLE_LEGEND, "total"], "rows": [
        {"label": p.name, "cells": [p.pages.business, p.pages.off - p.pages.sleep,
                                    p.pages.sleep, p.pages.total]} for p in people]}
    return chart, table
