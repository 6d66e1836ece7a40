"""The post-mortems API: draft, read, edit, review, publish, export and search.

Reading takes a token of read scope, changing one write scope, as for
incidents. A private incident's post-mortem is answered as missing (404)
to anyone but the incident's members and admins. Every change goes through
`postmortems.service`, as the CLI and the web editor do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.postmortems import edits, rules, service, views
from tocsin.postmortems.store import Postmortem
from tocsin.web.auth import READ, WRITE, Caller


class WhyStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    why: str = Field("", max_length=rules.MAX_TEXT)
    because: str = Field("", max_length=rules.MAX_TEXT)


class TimelineLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime
    text: str = Field(max_length=rules.MAX_TEXT)
    entry_id: StrictInt | None = Field(None, description="The incident timeline entry it came from")


class EditBody(BaseModel):
    """Only the fields given change; null clears a number, a cost or the category.

    The shape the API documents; the body itself is read by `postmortems.edits`, which
    names every bad or unknown field at once.
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=rules.MAX_TITLE)
    summary: str | None = Field(None, max_length=rules.MAX_TEXT)
    users_affected: StrictInt | None = None
    estimated_cost: str | None = Field(None, max_length=200)
    support_tickets: StrictInt | None = None
    timeline: list[TimelineLine] | None = Field(None, max_length=rules.MAX_TIMELINE)
    root_cause: str | None = Field(None, max_length=rules.MAX_TEXT)
    root_cause_category: str | None = None
    whys: list[WhyStep] | None = Field(None, max_length=rules.MAX_WHYS)
    contributing_factors: str | None = Field(None, max_length=rules.MAX_TEXT)
    went_well: str | None = Field(None, max_length=rules.MAX_TEXT)
    went_badly: str | None = Field(None, max_length=rules.MAX_TEXT)
    lessons: str | None = Field(None, max_length=rules.MAX_TEXT)
    expected_version: StrictInt | None = Field(
        None, description="The version you read; refused (409) if someone saved since")


class StateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="draft, in_review or published")


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["postmortems"])

    def admin(caller: Caller) -> bool:
        return caller.scope == "admin"

    def change(caller: Caller, act: Callable[[Session, Config], Postmortem]) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            config = runtime.config_now()
            postmortem = act(session, config)
            session.flush()
            return _shown(session, config, postmortem.incident_id, caller, runtime)

    @router.get("/incidents/{key}/postmortem")
    def read(key: str, caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            incident, found = service.get(session, key, viewer=caller.actor,
                                          admin=admin(caller))
            return views.detail(session, runtime.config_now(), found, incident,
                                runtime.clock.now())

    @router.post("/incidents/{key}/postmortem")
    def draft(key: str, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, c: service.draft(
            s, config=c, key=key, actor=caller.actor, surface=caller.surface,
            now=runtime.clock.now(), admin=admin(caller)))

    @router.patch("/incidents/{key}/postmortem",
                  openapi_extra={"requestBody": {"content": {"application/json": {
                      "schema": _inline(EditBody.model_json_schema())}}}})
    def edit(key: str, body: Annotated[dict[str, Any], Body()],
             caller: Caller = WRITE) -> dict[str, Any]:
        given = dict(body)
        expected = _expected_version(given, runtime.config_now())
        return change(caller, lambda s, c: service.update(
            s, config=c, key=key, fields=given, actor=caller.actor, surface=caller.surface,
            now=runtime.clock.now(), admin=admin(caller), expected_version=expected))

    @router.post("/incidents/{key}/postmortem/state")
    def state(key: str, body: StateBody, caller: Caller = WRITE) -> dict[str, Any]:
        return change(caller, lambda s, _c: service.set_state(
            s, key=key, status=body.status, actor=caller.actor, surface=caller.surface,
            now=runtime.clock.now(), admin=admin(caller)))

    @router.get("/incidents/{key}/postmortem.md")
    def export(key: str, caller: Caller = READ) -> Response:
        with runtime.sessions() as session:
            incident, found = service.get(session, key, viewer=caller.actor,
                                          admin=admin(caller))
            text = service.export(session, config=runtime.config_now(), incident=incident,
                                  postmortem=found)
        name = f"{incident.key}-postmortem.md"
        return Response(text, media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/postmortems")
    def listing(
        caller: Caller = READ,
        q: str | None = Query(None, max_length=200,
                              description="Words to find in published post-mortems"),
        status: str | None = Query(None, description="draft, in_review or published"),
        service_name: str | None = Query(None, alias="service"),
        severity: str | None = None,
        overdue: bool = Query(False, description="Only those past due and not published"),
    ) -> dict[str, Any]:
        now = runtime.clock.now()
        with runtime.sessions() as session:
            found = service.listing(session, now=now, q=q, status=status,
                                    service=service_name, severity=severity, overdue=overdue,
                                    viewer=caller.actor, admin=admin(caller),
                                    config=runtime.config_now())
            return {"postmortems": [views.summary(p, i, now) for p, i in found]}

    return router


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` written in place, to stand alone in OpenAPI."""
    defs = schema.pop("$defs", {})

    def resolved(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolved(defs[ref.removeprefix("#/$defs/")])
            return {name: resolved(item) for name, item in value.items()}
        if isinstance(value, list):
            return [resolved(item) for item in value]
        return value

    found: dict[str, Any] = resolved(schema)
    return found


def _expected_version(given: dict[str, Any], config: Config) -> int | None:
    """Take `expected_version` out of the body; every problem of the body is named at once
    (a misspelt field too, rather than its words being lost)."""
    found: list[FieldProblem] = []
    expected = given.pop("expected_version", None)
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        found.append(FieldProblem("expected_version",
                                  "give the version you read, a whole number, or leave it out"))
    if not given:
        found.append(FieldProblem(
            "summary", "give at least one section, e.g. summary, root_cause or whys"))
    try:
        edits.read(given, config.postmortems.root_cause_categories)
    except InvalidInput as exc:
        found += exc.fields
    if found:
        raise InvalidInput("nothing to change" if not given else "the post-mortem cannot be "
                           "saved: " + ", ".join(dict.fromkeys(f.path for f in found)), found)
    return expected if isinstance(expected, int) else None


def _shown(session: Session, config: Config, incident_id: int, caller: Caller,
           runtime: Runtime) -> dict[str, Any]:
    incident, found = service.get(session, f"INC-{incident_id}", viewer=caller.actor,
                                  admin=caller.scope == "admin")
    return views.detail(session, config, found, incident, runtime.clock.now())
