"""Inbound alert endpoints: Alertmanager and Grafana webhooks, the generic JSON
alert, and PagerDuty Events v2.

An event is answered 2xx only after the alert it touched is committed.
Alertmanager retries 5xx and gives up on 4xx, so 4xx is kept for input that
can never succeed; a busy database answers 503 with Retry-After. Each
integration has a body size limit (`max_body_kib`, or its type's default).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.generic import parse_generic
from tocsin.alerts.mapping import FieldPlan, plan_for
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import IngestResult
from tocsin.alerts.sources import (
    FieldError,
    SourceError,
    parse_alertmanager,
    parse_grafana,
    parse_pagerduty,
)
from tocsin.config.model import Config, Integration
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput, TocsinError, TooLarge, Unauthorized
from tocsin.logs import event
from tocsin.telemetry import ALERTS_RECEIVED, EVENTS_REJECTED
from tocsin.web.auth import bearer
from tocsin.web.body import KIB, MIB, decode_json, read_capped
from tocsin.web.errors import error_body
from tocsin.web.retries import commit

log = logging.getLogger(__name__)

# Storm-sized webhooks (thousands of alerts in one body) must fit: a sender
# that gets a 4xx never retries. Single events are small.
DEFAULT_LIMITS = {"alertmanager": 32 * MIB, "grafana": 32 * MIB}
SMALL_LIMIT = 512 * KIB  # generic, pagerduty and any other type

WebhookParser = Callable[[Any, FieldPlan], tuple[list[IncomingEvent], list[FieldError]]]
T = TypeVar("T")


def body_limit(integration: Integration) -> int:
    """The largest body this integration accepts, in bytes."""
    if integration.max_body_kib is not None:
        return int(integration.max_body_kib * KIB)
    return DEFAULT_LIMITS.get(integration.type, SMALL_LIMIT)


def too_large(limit: int, whose: str, endpoint: str) -> TooLarge:
    """413 naming the limit and the config key that raises it; never the key itself."""
    EVENTS_REJECTED.labels(endpoint=endpoint).inc()
    event(log, "integration.body_too_large", level=logging.WARNING, endpoint=endpoint,
          limit_kib=f"{limit / KIB:g}", whose=whose)
    return TooLarge(f"the body is larger than {limit / KIB:g} KiB, the limit of {whose}; "
                    "to accept larger bodies set max_body_kib on the integration in the "
                    "config (integrations[].max_body_kib)")


def log_refusal(endpoint: str, exc: SourceError | TocsinError,
                integration: Integration | None = None) -> None:
    """One warning for a refused request: the integration by name (never its key, and
    none when the key is unknown), the status, and each field at fault with its problem.

    A body over the limit is logged by `too_large` already.
    """
    if isinstance(exc, TooLarge):
        return
    if isinstance(exc, SourceError):
        status, reason, problems = 400, "invalid event", [(e.path, e.message) for e in exc.errors]
    else:
        status, reason = exc.status, exc.message
        problems = [(f.path, f.message) for f in exc.fields]
    named = {"integration": integration.name} if integration is not None else {}
    found = {"problems": "; ".join(f"{path}: {message}" for path, message in problems)[:500]}
    event(log, "integration.refused", level=logging.WARNING, endpoint=endpoint, **named,
          status=status, reason=reason[:200], **(found if problems else {}))


async def read_json(request: Request, integration: Integration, endpoint: str) -> Any:
    limit = body_limit(integration)
    try:
        raw = await read_capped(request, limit)
    except TooLarge as exc:
        raise too_large(limit, f"integration '{integration.name}'", endpoint) from exc
    try:
        return decode_json(raw)
    except InvalidInput as exc:
        log_refusal(endpoint, exc, integration)
        raise


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
    results = commit(runtime, lambda session, now: ingest_batch(
        session, config=runtime.config_now(), integration=integration, events=events,
        now=now))
    for result in results:
        ALERTS_RECEIVED.labels(integration=integration.name, outcome=result.outcome).inc()
    return results


def pagerduty_cap(config: Config) -> int:
    # The routing key is inside the body, so the body is read under the
    # largest pagerduty limit, then held to its own integration's limit.
    limits = [body_limit(i) for i in config.integrations if i.type == "pagerduty"]
    return max(limits, default=SMALL_LIMIT)


async def read_pagerduty(
    request: Request, config: Config, endpoint: str,
    parse: Callable[[Any, Integration | None], tuple[str, T]],
) -> tuple[Integration, T]:
    """Read, parse and authenticate a PagerDuty-style body (the key is its routing_key).

    `parse` gets the integration the body's key names, if any, for its field mapping;
    an unknown key is refused only after the body's own errors.
    """
    cap = pagerduty_cap(config)
    try:
        raw = await read_capped(request, cap)
    except TooLarge as exc:
        raise too_large(cap, "any pagerduty integration", endpoint) from exc
    integration = None
    try:
        body = decode_json(raw)
        key = body.get("routing_key") if isinstance(body, dict) else None
        integration = find_integration(config, key if isinstance(key, str) else None,
                                       "pagerduty")
        _, parsed = parse(body, integration)  # raises when the routing key is missing
        if integration is None:
            raise InvalidInput("Unknown routing key", [
                FieldProblem("routing_key", "no pagerduty integration has this key")])
    except (SourceError, TocsinError) as exc:
        log_refusal(endpoint, exc, integration)
        raise
    if len(raw) > body_limit(integration):
        raise too_large(body_limit(integration), f"integration '{integration.name}'", endpoint)
    return integration, parsed


def pagerduty_refusal(exc: SourceError | TocsinError, endpoint: str) -> JSONResponse:
    """PagerDuty's own 4xx shape for an event that will never be accepted."""
    if isinstance(exc, SourceError):
        EVENTS_REJECTED.labels(endpoint=endpoint).inc()
        return _pd_invalid("Event object is invalid",
                           [f"{e.path}: {e.message}" for e in exc.errors])
    if not isinstance(exc, TooLarge):  # too_large() counted it already
        EVENTS_REJECTED.labels(endpoint=endpoint).inc()
    errors = [f"{f.path}: {f.message}" for f in exc.fields] or [exc.message]
    return _pd_invalid(exc.message, errors, status=exc.status, code=exc.code)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    async def webhook(
        request: Request, key: str | None, kind: str, parse: WebhookParser,
    ) -> JSONResponse:
        integration = _integration(runtime, key, kind)
        body = await read_json(request, integration, kind)
        try:
            events, errors = parse(body, plan_for(integration))
        except SourceError as exc:
            raise _invalid(exc, kind, integration) from exc
        if errors and not events:
            raise _invalid(SourceError(errors), kind, integration)
        results = await run_in_threadpool(store_events, runtime, integration, events)
        event(log, f"integration.{kind}", integration=integration.name,
              accepted=len(results), rejected=len(errors))
        for error in errors:
            # The sender got a 2xx and will not resend: say loudly what was left out.
            event(log, "integration.alert_rejected", level=logging.WARNING,
                  integration=integration.name, path=error.path, reason=error.message)
        return JSONResponse({
            "status": "ok", "accepted": len(results),
            "alerts": [_result_json(r) for r in results],
            "rejected": [{"path": e.path, "message": e.message} for e in errors],
        })

    @router.post("/integrations/{key}/alertmanager")
    async def alertmanager_by_path(key: str, request: Request) -> JSONResponse:
        return await webhook(request, key, "alertmanager", parse_alertmanager)

    @router.post("/integrations/alertmanager")
    async def alertmanager_by_header(request: Request) -> JSONResponse:
        key = bearer(request.headers.get("authorization"))
        return await webhook(request, key, "alertmanager", parse_alertmanager)

    # Grafana's contact point sends with POST or PUT, as its HTTP method setting says.
    @router.api_route("/integrations/{key}/grafana", methods=["POST", "PUT"])
    async def grafana_by_path(key: str, request: Request) -> JSONResponse:
        return await webhook(request, key, "grafana", parse_grafana)

    @router.api_route("/integrations/grafana", methods=["POST", "PUT"])
    async def grafana_by_header(request: Request) -> JSONResponse:
        key = bearer(request.headers.get("authorization"))
        return await webhook(request, key, "grafana", parse_grafana)

    async def generic(request: Request, key: str | None) -> JSONResponse:
        integration = _integration(runtime, key, "generic")
        body = await read_json(request, integration, "generic")
        try:
            incoming = parse_generic(body, plan_for(integration))
        except SourceError as exc:
            raise _invalid(exc, "generic", integration) from exc
        [result] = await run_in_threadpool(store_events, runtime, integration, [incoming])
        return JSONResponse({
            "status": "ok", "dedup_key": result.dedup_key, "outcome": result.outcome,
            "message": result.reason or f"{incoming.action} applied",
            "alerts": [_result_json(result)] if result.alert_id else [],
        }, status_code=202)

    @router.post("/integrations/{key}/generic")
    async def generic_by_path(key: str, request: Request) -> JSONResponse:
        return await generic(request, key)

    @router.post("/integrations/generic")
    async def generic_by_header(request: Request) -> JSONResponse:
        return await generic(request, bearer(request.headers.get("authorization")))

    @router.post("/v2/enqueue")
    async def pagerduty(request: Request) -> JSONResponse:
        try:
            integration, incoming = await read_pagerduty(
                request, runtime.config_now(), "pagerduty", _parse_pagerduty)
        except (SourceError, TocsinError) as exc:
            return pagerduty_refusal(exc, "pagerduty")
        [result] = await run_in_threadpool(store_events, runtime, integration, [incoming])
        message = "Event processed" if result.outcome != "ignore" else (
            f"Event dropped: {result.reason}")
        return JSONResponse(
            {"status": "success", "message": message, "dedup_key": result.dedup_key,
             "alert_ids": [result.alert_id] if result.alert_id else []},
            status_code=202,
        )

    return router


