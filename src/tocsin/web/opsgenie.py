"""The Opsgenie-compatible alert API: create, acknowledge, close, request status.

A team leaving Opsgenie points its senders here and changes nothing else:
`Authorization: GenieKey <key>` with the key of an `opsgenie` integration,
Opsgenie's paths, bodies and answers. Opsgenie processes writes later and
answers 202 at once; Tocsin answers the same 202 only after the write and
its request record are committed, so the request status a client polls is
final from the start. Errors use Opsgenie's shape, `{message, took,
requestId}` (plus `errors` by field for a body it cannot process), and
never hold the key.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import opsgenie_service
from tocsin.alerts.mapping import plan_for
from tocsin.alerts.opsgenie import (
    ActionRequest,
    UnstorableText,
    check_identifier_type,
    parse_action,
    parse_create,
)
from tocsin.alerts.opsgenie_service import Action
from tocsin.alerts.request_store import AlertRequest
from tocsin.alerts.sources import FieldError, SourceError
from tocsin.config.model import Config, Integration
from tocsin.engine.runtime import Runtime
from tocsin.errors import TocsinError
from tocsin.logs import event
from tocsin.telemetry import ALERTS_RECEIVED, EVENTS_REJECTED
from tocsin.web.body import KIB, decode_json, read_capped
from tocsin.web.retries import commit

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 256 * KIB  # Opsgenie's own field limits add up to well under this
ACCEPTED = "Request will be processed"
UNPROCESSABLE = "Request body is not processable. Please check the errors."
T = TypeVar("T")


class Refused(Exception):
    """An answer other than 202, in Opsgenie's shape."""

    def __init__(self, status: int, message: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}


def genie_key(header: str | None) -> str | None:
    """The key of `GenieKey <key>` (or `Bearer <key>`), any case of the scheme."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() not in ("geniekey", "bearer") or not value.strip():
        return None
    return value.strip()


def authenticate(config: Config, header: str | None) -> Integration:
    """The opsgenie integration the key belongs to; 401 or 403 otherwise."""
    key = genie_key(header)
    if key is None:
        raise Refused(401, "Could not authenticate: send the header "
                           "'Authorization: GenieKey <key>' with an opsgenie integration's key",
                      headers={"WWW-Authenticate": "GenieKey"})
    found = None
    for integration in config.integrations:
        # Compare against every key so timing says nothing about which matched.
        if hmac.compare_digest(integration.key.encode(), key.encode()):
            found = integration
    if found is None:
        raise Refused(401, "Could not authenticate: the key is not an integration key",
                      headers={"WWW-Authenticate": "GenieKey"})
    if found.type != "opsgenie":
        raise Refused(403, f"The key belongs to integration {found.name!r} of type "
                           f"{found.type}; only opsgenie integrations can use this API")
    return found


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.post("/v2/alerts")
    async def create_alert(request: Request) -> JSONResponse:
        return await _answer(lambda envelope: _create(runtime, request, envelope))

    # `:path` lets an alias hold a slash, which clients send percent-encoded.
    @router.post("/v2/alerts/{identifier:path}/acknowledge")
    async def acknowledge_alert(identifier: str, request: Request) -> JSONResponse:
        return await _answer(
            lambda envelope: _act(runtime, request, envelope, identifier, "Acknowledge"))

    @router.post("/v2/alerts/{identifier:path}/close")
    async def close_alert(identifier: str, request: Request) -> JSONResponse:
        return await _answer(
            lambda envelope: _act(runtime, request, envelope, identifier, "Close"))

    @router.get("/v2/alerts/requests/{request_id}")
    async def request_status(request_id: str, request: Request) -> JSONResponse:
        return await _answer(lambda envelope: _status(runtime, request, envelope, request_id))

    return router


class _Envelope:
    """What every Opsgenie answer carries: how long it took and its own request id; and,
    once the key is known, the integration's name for the log."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.request_id = str(uuid.uuid4())
        self.integration: str | None = None

    def authenticate(self, config: Config, request: Request) -> Integration:
        integration = authenticate(config, request.headers.get("authorization"))
        self.integration = integration.name
        return integration

    def body(self, **fields: Any) -> dict[str, Any]:
        took = round(time.perf_counter() - self.started, 3)
        return {**fields, "took": took, "requestId": self.request_id}


Handler = Callable[[_Envelope], Awaitable[tuple[int, dict[str, Any]]]]


