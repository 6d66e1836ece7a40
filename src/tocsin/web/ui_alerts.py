"""The UI's alert pages: the list (with filters, paging and live rows) and the alert page.

The list is a plain GET form, so it works without JavaScript; with it, the
vendored HTMX file asks for the rows again every few seconds and swaps them
in place. Acknowledge, Resolve and Not actionable are POST forms carrying the session's
CSRF token; they call the same service functions as the API and CLI, as the
logged-in user on the surface "ui", so the audit log and the timeline say
who did it and where.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tocsin.alerts import marks, search
from tocsin.alerts import service as alert_service
from tocsin.alerts import views as alert_views
from tocsin.alerts.rules import SEVERITY_URGENCY
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED
from tocsin.db import transaction
from tocsin.errors import Conflict, NotFound
from tocsin.logs import event
from tocsin.web import ui_alert_views as views
from tocsin.web import ui_incident_views as incident_views
from tocsin.web import ui_maintenance_views as maintenance_views
from tocsin.web.auth import session_scope
from tocsin.web.ui_session import STALE_FORM, Viewer, csrf_ok, viewer_zone

if TYPE_CHECKING:
    from tocsin.web.ui import Pages

log = logging.getLogger(__name__)

Action = Literal["ack", "resolve"]
SURFACE = "ui"


def add_routes(router: APIRouter, pages: Pages) -> None:
    _list_routes(router, pages)
    _alert_routes(router, pages)


def _list_routes(router: APIRouter, pages: Pages) -> None:
    sessions = pages.sessions

    @router.get("/alerts", response_class=HTMLResponse)
    def alert_list(request: Request, status: str = "open", service: str = "",
                   severity: str = "", route: str = "", before: str = "",
                   limit: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        chosen = views.ListFilter.read(status=status, service=service, severity=severity,
                                       route=route, before=before, limit=limit)
        config = pages.runtime.config_now()
        return pages.render(
            request, "alerts.html", viewer=viewer, title="Alerts",
            **_rows_context(pages, viewer, chosen), statuses=views.STATUS_LABELS,
            services=sorted(config.services), severities=sorted(SEVERITY_URGENCY),
            routes=views.route_choices(config), poll=views.POLL_SECONDS,
            page_size=views.PAGE_SIZE, nav="alerts")

    @router.get("/alerts/rows", response_class=HTMLResponse)
    def alert_rows(request: Request, status: str = "open", service: str = "",
                   severity: str = "", route: str = "", before: str = "",
                   limit: str = "") -> Response:
        """The list's rows alone: what the page's live update swaps in."""
        chosen = views.ListFilter.read(status=status, service=service, severity=severity,
                                       route=route, before=before, limit=limit)
        viewer = sessions.viewer(request)
        if viewer is None:
            # A session that ran out while the page sat open: send the whole tab to log in,
            # rather than drawing the login form inside the table.
            target = quote(f"/ui/alerts?{chosen.params()}")
            return Response(status_code=401, headers={"HX-Redirect": f"/ui/login?next={target}",
                                                      "Cache-Control": "no-store"})
        return pages.render(request, "alert_rows.html", viewer=viewer,
                            **_rows_context(pages, viewer, chosen))


def _rows_context(pages: Pages, viewer: Viewer, chosen: views.ListFilter) -> dict[str, Any]:
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    zone = viewer_zone(config, viewer)
    with runtime.sessions() as session:
        found = search.find_alerts(session, chosen.query())
        groups = alert_views.groups_of(session, found.alerts)
        rows = [views.row(config, alert, now, zone, groups.get(alert.group_id or 0))
                for alert in found.alerts]
    return {
        "filter": chosen, "rows": rows, "total": found.total,
        "first": found.newer + 1, "last": found.newer + len(rows),
        "newest": f"/ui/alerts?{chosen.params(before=None)}" if chosen.before else "",
        "older": f"/ui/alerts?{chosen.params(before=found.older)}" if found.older else "",
        "live": f"/ui/alerts/rows?{chosen.params()}",
        "as_of": f"{now.astimezone(zone):%H:%M:%S}", "zone": zone.key,
    }


def _alert_routes(router: APIRouter, pages: Pages) -> None:
    sessions, runtime = pages.sessions, pages.runtime

    @router.get("/alerts/{alert_id}", response_class=HTMLResponse)
    def alert_page(request: Request, alert_id: str, done: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        config, now = runtime.config_now(), runtime.clock.now()
        zone = viewer_zone(config, viewer)
        with runtime.sessions() as session:
            try:
                alert = alert_service.get_alert(session, _number(alert_id))
            except NotFound:
                return _missing(request, pages, viewer, alert_id)
            context = views.detail(session, config, alert, now, zone)
            told = views.notice(config, alert, done, zone) if done in views.DONE else ""
            held = maintenance_views.held_note(session, config, alert, now, zone)
            incidents = incident_views.incidents_of_alert(
                session, alert.id, viewer=viewer.user.id,
                admin=session_scope(config, viewer.user.id) == "admin")
        return pages.render(request, "alert.html", viewer=viewer,
                            title=f"Alert #{alert.id}", notice=told, zone=zone.key, held=held,
                            nav="alerts", severities=[s.name for s in config.severities],
                            incidents=incidents, **context)

    @router.post("/alerts/{alert_id}/ack", response_class=HTMLResponse)
    def ack(request: Request, alert_id: str, csrf: str = Form("")) -> Response:
        return _act(request, pages, alert_id, csrf, "ack")

    @router.post("/alerts/{alert_id}/resolve", response_class=HTMLResponse)
    def resolve(request: Request, alert_id: str, csrf: str = Form("")) -> Response:
        return _act(request, pages, alert_id, csrf, "resolve")

    @router.post("/alerts/{alert_id}/not-actionable", response_class=HTMLResponse)
    def not_actionable(request: Request, alert_id: str, csrf: str = Form(""),
                       undo: str = Form("")) -> Response:
        """Mark the alert not actionable; `undo=1` takes the mark off."""
        viewer = pages.sessions.viewer(request)
        back = f"/ui/alerts/{quote(alert_id)}"
        if viewer is None or not csrf_ok(viewer.session, csrf):
            return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer,
                                 back=back)
        try:
            with transaction(runtime.sessions) as session:
                done = marks.mark(session, alert_id=_number(alert_id), not_actionable=not undo,
                                  actor=viewer.user.id, surface=SURFACE,
                                  now=runtime.clock.now())
                marked = done.alert.not_actionable
        except NotFound:
            return _missing(request, pages, viewer, alert_id)
        said = "marked-not-actionable" if marked else "marked-actionable"
        return RedirectResponse(f"{back}?done={said}", status_code=303)


def _number(text: str) -> int:
    """An alert id from the path; anything else is an alert that does not exist."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        raise NotFound(f"alert {text!r} does not exist")
    return int(text)