def _parse_pagerduty(body: Any, integration: Integration | None) -> tuple[str, IncomingEvent]:
    return parse_pagerduty(body, plan_for(integration) if integration is not None else None)


def _integration(runtime: Runtime, key: str | None, kind: str) -> Integration:
    integration = find_integration(runtime.config_now(), key, kind)
    if integration is None:
        EVENTS_REJECTED.labels(endpoint=kind).inc()
        refused = Unauthorized(f"unknown key for an integration of type {kind}")
        log_refusal(kind, refused)
        raise refused
    return integration


def _result_json(result: IngestResult) -> dict[str, Any]:
    return {"id": result.alert_id, "dedup_key": result.dedup_key, "outcome": result.outcome}


def _invalid(exc: SourceError, endpoint: str, integration: Integration) -> InvalidInput:
    EVENTS_REJECTED.labels(endpoint=endpoint).inc()
    problems = [FieldProblem(e.path, e.message) for e in exc.errors]
    what = "alert" if endpoint == "generic" else "webhook"
    log_refusal(endpoint, exc, integration)
    return InvalidInput(f"invalid {endpoint} {what}: {exc}"[:500], problems)


def _pd_invalid(
    message: str, errors: list[str], status: int = 400, code: str = "invalid_input",
) -> JSONResponse:
    body: dict[str, object] = {"status": "invalid event", "message": message, "errors": errors}
    if status != 400:
        body["error"] = error_body(code, message)["error"]
    return JSONResponse(body, status_code=status)
