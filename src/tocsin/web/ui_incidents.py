"""The UI's incident pages: the list, the declare form, the incident's page and its forms.

Every form is a plain POST carrying the session's CSRF token and works
without JavaScript. Each calls the same `incidents.service` function as
the API, CLI and Slack, as the logged-in user on the surface "ui", so the
audit log and the timeline say who did it and where. A form the service
refuses comes back with each problem beside its field. Private incidents
are answered as missing to anyone but their members and admins, as the
API does.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import replay_store
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    TocsinError,
    TooLarge,
)
from tocsin.incidents import rules, service
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.web import ui_action_items
from tocsin.web import ui_incident_forms as forms
from tocsin.web import ui_incident_views as views
from tocsin.web.auth import session_scope
from tocsin.web.body import KIB, read_capped
from tocsin.web.ui_session import STALE_FORM, Viewer, csrf_ok, viewer_zone

if TYPE_CHECKING:
    from tocsin.web.ui import Pages

log = logging.getLogger(__name__)

BACK = "/ui/incidents"
# Rows on the list; the filters narrow it down past that.
LIST_LIMIT = 200
# A note or an update is at most 10,000 characters; a form never needs more than this.
FORM_LIMIT = 256 * KIB
MAX_FIELDS = 200


@dataclass(frozen=True)
class Posted:
    """A submitted form: its text fields, and the services ticked (a list)."""

    values: dict[str, str]
    services: list[str]


async def _posted(request: Request) -> Posted:
    """The form's fields, read with a cap: these forms are short text, never files."""
    raw = await read_capped(request, FORM_LIMIT)
    pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True,
                      max_num_fields=MAX_FIELDS)
    values = dict(pairs)
    return Posted(values, [v for k, v in pairs if k == "services"])


async def _submit(request: Request, pages: Pages, work: Callable[..., Response],
                  *args: str) -> Response:
    """Read the posted form, then run `work` (which touches the database) off the loop."""
    try:
        posted = await _posted(request)
    except (TooLarge, ValueError):
        return pages.message(request, 413, "Form too large",
                             "This form holds more than Tocsin takes; shorten it and try "
                             "again.", viewer=pages.sessions.viewer(request), back=BACK)
    return await run_in_threadpool(work, request, pages, *args, posted)


def is_admin(config: Config, viewer: Viewer) -> bool:
    return session_scope(config, viewer.user.id) == "admin"


def canonical(key: str) -> str | None:
    number = rules.parse_key(key)
    return None if number is None or number >= 2**31 else f"INC-{number}"


def add_routes(router: APIRouter, pages: Pages) -> None:
    _list_routes(router, pages)
    _page_routes(router, pages)


