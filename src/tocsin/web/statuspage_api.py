"""The status page's JSON: Statuspage v2 for everyone, and the API that writes it.

`/status/api/v2/*.json` is public (no token, CORS open) and shows only
public components. `/api/v1/status/...` takes tokens like the rest of
/api/v1: read scope to look, write scope to post a public incident or an
update. Times in a body follow the CLI's TIME rules, in the page's zone
(`status_page.time_zone`, else `timezone`) when they carry no offset.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.incidents import changes as incident_changes
from tocsin.oncall.rules import parse_time
from tocsin.statuspage import rules, service, view
from tocsin.statuspage import store as status_store
from tocsin.web.auth import READ, WRITE, Caller
from tocsin.web.body import KIB, decode_json, read_capped
from tocsin.web.statuspage_cache import PageCache
from tocsin.web.statuspage_json import Shaper

BODY_LIMIT = 64 * KIB
PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=10"}
_INCIDENT_FIELDS = ("name", "impact", "status", "body", "components", "display_at",
                    "incident_id")
_UPDATE_FIELDS = ("status", "body", "components", "display_at")
_ACTIVE = (rules.IN_PROGRESS, rules.VERIFYING)


def build_public_router(runtime: Runtime, cache: PageCache) -> APIRouter:
    router = APIRouter(prefix="/status/api/v2", tags=["status page"])
    answers: dict[str, Callable[[Shaper], dict[str, Any]]] = {
        "summary.json": lambda s: s.summary(),
        "status.json": lambda s: {"page": s.page(), "status": s.status()},
        "components.json": lambda s: {"page": s.page(), "components": s.components()},
        "incidents.json": lambda s: {"page": s.page(),
                                     "incidents": s.incidents(s.view.incidents)},
        "incidents/unresolved.json": lambda s: {"page": s.page(),
                                                "incidents": s.incidents(s.view.unresolved)},
        "scheduled-maintenances.json": lambda s: {"page": s.page(),
                                                  "scheduled_maintenances": s.maintenances()},
        "scheduled-maintenances/upcoming.json": lambda s: {
            "page": s.page(), "scheduled_maintenances": s.maintenances((rules.SCHEDULED,))},
        "scheduled-maintenances/active.json": lambda s: {
            "page": s.page(), "scheduled_maintenances": s.maintenances(_ACTIVE)},
    }
    for path, answer in answers.items():
        router.add_api_route(f"/{path}", _public(runtime, cache, path, answer),
                             methods=["GET"], name=f"status_{path}")
    return router


def _public(runtime: Runtime, cache: PageCache, path: str,
            answer: Callable[[Shaper], dict[str, Any]]) -> Callable[[], Response]:
    def make(now: datetime) -> bytes:
        config = runtime.config_now()
        with runtime.sessions() as session:
            shown = view.page(session, config=config, now=now)
        return json.dumps(answer(Shaper(shown, config.public_url)), ensure_ascii=False,
                          separators=(",", ":")).encode()

    def endpoint() -> Response:
        now = runtime.clock.now()
        body = cache.get(path, now, lambda: make(now))
        return Response(body, media_type="application/json", headers=PUBLIC_HEADERS)

    return endpoint


def build_router(runtime: Runtime, cache: PageCache) -> APIRouter:
    router = APIRouter(prefix="/api/v1/status", tags=["status page"])

    @router.get("/components")
    def components(_caller: Caller = READ) -> dict[str, Any]:
        config = runtime.config_now()
        with runtime.sessions() as session:
            shown = view.page(session, config=config, now=runtime.clock.now(), internal=True)
        by_name = {c.name: c for c in config.components}
        return {"indicator": shown.indicator.indicator, "components": [
            {"name": c.name, "id": c.id, "group": c.group, "public": by_name[c.name].public,
             "service": by_name[c.name].service, "description": c.description,
             "status": c.status} for c in shown.components]}

    @router.post("/incidents", status_code=201)
    async def create(request: Request, caller: Caller = WRITE) -> dict[str, Any]:
        config, now = runtime.config_now(), runtime.clock.now()
        fields, found = _fields(await read_capped(request, BODY_LIMIT), _INCIDENT_FIELDS,
                                config)

        def store() -> dict[str, Any]:
            with transaction(runtime.sessions) as session:
                row = service.create_incident(session, config=config, actor=caller.actor,
                                              surface=caller.surface, now=now, found=found,
                                              **fields)
                _note_on_incident(session, config, caller, now, row.incident_id, fields)
                return _incident(session, config, now, row.id)

        created = await run_in_threadpool(store)
        cache.changed()
        return created

    @router.post("/incidents/{incident}/updates", status_code=201)
    async def add_update(incident: int, request: Request,
                         caller: Caller = WRITE) -> dict[str, Any]:
        config, now = runtime.config_now(), runtime.clock.now()
        fields, found = _fields(await read_capped(request, BODY_LIMIT), _UPDATE_FIELDS,
                                config)

        def store() -> dict[str, Any]:
            with transaction(runtime.sessions) as session:
                service.post_update(session, config=config, incident=incident,
                                    actor=caller.actor, surface=caller.surface, now=now,
                                    found=found, **fields)
                row = status_store.get_incident(session, incident)
                linked = row.incident_id if row is not None else None
                _note_on_incident(session, config, caller, now, linked, fields)
                return _incident(session, config, now, incident)

        updated = await run_in_threadpool(store)
        cache.changed()
        return updated

    return router


def _note_on_incident(session: Session, config: Config, caller: Caller, now: datetime,
                      linked: int | None, fields: dict[str, Any]) -> None:
    """Put a public update on the linked incident's timeline, in the same transaction.

    The post-mortem then reads what customers were told and when. An incident
    that does not exist, or a private one the writer may not see, refuses the
    whole write: the link would point nowhere.
    """
    if linked is None:
        return
    text = f"Status page update ({fields['status']}): {fields['body'].strip()}"
    try:
        incident_changes.add_note(session, config=config, key=f"INC-{linked}", text=text,
                                  actor=caller.actor, surface=caller.surface, now=now,
                                  occurred_at=fields.get("display_at"), source="status_page",
                                  admin=caller.scope == "admin")
    except NotFound as exc:
        raise InvalidInput("the linked incident cannot be found", [
            FieldProblem("incident_id", f"no incident INC-{linked} you can see")]) from exc


def _incident(session: Session, config: Config, now: datetime, incident: int) -> dict[str, Any]:
    """The public incident as the internal reader sees it, with who wrote each update."""
    session.flush()
    updates = status_store.updates_of(session, [incident])[incident]
    # The writer sees every update, one dated ahead too (the page shows it when it is due).
    latest = max([now, *(update.display_at for update in updates)])
    shown = view.page(session, config=config, now=latest, internal=True)
    found = next(i for i in shown.incidents if i.id == incident)
    public = Shaper(shown, config.public_url).incident(found)
    row = status_store.get_incident(session, incident)
    assert row is not None
    authors = {update.id: update.created_by for update in updates}
    public["incident_id"] = row.incident_id
    public["created_by"] = row.created_by
    for update in public["incident_updates"]:
        update["created_by"] = authors[int(update["id"])]
    return public


def _fields(raw: bytes, allowed: tuple[str, ...], config: Config
            ) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The known fields, and the problems seen here: the service adds its own to them,
    so every problem of a body is listed at once."""
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object with " + ", ".join(allowed))
    problems = [FieldProblem(str(key), "is not a field here; use " + ", ".join(allowed))
                for key in body if key not in allowed]
    fields = {key: body.get(key) for key in allowed if key != "display_at"}
    fields["display_at"] = _display_at(body.get("display_at"), config, problems)
    return fields, problems


def _display_at(value: Any, config: Config, problems: list[FieldProblem]) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(FieldProblem("display_at", "must be a time such as "
                                                   "2026-03-02T09:30:00Z"))
        return None
    zone = config.status_page.time_zone or config.timezone
    try:
        return parse_time(value, ZoneInfo(zone))
    except (ValueError, OverflowError) as exc:
        # The shared time rules speak of schedules; a time here is read in the page's zone.
        problems.append(FieldProblem("display_at", str(exc).replace(
            "the schedule's zone", f"the page's zone, {zone}")))
        return None
