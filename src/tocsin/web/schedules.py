"""The on-call API: who is on call, final shifts, and overrides.

Every answer comes from `oncall.service` (the one function the engine, the
CLI and the UI also call), so the API never disagrees with who gets paged.
Times in a query string follow the CLI's TIME rules: ISO 8601 with an
offset or Z, or a wall-clock time in the schedule's (or user's) zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.config.model import Config, Schedule, User
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.oncall import overrides, service
from tocsin.oncall.rules import Shift, format_utc, parse_time
from tocsin.web.auth import READ, WRITE, Caller
from tocsin.web.body import KIB, decode_json, read_capped

BODY_LIMIT = 16 * KIB
DEFAULT_SPAN = timedelta(days=14)
# Expanding a schedule is cheap, but not free: a year is enough for any view.
MAX_SPAN = timedelta(days=366)


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    _add_shift_routes(router, runtime)
    _add_override_routes(router, runtime)
    return router


def _add_shift_routes(router: APIRouter, runtime: Runtime) -> None:
    @router.get("/oncall")
    def oncall_now(_caller: Caller = READ) -> dict[str, Any]:
        config = runtime.config_now()
        now = runtime.clock.now()
        with runtime.sessions() as session:
            found = [
                {"schedule": s.name, "timezone": s.timezone,
                 "oncall": [_shift_json(config, shift)
                            for shift in service.on_call(session, s, now)]}
                for s in sorted(config.schedules.values(), key=lambda s: s.name)
            ]
        return {"at": format_utc(now), "schedules": found}

    @router.get("/schedules/{name}/shifts")
    def schedule_shifts(
        name: str, _caller: Caller = READ,
        start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"),
    ) -> dict[str, Any]:
        config = runtime.config_now()
        schedule = _schedule(config, name)
        span = _Span.parse(start, end, ZoneInfo(schedule.timezone), runtime.clock.now())
        with runtime.sessions() as session:
            found = service.final_shifts(session, schedule, span.start, span.end)
        return {"schedule": schedule.name, "timezone": schedule.timezone, **span.json(),
                "shifts": [_shift_json(config, shift) for shift in found]}

    @router.get("/users/{user_id}/shifts")
    def user_shifts(
        user_id: str, _caller: Caller = READ,
        start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"),
    ) -> dict[str, Any]:
        config = runtime.config_now()
        user = config.user_by_email_or_id(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r} in the config")
        zone = ZoneInfo(user.timezone or config.timezone)
        span = _Span.parse(start, end, zone, runtime.clock.now())
        with runtime.sessions() as session:
            found = _shifts_of(session, config, user, span)
        return {"user": user.id, "email": user.email, **span.json(), "shifts": found}


def _shifts_of(session: Session, config: Config, user: User, span: _Span) -> list[dict[str, Any]]:
    """`user`'s final shifts in every schedule, by start."""
    found = [
        {"schedule": schedule.name, "timezone": schedule.timezone, **_shift_json(config, shift)}
        for schedule in config.schedules.values()
        for shift in service.final_shifts(session, schedule, span.start, span.end)
        if shift.user == user.id
    ]
    return sorted(found, key=lambda item: (item["start"], item["schedule"]))


def _add_override_routes(router: APIRouter, runtime: Runtime) -> None:
    @router.get("/schedules/{name}/overrides")
    def list_overrides(
        name: str, _caller: Caller = READ,
        include_past: bool = Query(False, alias="all"), include_deleted: bool = False,
    ) -> dict[str, Any]:
        config = runtime.config_now()
        schedule = _schedule(config, name)
        with runtime.sessions() as session:
            rows = overrides.list_overrides(session, schedule=schedule.name,
                                            include_past=include_past,
                                            include_deleted=include_deleted,
                                            now=runtime.clock.now())
            return {"schedule": schedule.name,
                    "overrides": [overrides.describe(row) for row in rows]}

    @router.post("/schedules/{name}/overrides", status_code=201)
    async def create_override(
        name: str, request: Request, caller: Caller = WRITE,
    ) -> dict[str, Any]:
        config = runtime.config_now()
        schedule = _schedule(config, name)
        fields = _override_fields(decode_json(await read_capped(request, BODY_LIMIT)),
                                  ZoneInfo(schedule.timezone))

        def store() -> dict[str, Any]:
            with transaction(runtime.sessions) as session:
                row = overrides.create_override(
                    session, config=config, schedule=schedule.name, actor=caller.actor,
                    surface=caller.surface, now=runtime.clock.now(), **fields)
                return overrides.describe(row)

        return await run_in_threadpool(store)

    @router.delete("/overrides/{override_id}")
    def delete_override(
        override_id: int, caller: Caller = WRITE,
    ) -> dict[str, Any]:
        with transaction(runtime.sessions) as session:
            row = overrides.delete_override(session, override_id=override_id,
                                            actor=caller.actor, surface=caller.surface,
                                            now=runtime.clock.now())
            return overrides.describe(row)


