"""Incidents per week and MTTR per severity per week, for the dashboard's charts.

Reads the same incident rows as the report (`metrics.queries`) and buckets
them with `metrics.series_rules`: an incident counts in the week it was
declared, and its repair time in the week it was resolved, as the report
counts MTTR only once an incident is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.incidents.store import RESOLVED
from tocsin.metrics import queries, series_rules
from tocsin.metrics.series_rules import Week, WeekMean


@dataclass(frozen=True)
class WeeklySeries:
    weeks: list[Week]
    severities: list[str]  # the config's order, then any others found, by name
    declared: dict[str, list[int]]  # severity: incidents declared per week
    mttr: dict[str, list[WeekMean]]  # severity: mean repair time of those resolved per week
    targets: dict[str, timedelta | None]  # severity: the file's target MTTR


def weekly(session: Session, *, config: Config, since: datetime, until: datetime,
           ) -> WeeklySeries:
    found = series_rules.weeks(since, until, ZoneInfo(config.timezone))
    rows = queries.incidents_overlapping(session, since, until)
    names = [s.name for s in config.severities]
    names += sorted({row.severity for row in rows} - set(names))
    declared = series_rules.count_by_week(
        found, ((row.declared_at, row.severity) for row in rows), names)
    spans = [(row.resolved_at, row.severity,
              series_rules.repair_time(row.impact_start, row.resolved_at))
             for row in rows if row.status == RESOLVED and row.resolved_at is not None]
    targets: dict[str, timedelta | None] = {}
    for name in names:
        severity = config.severity(name)
        minutes = severity.target_mttr_minutes if severity else 0
        targets[name] = timedelta(minutes=minutes) if minutes else None
    return WeeklySeries(found, names, declared, series_rules.mean_by_week(found, spans, names),
                        targets)
