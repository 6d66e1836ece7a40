"""The incidents API: declare, list, read and run incidents.

Reading takes a token of read scope, changing one write scope. A private
incident is answered as missing (404) to anyone but its members and
tokens or sessions of admin scope. Times in a body are ISO 8601 with an
offset or `Z`. Every change goes through `incidents.service`, as the CLI,
Slack and the web UI do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.incidents import service, views
from tocsin.incidents.rules import MAX_TEXT, MAX_TITLE
from tocsin.web.auth import READ, WRITE, Caller
from tocsin.web.pages_api import TargetBody

T = TypeVar("T")


class DeclareBody(BaseModel):
    title: str = Field(max_length=MAX_TITLE, description="What is wrong, in one line")
    severity: str = Field(description="A severity from the config, e.g. SEV2")
    services: list[str] = Field(default_factory=list, max_length=50)
    commander: str | None = Field(None, description="A user; default: the commander "
                                                    "schedule's on-call, else you")
    alert_ids: list[int] = Field(default_factory=list, max_length=100)
    private: bool = False
    summary: str | None = Field(None, max_length=MAX_TEXT)


class ChangeBody(BaseModel):
    status: Literal["investigating", "identified", "monitoring", "resolved"] | None = None
    note: str | None = Field(None, max_length=MAX_TEXT, description="Said with the status")
    severity: str | None = None
    mitigated: Literal[True] | None = Field(None, description="true marks it mitigated")
    impact_start: AwareDatetime | None = None
    users_affected: int | None = Field(None, ge=0, le=2**31 - 1)
    services: list[str] | None = Field(None, max_length=50)
    summary: str | None = Field(None, max_length=MAX_TEXT)
    root_cause: str | None = Field(None, max_length=MAX_TEXT)


class RoleBody(BaseModel):
    role: str = Field(max_length=80, description="A role from the config, any case")
    user: str = Field(max_length=320, description="A user id, e-mail, name or Slack id")


class NoteBody(BaseModel):
    text: str = Field(max_length=MAX_TEXT)
    occurred_at: AwareDatetime | None = Field(None, description="Backdate the entry")


class EntryEdit(BaseModel):
    text: str | None = Field(None, max_length=MAX_TEXT)
    occurred_at: AwareDatetime | None = None


class ResponderBody(TargetBody):
    target: str | None = Field(None, description="Or one name: a user, schedule or policy")


class UpdateBody(BaseModel):
    text: str = Field(max_length=MAX_TEXT)


class LinkBody(BaseModel):
    alert_id: int = Field(gt=0, le=2**31 - 1)


class FromAlertBody(BaseModel):
    severity: str
    title: str | None = Field(None, max_length=MAX_TITLE)
    commander: str | None = None
    private: bool = False


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["incidents"])

    def change(caller: Caller, act: Callable[[Session, Config], T],
               show: Callable[[Session, T], dict[str, Any]]) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            result = act(session, runtime.config_now())
            session.flush()
            shown = show(session, result)
        runtime.engine.wake()
        return shown

    def person(caller: Caller) -> dict[str, Any]:
        return {"actor": caller.actor, "surface": caller.surface,
                "now": runtime.clock.now(), "admin": caller.scope == "admin"}

    def detail(session: Session, key: str, caller: Caller) -> dict[str, Any]:
        incident = service.get(session, key, viewer=caller.actor,
                               admin=caller.scope == "admin")
        return views.detail(session, incident)

    @router.get("/incidents")
    def list_incidents(
        caller: Caller = READ,
        status: str | None = Query(None, description="open, or one status"),
        severity: str | None = None, service_name: str | None = Query(None, alias="service"),
        since: AwareDatetime | None = None, until: AwareDatetime | None = None,
    ) -> dict[str, Any]:
        with runtime.sessions() as session:
            found = service.listing(session, status=status, severity=severity,
                                    service=service_name, since=since, until=until,
                                    viewer=caller.actor, admin=caller.scope == "admin")
            return {"incidents": [views.summary(incident) for incident in found]}

    @router.post("/incidents", status_code=201)
    def declare(body: DeclareBody, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.declare(
            s, config=c, title=body.title, severity=body.severity, services=body.services,
            commander=body.commander, alert_ids=body.alert_ids, private=body.private,
            summary=body.summary, **person(caller)), views.detail)

    @router.get("/incidents/{key}")
    def get_incident(key: str, caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            return detail(session, key, caller)

    @router.patch("/incidents/{key}")
    def patch_incident(key: str, body: ChangeBody, caller: Caller = WRITE) -> dict[str, Any]:
        given = body.model_dump(exclude_unset=True)
        if not given:
            raise InvalidInput("nothing to change", [FieldProblem(
                "status", "give status, severity, mitigated or an impact field")])

        def act(session: Session, config: Config) -> str:
            _apply(session, config, key, body, given, person(caller))
            return key

        return change(caller, act, lambda s, k: detail(s, k, caller))

    @router.post("/incidents/{key}/roles")
    def assign_role(key: str, body: RoleBody, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.assign_role(
            s, config=c, key=key, role=body.role, user=body.user, **person(caller)),
            lambda _s, r: {"incident": r.incident.key, "role": r.role, "user": r.user,
                           "duty": r.duty, "previous": r.previous})

    @router.post("/incidents/{key}/notes", status_code=201)
    def add_note(key: str, body: NoteBody, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.add_note(
            s, config=c, key=key, text=body.text, occurred_at=body.occurred_at,
            **person(caller)), lambda _s, entry: views.entry_json(entry))

    @router.patch("/incidents/{key}/timeline/{entry_id}")
    def edit_entry(key: str, entry_id: int, body: EntryEdit,
                   caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.edit_entry(
            s, config=c, key=key, entry_id=entry_id, text=body.text,
            occurred_at=body.occurred_at, **person(caller)),
            lambda _s, entry: views.entry_json(entry))

    @router.post("/incidents/{key}/responders")
    def add_responder(key: str, body: ResponderBody, caller: Caller = WRITE) -> dict[str, Any]:
        def act(session: Session, config: Config) -> str:
            target = body.target if body.target else body.resolve(config)
            return service.add_responder(session, config=config, key=key, target=target,
                                         **person(caller)).key

        return change(caller, act, lambda s, k: detail(s, k, caller))

    @router.post("/incidents/{key}/updates", status_code=201)
    def post_update(key: str, body: UpdateBody, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.post_update(
            s, config=c, key=key, text=body.text, **person(caller)),
            lambda _s, update: views.update_json(update))

    @router.post("/incidents/{key}/alerts")
    def link_alert(key: str, body: LinkBody, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.link_alert(
            s, config=c, key=key, alert_id=body.alert_id, **person(caller)).key,
            lambda s, k: detail(s, k, caller))

    @router.post("/alerts/{alert_id}/incident", status_code=201)
    def declare_from_alert(alert_id: int, body: FromAlertBody,
                           caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.declare_from_alert(
            s, config=c, alert_id=alert_id, severity=body.severity, title=body.title,
            commander=body.commander, private=body.private, **person(caller)),
            views.detail)

    return router


def _apply(session: Session, config: Config, key: str, body: ChangeBody,
           given: dict[str, Any], who: dict[str, Any]) -> None:
    """The PATCH's parts in a fixed order: severity, impact, mitigated, then status."""
    if body.severity is not None:
        service.set_severity(session, config=config, key=key, severity=body.severity, **who)
    impact = {name: given[name] for name in ("users_affected", "services", "summary",
                                             "root_cause") if given.get(name) is not None}
    # `"users_affected": null` given on purpose sets the count back to unknown.
    users_unknown = "users_affected" in given and given["users_affected"] is None
    start: datetime | None = body.impact_start
    if impact or start is not None or users_unknown:
        service.set_impact(session, config=config, key=key, impact_start=start, **impact,
                           users_unknown=users_unknown, **who)
    if body.mitigated:
        service.mark_mitigated(session, config=config, key=key, **who)
    if body.status is not None:
        service.set_status(session, config=config, key=key, status=body.status,
                           note=body.note, **who)
    elif body.note is not None:
        raise InvalidInput("a note in a PATCH goes with a status", [FieldProblem(
            "note", "give status too, or post the note to /notes")])
