"""Answering and making pages over the API: snooze, unacknowledge, escalate now,
reassign, add a responder, and direct pages (`POST /api/v1/pages`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from tocsin.alerts import actions, direct, views
from tocsin.alerts.store import Alert
from tocsin.config.model import Config, Target
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.web.auth import WRITE, Caller
from tocsin.web.body import known_fields


class Snooze(BaseModel):
    minutes: float = Field(description="Re-trigger after this many minutes unless resolved")

    @field_validator("minutes", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # JSON true would otherwise be read as 1 minute.
        if isinstance(value, bool):
            raise ValueError("give a number of minutes, e.g. 30, not true or false")
        return value


class TargetBody(BaseModel):
    user: str | None = Field(None, description="A user id or e-mail address")
    schedule: str | None = None
    escalation_policy: str | None = None

    def resolve(self, config: Config, prefix: str = "") -> Target:
        return actions.target_of(config, user=self.user, schedule=self.schedule,
                                 escalation_policy=self.escalation_policy, prefix=prefix)


class PageBody(BaseModel):
    target: TargetBody
    title: str = Field(max_length=1000)
    description: str | None = Field(None, max_length=20000)
    urgency: str = "high"


# A body given must be a JSON object of the endpoint's fields: a misspelt one is refused.
NO_FIELDS = Depends(known_fields(None))
SNOOZE_FIELDS = Depends(known_fields(Snooze))
TARGET_FIELDS = Depends(known_fields(TargetBody))
PAGE_FIELDS = Depends(known_fields(PageBody))


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    def run(act: Callable[[Session, Config], Alert]) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            alert = act(session, runtime.config_now())
            result = views.alert_summary(alert)
        runtime.engine.wake()
        return result

    @router.post("/alerts/{alert_id}/snooze")
    def snooze(alert_id: int, body: Snooze, caller: Caller = WRITE,
               _known: None = SNOOZE_FIELDS) -> dict[str, Any]:
        return run(lambda s, c: actions.snooze(
            s, config=c, alert_id=alert_id, minutes=body.minutes, actor=caller.actor,
            surface=caller.surface, now=runtime.clock.now()))

    @router.post("/alerts/{alert_id}/unacknowledge")
    def unack(alert_id: int, caller: Caller = WRITE, _body: None = NO_FIELDS) -> dict[str, Any]:
        return run(lambda s, c: actions.unacknowledge(
            s, config=c, alert_id=alert_id, actor=caller.actor, surface=caller.surface,
            now=runtime.clock.now()))

    @router.post("/alerts/{alert_id}/escalate")
    def escalate(alert_id: int, caller: Caller = WRITE,
                 _body: None = NO_FIELDS) -> dict[str, Any]:
        return run(lambda s, c: actions.escalate_now(
            s, config=c, alert_id=alert_id, actor=caller.actor, surface=caller.surface,
            now=runtime.clock.now()))

    @router.post("/alerts/{alert_id}/reassign")
    def reassign(alert_id: int, body: TargetBody, caller: Caller = WRITE,
                 _known: None = TARGET_FIELDS) -> dict[str, Any]:
        return run(lambda s, c: actions.reassign(
            s, config=c, alert_id=alert_id, target=body.resolve(c), actor=caller.actor,
            surface=caller.surface, now=runtime.clock.now()))

    @router.post("/alerts/{alert_id}/responders")
    def add_responder(alert_id: int, body: TargetBody, caller: Caller = WRITE,
                      _known: None = TARGET_FIELDS) -> dict[str, Any]:
        return run(lambda s, c: actions.add_responder(
            s, config=c, alert_id=alert_id, target=body.resolve(c), actor=caller.actor,
            surface=caller.surface, now=runtime.clock.now()))

    @router.post("/pages", status_code=201)
    def make_page(body: PageBody, caller: Caller = WRITE,
                  _known: None = PAGE_FIELDS) -> dict[str, Any]:
        return run(lambda s, c: direct.page(
            s, target=body.target.resolve(c, prefix="target."), title=body.title,
            description=body.description, urgency=body.urgency, actor=caller.actor,
            surface=caller.surface, now=runtime.clock.now()))

    return router
