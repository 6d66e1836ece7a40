"""The UI's override forms: read what a person typed and hand it to the override service.

Times in the form are wall-clock times in the schedule's zone, read with
the same rule as the CLI (`parse_time`), so "09:00" means the same instant
on every surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.config.model import Config, Schedule
from tocsin.errors import InvalidInput, NotFound
from tocsin.oncall import overrides
from tocsin.oncall.rules import parse_time
from tocsin.oncall.store import ScheduleOverride

KINDS = (
    ("replace", "Replace someone (only while they are on call)"),
    ("add", "Add beside whoever is on call"),
    ("whole", "Take the whole schedule"),
)


@dataclass(frozen=True)
class OverrideForm:
    user: str = ""
    kind: str = "replace"
    replaces: str = ""
    start: str = ""
    end: str = ""


_LABELS = {"user": "Who covers", "kind": "Kind", "replaces": "Replaces", "start": "From",
           "end": "To", "schedule": "Schedule"}


def create(
    session: Session, *, config: Config, schedule: Schedule, form: OverrideForm, actor: str,
    now: datetime,
) -> ScheduleOverride | list[str]:
    """Store the override the form describes, or answer every problem with it.

    The checks and the audit row belong to `overrides.create_override`, which
    the API and CLI use too, so the UI cannot accept what they would refuse.
    """
    problems: list[str] = []
    start = _time(form.start, schedule, "From", problems)
    end = _time(form.end, schedule, "To", problems)
    if start is None or end is None:
        return problems
    try:
        return overrides.create_override(
            session, config=config, schedule=schedule.name, user=form.user, start=start,
            end=end, kind=form.kind, replaces=form.replaces or None, actor=actor,
            surface="ui", now=now)
    except InvalidInput as exc:
        return [f"{_LABELS.get(f.path, f.path)}: {f.message}" for f in exc.fields] or [str(exc)]


def _time(text: str, schedule: Schedule, field: str, problems: list[str]) -> datetime | None:
    if not text.strip():
        problems.append(f"{field}: enter a date and time")
        return None
    try:
        return parse_time(text, ZoneInfo(schedule.timezone))
    except (ValueError, OverflowError):
        problems.append(f"{field}: not a date and time; use the form 2026-03-08T09:00")
        return None


def find(session: Session, schedule: Schedule, override_id: int) -> ScheduleOverride | None:
    """The stored override `override_id`, if it belongs to `schedule`."""
    try:
        row = overrides.get_override(session, override_id)
    except NotFound:
        return None
    return row if row.schedule == schedule.name else None
