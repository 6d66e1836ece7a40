"""The web UI: server-rendered pages under /ui that work without JavaScript.

Every page asks `tocsin.oncall.service` for shifts, the same function the
engine, CLI and API use, so the UI never disagrees with a page sent out.
Every POST carries the session's CSRF token; a page for someone not logged
in sends them to the login form and back.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from tocsin import accounts
from tocsin.config.model import Config, Override, Schedule
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import TocsinError
from tocsin.logs import event
from tocsin.oncall import coverage, overrides, service
from tocsin.oncall.store import ScheduleOverride
from tocsin.web import (
    ui_action_items,
    ui_alerts,
    ui_dashboard,
    ui_forms,
    ui_heartbeats,
    ui_incidents,
    ui_maintenance,
    ui_postmortems,
    ui_views,
)
from tocsin.web.ui_session import (
    STALE_FORM,
    Sessions,
    UiSession,
    Viewer,
    csrf_ok,
    is_secure,
    trusted_header_name,
    viewer_zone,
)

log = logging.getLogger(__name__)

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "ui"),
    autoescape=select_autoescape(["html"]),
)
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # Inline style attributes place the timeline's bars. The only script is the
    # vendored HTMX file, which fetches fragments from this server: nothing inline.
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "Referrer-Policy": "same-origin",
}
# Gaps listed per schedule on the home page; the schedule's page shows them all.
GAPS_LISTED = 5


class Pages:
    """Rendering and the session cookie, shared by the routes below."""

    def __init__(self, runtime: Runtime, sessions: Sessions) -> None:
        self.runtime = runtime
        self.sessions = sessions

    def render(self, request: Request, template: str, *, viewer: Viewer | None,
               session: UiSession | None = None, status: int = 200,
               **context: Any) -> HTMLResponse:
        current = session or (viewer.session if viewer else None)
        html = _TEMPLATES.get_template(template).render(
            viewer=viewer, csrf=current.csrf if current else "", **context)
        response = HTMLResponse(html, status_code=status, headers=_HEADERS)
        if current is not None and (session is not None or (viewer and viewer.fresh)):
            self.sessions.write(response, current, secure=self.secure(request))
        return response

    def secure(self, request: Request) -> bool:
        return is_secure(request, self.runtime.config_now())

    def message(self, request: Request, status: int, title: str, message: str,
                viewer: Viewer | None = None, back: str = "") -> HTMLResponse:
        return self.render(request, "message.html", viewer=viewer, status=status, title=title,
                           message=message, back=back)

    def to_login(self, request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)


def safe_next(target: str) -> str:
    """Only pages of this UI, so the login form cannot send anyone to another site."""
    if target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def build_router(runtime: Runtime, *, trusted_header: str | None = None) -> APIRouter:
    router = APIRouter(prefix="/ui")
    sessions = Sessions(runtime, trusted_header=trusted_header or trusted_header_name())
    pages = Pages(runtime, sessions)
    _login_routes(router, pages)
    _page_routes(router, pages)
    _override_routes(router, pages)
    ui_alerts.add_routes(router, pages)
    ui_incidents.add_routes(router, pages)
    ui_action_items.add_routes(router, pages)
    ui_postmortems.add_routes(router, pages)
    ui_maintenance.add_routes(router, pages)
    ui_heartbeats.add_routes(router, pages)
    ui_dashboard.add_routes(router, pages)
    return router


def _login_routes(router: APIRouter, pages: Pages) -> None:
    sessions, runtime = pages.sessions, pages.runtime

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/ui/") -> Response:
        if sessions.viewer(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        pre_login = sessions.read(request) or sessions.new(None)
        return pages.render(request, "login.html", viewer=None, session=pre_login,
                            title="Log in", next=safe_next(next), username="", error="")

    @router.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf: str = Form(""), next: str = Form("/ui/")) -> Response:
        pre_login = sessions.read(request)
        if not csrf_ok(pre_login, csrf):
            return pages.message(request, 403, "Form expired", STALE_FORM, back="/ui/login")
        user = runtime.config_now().user_by_email_or_id(username.strip())
        with transaction(runtime.sessions) as session:
            ok = user is not None and accounts.verify(
                session, user_id=user.id, password=password, now=runtime.clock.now())
        if user is None or not ok:
            # Never the password, nor the name typed: a password pasted there by mistake.
            event(log, "ui.login_refused", level=logging.WARNING, known_user=user is not None)
            return pages.render(request, "login.html", viewer=None, session=pre_login,
                                status=401, title="Log in", next=safe_next(next),
                                username=username, error="Wrong user or password.")
        event(log, "ui.login", user=user.id)
        response = RedirectResponse(safe_next(next), status_code=303)
        # A new session, with a new token, so nothing planted before login survives it.
        sessions.write(response, sessions.new(user.id), secure=pages.secure(request))
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        viewer = sessions.viewer(request)
        if viewer is not None and not csrf_ok(viewer.session, csrf):
            return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer)
        response = RedirectResponse("/ui/login", status_code=303)
        sessions.clear(response, secure=pages.secure(request))
        if viewer is not None:
            event(log, "ui.logout", user=viewer.user.id)
        return response


def _page_routes(router: APIRouter, pages: Pages) -> None:
    sessions, runtime = pages.sessions, pages.runtime

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        config, now = runtime.config_now(), runtime.clock.now()
        zone = viewer_zone(config, viewer)
        with runtime.sessions() as session:
            items = [_now_item(session, config, schedule, now, zone)
                     for _name, schedule in sorted(config.schedules.items())]
        return pages.render(request, "home.html", viewer=viewer, title="On call now",
                            nav="home", schedules=items, now_viewer=ui_views.local_time(now, zone),
                            viewer_zone=zone.key, horizon=coverage.COVERAGE_HORIZON.days,
                            gappy=[item for item in items if item["gaps"]],
                            gap_limit=GAPS_LISTED)

    @router.get("/schedules/{name}", response_class=HTMLResponse)
    def schedule_page(request: Request, name: str, start: str = "", added: str = "",
                      deleted: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        schedule = runtime.config_now().schedules.get(name)
        if schedule is None:
            return pages.message(request, 404, "No such schedule",
                                 f"There is no schedule named {name!r}.", viewer=viewer)
        notice = (f"Override #{added} added." if added.isdigit() else
                  f"Override #{deleted} deleted." if deleted.isdigit() else "")
        context = _schedule_context(runtime, viewer, schedule, start)
        return pages.render(request, "schedule.html", viewer=viewer, notice=notice,
                            form=ui_forms.OverrideForm(), errors=[], **context)



def _override_routes(router: APIRouter, pages: Pages) -> None:
    sessions, runtime = pages.sessions, pages.runtime

    @router.post("/schedules/{name}/overrides", response_class=HTMLResponse)
    def add_override(request: Request, name: str, csrf: str = Form(""), user: str = Form(""),
                     kind: str = Form(""), replaces: str = Form(""), start: str = Form(""),
                     end: str = Form("")) -> Response:
        viewer = sessions.viewer(request)
        if viewer is None or not csrf_ok(viewer.session, csrf):
            return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer,
                                 back=f"/ui/schedules/{quote(name)}")
        schedule = runtime.config_now().schedules.get(name)
        if schedule is None:
            return pages.message(request, 404, "No such schedule",
                                 f"There is no schedule named {name!r}.", viewer=viewer)
        form = ui_forms.OverrideForm(user, kind, replaces, start, end)
        made = _add_override(runtime, schedule, form, viewer)
        if isinstance(made, list):
            context = _schedule_context(runtime, viewer, schedule, "")
            return pages.render(request, "schedule.html", viewer=viewer, status=400,
                                notice="", form=form, errors=made, **context)
        made_id, first = made
        today = runtime.clock.now().astimezone(ZoneInfo(schedule.timezone)).date()
        # Stay on the current two weeks when the override shows there; else go to it.
        shown = first if not 0 <= (first - today).days < ui_views.DAYS_SHOWN else today
        return RedirectResponse(f"/ui/schedules/{quote(name)}?start={shown.isoformat()}"
                                f"&added={made_id}", status_code=303)

    @router.post("/schedules/{name}/overrides/{override_id}/delete",
                 response_class=HTMLResponse)
    def delete_override(request: Request, name: str, override_id: int, csrf: str = Form(""),
                        confirmed: str = Form("")) -> Response:
        """Without `confirmed`, a page that asks; with it, the deletion (no script runs)."""
        viewer = sessions.viewer(request)
        back = f"/ui/schedules/{quote(name)}"
        if viewer is None or not csrf_ok(viewer.session, csrf):
            return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer,
                                 back=back)
        schedule = runtime.config_now().schedules.get(name)
        with runtime.sessions() as session:
            row = ui_forms.find(session, schedule, override_id) if schedule else None
        if schedule is None or row is None:
            return pages.message(request, 404, "No such override",
                                 f"Schedule {name!r} has no override #{override_id}.",
                                 viewer=viewer, back=back)
        if confirmed != "yes":
            return pages.render(request, "delete_override.html", viewer=viewer,
                                **_confirm_context(runtime, schedule, row))
        problem = _delete_override(runtime, override_id, viewer)
        if problem is not None:
            return pages.message(request, problem.status, "Not deleted", problem.message,
                                 viewer=viewer, back=back)
        return RedirectResponse(f"{back}?deleted={override_id}", status_code=303)


def _delete_override(runtime: Runtime, override_id: int, viewer: Viewer) -> TocsinError | None:
    """Delete (or end now) an override, audited as the viewer; why not, if it cannot be."""
    try:
        with transaction(runtime.sessions) as session:
            overrides.delete_override(session, override_id=override_id, actor=viewer.user.id,
                                      surface="ui", now=runtime.clock.now())
    except TocsinError as exc:
        return exc
    # The engine may be waiting on a handoff the deletion just moved.
    runtime.engine.wake()
    return None


def _add_override(runtime: Runtime, schedule: Schedule, form: ui_forms.OverrideForm,
                  viewer: Viewer) -> tuple[int, date] | list[str]:
    """The new override's id and its first local day, or what is wrong with the form."""
    with transaction(runtime.sessions) as session:
        made = ui_forms.create(session, config=runtime.config_now(), schedule=schedule,
                               form=form, actor=viewer.user.id, now=runtime.clock.now())
        if isinstance(made, list):
            return made
        first = made.start_at.astimezone(ZoneInfo(schedule.timezone)).date()
        made_id = made.id
    # The engine may be waiting on a handoff the override just moved.
    runtime.engine.wake()
    return made_id, first


