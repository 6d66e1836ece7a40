"""The public status page in HTML: `/status/` and a page per public incident.

Server-rendered, no JavaScript: a banner, components with their 90-day
uptime bars, open incidents and maintenance, and past incidents by day in
the page's time zone (named on the page). It reads the same public view as
the JSON, so the two never disagree and nothing internal reaches either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tocsin.engine.runtime import Runtime
from tocsin.errors import NotFound
from tocsin.statuspage import rules, view
from tocsin.statuspage.view import ComponentView, IncidentView, PageView
from tocsin.web.statuspage_cache import PageCache

PAST_DAYS = 14
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "status"),
    autoescape=select_autoescape(["html"]),
)
HEADERS = {
    "Cache-Control": "public, max-age=10",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
}
# The main page holds the subscribe form, which posts to this server's /status/subscribe.
MAIN_HEADERS = {**HEADERS, "Content-Security-Policy": HEADERS["Content-Security-Policy"]
                .replace("form-action 'none'", "form-action 'self'")}
_WORDS = {"operational": "Operational", "degraded_performance": "Degraded performance",
          "partial_outage": "Partial outage", "major_outage": "Major outage",
          "under_maintenance": "Under maintenance"}


@dataclass(frozen=True)
class Bar:
    css: str  # the bar's class: its worst status, or "future"
    title: str  # "2026-03-02: 99.95 %"


@dataclass(frozen=True)
class Row:
    component: ComponentView
    uptime_30: float
    uptime_90: float
    bars: list[Bar]


def build_router(runtime: Runtime, cache: PageCache) -> APIRouter:
    router = APIRouter(prefix="/status", include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def status_page() -> HTMLResponse:
        now = runtime.clock.now()
        return _html(cache.get("/status/", now, lambda: _main_page(runtime, now)),
                     MAIN_HEADERS)

    @router.get("/incidents/{incident}", response_class=HTMLResponse)
    def incident_page(incident: int) -> HTMLResponse:
        now = runtime.clock.now()
        return _html(cache.get(f"/status/incidents/{incident}", now,
                               lambda: _incident_page(runtime, now, incident)))

    return router


def _main_page(runtime: Runtime, now: datetime) -> bytes:
    # Without a mail server the confirmation could never be sent: no form to fill in vain.
    mails = runtime.config_now().notifications.email is not None
    return render_main(_view(runtime, now), subscribe=mails)


def render_main(shown: PageView, *, internal: frozenset[str] | set[str] = frozenset(),
                subscribe: bool = False) -> bytes:
    """The main page; `internal` names the components to mark as internal;
    `subscribe` adds the form to subscribe by e-mail (public page only)."""
    return _render("page.html", shown, rows=_rows(shown), internal=internal,
                   past=_past_days(shown.incidents, shown.now, _zone(shown)),
                   subscribe=subscribe)


def _incident_page(runtime: Runtime, now: datetime, incident: int) -> bytes:
    shown = _view(runtime, now)
    found = next((i for i in shown.incidents if i.id == incident), None)
    if found is None:
        raise NotFound(f"no public incident {incident}")
    return _render("incident.html", shown, incident=found)


def _html(body: bytes, headers: dict[str, str] = HEADERS) -> HTMLResponse:
    return HTMLResponse(body, headers=headers)


def _view(runtime: Runtime, now: datetime) -> PageView:
    with runtime.sessions() as session:
        return view.page(session, config=runtime.config_now(), now=now)


def _zone(shown: PageView) -> ZoneInfo:
    return ZoneInfo(shown.time_zone)


def _render(template: str, shown: PageView, **context: Any) -> bytes:
    zone = _zone(shown)
    html: str = _TEMPLATES.get_template(template).render(
        page=shown, words=_WORDS, zone_name=shown.time_zone,
        zone_abbr=shown.now.astimezone(zone).tzname(),
        local=lambda when: when.astimezone(zone).strftime("%b %d, %H:%M %Z"),
        percent=_percent, **context)
    return html.encode()


def _rows(shown: PageView) -> list[Row]:
    days = rules.local_days(days=view.UPTIME_DAYS, zone=_zone(shown), now=shown.now)
    found: list[Row] = []
    for component in shown.components:
        history = component.history
        found.append(Row(
            component=component,
            uptime_30=rules.uptime(history, shown.now - timedelta(days=30), shown.now),
            uptime_90=rules.uptime(history, shown.now - timedelta(days=view.UPTIME_DAYS),
                                   shown.now),
            bars=[_bar(day) for day in rules.daily_uptime(history, days)]))
    return found


def _bar(day: rules.Day) -> Bar:
    if day.uptime is None:
        return Bar("future", day.day.isoformat())
    return Bar(f"status-{day.worst}", f"{day.day.isoformat()}: {_percent(day.uptime)}")


def _past_days(incidents: list[IncidentView], now: datetime, zone: ZoneInfo
               ) -> list[tuple[date, list[IncidentView]]]:
    """The last PAST_DAYS local days, newest first, each with the incidents begun that day."""
    today = now.astimezone(zone).date()
    by_day: dict[date, list[IncidentView]] = {}
    for incident in incidents:
        by_day.setdefault(incident.state.started_at.astimezone(zone).date(), []).append(incident)
    return [(day, by_day.get(day, []))
            for day in (today - timedelta(days=back) for back in range(PAST_DAYS))]


def _percent(share: float) -> str:
    """Two decimals, never rounding a real outage up to 100.00 %."""
    shown = int(share * 10_000) / 100
    return f"{shown:.2f} %"
