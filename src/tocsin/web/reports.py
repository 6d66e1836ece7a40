"""Reports under /api/v1: on-call load per person and coverage gaps.

Both read final shifts through `oncall.service`, the function every
consumer shares, and hand them to the pure maths in `oncall.load` and
`oncall.coverage`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from tocsin.config.model import Config, WorkingHours
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.oncall import service
from tocsin.oncall.coverage import gaps, upcoming_range
from tocsin.oncall.load import Load, oncall_load
from tocsin.oncall.rules import Shift, format_utc, parse_time
from tocsin.web.auth import READ, Caller

# A report over more than a year is a different question (and a slow one).
MAX_REPORT_RANGE = timedelta(days=366)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/reports/oncall-load")
    def oncall_load_report(
        _caller: Caller = READ,
        from_text: str = Query(..., alias="from"), to_text: str = Query(..., alias="to"),
    ) -> dict[str, Any]:
        config = runtime.config_now()
        start, end = _range(config, from_text, to_text)
        with runtime.sessions() as session:
            found = [shift for schedule in config.schedules.values()
                     for shift in service.final_shifts(session, schedule, start, end)]
        return {
            "from": format_utc(start), "to": format_utc(end),
            "working_hours": _hours_view(config.working_hours),
            "users": [_user_load(config, user_id, found, start, end)
                      for user_id in sorted(config.users)],
        }

    @router.get("/schedules/{name}/gaps")
    def schedule_gaps(name: str, _caller: Caller = READ) -> dict[str, Any]:
        config = runtime.config_now()
        schedule = config.schedules.get(name)
        if schedule is None:
            raise NotFound(f"no schedule named {name!r}")
        start, end = upcoming_range(runtime.clock.now())
        with runtime.sessions() as session:
            found = service.final_shifts(session, schedule, start, end)
        return {
            "schedule": schedule.name, "timezone": schedule.timezone,
            "from": format_utc(start), "to": format_utc(end),
            "gaps": [{"start": format_utc(a), "end": format_utc(b), "hours": _hours(b - a)}
                     for a, b in gaps(found, start, end)],
        }

    return router


def _range(config: Config, from_text: str, to_text: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(config.timezone)
    problems = []
    parsed: dict[str, datetime] = {}
    for field, text in (("from", from_text), ("to", to_text)):
        try:
            parsed[field] = parse_time(text, zone)
        except ValueError as exc:
            problems.append(FieldProblem(field, str(exc)))
    if problems:
        raise InvalidInput("the range is invalid", problems)
    start, end = parsed["from"], parsed["to"]
    if end <= start:
        raise InvalidInput("the range is invalid", [FieldProblem("to", "must be after from")])
    if end - start > MAX_REPORT_RANGE:
        raise InvalidInput("the range is too long", [FieldProblem(
            "to", f"a report covers at most {MAX_REPORT_RANGE.days} days")])
    return start, end


def _user_load(
    config: Config, user_id: str, found: list[Shift], start: datetime, end: datetime,
) -> dict[str, Any]:
    user = config.users[user_id]
    zone_name = user.timezone or config.timezone
    load = oncall_load(found, user=user_id, zone=ZoneInfo(zone_name), start=start, end=end,
                       hours=config.working_hours)
    return {"user": user_id, "name": user.display, "timezone": zone_name,
            "hours": _load_view(load)}


def _load_view(load: Load) -> dict[str, float]:
    return {"on_call": _hours(load.on_call), "business": _hours(load.business),
            "off": _hours(load.off), "sleep": _hours(load.sleep)}


def _hours_view(hours: WorkingHours) -> dict[str, Any]:
    def span(window: tuple[Any, Any]) -> str:
        return f"{window[0]:%H:%M}-{window[1]:%H:%M}"

    return {"business": span(hours.business), "sleep": span(hours.sleep),
            "days": list(hours.days)}


def _hours(length: timedelta) -> float:
    return round(length / timedelta(hours=1), 4)