def _missing(request: Request, pages: Pages, viewer: Viewer, alert_id: str) -> HTMLResponse:
    return pages.message(request, 404, "No such alert", f"There is no alert {alert_id!r}.",
                         viewer=viewer, back="/ui/alerts")


def _act(request: Request, pages: Pages, alert_id: str, csrf: str,
         action: Action) -> Response:
    viewer = pages.sessions.viewer(request)
    back = f"/ui/alerts/{quote(alert_id)}"
    if viewer is None or not csrf_ok(viewer.session, csrf):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=back)
    try:
        done = _apply(pages, _number(alert_id), viewer, action)
    except NotFound:
        return _missing(request, pages, viewer, alert_id)
    return RedirectResponse(f"{back}?done={done}", status_code=303)


def _apply(pages: Pages, alert_id: int, viewer: Viewer, action: Action) -> str:
    """Acknowledge or resolve as the viewer; what happened, for the page's notice."""
    runtime = pages.runtime
    actor, now = viewer.user.id, runtime.clock.now()
    with transaction(runtime.sessions) as session:
        before = alert_service.get_alert(session, alert_id, lock=True).status
        try:
            if action == "ack":
                alert_service.acknowledge(session, config=runtime.config_now(), alert_id=alert_id,
                                    actor=actor, surface=SURFACE, now=now)
            else:
                alert_service.resolve(session, config=runtime.config_now(), alert_id=alert_id,
                                actor=actor, surface=SURFACE, now=now)
        except Conflict:
            # Acknowledging a resolved alert changes nothing; the page says who resolved it.
            event(log, "ui.alert_action_refused", alert_id=alert_id, actor=actor,
                  action=action, status=before)
            return "already-resolved"
    # Cancelled pages and timers: the engine may be waiting on one of them.
    runtime.engine.wake()
    if before == RESOLVED:
        return "already-resolved"
    if action == "ack" and before == ACKNOWLEDGED:
        return "already-acknowledged"
    return "acknowledged" if action == "ack" else "resolved"