def _confirm_context(runtime: Runtime, schedule: Schedule,
                     row: ScheduleOverride) -> dict[str, Any]:
    now = runtime.clock.now()
    zone = ZoneInfo(schedule.timezone)
    item = _override_item(runtime.config_now(), service.as_override(row), zone, now)
    return {"title": f"Delete override #{row.id}", "name": schedule.name, "zone": zone.key,
            "item": item, "running": row.start_at < now,
            "back": f"/ui/schedules/{quote(schedule.name)}"}


def _now_item(session: Session, config: Config, schedule: Schedule, now: datetime,
              zone: ZoneInfo) -> dict[str, Any]:
    own = ZoneInfo(schedule.timezone)
    shifts = [
        {"who": ui_views.display_name(config, s.user),
         "source": ui_views.source_label(s.source),
         "start": ui_views.local_time(s.start, own), "end": ui_views.local_time(s.end, own),
         "start_viewer": ui_views.local_time(s.start, zone),
         "end_viewer": ui_views.local_time(s.end, zone)}
        for s in service.on_call(session, schedule, now)
    ]
    return {"name": schedule.name, "zone": schedule.timezone, "shifts": shifts,
            "gaps": _coverage_gaps(session, schedule, now)}


def _coverage_gaps(session: Session, schedule: Schedule, now: datetime) -> list[dict[str, Any]]:
    """Gaps in the next 14 days, as `tocsin check` and the API find them, in the schedule's zone."""
    start, end = coverage.upcoming_range(now)
    found = coverage.gaps(service.final_shifts(session, schedule, start, end), start, end)
    own = ZoneInfo(schedule.timezone)
    return [{"start": ui_views.local_time(a, own), "end": ui_views.local_time(b, own),
             "ongoing": a <= now, "open": b >= end} for a, b in found]


