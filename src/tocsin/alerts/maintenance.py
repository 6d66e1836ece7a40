"""Maintenance windows (silences are the same thing made ad hoc) and the alerts they hold.

Windows come from two places: the config file's `maintenance:` list, and
rows made with the CLI, the API or the UI. Both become the same
`maintenance_rules.Window`, so matching has one answer everywhere.

While a window holds an alert, the alert is stored and shown as usual, its
timeline names the window, and nobody is paged: `hold` is asked before an
alert is routed and before each escalation step, and when it answers True
the caller starts nothing. The engine releases the hold when no window
holds the alert any more (`maintenance_release`).

Ending and deleting a stored window follow "edits take effect from now":

    end      in force: it stops holding now; not started yet: it never will;
             already over: a no-op that answers the window again
    delete   as end, and the window is left out of listings; one that held
             alerts and is over is refused (409), since that time is a record

A window from the file is changed in the file: ending or deleting one here
is refused (409).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts import maintenance_store as store
from tocsin.alerts.maintenance_rules import (
    CONFIG_PREFIX,
    NO_MATCHER,
    Window,
    config_key,
    has_matcher,
    holding,
    in_force,
    regex_problem,
    span_problem,
    unstorable,
)
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.config.model import Config, MaintenanceWindow
from tocsin.db import MAX_ID
from tocsin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tocsin.escalation.rules import Position
from tocsin.logs import event
from tocsin.oncall.rules import format_utc
from tocsin.routing.rules import alert_labels

log = logging.getLogger(__name__)

MAX_REASON = 2000
MAX_NAME = 200  # a service, a label name
MAX_VALUE = 1000  # a label value or an expression
MAX_MATCHERS = 100
_CACHE = "tocsin.maintenance.windows_at"


# -- windows as matching sees them -------------------------------------------


def from_config(window: MaintenanceWindow) -> Window:
    return Window(key=config_key(window.name), label=window.name, start=window.start,
                  end=window.end, services=window.services, match=dict(window.match),
                  match_re=dict(window.match_re), reason=window.reason)


def from_row(row: store.StoredWindow) -> Window:
    return Window(key=str(row.id), label=f"#{row.id}", start=row.start_at,
                  end=row.effective_end, services=tuple(row.services), match=dict(row.match),
                  match_re=dict(row.match_re), reason=row.reason)


def windows_at(session: Session, *, config: Config, at: datetime) -> list[Window]:
    """Every window in force at `at`: the file's, then the stored ones.

    Kept on the session for that instant, so a webhook of thousands of new
    alerts asks the database once, not once per alert. Changing a window
    in the session forgets it.
    """
    cached = session.info.get(_CACHE)
    if cached is not None and cached[0] == at and cached[1] is config:
        return list(cached[2])
    found = [from_config(w) for w in config.maintenance if w.start <= at < w.end]
    found += [from_row(row) for row in store.in_force_at(session, at)]
    session.info[_CACHE] = (at, config, tuple(found))
    return found


def _forget(session: Session) -> None:
    session.info.pop(_CACHE, None)


def windows_by_key(session: Session, *, config: Config, keys: Iterable[str]) -> dict[str, Window]:
    """The windows these keys name that still exist, by key, as they are now."""
    wanted = set(keys)
    found = {config_key(w.name): from_config(w) for w in config.maintenance
             if config_key(w.name) in wanted}
    ids = [int(key) for key in wanted if key.isdigit()]
    found.update({str(row_id): from_row(row) for row_id, row in store.by_ids(session, ids).items()})
    return found


# -- holding alerts ------------------------------------------------------------


def hold(
    session: Session, *, config: Config, alert: Alert, now: datetime,
    position: Position | None = None, policy: str | None = None,
) -> bool:
    """Hold `alert` if a window in force matches it; True when it is held.

    `position` is the escalation step that was about to run, resumed on
    release; None for an alert not routed yet, which is routed on release.
    `policy` names the chain the step belongs to (None: the alert's own
    policy); each chain is held, and resumed, on its own.
    The caller holds the alert's row lock.
    """
    windows = windows_at(session, config=config, at=now)
    if not windows:
        return False
    labels = alert_labels(alert.labels, severity=alert.severity, service=alert.service)
    window = holding(windows, labels, now)
    if window is None:
        return False
    row = store.held_for(session, alert.id, policy)
    if row is None:
        row = store.MaintenanceHold(alert_id=alert.id, created_at=now, state=store.HELD,
                                    step=None if position is None else position.step,
                                    pass_number=0 if position is None else position.pass_number,
                                    policy=policy)
        session.add(row)
    elif row.step is not None and position is not None:
        row.step, row.pass_number = position.step, position.pass_number
    row.window, row.label, row.until = window.key, window.label, window.end
    _note_silenced(session, alert, window, now, position, policy)
    return True


def _note_silenced(
    session: Session, alert: Alert, window: Window, now: datetime, position: Position | None,
    policy: str | None,
) -> None:
    named = f"maintenance {window.label}" + (f" ({window.reason})" if window.reason else "")
    until = format_utc(window.end)
    chain = policy or alert.policy
    if position is None:
        message = f"silenced by {named} until {until}; nobody is paged"
    else:
        # A further policy's step says whose it is; the alert's own reads as it always has.
        whose = f" of {policy}" if policy else ""
        message = (f"step {position.step + 1}{whose} held: silenced by {named} until "
                   f"{until}; the escalation resumes when it ends")
    session.add(AlertEvent(alert_id=alert.id, at=now, kind="silenced", message=message,
                           data={"maintenance": window.key, "until": until, "policy": chain}))
    event(log, "alert.silenced", alert_id=alert.id, maintenance=window.key, until=until,
          step=None if position is None else position.step + 1,
          policy=None if position is None else chain)


def held_alerts(session: Session, key: str) -> list[int]:
    """Ids of the open alerts the window `key` holds now."""
    return store.held_alert_ids(session, key)


# -- stored windows: create, end, delete ---------------------------------------


def create_window(
    session: Session, *, services: Sequence[str], match: Mapping[str, str],
    match_re: Mapping[str, str], start: datetime, end: datetime, reason: str, actor: str,
    surface: str, now: datetime,
) -> store.StoredWindow:
    """Store one window after checking every field; raises InvalidInput naming them."""
    problems = window_problems(services=services, match=match, match_re=match_re, start=start,
                               end=end, reason=reason, now=now)
    if problems:
        raise InvalidInput("the maintenance window is invalid", problems)
    row = store.StoredWindow(
        services=list(dict.fromkeys(services)), match=dict(match), match_re=dict(match_re),
        start_at=start, end_at=end, reason=reason.strip(), created_at=now, created_by=actor,
        surface=surface,
    )
    session.add(row)
    session.flush()  # the id, for the audit row and the log line
    _forget(session)
    audit.record(session, now=now, actor=actor, surface=surface, action="maintenance.create",
                 object_type="maintenance", object_id=row.id, after=describe_row(row, now))
    event(log, "maintenance.created", window_id=row.id, start=format_utc(start),
          end=format_utc(end), actor=actor, surface=surface)
    return row


def window_problems(
    *, services: Sequence[str], match: Mapping[str, str], match_re: Mapping[str, str],
    start: datetime, end: datetime, reason: str, now: datetime,
) -> list[FieldProblem]:
    """Everything `create_window` would refuse in these fields, by field; none to store."""
    problems: list[FieldProblem] = []
    for index, service in enumerate(services):
        problems += _text_problems(f"services[{index}]", service, MAX_NAME)
    for field, labels in (("match", match), ("match_re", match_re)):
        if len(labels) > MAX_MATCHERS:
            problems.append(FieldProblem(field, f"at most {MAX_MATCHERS} labels"))
            continue
        for name, value in labels.items():
            problems += _text_problems(field, name, MAX_NAME, what="a label name")
            problems += _text_problems(f"{field}.{name}", value, MAX_VALUE, blank_ok=True)
            found = regex_problem(value) if field == "match_re" else None
            if found:
                problems.append(FieldProblem(f"{field}.{name}", found))
    if len(services) > MAX_MATCHERS:
        problems.append(FieldProblem("services", f"at most {MAX_MATCHERS} services"))
    if not has_matcher(services, match, match_re):
        problems.append(FieldProblem("services", NO_MATCHER))
    problems += _text_problems("reason", reason, MAX_REASON)
    wrong = span_problem(start, end)
    if wrong:
        problems.append(FieldProblem("end", wrong))
    elif end <= now:
        problems.append(FieldProblem(
            "end", f"is not after now ({format_utc(now)}); a window that is over holds nothing"))
    return problems


def _text_problems(
    path: str, value: str, longest: int, *, what: str = "", blank_ok: bool = False,
) -> list[FieldProblem]:
    subject = f"{what} " if what else ""
    if not blank_ok and not value.strip():
        return [FieldProblem(path, f"{subject}must not be empty")]
    if len(value) > longest:
        return [FieldProblem(path, f"{subject}is longer than {longest} characters")]
    wrong = unstorable(value)
    return [FieldProblem(path, f"{subject}{wrong}")] if wrong else []


def window_id(text: str) -> int:
    """A stored window's id from a path or an argument; 409 for one from the file."""
    if text.startswith(CONFIG_PREFIX):
        raise Conflict(f"maintenance window {text} is defined in the config file; change or "
                       "remove it there and reload")
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound(f"no maintenance window {text}")
    return int(text)


