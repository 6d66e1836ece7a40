"""The REST API under /api/v1: alerts, acknowledgements, not-actionable marks, config reload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, StrictBool

from tocsin.alerts import marks, service, views
from tocsin.alerts.sources import parse_timestamp
from tocsin.config.loader import ConfigError
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.web.auth import ADMIN, READ, WRITE, Caller
from tocsin.web.body import known_fields

STATUSES = ("triggered", "acknowledged", "resolved")


class MarkBody(BaseModel):
    not_actionable: StrictBool = True


# A body given to an action must be a JSON object of its fields (ack and resolve take none).
NO_FIELDS = Depends(known_fields(None))
MARK_FIELDS = Depends(known_fields(MarkBody))


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/alerts")
    def list_alerts(
        status: str | None = None, dedup_key: str | None = None,
        service_name: str | None = Query(None, alias="service"),
        since: str | None = None, limit: int = Query(100, ge=1, le=1000),
        _caller: Caller = READ,
    ) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise InvalidInput("unknown status", [FieldProblem(
                "status", "must be one of " + ", ".join(STATUSES))])
        with runtime.sessions() as session:
            found = views.list_alerts(session, status=status, dedup_key=dedup_key,
                                      service=service_name, since=parse_since(since), limit=limit)
            return {"alerts": [views.alert_summary(a) for a in found]}

    @router.get("/alerts/{alert_id}")
    def get_alert(alert_id: int, _caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            return views.alert_detail(session, service.get_alert(session, alert_id))

    @router.post("/alerts/{alert_id}/ack")
    def ack(alert_id: int, caller: Caller = WRITE, _body: None = NO_FIELDS) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            alert = service.acknowledge(session, config=runtime.config_now(), alert_id=alert_id,
                                        actor=caller.actor, surface=caller.surface,
                                        now=runtime.clock.now())
            result = views.alert_summary(alert)
        runtime.engine.wake()
        return result

    @router.post("/alerts/{alert_id}/resolve")
    def resolve(alert_id: int, caller: Caller = WRITE,
                _body: None = NO_FIELDS) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            alert = service.resolve(session, config=runtime.config_now(), alert_id=alert_id,
                                    actor=caller.actor, surface=caller.surface,
                                    now=runtime.clock.now())
            result = views.alert_summary(alert)
        runtime.engine.wake()
        return result

    @router.post("/alerts/{alert_id}/not-actionable")
    def mark_not_actionable(alert_id: int, body: MarkBody | None = None,
                            caller: Caller = WRITE,
                            _known: None = MARK_FIELDS) -> dict[str, Any]:
        """Mark the alert not actionable ({"not_actionable": false} takes the mark off)."""
        wanted = True if body is None else body.not_actionable
        with transaction(runtime.sessions) as session:
            done = marks.mark(session, alert_id=alert_id, not_actionable=wanted,
                              actor=caller.actor, surface=caller.surface,
                              now=runtime.clock.now())
            return {**views.alert_summary(done.alert), "changed": done.changed}

    @router.post("/config/reload")
    def reload(_caller: Caller = ADMIN) -> dict[str, Any]:
        try:
            warnings = runtime.config.reload()
        except ConfigError as exc:
            # Errors first; warnings say so, since they alone would not refuse the file.
            problems = sorted(exc.problems, key=lambda p: p.severity != "error")
            raise InvalidInput("the new configuration is invalid; the old one keeps running", [
                FieldProblem(f"{p.file}:{p.line}:{p.path}",
                             ("warning: " if p.severity != "error" else "")
                             + f"{p.message}; fix: {p.fix}")
                for p in problems
            ]) from exc
        return {"status": "reloaded", "warnings": [p.format() for p in warnings]}

    return router


def parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise InvalidInput("since is not a timestamp", [FieldProblem(
            "since", "use ISO 8601 with an offset, e.g. 2026-12-04T09:00:00Z")]) from exc
