"""The UI's action items: the list with its filters, and the small forms on each row.

Every form is a plain POST with the session's CSRF token and a one-time
token (`once`): a double click or a resent form acts once, as the declare
form does. Each calls `postmortems.actions` as the logged-in user on the
surface "ui". The incident page shows its items through
`action_items_partial.html`, with the context `for_incident` builds.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import replay_store
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.errors import TocsinError, TooLarge
from tocsin.incidents.store import Incident
from tocsin.postmortems import action_rules as rules
from tocsin.postmortems import actions, actions_trackers
from tocsin.postmortems.actions_views import item_json
from tocsin.web.auth import session_scope
from tocsin.web.body import KIB, read_capped
from tocsin.web.ui_session import STALE_FORM, Viewer, csrf_ok

if TYPE_CHECKING:
    from tocsin.web.ui import Pages

BACK = "/ui/action-items"
SURFACE = "ui"
FORM_LIMIT = 16 * KIB
STATUS_CHOICES = (("open", "Open"), ("", "Any status"), ("planned", "Planned"),
                  ("in_progress", "In progress"), ("done", "Done"))


def _admin(config: Config, viewer: Viewer) -> bool:
    return session_scope(config, viewer.user.id) == "admin"


def _choices(config: Config) -> dict[str, Any]:
    return {"users": sorted(config.users.values(), key=lambda u: u.display.lower()),
            "teams": sorted(config.teams), "trackers": config.trackers.names(),
            "item_statuses": rules.STATUSES, "priorities": rules.PRIORITIES}


def for_incident(session: Session, config: Config, incident: Incident,
                 now: datetime) -> dict[str, Any]:
    """What `action_items_partial.html` shows on an incident's page."""
    found = actions.listing(session, config=config, now=now, viewer=None, admin=True,
                            filters=actions.Filters(incident=incident.key))
    return {"rows": [item_json(i, config=config, now=now) for i in found],
            "once": secrets.token_urlsafe(16), "back": f"/ui/incidents/{incident.key}",
            "incident": incident.key, **_choices(config)}


def add_routes(router: APIRouter, pages: Pages) -> None:
    @router.get("/action-items", response_class=HTMLResponse)
    def item_list(request: Request, incident: str = "", owner: str = "", team: str = "",
                  status: str = "open", overdue: str = "", id: str = "") -> Response:
        viewer = pages.sessions.viewer(request)
        if viewer is None:
            return pages.to_login(request)
        return _list_page(request, pages, viewer, {
            "incident": incident, "owner": owner, "team": team, "status": status,
            "overdue": overdue, "id": id})

    @router.post("/action-items", response_class=HTMLResponse)
    async def add(request: Request) -> Response:
        return await _submit(request, pages, _add)

    @router.post("/action-items/{item_id}/{action}", response_class=HTMLResponse)
    async def act(request: Request, item_id: str, action: str) -> Response:
        return await _submit(request, pages, _act, item_id, action)


def _list_page(request: Request, pages: Pages, viewer: Viewer, chosen: dict[str, str],
               *, status: int = 200, error: str = "") -> HTMLResponse:
    runtime = pages.runtime
    config, now = runtime.config_now(), runtime.clock.now()
    filters = actions.Filters(incident=chosen["incident"] or None,
                              owner=chosen["owner"] or None, team=chosen["team"] or None,
                              # A link to one item shows it whatever its status.
                              status=None if chosen["id"] else chosen["status"] or None,
                              overdue=chosen["overdue"] == "yes")
    with runtime.sessions() as session:
        try:
            found = actions.listing(session, config=config, filters=filters, now=now,
                                    viewer=viewer.user.id, admin=_admin(config, viewer))
        except TocsinError as exc:
            error = error or "; ".join(f"{p.path}: {p.message}" for p in exc.fields)
            status, found = 400, []
        items = [item_json(i, config=config, now=now) for i in found
                 if not chosen["id"] or str(i.id) == chosen["id"]]
    back = f"{BACK}?{urlencode(chosen)}"
    return pages.render(request, "action_items.html", viewer=viewer, status=status,
                        title="Action items", nav="action-items", filter=chosen,
                        items=items, error=error, statuses=STATUS_CHOICES, back=back,
                        once=secrets.token_urlsafe(16), **_choices(config))


async def _submit(request: Request, pages: Pages, work: Callable[..., Response],
                  *args: str) -> Response:
    try:
        raw = await read_capped(request, FORM_LIMIT)
    except (TooLarge, ValueError):
        return pages.message(request, 413, "Form too large", "Shorten the form and try again.",
                             viewer=pages.sessions.viewer(request), back=BACK)
    values = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True,
                            max_num_fields=50))
    return await run_in_threadpool(work, request, pages, *args, values)


def _back(values: dict[str, str]) -> str:
    target = values.get("back", "")
    return target if target.startswith("/ui/") and not target.startswith("//") else BACK


def _run(request: Request, pages: Pages, values: dict[str, str],
         act: Callable[[Session, Config, Viewer, datetime], object]) -> Response:
    """Check the form, claim its one-time token, act; a refusal is shown with its reason."""
    viewer = pages.sessions.viewer(request)
    back = _back(values)
    if viewer is None or not csrf_ok(viewer.session, values.get("csrf", "")):
        return pages.message(request, 403, "Form expired", STALE_FORM, viewer=viewer, back=back)
    runtime = pages.runtime
    once = values.get("once", "")[:64]
    try:
        with transaction(runtime.sessions) as session:
            now = runtime.clock.now()
            if once and not replay_store.claim(session, source=replay_store.UI_FORM,
                                               key=f"{viewer.user.id}:{once}", now=now):
                return RedirectResponse(back, status_code=303)
            act(session, runtime.config_now(), viewer, now)
    except TocsinError as exc:
        said = "; ".join(f"{p.path}: {p.message}" for p in exc.fields) or exc.message
        return pages.message(request, exc.status, "Not done", said, viewer=viewer, back=back)
    runtime.engine.wake()
    return RedirectResponse(back, status_code=303)


def _add(request: Request, pages: Pages, values: dict[str, str]) -> Response:
    def act(session: Session, config: Config, viewer: Viewer, now: datetime) -> object:
        return actions.create(
            session, config=config, incident=values.get("incident", ""),
            title=values.get("title", ""), owner=values.get("owner", ""),
            due_date=values.get("due_date", ""),
            priority=values.get("priority", "P1"), actor=viewer.user.id, surface=SURFACE,
            now=now, admin=_admin(config, viewer))

    return _run(request, pages, values, act)


def _act(request: Request, pages: Pages, item_id: str, action: str,
         values: dict[str, str]) -> Response:
    if action not in ("status", "push") or not (item_id.isascii() and item_id.isdigit()) \
            or len(item_id) > 9:
        return pages.message(request, 404, "No such action item",
                             f"There is no action item {item_id!r}.",
                             viewer=pages.sessions.viewer(request), back=BACK)
    number = int(item_id)

    def act(session: Session, config: Config, viewer: Viewer, now: datetime) -> object:
        who: dict[str, Any] = {"actor": viewer.user.id, "surface": SURFACE, "now": now,
                               "admin": _admin(config, viewer)}
        if action == "push":
            return actions_trackers.request_push(session, config=config, item_id=number,
                                                 tracker=values.get("tracker", ""), **who)
        return actions.update(session, config=config, item_id=number,
                              status=values.get("status", ""), **who)

    return _run(request, pages, values, act)