def _list_routes(router: APIRouter, pages: Pages) -> None:
    sessions, runtime = pages.sessions, pages.runtime

    @router.get("/incidents", response_class=HTMLResponse)
    def incident_list(request: Request, status: str = "open", severity: str = "",
                      service: str = "", since: str = "", until: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        config, now = runtime.config_now(), runtime.clock.now()
        zone = viewer_zone(config, viewer)
        chosen = views.ListFilter.read(status=status, severity=severity, service=service,
                                       since=since, until=until)
        problems = views.Problems()
        query = chosen.query(zone, problems)
        with runtime.sessions() as session:
            found = _listing(session, query, viewer.user.id, is_admin(config, viewer))
            rows = [views.row(config, incident, now, zone) for incident in found]
        return pages.render(
            request, "incidents.html", viewer=viewer, status=400 if problems else 200,
            title="Incidents", nav="incidents", filter=chosen, rows=rows, zone=zone.key,
            problems=problems.by_field, statuses=views.STATUS_CHOICES,
            limit=LIST_LIMIT, **views.choices(config))

    @router.get("/incidents/new", response_class=HTMLResponse)
    def declare_form(request: Request) -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _declare_page(request, pages, viewer, forms.DeclareForm(), views.Problems(),
                             once=secrets.token_urlsafe(16))

    @router.post("/incidents", response_class=HTMLResponse)
    async def declare(request: Request) -> Response:
        return await _submit(request, pages, _declare)

    @router.post("/alerts/{alert_id}/incident", response_class=HTMLResponse)
    async def declare_for_alert(request: Request, alert_id: str) -> Response:
        return await _submit(request, pages, _declare_for_alert, alert_id)


def _listing(session: Session, query: dict[str, Any], viewer: str,
             admin: bool) -> list[Incident]:
    try:
        return service.listing(session, viewer=viewer, admin=admin, limit=LIST_LIMIT, **query)
    except InvalidInput:
        # Only a hand-edited status gets here, and ListFilter already refused those.
        return []


def _declare_page(request: Request, pages: Pages, viewer: Viewer, form: forms.DeclareForm,
                  problems: views.Problems, *, once: str, status: int = 200) -> HTMLResponse:
    config = pages.runtime.config_now()
    return pages.render(request, "incident_new.html", viewer=viewer, status=status,
                        title="Declare an incident", nav="incidents", form=form, once=once,
                        problems=problems.by_field, **views.choices(config))


def _first_declared(session: Session, viewer: Viewer, once: str,
                    now: datetime) -> str | None:
    """Claim the declare form's one-time token: None the first time; on a replay (a
    double click, a resend) the key of the incident the first post declared, or ""."""
    if not once:
        return None
    key = f"{viewer.user.id}:{once}"
    if replay_store.claim(session, source=replay_store.UI_FORM, key=key, now=now):
        return None
    return replay_store.first_reply(session, source=replay_store.UI_FORM, key=key)


def _declare(request: Request, pages: Pages, posted: Posted) -> Response:
    viewer = pages.sessions.viewer(request)
    if viewer is None or not csrf_ok(viewer.session, posted.values.get("csrf", "")):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer,
                             back="/ui/incidents/new")
    runtime = pages.runtime
    form = forms.DeclareForm.read(posted.values, posted.services)
    problems = form.problems()
    once = posted.values.get("once", "")[:64]
    key = ""
    if not problems:
        try:
            with transaction(runtime.sessions) as session:
                now = runtime.clock.now()
                first = _first_declared(session, viewer, once, now)
                if first is not None:  # a replay lands on what the first post declared
                    return RedirectResponse(f"{BACK}/{first}" if first else BACK,
                                            status_code=303)
                key = service.declare(
                    session, config=runtime.config_now(), title=form.title,
                    severity=form.severity, services=form.services, private=form.private,
                    summary=form.summary or None, actor=viewer.user.id, surface=forms.SURFACE,
                    now=now).key
                if once:
                    replay_store.remember_reply(session, source=replay_store.UI_FORM,
                                                key=f"{viewer.user.id}:{once}", reply=key)
        except InvalidInput as exc:
            problems.take(exc.fields or [FieldProblem("title", exc.message)],
                          forms.DECLARE_FIELDS, "title")
    if problems:
        return _declare_page(request, pages, viewer, form, problems, status=400,
                             once=once or secrets.token_urlsafe(16))
    runtime.engine.wake()  # the pages it sent
    return RedirectResponse(f"{BACK}/{key}?done=declared", status_code=303)


