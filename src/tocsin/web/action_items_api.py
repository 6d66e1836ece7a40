"""The action items API: list, add to an incident, change, push to a tracker.

Reading takes a token of read scope, changing one write scope. Items of a
private incident are answered as missing (404) to anyone but its members
and admins. `POST /action-items/{id}/tracker-status` is where the receiver
of the webhook tracker sends the status back. Every change goes through
`postmortems.actions`, as the CLI and the web UI do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.postmortems import actions, actions_trackers
from tocsin.postmortems.action_rules import (
    FIRST_DUE,
    LAST_DUE,
    MAX_TITLE,
    PRIORITIES,
    STATUSES,
)
from tocsin.postmortems.actions_views import item_json
from tocsin.postmortems.store import ActionItem
from tocsin.web.auth import READ, WRITE, Caller

Status = Literal["planned", "in_progress", "done"]
# Title, due date, priority and status are checked by `postmortems.actions`, not
# here, so that every bad field of a body is named in one answer.
_TITLE: JsonDict = {"maxLength": MAX_TITLE}
_DATE: JsonDict = {"format": "date"}
_PRIORITY: JsonDict = {"enum": list(PRIORITIES)}
_STATUS: JsonDict = {"enum": list(STATUSES)}


class NewItem(BaseModel):
    title: str = Field(description="What will be done, in one line", json_schema_extra=_TITLE)
    owner: str = Field(max_length=320, description="A user id or e-mail from the config")
    due_date: str | None = Field(None, description=f"YYYY-MM-DD, {FIRST_DUE} to {LAST_DUE}",
                                 json_schema_extra=_DATE)
    priority: str = Field("P1", json_schema_extra=_PRIORITY)


class ItemChange(BaseModel):
    title: str | None = Field(None, json_schema_extra=_TITLE)
    owner: str | None = Field(None, max_length=320)
    due_date: str | None = Field(None, description="YYYY-MM-DD; null clears it",
                                 json_schema_extra=_DATE)
    priority: str | None = Field(None, json_schema_extra=_PRIORITY)
    status: str | None = Field(None, json_schema_extra=_STATUS)


class PushBody(BaseModel):
    tracker: Literal["jira", "github", "webhook"]


class TrackerStatusBody(BaseModel):
    status: Status = Field(description="The item's status as the tracker sees it")
    tracker_status: str | None = Field(None, max_length=60,
                                       description="The tracker's own word, shown beside it")
    key: str | None = Field(None, max_length=200, description="The tracker's key for it")
    url: str | None = Field(None, max_length=2000)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["action items"])

    def change(act: Callable[[Session, Config], ActionItem]) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            config = runtime.config_now()
            item = act(session, config)
            session.flush()
            shown = item_json(item, config=config, now=runtime.clock.now())
        runtime.engine.wake()
        return shown

    def person(caller: Caller) -> dict[str, Any]:
        return {"actor": caller.actor, "surface": caller.surface,
                "now": runtime.clock.now(), "admin": caller.scope == "admin"}

    @router.get("/action-items")
    def list_items(
        caller: Caller = READ,
        incident: str | None = Query(None, description="INC-12"),
        owner: str | None = None, team: str | None = None,
        status: str | None = Query(None, description="open, or planned|in_progress|done"),
        overdue: bool = False,
    ) -> dict[str, Any]:
        config = runtime.config_now()
        now = runtime.clock.now()
        with runtime.sessions() as session:
            found = actions.listing(
                session, config=config, now=now, viewer=caller.actor,
                admin=caller.scope == "admin",
                filters=actions.Filters(incident=incident, owner=owner, team=team,
                                        status=status, overdue=overdue))
            return {"action_items": [item_json(i, config=config, now=now) for i in found]}

    @router.get("/action-items/{item_id}")
    def get_item(item_id: int, caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            item = actions.get(session, item_id, viewer=caller.actor,
                               admin=caller.scope == "admin")
            return item_json(item, config=runtime.config_now(), now=runtime.clock.now())

    @router.post("/incidents/{key}/action-items", status_code=201)
    def add_item(key: str, body: NewItem, caller: Caller = WRITE) -> dict[str, Any]:
        return change(lambda s, c: actions.create(
            s, config=c, incident=key, title=body.title, owner=body.owner,
            due_date=body.due_date, priority=body.priority, **person(caller)))

    @router.patch("/action-items/{item_id}")
    def patch_item(item_id: int, body: ItemChange, caller: Caller = WRITE) -> dict[str, Any]:
        given = body.model_dump(exclude_unset=True)
        cleared = [key for key, value in given.items() if value is None and key != "due_date"]
        if cleared:
            raise InvalidInput("only due_date may be null", [
                FieldProblem(key, "leave it out to keep it, or give a value") for key in cleared])
        return change(lambda s, c: actions.update(s, config=c, item_id=item_id, **given,
                                                  **person(caller)))

    @router.post("/action-items/{item_id}/push", status_code=202)
    def push_item(item_id: int, body: PushBody, caller: Caller = WRITE) -> dict[str, Any]:
        def act(session: Session, config: Config) -> ActionItem:
            push = actions_trackers.request_push(session, config=config, item_id=item_id,
                                                 tracker=body.tracker, **person(caller))
            return actions.get(session, push.item_id, viewer=caller.actor, admin=True)

        return change(act)

    @router.post("/action-items/{item_id}/tracker-status")
    def tracker_status(item_id: int, body: TrackerStatusBody,
                       caller: Caller = WRITE) -> dict[str, Any]:
        return change(lambda s, c: actions_trackers.take_webhook_status(
            s, config=c, item_id=item_id, status=body.status, label=body.tracker_status,
            key=body.key, url=body.url, actor=caller.actor, now=runtime.clock.now()))

    return router
