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
What "last" means follows display time and is worked out again on every
write of the incident's updates, so a backdated update entered after the
resolve is returned by it too.

Display times may be a little ahead (FUTURE_SLACK), except for a resolve or
a post-mortem: one dated ahead would close the incident over updates still
to come. The page counts an update only once its display time has come.

Every write marks its session (`CHANGED` in `session.info`), so whoever
caches the page in this process forgets it once the write commits, from
any surface (`web.statuspage_cache.forget_on_commit`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
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
    actor: str, surface: str, now: datetime, found: Sequence[FieldProblem] = (),
) -> StatusIncident:
    """A public incident with its first update; InvalidInput lists every bad field.

    `found`: problems the edge already saw in the request (unknown fields, an
    unreadable time), listed with the rest so a writer sees them all at once.
    """
    problems: list[FieldProblem] = list(found)
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
    shown = _shown(display_at, now)
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
    actor: str, surface: str, now: datetime, found: Sequence[FieldProblem] = (),
) -> StatusUpdate:
    """A further update to a public incident; its state follows the latest display time."""
    row = db.get_incident(session, incident, lock=True) if 0 < incident <= MAX_ID else None
    if row is None:
        raise NotFound(f"no public incident {incident}")
    problems: list[FieldProblem] = list(found)
    changes = _check_update(config, status, body, components, display_at, now, problems)
    if problems:
        raise InvalidInput("the update is invalid", problems)
    before = _described(row)
    update = _add_update(session, row, status=status, body=body, changes=changes,
                         display_at=_shown(display_at, now), actor=actor, surface=surface,
                         now=now)
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
    update = StatusUpdate(status_incident_id=row.id, status=status, body=body.strip(),
                          display_at=display_at, components=changes, created_at=now,
                          created_by=actor, surface=surface)
    session.add(update)
    session.flush()
    session.info[CHANGED] = True
    for component, new in changes.items():
        session.add(db.ComponentChange(component=component, status=new, at=display_at,
                                       update_id=update.id, recorded_at=now))
    session.flush()
    _settle_resolves(session, [*earlier, update], now)
    state = rules.incident_state([*earlier, update])
    row.status, row.started_at = state.status, state.started_at
    row.resolved_at, row.updated_at = state.resolved_at, now
    session.flush()
    return update


def _settle_resolves(session: Session, updates: list[StatusUpdate], now: datetime) -> None:
    """Give each resolve of the incident the operational returns it implies, by display time.

    A resolve returns every component this incident set last before it (by
    display time) and left out of operational. Run on every write of the
    incident's updates, so an update entered after the resolve but shown
    before it (backdated) is returned by that resolve too and never leaves a
    component down with no open incident. Returns are only ever added.
    """
    ours = {update.id for update in updates}
    for resolve in rules.by_display_time(updates):
        if resolve.status != rules.RESOLVED:
            continue
        touched = {name for update in updates for name in update.components}
        mark = (resolve.display_at, resolve.id)
        added: dict[str, str] = {}
        for name, changes in db.history(session, touched).items():
            if any(change.update_id == resolve.id for change in changes):
                continue  # named by the resolve, or already returned by it
            before = [change for change in changes
                      if (change.at, change.update_id or 0) < mark]
            if before and before[-1].update_id in ours \
                    and before[-1].status != rules.OPERATIONAL:
                added[name] = rules.OPERATIONAL
                session.add(db.ComponentChange(component=name, status=rules.OPERATIONAL,
                                               at=resolve.display_at, update_id=resolve.id,
                                               recorded_at=now))
        if added:
            resolve.components = {**resolve.components, **added}
            session.flush()
            event(log, "status_incident.returned", status_incident_id=resolve.status_incident_id,
                  update_id=resolve.id, components=sorted(added))


def _shown(display_at: datetime | None, now: datetime) -> datetime:
    """When an update shows. One dated ahead (at most FUTURE_SLACK) counts from its
    whole second: the page is cached per second, so it then shows the moment it is due."""
    if display_at is None:
        return now
    if display_at > now:
        return display_at.replace(microsecond=0)
    return display_at


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
    elif display_at is not None and display_at > now and status in rules.CLOSED:
        # A resolve dated ahead would close the incident over updates still to come.
        problems.append(FieldProblem("display_at", f"{format_utc(display_at)} is after now "
                                                   f"({format_utc(now)}); a {status} update "
                                                   "cannot be dated ahead: leave display_at "
                                                   "out to post it now"))
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