def _declare_for_alert(request: Request, pages: Pages, alert_id: str,
                       posted: Posted) -> Response:
    viewer = pages.sessions.viewer(request)
    back = f"/ui/alerts/{quote(alert_id)}"
    if viewer is None or not csrf_ok(viewer.session, posted.values.get("csrf", "")):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=back)
    runtime = pages.runtime
    if not (alert_id.isascii() and alert_id.isdigit()) or len(alert_id) > 9:
        return pages.message(request, 404, "No such alert", f"There is no alert {alert_id!r}.",
                             viewer=viewer, back="/ui/alerts")
    try:
        with transaction(runtime.sessions) as session:
            config = runtime.config_now()
            key = service.declare_from_alert(
                session, config=config, alert_id=int(alert_id),
                severity=posted.values.get("severity", ""),
                private=posted.values.get("private") == "yes", actor=viewer.user.id,
                surface=forms.SURFACE, now=runtime.clock.now(),
                admin=is_admin(config, viewer)).key
    except NotFound:
        return pages.message(request, 404, "No such alert", f"There is no alert {alert_id!r}.",
                             viewer=viewer, back="/ui/alerts")
    except InvalidInput as exc:
        said = "; ".join(f"{p.path}: {p.message}" for p in exc.fields) or exc.message
        return pages.message(request, 400, "Not declared", said, viewer=viewer, back=back)
    except Conflict as exc:
        return pages.message(request, 409, "Not declared", exc.message, viewer=viewer,
                             back=back)
    runtime.engine.wake()
    return RedirectResponse(f"{BACK}/{key}?done=declared", status_code=303)


def _page_routes(router: APIRouter, pages: Pages) -> None:
    sessions = pages.sessions

    @router.get("/incidents/{key}", response_class=HTMLResponse)
    def incident_page(request: Request, key: str, done: str = "", role: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _incident_page(request, pages, viewer, key, done=done, role=role)

    @router.post("/incidents/{key}/{action}", response_class=HTMLResponse)
    async def act(request: Request, key: str, action: str) -> Response:
        return await _submit(request, pages, _act, key, action)

    @router.get("/incidents/{key}/timeline/{entry_id}", response_class=HTMLResponse)
    def entry_form(request: Request, key: str, entry_id: str) -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _entry_page(request, pages, viewer, key, entry_id, None, views.Problems())

    @router.post("/incidents/{key}/timeline/{entry_id}", response_class=HTMLResponse)
    async def edit_entry(request: Request, key: str, entry_id: str) -> Response:
        return await _submit(request, pages, _edit, key, entry_id)


def _missing(request: Request, pages: Pages, viewer: Viewer | None, key: str) -> HTMLResponse:
    return pages.message(request, 404, "No such incident",
                         f"There is no incident {key!r} that you may see.", viewer=viewer,
                         back=BACK)


def _incident_page(request: Request, pages: Pages, viewer: Viewer, key: str, *,
                   done: str = "", role: str = "", status: int = 200, failed: str = "",
                   posted: Posted | None = None,
                   problems: views.Problems | None = None) -> HTMLResponse:
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    zone = viewer_zone(config, viewer)
    with runtime.sessions() as session:
        try:
            incident = service.get(session, key, viewer=viewer.user.id,
                                   admin=is_admin(config, viewer))
        except NotFound:
            return _missing(request, pages, viewer, key)
        context = views.detail(session, config, incident, now, zone)
        statuspage = forms.public_face(session, config, incident)
        items = ui_action_items.for_incident(session, config, incident, now)
    values = forms.defaults(incident, zone)
    if failed and posted is not None:
        values[failed] = forms.typed(failed, posted.values, posted.services)
    notice = forms.notice(done, role, context["roles"])
    return pages.render(
        request, "incident.html", viewer=viewer, status=status, title=incident.key,
        nav="incidents", zone=zone.key, notice=notice, values=values, failed=failed,
        problems=(problems.by_field if problems else {}), statuspage=statuspage,
        action_items=items, **context,
        **views.choices(config))


def _act(request: Request, pages: Pages, key: str, action: str, posted: Posted) -> Response:
    viewer = pages.sessions.viewer(request)
    shown = canonical(key)
    back = f"{BACK}/{shown or quote(key)}"
    if viewer is None or not csrf_ok(viewer.session, posted.values.get("csrf", "")):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=back)
    handler = forms.ACTIONS.get(action)
    if handler is None or shown is None:
        return _missing(request, pages, viewer, key)
    runtime = pages.runtime
    config = runtime.config_now()
    zone = viewer_zone(config, viewer)
    problems = views.Problems()
    done = ""
    try:
        with transaction(runtime.sessions) as session:
            done = handler(forms.Act(session, config, shown, viewer.user.id,
                                     runtime.clock.now(), is_admin(config, viewer), zone),
                           posted.values, posted.services, problems)
    except NotFound:
        return _missing(request, pages, viewer, key)
    except InvalidInput as exc:
        fields, fallback = forms.FIELDS[action]
        problems.take(exc.fields or [FieldProblem(fallback, exc.message)], fields, fallback)
    except Conflict as exc:
        problems.add(forms.FIELDS[action][1], exc.message)
    except TocsinError as exc:
        return pages.message(request, exc.status, "Not done", exc.message, viewer=viewer,
                             back=back)
    if problems:
        event(log, "ui.incident_form_refused", incident=shown, form=action,
              actor=viewer.user.id, fields=",".join(sorted(problems.by_field)))
        return _incident_page(request, pages, viewer, shown, status=400, failed=action,
                              posted=posted, problems=problems)
    runtime.engine.wake()  # pages, Slack posts and reminders it queued
    return RedirectResponse(f"{back}?{done}", status_code=303)