async def _answer(handler: Handler) -> JSONResponse:
    """Run an endpoint with this request's id; refusals get Opsgenie's error shape."""
    envelope = _Envelope()
    try:
        status, body = await handler(envelope)
    except Refused as exc:
        return _refusal(envelope, exc)
    except UnstorableText as exc:
        return _refusal(envelope, Refused(400, UNPROCESSABLE, exc.errors))
    except SourceError as exc:
        return _refusal(envelope, Refused(422, UNPROCESSABLE, exc.errors))
    except TocsinError as exc:  # an unreadable or oversized body
        return _refusal(envelope, Refused(exc.status, exc.message))
    except OperationalError as exc:
        # The store is busy or away: clients retry 503, nothing accepted is lost.
        log.error("opsgenie.database_unavailable %s", type(exc.orig).__name__)
        return _refusal(envelope, Refused(503, "The database is busy; retry shortly",
                                       headers={"Retry-After": "5"}))
    return JSONResponse(envelope.body(**body), status_code=status,
                        headers={"X-Request-ID": envelope.request_id})


def _refusal(envelope: _Envelope, exc: Refused) -> JSONResponse:
    EVENTS_REJECTED.labels(endpoint="opsgenie").inc()
    # One warning per refused request: the integration by name once its key is known
    # (never the key), and each field at fault with its problem.
    named = {"integration": envelope.integration} if envelope.integration else {}
    problems = {"problems": "; ".join(f"{e.path}: {e.message}" for e in exc.errors)[:500]}
    event(log, "opsgenie.refused", logging.WARNING, status=exc.status, **named,
          reason=exc.message[:200], **(problems if exc.errors else {}))
    fields: dict[str, Any] = {"message": exc.message}
    if exc.errors:
        fields["errors"] = {e.path: e.message for e in exc.errors}
    return JSONResponse(envelope.body(**fields), status_code=exc.status,
                        headers={**exc.headers, "X-Request-ID": envelope.request_id})


def _limit(integration: Integration) -> int:
    if integration.max_body_kib is None:
        return DEFAULT_LIMIT
    return int(integration.max_body_kib * KIB)


async def _create(
    runtime: Runtime, request: Request, envelope: _Envelope,
) -> tuple[int, dict[str, Any]]:
    config, request_id = runtime.config_now(), envelope.request_id
    integration = envelope.authenticate(config, request)
    body = decode_json(await read_capped(request, _limit(integration)))
    # Opsgenie's default source is the sender's address.
    parsed = parse_create(body, config=config, plan=plan_for(integration),
                          default_source=request.client.host if request.client else None)
    done = await run_in_threadpool(commit, runtime, lambda session, now: opsgenie_service.create(
        session, config=config, integration=integration, request=parsed, request_id=request_id,
        now=now))
    return _accepted(integration, done)


async def _act(
    runtime: Runtime, request: Request, envelope: _Envelope, identifier: str, action: Action,
) -> tuple[int, dict[str, Any]]:
    config, request_id = runtime.config_now(), envelope.request_id
    integration = envelope.authenticate(config, request)
    kind = check_identifier_type(request.query_params.get("identifierType"))
    raw = await read_capped(request, _limit(integration))
    parsed = parse_action(decode_json(raw)) if raw.strip() else ActionRequest()
    done = await run_in_threadpool(commit, runtime, lambda session, now: opsgenie_service.act(
        session, config=config, integration=integration, action=action, identifier=identifier,
        identifier_type=kind, request=parsed, request_id=request_id, now=now))
    return _accepted(integration, done)


def _accepted(integration: Integration, done: opsgenie_service.Done) -> tuple[int, dict[str, Any]]:
    ALERTS_RECEIVED.labels(integration=integration.name, outcome=done.outcome).inc()
    alert_id = done.request.alert_id
    # Tocsin's ingest replies name the alerts they touched; Opsgenie clients ignore the key.
    return 202, {"result": ACCEPTED, "alert_ids": [] if alert_id is None else [alert_id]}


async def _status(
    runtime: Runtime, request: Request, envelope: _Envelope, request_id: str,
) -> tuple[int, dict[str, Any]]:
    integration = envelope.authenticate(runtime.config_now(), request)

    def lookup() -> dict[str, Any] | None:
        with runtime.sessions() as session:
            row = opsgenie_service.find_request(session, integration=integration,
                                                request_id=request_id)
            return None if row is None else _status_json(row)

    found = await run_in_threadpool(lookup)
    if found is None:
        raise Refused(404, f"Request {request_id[:64]!r} does not exist for this integration")
    return 200, {"data": found}


def _status_json(row: AlertRequest) -> dict[str, Any]:
    return {
        "success": row.success, "action": row.action,
        "processedAt": row.processed_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "integrationId": row.integration, "isSuccess": row.success, "status": row.status,
        "alertId": "" if row.alert_id is None else str(row.alert_id), "alias": row.alias or "",
    }
