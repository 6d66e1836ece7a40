"""Liveness and metrics: /healthz fails when the engine falls behind."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tocsin.engine.runtime import Runtime
from tocsin.telemetry import REGISTRY

MAX_LAG_SECONDS = 60.0


def build_router(runtime: Runtime, *, engine_required: bool = True) -> APIRouter:
    router = APIRouter()

    @router.head("/healthz", include_in_schema=False)
    @router.get("/healthz")
    def healthz() -> JSONResponse:
        problems: list[str] = []
        lag = runtime.engine.lag_seconds()
        if lag > MAX_LAG_SECONDS:
            problems.append(f"engine is {lag:.0f}s behind its oldest due work")
        if engine_required and not runtime.engine.alive:
            problems.append("engine is not running")
        body: dict[str, Any] = {"status": "fail" if problems else "ok",
                                "engine_lag_seconds": round(lag, 3), "problems": problems}
        return JSONResponse(body, status_code=503 if problems else 200)

    @router.get("/metrics")
    def metrics() -> Response:
        runtime.engine.lag_seconds()
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