def _first_day(text: str, today: date) -> date:
    try:
        chosen = date.fromisoformat(text) if text else today
    except ValueError:
        return today
    # Far-off dates would overflow the calendar maths; nobody plans a decade out.
    return chosen if abs((chosen - today).days) <= 3660 else today


def _schedule_context(runtime: Runtime, viewer: Viewer, schedule: Schedule,
                      start: str) -> dict[str, Any]:
    config, now = runtime.config_now(), runtime.clock.now()
    zone = ZoneInfo(schedule.timezone)
    today = now.astimezone(zone).date()
    first = _first_day(start, today)
    last = first + timedelta(days=ui_views.DAYS_SHOWN)
    begin, finish = ui_views.day_start(first, zone), ui_views.day_start(last, zone)
    with runtime.sessions() as session:
        found = service.final_shifts(session, schedule, begin, finish)
        stored = service.stored_overrides(session, schedule, begin, finish)
    listed = [o for o in (*schedule.overrides, *stored) if o.start < finish and o.end > begin]
    you = viewer_zone(config, viewer)
    return {
        "title": f"Schedule {schedule.name}", "name": schedule.name, "zone": schedule.timezone,
        "viewer_zone": you.key, "today": today.isoformat(),
        "earlier": (first - timedelta(days=ui_views.DAYS_SHOWN)).isoformat(),
        "later": last.isoformat(),
        "first_label": f"{first:%a %d %b %Y}",
        "last_label": f"{last - timedelta(days=1):%a %d %b %Y}",
        "rows": ui_views.timeline(config, found, first, zone, now),
        "stretches": ui_views.stretches(config, found, begin, finish, zone, you),
        "overrides": [_override_item(config, o, zone, now) for o in listed],
        "users": sorted(({"id": u.id, "label": u.display if u.display == u.id
                          else f"{u.display} ({u.id})"} for u in config.users.values()),
                        key=lambda u: u["label"].lower()),
        "kinds": ui_forms.KINDS,
    }


def _override_item(config: Config, override: Override, zone: ZoneInfo,
                   now: datetime) -> dict[str, Any]:
    stored = not override.id.startswith("config:")
    return {"id": f"#{override.id}" if stored else "config file", "number": override.id,
            # The file's own overrides are changed in the file; ended ones are history.
            "deletable": stored and override.end > now,
            "who": ui_views.display_name(config, override.user),
            "kind": override.kind,
            "replaces": ui_views.display_name(config, override.replaces)
            if override.replaces else "",
            "start": ui_views.local_time(override.start, zone),
            "end": ui_views.local_time(override.end, zone)}
