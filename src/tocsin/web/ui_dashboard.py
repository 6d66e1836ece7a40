"""The UI's reliability dashboard: the report's headline figures and three charts.

`/ui/reliability` shows `metrics.service.build_report` over the last 30,
90 (the default) or 365 days, or `?since=&until=` (dates or times in the
reader's zone). Charts are inline SVG drawn by `web.charts`, each with a
table of its numbers beneath, so the page needs no script. Titles of
incidents are never shown, and a private incident's key (a recurring one)
only to its members and admins, as in the report.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from tocsin.config.model import Config
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.metrics import series
from tocsin.metrics.service import build_report, window
from tocsin.web import charts
from tocsin.web import ui_dashboard_views as views
from tocsin.web.auth import session_scope
from tocsin.web.ui_session import viewer_zone

if TYPE_CHECKING:
    from tocsin.engine.runtime import Runtime
    from tocsin.web.ui import Pages

log = logging.getLogger(__name__)

DAYS = (30, 90, 365)
DEFAULT_DAYS = 90
UPTIME_WINDOW = timedelta(days=30)


def chosen_window(params: dict[str, str], *, zone: ZoneInfo, now: datetime,
                  ) -> tuple[datetime, datetime, int | None]:
    """[since, until) from the query, and the preset chosen (None for since/until)."""
    since, until = params.get("since") or None, params.get("until") or None
    if since is not None:
        start, end = window(since, until, zone=zone, now=now)
        return start, end, None
    days = params.get("days") or str(DEFAULT_DAYS)
    if not days.isdigit() or int(days) not in DAYS:
        choices = ", ".join(str(d) for d in DAYS)
        raise InvalidInput("the dashboard's range is invalid", [FieldProblem(
            "days", f"must be one of {choices}; pick one from the list")])
    _, end = window(None, until, zone=zone, now=now)
    return end - timedelta(days=int(days)), end, int(days)


def add_routes(router: APIRouter, pages: Pages) -> None:
    runtime = pages.runtime

    @router.get("/reliability", response_class=HTMLResponse)
    def reliability_page(request: Request) -> Response:
        viewer = pages.sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        config, now = runtime.config_now(), runtime.clock.now()
        zone = viewer_zone(config, viewer)
        params = dict(request.query_params)
        try:
            start, end, days = chosen_window(params, zone=zone, now=now)
        except InvalidInput as exc:
            text = "; ".join(f"{p.path}: {p.message}" for p in exc.fields)
            return pages.message(request, 400, "The range is not valid",
                                 f"{exc.message}: {text}", viewer, back="/ui/reliability")
        admin = session_scope(config, viewer.user.id) == "admin"
        context = _figures(runtime, config, start, end, now, ZoneInfo(config.timezone),
                           viewer=viewer.user.id, admin=admin)
        return pages.render(
            request, "reliability.html", viewer=viewer, title="Reliability",
            nav="reliability", zone=zone.key, days=days, presets=DAYS,
            since=params.get("since", ""), until=params.get("until", ""),
            start=_local(start, zone), end=_local(end, zone),
            **context)


def _local(when: datetime, zone: ZoneInfo) -> str:
    # With the year: a period may run over a year's end.
    local = when.astimezone(zone)
    return f"{local:%a %d %b} {local.year:04d} {local:%H:%M}"


def _figures(runtime: Runtime, config: Config, start: datetime, end: datetime,
             now: datetime, team_zone: ZoneInfo, *, viewer: str, admin: bool,
             ) -> dict[str, Any]:
    with runtime.sessions() as session:
        report = build_report(session, config=config, since=start, until=end, now=now,
                              viewer=viewer, admin=admin)
        uptime = report if end - start == UPTIME_WINDOW else build_report(
            session, config=config, since=end - UPTIME_WINDOW, until=end, now=now,
            viewer=viewer, admin=admin)
        weekly = series.weekly(session, config=config, since=start, until=end)
    found = [views.mttr_chart(weekly, team_zone), views.incidents_chart(weekly, team_zone),
             views.people_chart(report)]
    return {
        "tiles": views.tiles(report), "mttr": views.spread_text(report.mttr),
        "mttr_mean": views.span(report.mttr.mean), "mttr_rows": views.mttr_rows(report),
        "uptime": views.share(uptime.uptime, 2), "uptime_rows": views.uptime_rows(uptime),
        "charts": [{"id": chart.id, "title": chart.title, "empty": chart.empty,
                    "svg": Markup(charts.render(chart)),  # noqa: S704 - every text is escaped
                    "table": table} for chart, table in found],
    }
