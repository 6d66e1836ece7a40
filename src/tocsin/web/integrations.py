"""Inbound alert endpoints: Alertmanager webhooks and PagerDuty Events v2.

An event is answered 2xx only after the alert it touched is committed.
Alertmanager retries 5xx and gives up on 4xx, so 4xx is kept for input that
can never succeed; a busy database answers 503 with Retry-After.
"""

from __future__ import annotations

import hmac
import logging
import random
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import IngestResult, ingest
from tocsin.alerts.sources import SourceError, parse_alertmanager, parse_pagerduty
from tocsin.config.model import Config, Integration
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput, TocsinError, Unauthorized
from tocsin.logs import event
from tocsin.telemetry import ALERTS_RECEIVED, EVENTS_REJECTED
from tocsin.web.auth import bearer
from tocsin.web.body import KIB, MIB, decode_json, read_capped
from tocsin.web.errors import error_body

log = logging.getLogger(__name__)

ALERTMANAGER_LIMIT = 32 * MIB
PAGERDUTY_LIMIT = 512 * KIB
_RETRIES = 5


def find_integration(config: Config, key: str | None, kind: str) -> Integration | None:
    if not key:
        return None
    found = None
    for integration in config.integrations:
        if integration.type == kind and hmac.compare_digest(integration.key.encode(),
                                                            key.encode()):
            found = integration
    return found


def store_events(
    runtime: Runtime, integration: Integration, events: list[IncomingEvent],
) -> list[IngestResult]:
    """Store a batch in one transaction; retry when a racing writer won a key."""
    for attempt in range(_RETRIES):
        try:
            with transaction(runtime.sessions) as session:
                results = _ingest_batch(session, runtime, integration, events)
            break
        except (IntegrityError, OperationalError) as exc:
            if attempt == _RETRIES - 1 or not _worth_retrying(exc):
                raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
    for result in results:
        ALERTS_RECEIVED.labels(integration=integration.name, outcome=result.outcome).inc()
    runtime.engine.wake()
    return results


def _ingest_batch(
    session: Session, runtime: Runtime, integration: Integration, events: list[IncomingEvent],
) -> list[IngestResult]:
    # Lock alerts in one global order (by dedup key, stable within a key) so
    # two batches naming the same alerts in different orders cannot deadlock.
    now, config = runtime.clock.now(), runtime.config_now()
    results: dict[int, IngestResult] = {}
    for index in sorted(range(len(events)), key=lambda i: events[i].dedup_key):
        results[index] = ingest(session, config=config, integration=integration,
                                incoming=events[index], now=now)
    return [results[index] for index in range(len(events))]


def _worth_retrying(exc: IntegrityError | OperationalError) -> bool:
    # A lost race for a new key, a deadlock or a serialization failure.
    return isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in (
        "40P01", "40001")


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    async def alertmanager(request: Request, key: str | None) -> JSONResponse:
        integration = find_integration(runtime.config_now(), key, "alertmanager")
        if integration is None:
            EVENTS_REJECTED.labels(endpoint="alertmanager").inc()
            raise Unauthorized("unknown integration key for an alertmanager integration")
        body = decode_json(await read_capped(request, ALERTMANAGER_LIMIT))
        try:
            events, errors = parse_alertmanager(body)
        except SourceError as exc:
            raise _invalid(exc, "alertmanager") from exc
        if errors and not events:
            raise _invalid(SourceError(errors), "alertmanager")
        results = await run_in_threadpool(store_events, runtime, integration, events)
        event(log, "integration.alertmanager", integration=integration.name,
              accepted=len(results), rejected=len(errors))
        return JSONResponse({
            "status": "ok", "accepted": len(results),
            "alerts": [_result_json(r) for r in results],
            "rejected": [{"path": e.path, "message": e.message} for e in errors],
        })

    @router.post("/integrations/{key}/alertmanager")
    async def alertmanager_by_path(key: str, request: Request) -> JSONResponse:
        return await alertmanager(request, key)

    @router.post("/integrations/alertmanager")
    async def alertmanager_by_header(request: Request) -> JSONResponse:
        return await alertmanager(request, bearer(request.headers.get("authorization")))

    @router.post("/v2/enqueue")
    async def pagerduty(request: Request) -> JSONResponse:
        try:
            body = decode_json(await read_capped(request, PAGERDUTY_LIMIT))
            routing_key, incoming = parse_pagerduty(body)
        except SourceError as exc:
            EVENTS_REJECTED.labels(endpoint="pagerduty").inc()
            return _pd_invalid("Event object is invalid",
                               [f"{e.path}: {e.message}" for e in exc.errors])
        except TocsinError as exc:
            EVENTS_REJECTED.labels(endpoint="pagerduty").inc()
            return _pd_invalid(exc.message, [exc.message], status=exc.status, code=exc.code)
        integration = find_integration(runtime.config_now(), routing_key, "pagerduty")
        if integration is None:
            EVENTS_REJECTED.labels(endpoint="pagerduty").inc()
            return _pd_invalid("Unknown routing key",
                               ["routing_key: no pagerduty integration has this key"])
        [result] = await run_in_threadpool(store_events, runtime, integration, [incoming])
        message = "Event processed" if result.outcome != "ignore" else (
            f"Event dropped: {result.reason}")
        return JSONResponse(
            {"status": "success", "message": message, "dedup_key": result.dedup_key,
             "alert_ids": [result.alert_id] if result.alert_id else []},
            status_code=202,
        )

    return router


def _result_json(result: IngestResult) -> dict[str, Any]:
    return {"id": result.alert_id, "dedup_key": result.dedup_key, "outcome": result.outcome}


def _invalid(exc: SourceError, endpoint: str) -> InvalidInput:
    EVENTS_REJECTED.labels(endpoint=endpoint).inc()
    problems = [FieldProblem(e.path, e.message) for e in exc.errors]
    return InvalidInput(f"invalid {endpoint} webhook: {exc}"[:500], problems)


def _pd_invalid(
    message: str, errors: list[str], status: int = 400, code: str = "invalid_input",
) -> JSONResponse:
    body: dict[str, object] = {"status": "invalid event", "message": message, "errors": errors}
    if status != 400:
        body["error"] = error_body(code, message)["error"]
    return JSONResponse(body, status_code=status)