def _schedule(config: Config, name: str) -> Schedule:
    schedule = config.schedules.get(name)
    if schedule is None:
        raise NotFound(f"no schedule {name!r} in the config")
    return schedule


def _shift_json(config: Config, shift: Shift) -> dict[str, Any]:
    user = config.users.get(shift.user)
    return {"user": shift.user, "email": user.email if user else None,
            "start": format_utc(shift.start), "end": format_utc(shift.end),
            "source": shift.source}


@dataclass(frozen=True)
class _Span:
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, start: str | None, end: str | None, zone: ZoneInfo, now: datetime) -> _Span:
        """[from, to): from defaults to now, to to 14 days after from."""
        problems: list[FieldProblem] = []
        begin = _parse(start, zone, "from", problems) if start is not None else now
        finish = _parse(end, zone, "to", problems) if end is not None else None
        if begin is not None and finish is None and end is None:
            finish = begin + DEFAULT_SPAN
        if begin is not None and finish is not None:
            if finish <= begin:
                problems.append(FieldProblem("to", "must be after from"))
            elif finish - begin > MAX_SPAN:
                problems.append(FieldProblem("to", "ask for at most 366 days at a time"))
        if problems or begin is None or finish is None:
            raise InvalidInput("the time range is invalid", problems)
        return cls(begin, finish)

    def json(self) -> dict[str, str]:
        return {"from": format_utc(self.start), "to": format_utc(self.end)}


def _parse(text: str, zone: ZoneInfo, path: str, problems: list[FieldProblem]) -> datetime | None:
    try:
        return parse_time(text, zone)
    except (ValueError, OverflowError) as exc:
        problems.append(FieldProblem(path, str(exc)))
        return None


_OVERRIDE_FIELDS = frozenset({"user", "start", "end", "replaces", "kind", "add"})


def _add_flag(body: dict[str, Any], problems: list[FieldProblem]) -> bool:
    """`add: true`, as the config file spells an "add" override."""
    value = body.get("add", False)
    if not isinstance(value, bool):
        problems.append(FieldProblem("add", "must be true or false"))
        return False
    return value


def _override_fields(body: Any, zone: ZoneInfo) -> dict[str, Any]:
    """The create_override arguments a JSON body names; every problem at once."""
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object: {user, start, end, replaces?, kind?}")
    problems = [
        FieldProblem(str(key), "is not a field of an override; use user, start, end, "
                               "replaces, kind or add")
        for key in body if key not in _OVERRIDE_FIELDS
    ]
    add = _add_flag(body, problems)
    text: dict[str, str | None] = {}
    for key in ("user", "start", "end", "replaces", "kind"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(FieldProblem(key, "must be a string"))
            value = None
        elif value is None and key in ("user", "start", "end"):
            problems.append(FieldProblem(key, "is required"))
        text[key] = value
    start = _parse(text["start"], zone, "start", problems) if text["start"] else None
    end = _parse(text["end"], zone, "end", problems) if text["end"] else None
    if problems or start is None or end is None:
        raise InvalidInput("the override is invalid", problems)
    kind = text["kind"] or ("add" if add else "replace" if text["replaces"] else "whole")
    if add and kind != "add":
        raise InvalidInput("the override is invalid", [FieldProblem(
            "add", f"add: true cannot be combined with kind {kind!r}; drop one of them")])
    return {"user": text["user"], "start": start, "end": end, "kind": kind,
            "replaces": text["replaces"]}
