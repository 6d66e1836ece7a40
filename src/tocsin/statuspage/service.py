"""Writing the status page: public incidents and their updates, on purpose, by a person.

Nothing reaches the page by itself: an internal incident's notes, roles and
responders stay inside; a public update is its own text, written through
the API, the incident page or Slack (`web.statuspage_writes`) by someone
who means customers to read it.
Each write runs in the caller's session, never commits, and leaves an audit
row; the updates are the public incident's timeline.

An update names the components it changes with their new status. A resolve
also returns to operational every component this incident set last and the
resolve does not name, so a resolved incident never leaves a red component
behind; a component another incident set since is left to that incident.

Every write marks its session (`CHANGED` in `session.info`), so whoever
caches the page in this process forgets it once the write commits, from
any surface (`web.statuspage_cache.forget_on_commit`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.config.model import Component, Config
from tocsin.db import MAX_ID
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.logs import event
from tocsin.oncall.rules import format_utc
from tocsin.statuspage import rules
from tocsin.statuspage import store as db
from tocsin.statuspage.store import MAX_BODY, MAX_TITLE, StatusIncident, StatusUpdate

log = logging.getLogger(__name__)

CHANGED = "tocsin.status_page_changed"  # a key of session.info

# A display time may be a little ahead of ours (the writer's clock); more is a typo.
FUTURE_SLACK = timedelta(minutes=5)


def create_incident(
    session: Session, *, config: Config, name: Any, impact: Any, status: Any, body: Any,
    components: Any = None, display_at: datetime | None = None, incident_id: Any = None,
    actor: str, surface: str, now: datetime,
) -> StatusIncident:
    """A public incident with its first update; InvalidInput lists every bad field."""
    problems: list[FieldProblem] = []
    _text("name", name, MAX_TITLE, problems)
    if impact not in rules.IMPACTS:
        problems.append(FieldProblem("impact", f"must be one of {', '.join(rules.IMPACTS)}"))
    if incident_id is not None and (not isinstance(incident_id, int) or isinstance(
            incident_id, bool) or not 0 < incident_id <= MAX_ID):
        problems.append(FieldProblem("incident_id", "must be the number of an incident, "
                                                    "such as 142 for INC-142"))
    changes = _check_update(config, status, body, components, display_at, now, problems)
    if problems:
        raise InvalidInput("the public incident is invalid", problems)
    shown = display_at or now
    row = StatusIncident(name=name.strip(), impact=impact, incident_id=incident_id,
                         status=status, started_at=shown, resolved_at=None, created_at=now,
                         created_by=actor, updated_at=now)
    session.add(row)
    session.flush()
    update = _add_update(session, row, status=status, body=body, changes=changes,
                         display_at=shown, actor=actor, surface=surface, now=now)
    audit.record(session, now=now, actor=actor, surface=surface,
                 action="status_incident.create", object_type="status_incident",
                 object_id=row.id, after={**_described(row), "update": _update_audit(update)})
    event(log, "status_incident.created", status_incident_id=row.id, impact=impact,
          status=row.status, actor=actor)
    return row


def post_update(
    session: Session, *, config: Config, incident: int, status: Any, body: Any,
    components: Any = None, display_at: datetime | None = None,
    actor: str, surface: str, now: datetime,
) -> StatusUpdate:
    """A further update to a public incident; its state follows the latest display time."""
    row = db.get_incident(session, incident, lock=True) if 0 < incident <= MAX_ID else None
    if row is None:
        raise NotFound(f"no public incident {incident}")
    problems: list[FieldProblem] = []
    changes = _check_update(config, status, body, components, display_at, now, problems)
    if problems:
        raise InvalidInput("the update is invalid", problems)
    before = _described(row)
    update = _add_update(session, row, status=status, body=body, changes=changes,
                         display_at=display_at or now, actor=actor, surface=surface, now=now)
    audit.record(session, now=now, actor=actor, surface=surface,
                 action="status_incident.update", object_type="status_incident",
                 object_id=row.id, before=before,
                 after={**_described(row), "update": _update_audit(update)})
    event(log, "status_incident.updated", status_incident_id=row.id, update_id=update.id,
          status=row.status, actor=actor)
    return update


def _add_update(
    session: Session, row: StatusIncident, *, status: str, body: str,
    changes: dict[str, str], display_at: datetime, actor: str, surface: str, now: datetime,
) -> StatusUpdate:
    earlier = db.updates_of(session, [row.id])[row.id]
    if status == rules.RESOLVED:
        changes = {**_left_by(session, earlier, display_at), **changes}
    update = StatusUpdate(status_incident_id=row.id, status=status, body=body.strip(),
                          display_at=display_at, components=changes, created_at=now,
                          created_by=actor, surface=surface)
    session.add(update)
    session.flush()
    session.info[CHANGED] = True
    for component, new in changes.items():
        session.add(db.ComponentChange(component=component, status=new, at=display_at,
                                       update_id=update.id, recorded_at=now))
    state = rules.incident_state([*earlier, update])
    row.status, row.started_at = state.status, state.started_at
    row.resolved_at, row.updated_at = state.resolved_at, now
    session.flush()
    return update


def _left_by(session: Session, updates: list[StatusUpdate], at: datetime) -> dict[str, str]:
    """Components this incident set last before `at` and left out of operational."""
    ours = {update.id for update in updates}
    touched = {name for update in updates for name in update.components}
    left: dict[str, str] = {}
    for name, changes in db.history(session, touched).items():
        before = [change for change in changes if change.at <= at]
        if before and before[-1].update_id in ours and before[-1].status != rules.OPERATIONAL:
            left[name] = rules.OPERATIONAL
    return left


def _check_update(
    config: Config, status: Any, body: Any, components: Any, display_at: datetime | None,
    now: datetime, problems: list[FieldProblem],
) -> dict[str, str]:
    if status not in rules.UPDATE_STATUSES:
        problems.append(FieldProblem(
            "status", f"must be one of {', '.join(rules.UPDATE_STATUSES)}"))
    _text("body", body, MAX_BODY, problems)
    if display_at is not None and display_at > now + FUTURE_SLACK:
        problems.append(FieldProblem("display_at", f"{format_utc(display_at)} is in the future; "
                                                   "leave it out to show the update now"))
    return _changes(config, components, problems)


def _changes(config: Config, components: Any, problems: list[FieldProblem]) -> dict[str, str]:
    if components is None:
        return {}
    if not isinstance(components, Mapping):
        problems.append(FieldProblem("components", 'must map component names to statuses, '
                                                   'such as {"API": "major_outage"}'))
        return {}
    known = {component.name.casefold(): component for component in config.components}
    found: dict[str, str] = {}
    for name, status in components.items():
        component: Component | None = known.get(str(name).casefold())
        if component is None:
            names = ", ".join(c.name for c in config.components) or "none is configured"
            problems.append(FieldProblem(f"components.{name}",
                                         f"is not a component; use one of: {names}"))
        elif status not in rules.COMPONENT_STATUSES:
            problems.append(FieldProblem(f"components.{name}", "must be one of " + ", ".join(
                rules.COMPONENT_STATUSES)))
        else:
            found[component.name] = status
    return found


def _text(field: str, value: Any, limit: int, problems: list[FieldProblem]) -> None:
    problem = rules.text_problem(value, limit=limit)
    if problem is not None:
        problems.append(FieldProblem(field, problem))


def _described(row: StatusIncident) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "impact": row.impact, "status": row.status,
            "incident_id": row.incident_id,
            "resolved_at": format_utc(row.resolved_at) if row.resolved_at else None}


def _update_audit(update: StatusUpdate) -> dict[str, Any]:
    return {"id": update.id, "status": update.status, "body": update.body,
            "display_at": format_utc(update.display_at), "components": dict(update.components)}