def get_window(session: Session, window: int, *, lock: bool = False) -> store.StoredWindow:
    row = store.get_window(session, window, lock=lock) if 0 < window <= MAX_ID else None
    if row is None:
        raise NotFound(f"no maintenance window {window}")
    return row


def end_window(
    session: Session, *, window: int, actor: str, surface: str, now: datetime,
) -> store.StoredWindow:
    """Stop the window holding alerts from now on; see the module docstring."""
    row = get_window(session, window, lock=True)
    if row.effective_end <= now:
        return row
    _finish(session, row, action="maintenance.end", actor=actor, surface=surface, now=now)
    return row


def delete_window(
    session: Session, *, window: int, actor: str, surface: str, now: datetime,
) -> store.StoredWindow:
    """End the window now and leave it out of listings; see the module docstring."""
    row = get_window(session, window, lock=True)
    if row.deleted_at is not None:
        return row
    if row.start_at < row.effective_end <= now:
        raise Conflict(f"maintenance window {row.id} ended at {format_utc(row.effective_end)}; "
                       "past maintenance is kept as it was")
    _finish(session, row, action="maintenance.delete", actor=actor, surface=surface, now=now)
    return row


def _finish(
    session: Session, row: store.StoredWindow, *, action: str, actor: str, surface: str,
    now: datetime,
) -> None:
    before = describe_row(row, now)
    how = "cancelled" if now <= row.start_at else "ended"
    if row.effective_end > now:
        row.ended_at, row.ended_by = now, actor
    if action == "maintenance.delete":
        row.deleted_at, row.deleted_by = now, actor
    _forget(session)
    audit.record(session, now=now, actor=actor, surface=surface, action=action,
                 object_type="maintenance", object_id=row.id, before=before,
                 after=describe_row(row, now))
    event(log, "maintenance.ended", window_id=row.id, how=how, deleted=row.deleted_at is not None,
          actor=actor, surface=surface)


