"""The maintenance API: list, make, end and delete maintenance windows (silences).

Reading takes a token of read scope; changing one of write scope. Windows
from the config file are listed beside the stored ones (their id is
`config:<name>`) but are changed in the file: ending one here is a 409.
Times in a body follow the CLI's TIME rules, in the config's timezone when
they carry no offset. A body gives `end` or `duration_minutes` (from
`start`). The web UI's form is read into the same body and checked by
`window_fields`, so both surfaces refuse the same things with the same words.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from tocsin.alerts import maintenance
from tocsin.db import transaction
from tocsin.engine.runtime import Runtime
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.oncall.rules import parse_time
from tocsin.web.auth import READ, WRITE, Caller
from tocsin.web.body import KIB, decode_json, read_capped

BODY_LIMIT = 64 * KIB
_FIELDS = ("services", "match", "match_re", "start", "end", "duration_minutes", "reason")


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api/v1/maintenance")

    @router.get("")
    def list_windows(
        _caller: Caller = READ, include_all: bool = Query(False, alias="all"),
    ) -> dict[str, Any]:
        with runtime.sessions() as session:
            return {"maintenance": maintenance.list_windows(
                session, config=runtime.config_now(), include_all=include_all,
                now=runtime.clock.now())}

    @router.get("/{window}")
    def get_window(window: str, _caller: Caller = READ) -> dict[str, Any]:
        with runtime.sessions() as session:
            return maintenance.find(session, config=runtime.config_now(), key=window,
                                    now=runtime.clock.now())

    @router.post("", status_code=201)
    async def create_window(request: Request, caller: Caller = WRITE) -> dict[str, Any]:
        zone = ZoneInfo(runtime.config_now().timezone)
        now = runtime.clock.now()
        fields = window_fields(decode_json(await read_capped(request, BODY_LIMIT)), zone, now)

        def store() -> dict[str, Any]:
            with transaction(runtime.sessions) as session:
                row = maintenance.create_window(session, actor=caller.actor,
                                                surface=caller.surface, now=now, **fields)
                return maintenance.describe_row(row, now)

        return await run_in_threadpool(store)

    @router.post("/{window}/end")
    def end_window(window: str, caller: Caller = WRITE) -> dict[str, Any]:
        return _change(runtime, window, caller, delete=False)

    @router.delete("/{window}")
    def delete_window(window: str, caller: Caller = WRITE) -> dict[str, Any]:
        return _change(runtime, window, caller, delete=True)

    return router


def _change(runtime: Runtime, window: str, caller: Caller, *, delete: bool) -> dict[str, Any]:
    change = maintenance.delete_window if delete else maintenance.end_window
    window_id = maintenance.window_id(window)
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        row = change(session, window=window_id, actor=caller.actor, surface=caller.surface,
                     now=now)
        shown = maintenance.describe_row(row, now)
    runtime.engine.wake()  # the alerts it held start paging now
    return shown


def window_fields(body: Any, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The create_window arguments a JSON body names; every problem at once."""
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object: {services?, match?, match_re?, start?, "
                           "end or duration_minutes, reason}")
    problems = [
        FieldProblem(str(key), "is not a field of a maintenance window; use "
                               + ", ".join(_FIELDS))
        for key in body if key not in _FIELDS
    ]
    services = _strings(body.get("services", []), "services", problems)
    match = _labels(body.get("match", {}), "match", problems)
    match_re = _labels(body.get("match_re", {}), "match_re", problems)
    reason = _text(body, "reason", problems)
    start = _time(body, "start", zone, problems) if body.get("start") is not None else now
    end = _end(body, start, zone, problems)
    if problems or start is None or end is None or reason is None:
        raise InvalidInput("the maintenance window is invalid", problems)
    return {"services": services, "match": match, "match_re": match_re, "start": start,
            "end": end, "reason": reason}


def _end(
    body: dict[str, Any], start: datetime | None, zone: ZoneInfo, problems: list[FieldProblem],
) -> datetime | None:
    """`end`, or `start` plus `duration_minutes`: one of the two, not both."""
    minutes = body.get("duration_minutes")
    if minutes is None:
        if body.get("end") is None:
            problems.append(FieldProblem("end", "is required (or give duration_minutes)"))
            return None
        return _time(body, "end", zone, problems)
    if body.get("end") is not None:
        problems.append(FieldProblem("duration_minutes", "give end or duration_minutes, "
                                                         "not both"))
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not minutes > 0:
        problems.append(FieldProblem("duration_minutes", "must be a number of minutes above 0"))
        return None
    if start is None:
        return None
    try:
        return start + timedelta(minutes=minutes)
    except OverflowError:
        problems.append(FieldProblem("duration_minutes", "is too long; a maintenance window "
                                                         "lasts at most 366 days"))
        return None


def _strings(value: Any, path: str, problems: list[FieldProblem]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(FieldProblem(path, "must be a list of strings"))
        return []
    return value


def _labels(value: Any, path: str, problems: list[FieldProblem]) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append(FieldProblem(path, "must be an object of label names to strings"))
        return {}
    wrong = [key for key, item in value.items() if not isinstance(item, str)]
    for key in wrong:
        problems.append(FieldProblem(f"{path}.{key}", "must be a string"))
    return {} if wrong else value


def _text(body: dict[str, Any], key: str, problems: list[FieldProblem]) -> str | None:
    value = body.get(key)
    if value is None:
        problems.append(FieldProblem(key, "is required"))
        return None
    if not isinstance(value, str):
        problems.append(FieldProblem(key, "must be a string"))
        return None
    return value


def _time(
    body: dict[str, Any], key: str, zone: ZoneInfo, problems: list[FieldProblem],
) -> datetime | None:
    text = _text(body, key, problems)
    if text is None:
        return None
    try:
        return parse_time(text, zone)
    except (ValueError, OverflowError) as exc:
        problems.append(FieldProblem(key, str(exc)))
        return None
