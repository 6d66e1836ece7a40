"""`POST /api/v1/routes/test`: which route an alert would take, and why."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tocsin.alerts.routes import decide_route, decision_json
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.oncall.rules import parse_time
from tocsin.web.auth import READ, Caller


class RouteTest(BaseModel):
    labels: dict[str, str] = Field(description="The alert's labels, severity and service too")
    at: str | None = Field(None, description="ISO 8601; without an offset in the config's zone")


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.post("/routes/test")
    def route_test(body: RouteTest, _caller: Caller = READ) -> dict[str, Any]:
        config = runtime.config_now()
        when = runtime.clock.now()
        if body.at is not None:
            try:
                when = parse_time(body.at, ZoneInfo(config.timezone))
            except (ValueError, OverflowError) as exc:
                raise InvalidInput("at is not a time", [FieldProblem("at", str(exc))]) from exc
        decision = decide_route(config, body.labels, severity=body.labels.get("severity"),
                                service=body.labels.get("service"), at=when)
        return decision_json(decision)

    return router
