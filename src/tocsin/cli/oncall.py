"""`tocsin oncall` and `tocsin shifts`: answered from the file by the rotation maths."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    DbOption,
    JsonOption,
    fail,
    load,
    optional_session,
)
from tocsin.config.model import Config, Schedule
from tocsin.oncall import service
from tocsin.oncall.rules import Shift, format_utc, parse_time

TimeOption = Annotated[str | None, typer.Option(help="ISO 8601; without an offset, local")]


def _schedule(config: Config, name: str) -> Schedule:
    schedule = config.schedules.get(name)
    if schedule is None:
        known = ", ".join(sorted(config.schedules)) or "none"
        fail(f"unknown schedule {name!r}; schedules in this config: {known}")
    return schedule


def _time(text: str, zone: ZoneInfo, option: str) -> datetime:
    try:
        return parse_time(text, zone)
    except (ValueError, OverflowError) as exc:
        fail(f"{option}: {exc}", code=2)


def _shift_json(config: Config, shift: Shift) -> dict[str, Any]:
    user = config.users.get(shift.user)
    return {"user": shift.user, "email": user.email if user else None,
            "start": format_utc(shift.start), "end": format_utc(shift.end),
            "source": shift.source}


def _table(config: Config, schedule: Schedule, found: list[Shift], title: str) -> None:
    zone = ZoneInfo(schedule.timezone)
    table = Table(title=title)
    for column in ("who", f"from ({schedule.timezone})", "to", "source"):
        table.add_column(column)
    for shift in found:
        user = config.users.get(shift.user)
        table.add_row(user.display if user else shift.user,
                      f"{shift.start.astimezone(zone):%a %Y-%m-%d %H:%M}",
                      f"{shift.end.astimezone(zone):%a %Y-%m-%d %H:%M}", shift.source)
    Console().print(table)


def oncall(
    schedule: Annotated[str, typer.Argument(help="Schedule name")],
    at: TimeOption = None, as_json: JsonOption = False,
    config: ConfigOption = None, db: DbOption = None,
) -> None:
    """Who is on call in SCHEDULE now, or at --at TIME."""
    loaded = load(config)
    found_schedule = _schedule(loaded, schedule)
    zone = ZoneInfo(found_schedule.timezone)
    when = _time(at, zone, "--at") if at else datetime.now(ZoneInfo("UTC"))
    try:
        with optional_session(db) as session:
            found = service.on_call(session, found_schedule, when)
    except OverflowError:
        fail("--at is too far from today for the calendar; pick a time before year 9999", 2)
    if as_json:
        sys.stdout.write(json.dumps({
            "schedule": schedule, "timezone": found_schedule.timezone, "at": format_utc(when),
            "oncall": [_shift_json(loaded, s) for s in found]}) + "\n")
        return
    if not found:
        sys.stdout.write(f"nobody is on call in {schedule} at {format_utc(when)}\n")
        return
    _table(loaded, found_schedule, found, f"{schedule} at {format_utc(when)}")


def shifts(
    schedule: Annotated[str, typer.Argument(help="Schedule name")],
    start: Annotated[str, typer.Option("--from", help="ISO 8601 start")],
    end: Annotated[str, typer.Option("--to", help="ISO 8601 end, exclusive")],
    as_json: JsonOption = False, config: ConfigOption = None, db: DbOption = None,
) -> None:
    """The shifts of SCHEDULE overlapping [--from, --to), each shown whole."""
    loaded = load(config)
    found_schedule = _schedule(loaded, schedule)
    zone = ZoneInfo(found_schedule.timezone)
    begin, finish = _time(start, zone, "--from"), _time(end, zone, "--to")
    if finish <= begin:
        fail("--to must be after --from", code=2)
    try:
        with optional_session(db) as session:
            found = service.final_shifts(session, found_schedule, begin, finish)
    except OverflowError:
        fail("the range reaches past what the calendar can hold; pick times before 9999", 2)
    if as_json:
        sys.stdout.write(json.dumps({
            "schedule": schedule, "timezone": found_schedule.timezone,
            "from": format_utc(begin), "to": format_utc(finish),
            "shifts": [_shift_json(loaded, s) for s in found]}) + "\n")
        return
    title = f"{schedule}: {format_utc(begin)} to {format_utc(finish)}"
    _table(loaded, found_schedule, found, title)
