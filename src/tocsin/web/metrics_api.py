"""GET /api/v1/reports/metrics, and the report's headline figures as /metrics gauges.

The API answers `tocsin report --json`'s document for ?since&until (default
the last 30 days). The gauges hold the last 30 days as of their last
refresh, recomputed at most once a minute however often /metrics is read.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from sqlalchemy.exc import SQLAlchemyError

from tocsin import telemetry
from tocsin.engine.runtime import Runtime
from tocsin.logs import event
from tocsin.metrics.service import DEFAULT_WINDOW, Report, build_report, window
from tocsin.metrics.views import report_view
from tocsin.web.auth import READ, Caller

log = logging.getLogger(__name__)

GAUGE_REFRESH = timedelta(minutes=1)
ALL_SERVICES = "*"


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/reports/metrics")
    def metrics_report(
        caller: Caller = READ,
        since: str | None = Query(None, description="ISO 8601; default 30 days before until"),
        until: str | None = Query(None, description="ISO 8601, exclusive; default now"),
    ) -> dict[str, Any]:
        config = runtime.config_now()
        now = runtime.clock.now()
        start, end = window(since, until, zone=ZoneInfo(config.timezone), now=now)
        with runtime.sessions() as session:
            found = build_report(session, config=config, since=start, until=end, now=now,
                                 viewer=caller.actor, admin=caller.scope == "admin")
        return report_view(found)

    return router


class HeadlineGauges:
    """Sets the report gauges from the database, at most once per GAUGE_REFRESH."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._last: datetime | None = None

    def refresh(self) -> None:
        now = self._runtime.clock.now()
        if self._last is not None and now - self._last < GAUGE_REFRESH:
            return
        self._last = now
        try:
            with self._runtime.sessions() as session:
                found = build_report(session, config=self._runtime.config_now(),
                                     since=now - DEFAULT_WINDOW, until=now, now=now,
                                     admin=False)
        except SQLAlchemyError as exc:  # the gauges keep their last values
            event(log, "report.gauges_failed", level=logging.WARNING,
                  error=type(exc).__name__)
            return
        set_gauges(found)


def set_gauges(found: Report) -> None:
    telemetry.REPORT_INCIDENTS_PER_WEEK.set(found.incidents_per_week)
    telemetry.REPORT_MTTA.set(_seconds(found.alerts.ack_mean))
    telemetry.REPORT_RESPONSE.set(_seconds(found.response.mean))
    telemetry.REPORT_MTTR.clear()
    for row in found.mttr_by_severity:
        for statistic, value in (("mean", row.mttr.mean), ("median", row.mttr.median),
                                 ("p90", row.mttr.p90)):
            telemetry.REPORT_MTTR.labels(row.severity, statistic).set(_seconds(value))
    for kind, ratio in (("escalated", found.escalation_rate),
                        ("transient", found.transient_rate),
                        ("not_actionable", found.not_actionable_rate)):
        telemetry.REPORT_ALERT_RATIOS.labels(kind).set(_number(ratio))
    telemetry.REPORT_UPTIME.clear()
    telemetry.REPORT_UPTIME.labels(ALL_SERVICES).set(_number(found.uptime))
    for service in found.services:
        telemetry.REPORT_UPTIME.labels(service.service).set(_number(service.uptime))
    actions = found.actions
    telemetry.REPORT_ACTIONS_DONE.set(
        actions.done / actions.total if actions.total else math.nan)
    telemetry.REPORT_SURVEY.set(_number(found.survey_mean))


def _seconds(span: timedelta | None) -> float:
    return math.nan if span is None else span.total_seconds()


def _number(value: float | None) -> float:
    return math.nan if value is None else value
