"""PagerDuty change events in (`POST /v2/change/enqueue`), and the list of them.

A change event pages nobody: it is stored against the integration's service
so that whoever is paged later can see what changed. The reply is
PagerDuty's own 202 shape, plus the id Tocsin gave the change.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.changes import change_summary, list_changes, record_change
from tocsin.alerts.rules import IncomingChange
from tocsin.alerts.sources import SourceError, parse_pagerduty_change
from tocsin.config.model import Integration
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import TocsinError
from tocsin.web.api import parse_since
from tocsin.web.auth import READ, Caller
from tocsin.web.integrations import pagerduty_refusal, read_pagerduty


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.post("/v2/change/enqueue")
    async def enqueue_change(request: Request) -> JSONResponse:
        try:
            integration, change = await read_pagerduty(
                request, runtime.config_now(), "pagerduty_change",
                lambda body, _integration: parse_pagerduty_change(body))
        except (SourceError, TocsinError) as exc:
            return pagerduty_refusal(exc, "pagerduty_change")
        change_id = await run_in_threadpool(_store, runtime, integration, change)
        return JSONResponse({"status": "success", "message": "Change event processed",
                             "id": str(change_id)}, status_code=202)

    @router.get("/api/v1/changes")
    def changes(
        service: str | None = None, integration: str | None = None, since: str | None = None,
        limit: int = Query(100, ge=1, le=1000), _caller: Caller = READ,
    ) -> dict[str, Any]:
        with runtime.sessions() as session:
            found = list_changes(session, service=service, integration=integration,
                                 since=parse_since(since), limit=limit)
            return {"changes": [change_summary(c) for c in found]}

    return router


def _store(runtime: Runtime, integration: Integration, change: IncomingChange) -> int:
    with transaction(runtime.sessions) as session:
        row = record_change(session, integration=integration, change=change,
                            now=runtime.clock.now())
        return row.id
