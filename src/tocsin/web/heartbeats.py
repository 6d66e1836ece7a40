"""Heartbeat pings: `/heartbeats/{name}` and Opsgenie's `/v2/heartbeats/{name}/ping`.

A ping is answered only after it is committed. It is accepted with the
heartbeat's own `key` or with an API token of write scope, sent as
`Authorization: GenieKey <key>` (Opsgenie's clients) or `Bearer <key>`.
A name the config does not define is 404 only to a caller holding some
heartbeat key or API token; anyone else gets 401, so names cannot be probed.
"""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.heartbeats import PingResult
from tocsin.config.model import Config, Heartbeat
from tocsin.engine.heartbeats import ping
from tocsin.engine.runtime import Runtime
from tocsin.errors import Forbidden, NotFound, TocsinError, Unauthorized
from tocsin.telemetry import EVENTS_REJECTED
from tocsin.web.auth import find_token
from tocsin.web.errors import error_body

_SCHEMES = ("geniekey", "bearer")
_NEEDS = ("send the heartbeat's key, or an API token of write scope, as "
          "Authorization: GenieKey <key> or Authorization: Bearer <key>")


def presented_key(header: str | None) -> str | None:
    """The key from `Authorization: GenieKey <key>` or `Bearer <key>`."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in _SCHEMES or not value.strip():
        return None
    return value.strip()


def _same(secret: str, presented: str) -> bool:
    return hmac.compare_digest(secret.encode(), presented.encode())


def authorise(config: Config, name: str, presented: str | None) -> Heartbeat:
    """The heartbeat `name`, if `presented` may ping it; else a client-safe error."""
    if presented is None:
        raise Unauthorized(_NEEDS)
    token = find_token(config, presented)
    heartbeat = config.heartbeats.get(name)
    if heartbeat is None:
        # Compare with every key, so timing tells nothing about which one matched.
        keys = [_same(h.key, presented) for h in config.heartbeats.values() if h.key]
        if token is None and not any(keys):
            raise Unauthorized(_NEEDS)
        raise NotFound(f"no heartbeat named '{name[:100]}' is defined; "
                       "add it under heartbeats in the config")
    if heartbeat.key and _same(heartbeat.key, presented):
        return heartbeat
    if token is None:
        raise Unauthorized(f"this key does not ping heartbeat '{name}'; {_NEEDS}")
    if token.scope == "read":
        raise Forbidden("this token has scope read; a ping needs write")
    return heartbeat


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    async def record(request: Request, name: str) -> PingResult:
        config = runtime.config_now()
        try:
            heartbeat = authorise(config, name, presented_key(request.headers.get("authorization")))
        except TocsinError:
            EVENTS_REJECTED.labels(endpoint="heartbeat").inc()
            raise
        return await run_in_threadpool(ping, runtime.sessions, config=config,
                                       heartbeat=heartbeat, now=runtime.clock.now())

    @router.api_route("/heartbeats/{name}", methods=["GET", "POST"])
    async def tocsin_ping(name: str, request: Request) -> JSONResponse:
        result = await record(request, name)
        return JSONResponse({
            "status": "ok", "heartbeat": result.name,
            "pinged_at": f"{result.at:%Y-%m-%dT%H:%M:%SZ}", "recovered": result.recovered,
            "alert_ids": [result.alert_id] if result.resolved else [],
        })

    @router.api_route("/v2/heartbeats/{name}/ping", methods=["GET", "POST", "PUT", "PATCH"])
    async def opsgenie_ping(name: str, request: Request) -> JSONResponse:
        started = time.monotonic()
        try:
            await record(request, name)
        except TocsinError as exc:
            return _opsgenie(started, {"message": exc.message,
                                       **error_body(exc.code, exc.message)}, exc.status)
        return _opsgenie(started, {"result": "PONG - Heartbeat received"}, 202)

    return router


def _opsgenie(started: float, body: dict[str, Any], status: int) -> JSONResponse:
    """Opsgenie's reply: the body plus `took` (seconds) and a `requestId`."""
    took = round(time.monotonic() - started, 3)
    return JSONResponse({**body, "took": took, "requestId": str(uuid.uuid4())},
                        status_code=status)
