"""Overrides made at run time (CLI, API, UI): create, list, delete.

These rows are read back by `service.final_shifts` / `service.on_call`, so an
override made here changes what the CLI, the API and the engine answer.

Deleting respects "edits take effect from now": past shifts never change.
The row is kept either way, with who deleted it and when (deleted_by,
deleted_at), so `list --all` and the API's `include_deleted` can show it.

    not started yet   deleted: it no longer applies at all
    in progress       ended now: its end moves to `now`, so the part already
                      served stays in force and the rotation takes over
    already ended     refused (409): that time is history
    already deleted   a no-op that answers the row again, like acking an acked
                      alert, so a retried DELETE is harmless

Rows deleted before this rule (an ended one had no deleted_at) read the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.config.model import Config, OverrideKind
from tocsin.db import MAX_ID
from tocsin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tocsin.logs import event
from tocsin.oncall.rules import format_utc
from tocsin.oncall.store import ScheduleOverride, in_force

log = logging.getLogger(__name__)

KINDS: tuple[OverrideKind, ...] = ("replace", "add", "whole")
# Longer than any holiday cover; a longer one is almost surely a typo in a year.
MAX_LENGTH = timedelta(days=366)


@dataclass(frozen=True)
class _Checked:
    user: str
    replaces: str | None


def create_override(
    session: Session, *, config: Config, schedule: str, user: str, start: datetime,
    end: datetime, kind: str, replaces: str | None, actor: str, surface: str, now: datetime,
) -> ScheduleOverride:
    """Store one override after checking every field; raises InvalidInput naming them."""
    checked = _check(config, schedule=schedule, user=user, start=start, end=end, kind=kind,
                     replaces=replaces, now=now)
    row = ScheduleOverride(
        schedule=schedule, user_id=checked.user, kind=kind, replaces=checked.replaces,
        start_at=start, end_at=end, created_at=now, created_by=actor, surface=surface,
    )
    session.add(row)
    session.flush()  # the id, for the audit row and the log line
    audit.record(session, now=now, actor=actor, surface=surface, action="override.create",
                 object_type="override", object_id=row.id, after=describe(row))
    event(log, "override.created", override_id=row.id, schedule=schedule, user=row.user_id,
          kind=kind, actor=actor, surface=surface)
    return row


def _check(
    config: Config, *, schedule: str, user: str, start: datetime, end: datetime, kind: str,
    replaces: str | None, now: datetime,
) -> _Checked:
    problems: list[FieldProblem] = []
    found = config.schedules.get(schedule)
    if found is None:
        known = ", ".join(sorted(config.schedules)) or "none"
        problems.append(FieldProblem("schedule", f"no schedule {schedule!r}; known: {known}"))
    user_id = _user_id(config, user, "user", problems)
    replaced = _check_kind(config, kind, replaces, problems)
    if replaced is not None and replaced == user_id:
        problems.append(FieldProblem("replaces", "a person cannot replace themselves"))
    elif found is not None and replaced is not None and not any(
            replaced in layer.participants for layer in found.layers):
        problems.append(FieldProblem(
            "replaces", f"{replaced} is not a participant of {schedule}, so replacing them "
            "would change nothing; use an 'add' or 'whole' override instead"))
    problems.extend(_check_range(start, end, now))
    if problems:
        raise InvalidInput("the override is invalid", problems)
    assert user_id is not None  # a missing user is a problem above
    return _Checked(user_id, replaced)


def _check_kind(
    config: Config, kind: str, replaces: str | None, problems: list[FieldProblem],
) -> str | None:
    if kind not in KINDS:
        problems.append(FieldProblem("kind", "must be one of " + ", ".join(KINDS)))
        return None
    if kind == "replace" and not replaces:
        problems.append(FieldProblem("replaces", "a replace override names who it replaces"))
        return None
    if kind != "replace" and replaces:
        problems.append(FieldProblem(
            "replaces", f"only a replace override names who it replaces, not {kind}"))
        return None
    return _user_id(config, replaces, "replaces", problems) if replaces else None


def _user_id(
    config: Config, name: str | None, path: str, problems: list[FieldProblem],
) -> str | None:
    found = config.user_by_email_or_id(name) if name else None
    if found is None:
        problems.append(FieldProblem(
            path, f"no user {name!r} in the config; use a user id or e-mail address"))
        return None
    return found.id


# Slack for "from now" typed a minute ago, not a way to rewrite history.
PAST_TOLERANCE = timedelta(minutes=15)


def _check_range(start: datetime, end: datetime, now: datetime) -> list[FieldProblem]:
    problems = []
    if end <= start:
        problems.append(FieldProblem("end", "must be after start"))
    elif end - start > MAX_LENGTH:
        problems.append(FieldProblem("end", "an override lasts at most 366 days; split it"))
    if end <= now:
        # Past shifts are a record; an override cannot rewrite them.
        problems.append(FieldProblem("end", f"is not after now ({format_utc(now)})"))
    elif start < now - PAST_TOLERANCE:
        # Nor may one reach back into them: a typo'd year would rewrite months.
        problems.append(FieldProblem(
            "start", f"is more than 15 minutes before now ({format_utc(now)}); an override "
                     "cannot change the past: start it now or later"))
    return problems


def list_overrides(
    session: Session, *, schedule: str | None = None, include_past: bool = False,
    include_deleted: bool = False, now: datetime,
) -> list[ScheduleOverride]:
    """Overrides in force, by start; only those not yet ended unless `include_past`.

    With `include_deleted`, deleted ones too: those deleted before they began
    (an override ended early while running is listed anyway, since its
    served part is still in force).
    """
    query = select(ScheduleOverride)
    if not include_deleted:
        query = query.where(in_force())
    if schedule is not None:
        query = query.where(ScheduleOverride.schedule == schedule)
    if not include_past:
        query = query.where(ScheduleOverride.end_at > now)
    return list(session.scalars(query.order_by(ScheduleOverride.start_at, ScheduleOverride.id)))


def get_override(session: Session, override_id: int, *, lock: bool = False) -> ScheduleOverride:
    query = select(ScheduleOverride).where(ScheduleOverride.id == override_id)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query) if 0 < override_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"no override {override_id}")
    return row


def delete_override(
    session: Session, *, override_id: int, actor: str, surface: str, now: datetime,
) -> ScheduleOverride:
    """Delete a future override or end a running one now; see the module docstring."""
    row = get_override(session, override_id, lock=True)
    if row.deleted_at is not None:
        return row
    if row.end_at <= now:
        raise Conflict(f"override {row.id} ended at {format_utc(row.end_at)}; past shifts "
                       "are kept as they were")
    before = describe(row)
    how = "deleted"
    if row.start_at < now:
        row.end_at = now
        how = "ended"
    row.deleted_at, row.deleted_by = now, actor
    audit.record(session, now=now, actor=actor, surface=surface, action="override.delete",
                 object_type="override", object_id=row.id, before=before, after=describe(row))
    event(log, "override.deleted", override_id=row.id, schedule=row.schedule, how=how,
          actor=actor, surface=surface)
    return row


def describe(row: ScheduleOverride) -> dict[str, Any]:
    """The plain JSON shape of an override, for the API, `--json` and the audit log."""
    return {
        "id": row.id, "schedule": row.schedule, "user": row.user_id, "kind": row.kind,
        "replaces": row.replaces, "start": format_utc(row.start_at),
        "end": format_utc(row.end_at), "created_at": format_utc(row.created_at),
        "created_by": row.created_by, "surface": row.surface,
        "deleted_at": format_utc(row.deleted_at) if row.deleted_at else None,
        "deleted_by": row.deleted_by,
    }