def _entry_page(request: Request, pages: Pages, viewer: Viewer, key: str, entry_id: str,
                posted: Posted | None, problems: views.Problems,
                status: int = 200) -> HTMLResponse:
    runtime = pages.runtime
    config = runtime.config_now()
    zone = viewer_zone(config, viewer)
    with runtime.sessions() as session:
        try:
            incident = service.get(session, key, viewer=viewer.user.id,
                                   admin=is_admin(config, viewer))
        except NotFound:
            return _missing(request, pages, viewer, key)
        entry = views.entry_of(session, incident, entry_id)
        title = f"{incident.key}: {incident.title}"
    if entry is None or not entry.editable:
        return pages.message(request, 404, "No such note",
                             f"{incident.key} has no note or update {entry_id!r} to edit.",
                             viewer=viewer, back=f"{BACK}/{incident.key}")
    values = {"text": entry.text, "occurred_at": views.form_time(entry.occurred_at, zone)}
    if posted is not None:
        values = {name: posted.values.get(name, "") for name in values}
    return pages.render(request, "incident_entry.html", viewer=viewer, status=status,
                        title=f"Edit entry {entry.id} of {incident.key}", nav="incidents",
                        heading=title, key=incident.key, zone=zone.key,
                        entry=views.entry_item(config, entry, zone), values=values,
                        problems=problems.by_field)


def _edit(request: Request, pages: Pages, key: str, entry_id: str, posted: Posted) -> Response:
    viewer = pages.sessions.viewer(request)
    shown = canonical(key)
    back = f"{BACK}/{shown or quote(key)}"
    if viewer is None or not csrf_ok(viewer.session, posted.values.get("csrf", "")):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=back)
    if shown is None or not (entry_id.isascii() and entry_id.isdigit()) or len(entry_id) > 9:
        return _missing(request, pages, viewer, key)
    runtime = pages.runtime
    config = runtime.config_now()
    problems = views.Problems()
    try:
        with transaction(runtime.sessions) as session:
            forms.edit(forms.Act(session, config, shown, viewer.user.id, runtime.clock.now(),
                                 is_admin(config, viewer), viewer_zone(config, viewer)),
                       int(entry_id), posted.values, problems)
    except NotFound:
        return _entry_page(request, pages, viewer, shown, entry_id, None, problems)
    except InvalidInput as exc:
        problems.take(exc.fields or [FieldProblem("text", exc.message)],
                      ("text", "occurred_at"), "text")
    except Conflict as exc:
        problems.add("text", exc.message)
    except TocsinError as exc:
        return pages.message(request, exc.status, "Not done", exc.message, viewer=viewer,
                             back=back)
    if problems:
        return _entry_page(request, pages, viewer, shown, entry_id, posted, problems,
                           status=400)
    return RedirectResponse(f"{back}?{urlencode({'done': 'edited'})}#entry-{entry_id}",
                            status_code=303)

