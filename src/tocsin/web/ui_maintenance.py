"""The UI's maintenance page: windows in force, upcoming and recently over; a form
to make a window (a silence); and "end now" behind a confirm page.

The form is read into the body `POST /api/v1/maintenance` takes and checked
by the same code; windows are made and ended by the same service calls as
the API and CLI, as the logged-in user on the surface "ui", so they write
the same audit rows and log lines. Times on the page and in the form are
the reader's (their own zone, else the config's), and the page names it.
No script runs: ending asks on a page of its own, as deleting an override
does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tocsin.alerts import maintenance, maintenance_overview
from tocsin.db import transaction
from tocsin.errors import InvalidInput, TocsinError
from tocsin.web import ui_maintenance_form as forms
from tocsin.web import ui_maintenance_views as views
from tocsin.web.auth import session_scope
from tocsin.web.maintenance_api import window_fields
from tocsin.web.ui_session import STALE_FORM, Viewer, csrf_ok, viewer_zone

if TYPE_CHECKING:
    from tocsin.web.ui import Pages

log = logging.getLogger(__name__)

SURFACE = "ui"
BACK = "/ui/maintenance"


def add_routes(router: APIRouter, pages: Pages) -> None:
    sessions = pages.sessions

    @router.get("/maintenance", response_class=HTMLResponse)
    def maintenance_page(request: Request, created: str = "", ended: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        notice = (f"Maintenance window #{created} made." if _digits(created) else
                  f"Maintenance window #{ended} ended." if _digits(ended) else "")
        return _render(request, pages, viewer, notice=notice)

    @router.post("/maintenance", response_class=HTMLResponse)
    def create(request: Request, csrf: str = Form(""), services: str = Form(""),
               match: str = Form(""), match_re: str = Form(""), start: str = Form(""),
               end: str = Form(""), duration: str = Form(""),
               reason: str = Form("")) -> Response:
        viewer = _writer(request, pages, csrf)
        if not isinstance(viewer, Viewer):
            return viewer
        form = forms.MaintenanceForm(services, match, match_re, start, end, duration, reason)
        made = _create(pages, viewer, form)
        if isinstance(made, list):
            return _render(request, pages, viewer, status=400, form=form, problems=made)
        return RedirectResponse(f"{BACK}?created={made}", status_code=303)

    @router.post("/maintenance/{window}/end", response_class=HTMLResponse)
    def end(request: Request, window: str, csrf: str = Form(""),
            confirmed: str = Form("")) -> Response:
        """Without `confirmed`, a page that asks; with it, the window ends now."""
        viewer = _writer(request, pages, csrf)
        if not isinstance(viewer, Viewer):
            return viewer
        if confirmed != "yes":
            return _confirm(request, pages, viewer, window)
        problem = _end(pages, viewer, window)
        if problem is not None:
            return pages.message(request, problem.status, "Not ended", problem.message,
                                 viewer=viewer, back=BACK)
        return RedirectResponse(f"{BACK}?ended={window}", status_code=303)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 10


def _writer(request: Request, pages: Pages, csrf: str) -> Viewer | Response:
    """Who makes this change, or the page that says why they may not: no session,
    a stale form, or no write permission."""
    viewer = pages.sessions.viewer(request)
    if viewer is None or not csrf_ok(viewer.session, csrf):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=BACK)
    if session_scope(pages.runtime.config_now(), viewer.user.id) not in ("write", "admin"):
        return pages.message(request, 403, "Not allowed",
                             "Changing maintenance windows needs write permission.",
                             viewer=viewer, back=BACK)
    return viewer


def _render(request: Request, pages: Pages, viewer: Viewer, *, status: int = 200,
            notice: str = "", form: forms.MaintenanceForm | None = None,
            problems: list[forms.Problem] | None = None) -> HTMLResponse:
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    zone = viewer_zone(config, viewer)
    with runtime.sessions() as session:
        found = maintenance_overview.overview(session, config=config, now=now)
    problems = problems or []
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.field, []).append(problem.message)
    return pages.render(
        request, "maintenance.html", viewer=viewer, status=status, title="Maintenance",
        nav="maintenance", notice=notice, zone=zone.key, form=form or forms.MaintenanceForm(),
        problems=[p.text for p in problems], field_problems=by_field, labels=forms.LABELS,
        services=sorted(config.services), recent_days=maintenance_overview.RECENT.days,
        now=views.local(now, zone), **views.overview_context(config, found, zone))


def _create(pages: Pages, viewer: Viewer, form: forms.MaintenanceForm) -> int | list[forms.Problem]:
    """The new window's id, or every problem with the form."""
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    body, problems = form.body()
    try:
        fields = window_fields(body, viewer_zone(config, viewer), now)
    except InvalidInput as exc:
        return problems + forms.named(exc.fields)
    # The service's own checks, asked first so that the form's problems and its come at once.
    problems += forms.named(maintenance.window_problems(now=now, **fields))
    if problems:
        return problems
    try:
        with transaction(runtime.sessions) as session:
            row = maintenance.create_window(session, actor=viewer.user.id, surface=SURFACE,
                                            now=now, **fields)
            made: int = row.id
    except InvalidInput as exc:
        return forms.named(exc.fields)
    # A window that starts now holds the next step of escalations already running.
    runtime.engine.wake()
    return made


def _confirm(request: Request, pages: Pages, viewer: Viewer, window: str) -> Response:
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    try:
        number = maintenance.window_id(window)
        with runtime.sessions() as session:
            found = maintenance_overview.listed_row(session, window=number, now=now)
    except TocsinError as exc:
        return pages.message(request, exc.status, "Cannot end this window", exc.message,
                             viewer=viewer, back=BACK)
    if not found.endable:
        return pages.message(request, 409, "Already over",
                             f"Maintenance window {found.label} is {found.status}; "
                             "there is nothing to end.", viewer=viewer, back=BACK)
    zone = viewer_zone(config, viewer)
    context: dict[str, Any] = {"item": views.window_item(config, found, zone),
                               "running": found.status == "in_force"}
    return pages.render(request, "end_maintenance.html", viewer=viewer,
                        title=f"End maintenance window {found.label}", nav="maintenance",
                        zone=zone.key, back=BACK, **context)


def _end(pages: Pages, viewer: Viewer, window: str) -> TocsinError | None:
    """End the window now as the viewer, audited; why not, if it cannot be."""
    runtime = pages.runtime
    try:
        number = maintenance.window_id(window)
        with transaction(runtime.sessions) as session:
            maintenance.end_window(session, window=number, actor=viewer.user.id,
                                   surface=SURFACE, now=runtime.clock.now())
    except TocsinError as exc:
        return exc
    runtime.engine.wake()  # the alerts it held start paging now
    return None