# -- listing -------------------------------------------------------------------


def list_windows(
    session: Session, *, config: Config, include_all: bool, now: datetime,
) -> list[dict[str, Any]]:
    """The file's windows and the stored ones, by start; without `include_all`,
    only those not over yet (and, of stored ones, not deleted)."""
    found = [describe_config(w, now) for w in config.maintenance if include_all or w.end > now]
    found += [describe_row(row, now)
              for row in store.listed(session, include_all=include_all, now=now)]
    return sorted(found, key=lambda item: (item["start"], str(item["id"])))


def find(session: Session, *, config: Config, key: str, now: datetime) -> dict[str, Any]:
    """One window by id (a stored window's number, or config:<name>), with what it holds."""
    if key.startswith(CONFIG_PREFIX):
        named = {config_key(w.name): w for w in config.maintenance}.get(key)
        if named is None:
            raise NotFound(f"no maintenance window {key} in the config")
        shown = describe_config(named, now)
    else:
        if not key.isdigit():
            raise NotFound(f"no maintenance window {key}")
        shown = describe_row(get_window(session, int(key)), now)
    return {**shown, "holding": held_alerts(session, str(shown["id"]))}


def status(window: Window, now: datetime, cancelled: bool = False) -> str:
    if cancelled:
        return "cancelled"
    if in_force(window, now):
        return "in_force"
    return "scheduled" if now < window.start else "ended"


def describe_row(row: store.StoredWindow, now: datetime) -> dict[str, Any]:
    """The plain JSON shape of a stored window, for the API, `--json` and the audit log."""
    cancelled = row.ended_at is not None and row.ended_at <= row.start_at
    return {
        "id": row.id, "name": f"#{row.id}", "surface": row.surface,
        "services": list(row.services), "match": dict(row.match), "match_re": dict(row.match_re),
        "start": format_utc(row.start_at), "end": format_utc(row.end_at),
        "reason": row.reason, "status": status(from_row(row), now, cancelled),
        "created_at": format_utc(row.created_at), "created_by": row.created_by,
        "ended_at": format_utc(row.ended_at) if row.ended_at else None,
        "ended_by": row.ended_by,
        "deleted_at": format_utc(row.deleted_at) if row.deleted_at else None,
        "deleted_by": row.deleted_by,
    }


def describe_config(window: MaintenanceWindow, now: datetime) -> dict[str, Any]:
    """A window from the file in the same shape; who made it is the file's history."""
    return {
        "id": config_key(window.name), "name": window.name, "surface": "config",
        "services": list(window.services), "match": dict(window.match),
        "match_re": dict(window.match_re), "start": format_utc(window.start),
        "end": format_utc(window.end), "reason": window.reason,
        "status": status(from_config(window), now), "line": window.line,
        "created_at": None, "created_by": None, "ended_at": None, "ended_by": None,
        "deleted_at": None, "deleted_by": None,
    }
