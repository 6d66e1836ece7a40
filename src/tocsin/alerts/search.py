"""Finding alerts for a list: by status, service, severity and route, newest first.

A list is read a page at a time by id ("older than #N") rather than by
offset, so a page that refreshes while new alerts arrive neither repeats nor
skips a row. The count covers every matching alert, not just the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert

OPEN = (TRIGGERED, ACKNOWLEDGED)
STATUSES: dict[str, tuple[str, ...]] = {
    "open": OPEN,
    TRIGGERED: (TRIGGERED,),
    ACKNOWLEDGED: (ACKNOWLEDGED,),
    RESOLVED: (RESOLVED,),
    "all": (),
}
# Route filters that are not a route's path: alerts the service catalog
# routed ("service payment"), and alerts no route took (the fallback).
BY_SERVICE = "service"
NO_ROUTE = "none"


@dataclass(frozen=True)
class AlertQuery:
    statuses: tuple[str, ...] = OPEN  # empty: every status
    service: str | None = None
    severity: str | None = None
    route: str | None = None  # a route's path (routes[0].routes[1]), BY_SERVICE or NO_ROUTE
    before: int | None = None  # only alerts older than this id
    limit: int = 50


@dataclass(frozen=True)
class AlertPage:
    alerts: list[Alert]
    total: int  # every alert the filters match, on every page
    newer: int  # matching alerts above this page (0 on the first page)
    older: int | None  # `before` for the next page; None on the last


def find_alerts(session: Session, query: AlertQuery) -> AlertPage:
    conditions = _conditions(query)
    total = session.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
    page = select(Alert).where(*conditions)
    newer = 0
    if query.before is not None:
        page = page.where(Alert.id < query.before)
        newer = session.scalar(select(func.count()).select_from(Alert)
                               .where(*conditions, Alert.id >= query.before)) or 0
    rows = list(session.scalars(page.order_by(Alert.id.desc()).limit(query.limit + 1)))
    older = rows[query.limit - 1].id if len(rows) > query.limit else None
    return AlertPage(rows[:query.limit], total, newer, older)


def _conditions(query: AlertQuery) -> list[ColumnElement[Any]]:
    conditions: list[ColumnElement[Any]] = []
    if query.statuses:
        conditions.append(Alert.status.in_(query.statuses))
    if query.service:
        conditions.append(Alert.service == query.service)
    if query.severity:
        # Senders spell the same word differently (P1, p1); the list should not care.
        conditions.append(func.lower(Alert.severity) == query.severity.lower())
    if query.route == NO_ROUTE:
        conditions.append(Alert.route.is_(None))
    elif query.route == BY_SERVICE:
        conditions.append(Alert.route.startswith("service ", autoescape=True))
    elif query.route:
        # The alert keeps "routes[1] (line 12): why"; the path alone names the route.
        conditions.append(Alert.route.startswith(f"{query.route} (", autoescape=True))
    return conditions
