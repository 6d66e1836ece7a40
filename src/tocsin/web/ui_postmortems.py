"""The UI's post-mortem pages: the list and search, the editor, and the printable page.

The editor lives under its incident (/ui/incidents/INC-7/postmortem); its
forms are plain POSTs carrying the session's CSRF token, acting through
`postmortems.service` as the logged-in user on the surface "ui". A form
the service refuses comes back with what was typed and each problem beside
its field. Blameless-review suggestions are shown beside the fields they
are about and never stop a save. Private incidents' post-mortems are
answered as missing to anyone but members and admins, as the API does.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tocsin.db import transaction
from tocsin.errors import Conflict, FieldProblem, InvalidInput, NotFound, TooLarge
from tocsin.incidents import service as incidents
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.postmortems import edits, rules, service
from tocsin.web import ui_incident_views as incident_views
from tocsin.web import ui_postmortem_forms as forms
from tocsin.web.body import KIB, read_capped
from tocsin.web.ui_incidents import canonical, is_admin
from tocsin.web.ui_session import STALE_FORM, Viewer, csrf_ok, viewer_zone

if TYPE_CHECKING:
    from tocsin.web.ui import Pages

log = logging.getLogger(__name__)

SURFACE = "ui"
# Fifty steps and ten sections of 10,000 characters, with room for the checkboxes.
FORM_LIMIT = 2048 * KIB
MAX_FIELDS = 1200
STATUS_CHOICES = (("", "Any status"), *forms.STATUS_LABELS.items())


async def _posted(request: Request) -> forms.Posted:
    raw = await read_capped(request, FORM_LIMIT)
    pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True,
                      max_num_fields=MAX_FIELDS)
    return forms.Posted(dict(pairs), [value for name, value in pairs if name == "entry"])


def add_routes(router: APIRouter, pages: Pages) -> None:
    sessions = pages.sessions

    @router.get("/postmortems", response_class=HTMLResponse)
    def postmortem_list(request: Request, q: str = "", status: str = "", service: str = "",
                        severity: str = "", overdue: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _list_page(request, pages, viewer, {"q": q[:200], "status": status,
                                                   "service": service, "severity": severity,
                                                   "overdue": overdue == "yes"})

    @router.get("/incidents/{key}/postmortem", response_class=HTMLResponse)
    def editor(request: Request, key: str, done: str = "") -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _editor(request, pages, viewer, key, notice=forms.NOTICES.get(done, ""))

    @router.get("/incidents/{key}/postmortem/print", response_class=HTMLResponse)
    def printable(request: Request, key: str) -> Response:
        viewer = sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _printable(request, pages, viewer, key)

    @router.post("/incidents/{key}/postmortem/{action}", response_class=HTMLResponse)
    async def act(request: Request, key: str, action: str) -> Response:
        try:
            posted = await _posted(request)
        except (TooLarge, ValueError):
            return pages.message(request, 413, "Form too large",
                                 "This form holds more than Tocsin takes; shorten it and try "
                                 "again.", viewer=sessions.viewer(request))
        return await run_in_threadpool(_act, request, pages, key, action, posted)


def _missing(request: Request, pages: Pages, viewer: Viewer | None, key: str) -> HTMLResponse:
    return pages.message(request, 404, "No such incident",
                         f"There is no incident {key!r} that you may see.", viewer=viewer,
                         back="/ui/postmortems")


def _list_page(request: Request, pages: Pages, viewer: Viewer,
               chosen: dict[str, Any]) -> HTMLResponse:
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    zone = viewer_zone(config, viewer)
    problems = incident_views.Problems()
    rows: list[dict[str, Any]] = []
    with runtime.sessions() as session:
        try:
            found = service.listing(
                session, now=now, q=chosen["q"] or None, status=chosen["status"] or None,
                service=chosen["service"] or None, severity=chosen["severity"] or None,
                overdue=chosen["overdue"], viewer=viewer.user.id,
                admin=is_admin(config, viewer), config=config)
        except InvalidInput as exc:
            problems.take(exc.fields or [FieldProblem("q", exc.message)],
                          ("q", "status", "service", "severity"), "q")
            found = []
        for postmortem, incident in found:
            rows.append({"key": incident.key, "title": postmortem.title,
                         "severity": incident.severity, "status": postmortem.status,
                         "status_label": forms.STATUS_LABELS[postmortem.status],
                         "due": incident_views.local(postmortem.due_at, zone),
                         "overdue": rules.is_overdue(postmortem.status, postmortem.due_at,
                                                     now),
                         "updated": incident_views.local(postmortem.updated_at, zone)})
    return pages.render(request, "postmortems.html", viewer=viewer,
                        status=400 if problems else 200, title="Post-mortems",
                        nav="postmortems", filter=chosen, rows=rows, zone=zone.key,
                        problems=problems.by_field, statuses=STATUS_CHOICES,
                        severities=[s.name for s in config.severities],
                        services=sorted(config.services), limit=service.LIST_LIMIT)


def _editor(request: Request, pages: Pages, viewer: Viewer, key: str, *, notice: str = "",
            posted: forms.Posted | None = None, problems: incident_views.Problems | None = None,
            error: str = "", status: int = 200) -> HTMLResponse:
    runtime = pages.runtime
    config = runtime.config_now()
    zone = viewer_zone(config, viewer)
    with runtime.sessions() as session:
        try:
            incident = incidents.get(session, key, viewer=viewer.user.id,
                                     admin=is_admin(config, viewer))
        except NotFound:
            return _missing(request, pages, viewer, key)
        postmortem = service.find(session, incident)
        context: dict[str, Any] = {"incident": incident, "postmortem": postmortem,
                                   "key": incident.key, "head": _head(session, incident, zone)}
        if postmortem is not None:
            values = forms.typed(posted) if posted is not None else forms.shown(postmortem)
            entries = incidents.timeline(session, incident)
            context |= {
                "values": values, "version": postmortem.version,
                "choices": forms.timeline_choices(postmortem, entries, values["chosen"], zone),
                "suggestions": forms.by_field(service.suggestions(config, postmortem)),
                "moves": forms.MOVES[postmortem.status],
                "status_label": forms.STATUS_LABELS[postmortem.status],
                "due": incident_views.local(postmortem.due_at, zone),
                "overdue": rules.is_overdue(postmortem.status, postmortem.due_at,
                                            runtime.clock.now()),
                "action_items": service.action_items(session, incident),
                "categories": config.postmortems.root_cause_categories,
            }
    return pages.render(request, "postmortem.html", viewer=viewer, status=status,
                        title=f"Post-mortem of {incident.key}", nav="postmortems",
                        notice=notice, error=error, zone=zone.key,
                        problems=problems.by_field if problems else {}, **context)


def _head(session: Any, incident: Incident, zone: Any) -> dict[str, str]:
    head = rules.header(incident.key, incident, incidents.timeline(session, incident))
    return {"started": incident_views.local(head.started_at, zone),
            "resolved": incident_views.local(head.resolved_at, zone),
            "duration": incident_views.span(head.duration) or "still open",
            "commander": head.commander or "none", "services": ", ".join(head.services)}


def _printable(request: Request, pages: Pages, viewer: Viewer, key: str) -> HTMLResponse:
    runtime = pages.runtime
    config = runtime.config_now()
    with runtime.sessions() as session:
        try:
            incident, postmortem = service.get(session, key, viewer=viewer.user.id,
                                               admin=is_admin(config, viewer))
        except NotFound:
            return _missing(request, pages, viewer, key)
        head = _head(session, incident, UTC)
        items = service.action_items(session, incident)
    return pages.render(request, "postmortem_print.html", viewer=viewer,
                        title=f"Post-mortem of {incident.key}", incident=incident,
                        postmortem=postmortem, head=head, action_items=items,
                        timeline=edits.timeline_of(postmortem), when=rules.when,
                        status_label=forms.STATUS_LABELS[postmortem.status])


def _act(request: Request, pages: Pages, key: str, action: str,
         posted: forms.Posted) -> Response:
    viewer = pages.sessions.viewer(request)
    shown = canonical(key)
    back = f"/ui/incidents/{shown or quote(key)}/postmortem"
    if viewer is None or not csrf_ok(viewer.session, posted.values.get("csrf", "")):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=back)
    if shown is None or action not in ("draft", "save", "state"):
        return _missing(request, pages, viewer, key)
    runtime = pages.runtime
    config = runtime.config_now()
    who: dict[str, Any] = {"actor": viewer.user.id, "surface": SURFACE,
                           "now": runtime.clock.now(), "admin": is_admin(config, viewer)}
    problems = incident_views.Problems()
    done = action
    try:
        with transaction(runtime.sessions) as session:
            if action == "draft":
                service.draft(session, config=config, key=shown, **who)
                done = "drafted"
            elif action == "state":
                done = service.set_state(session, key=shown,
                                         status=posted.values.get("status", ""), **who).status
            else:
                done = _save(session, config, shown, posted, problems, who)
    except NotFound:
        return _missing(request, pages, viewer, key)
    except InvalidInput as exc:
        problems.take(exc.fields or [FieldProblem("summary", exc.message)],
                      edits.EDITABLE, "summary")
    except Conflict as exc:
        event(log, "ui.postmortem_refused", incident=shown, form=action, actor=viewer.user.id)
        return _editor(request, pages, viewer, shown, error=exc.message, status=409,
                       posted=posted if action == "save" else None)
    if problems:
        event(log, "ui.postmortem_form_refused", incident=shown, actor=viewer.user.id,
              fields=",".join(sorted(problems.by_field)))
        return _editor(request, pages, viewer, shown, posted=posted, problems=problems,
                       error="Nothing was saved; see the fields marked below.", status=400)
    anchor = "#whys" if posted.values.get("add_why") or posted.values.get("remove_why") else ""
    return RedirectResponse(f"{back}?done={done}{anchor}", status_code=303)


def _save(session: Any, config: Any, key: str, posted: forms.Posted,
          problems: incident_views.Problems, who: dict[str, Any]) -> str:
    incident, postmortem = service.get(session, key, viewer=who["actor"], admin=who["admin"])
    fields = forms.changes(posted, postmortem, incidents.timeline(session, incident), problems)
    if problems:
        return ""
    service.update(session, config=config, key=key, fields=fields,
                   expected_version=_version(posted), **who)
    return "saved"


def _version(posted: forms.Posted) -> int | None:
    """The version the form was opened on; a mangled one is taken as the oldest, so it
    cannot overwrite anyone's save."""
    text = posted.values.get("version", "")
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0

