"""Liveness and metrics: /healthz fails when the engine falls behind; /metrics adds the
report's tocsin_report_* gauges only when the file sets `metrics: {report_gauges: true}`."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from tocsin.engine.runtime import Runtime
from tocsin.engine.selfwatch import engine_problems
from tocsin.telemetry import REGISTRY, REPORT_REGISTRY
from tocsin.web.metrics_api import HeadlineGauges


def build_router(runtime: Runtime, *, engine_required: bool = True) -> APIRouter:
    router = APIRouter()
    gauges = HeadlineGauges(runtime)

    @router.head("/healthz", include_in_schema=False)
    @router.get("/healthz")
    def healthz() -> JSONResponse:
        engine = runtime.engine
        lags: list[float] = []

        def lag() -> float:
            lags.append(engine.lag_seconds())
            return lags[-1]

        # A process that serves the web only never runs a pass of its own:
        # only an engine that has run here is held to "ran recently".
        problems = engine_problems(
            settings=runtime.config_now().self_monitoring, now=runtime.clock.now(),
            lag=lag, last_pass=engine.last_loop or runtime.clock.now(),
        )
        if engine_required and not engine.alive:
            problems.append("engine is not running")
        body: dict[str, Any] = {"status": "fail" if problems else "ok",
                                "engine_lag_seconds": round(lags[0], 3) if lags else None,
                                "problems": problems}
        return JSONResponse(body, status_code=503 if problems else 200)

    @router.get("/metrics")
    def metrics() -> Response:
        with contextlib.suppress(SQLAlchemyError):  # the gauge keeps its last value
            runtime.engine.lag_seconds()
        body = generate_latest(REGISTRY)
        if runtime.config_now().metrics.report_gauges:  # business figures: opt-in
            gauges.refresh()
            body += generate_latest(REPORT_REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
