"""Incident use cases: declare, read, and everything a person does while one runs.

Every function takes the caller's session first and never commits. Each
change by a person writes an audit row, a timeline entry and one log line
with the incident's id; Slack work goes to the outbox (`slack_tasks`) in
the same transaction. The changes made while one runs (status, severity, roles, notes,
responders, updates) live in `incidents.changes` and are re-exported here,
so every edge imports this one module.

Private incidents are visible only to their members and admins: `get` and
`listing` hide them from anyone else, and a change by an outsider is
answered as if the incident did not exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Text, case, cast, false, func, or_, select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts.service import get_alert
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.config.incidents import render_channel_name
from tocsin.config.model import Config, Severity, Target
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.incidents import paging, records, rules, slack_tasks
from tocsin.incidents.changes import (
    RoleAssigned,
    add_note,
    add_responder,
    assign_role,
    edit_entry,
    link_alert,
    mark_mitigated,
    post_update,
    set_impact,
    set_severity,
    set_status,
)
from tocsin.incidents.records import COMMANDER, get, visible
from tocsin.incidents.rules import TimelineEntry, clocks
from tocsin.incidents.store import (
    Incident,
    IncidentAlert,
    IncidentMember,
    IncidentRole,
    TimelineRow,
)
from tocsin.logs import event
from tocsin.oncall.service import on_call

log = logging.getLogger(__name__)

NO_COMMANDER = ("no commander: assign one with `/incident role commander @person`, "
                "`tocsin incident role KEY Commander USER` or the incident's page")


def declare(
    session: Session, *, config: Config, title: str, severity: str, actor: str, surface: str,
    now: datetime, services: Sequence[str] = (), commander: str | None = None,
    alert_ids: Sequence[int] = (), private: bool = False, summary: str | None = None,
    impact_start: datetime | None = None, page_services: bool = True, admin: bool = False,
) -> Incident:
    """Open an incident: commander, pages, linked alerts, first entries, the channel."""
    records.check_storable(title=title, summary=summary, commander=commander)
    title = rules.one_line(title)
    found, services = _check_declare(config, title, severity, services)
    if impact_start is not None and (fix := rules.past_time_fix(impact_start, now)):
        raise InvalidInput("impact_start must be from 2000-01-01 to now", [FieldProblem(
            "impact_start", fix)])
    # A CLI `--as` naming a config user (id, e-mail or name) is stored as their id;
    # anyone else ("tocsin", "cli:root") stays the actor but is never made commander.
    actor = paging.user_id(config, actor) or actor
    chosen = _commander(session, config, commander, actor, now)
    incident = Incident(
        title=title.strip(), severity=found.name, status="investigating", commander=chosen,
        target_mttr_minutes=found.target_mttr_minutes, declared_at=now, declared_by=actor,
        impact_start=impact_start or now, private=private, services=list(services),
        summary=records.text_or_none(summary), status_changed_at=now, updated_at=now,
    )
    session.add(incident)
    session.flush()
    incident.slack_channel_name = render_channel_name(
        config.incidents.channel_name, number=incident.id, severity=found.name,
        declared_at=now.astimezone(ZoneInfo(config.timezone)))
    what = f"declared {found.name}: {incident.title}"
    records.add_entry(session, incident, kind=rules.DECLARED, text=what, actor=actor,
                      surface=surface, now=now,
                      data={"severity": found.name, "services": list(services),
                            "private": private})
    if chosen is not None:
        records.set_role(session, incident, role=COMMANDER, user=chosen, actor=actor,
                         surface=surface, now=now)
    else:
        records.add_entry(session, incident, kind=rules.ROLE, actor=actor, surface=surface,
                          now=now, text=NO_COMMANDER, data={"role": COMMANDER, "user": None})
        event(log, "incident.no_commander", incident=incident.key, actor=actor)
    people = [person for person in (chosen, actor) if person is not None]
    for index, alert_id in enumerate(alert_ids):
        try:
            records.link_alert_row(session, incident, alert_id, actor=actor, surface=surface,
                                   now=now, admin=admin)
        except NotFound as exc:
            raise InvalidInput("the incident cannot be declared", [FieldProblem(
                f"alert_ids[{index}]", f"{exc.message}; give the id of a stored alert")]) from exc
    people += _page_declared(session, config=config, incident=incident, severity=found,
                             actor=actor, surface=surface, now=now,
                             services=services if page_services else ())
    if private:
        for person in people:
            records.add_member(session, incident, person, actor=actor, now=now)
    slack_tasks.open_channel(session, config=config, incident=incident, now=now,
                             topic=records.topic(incident), users=people)
    slack_tasks.remind(session, config=config, incident=incident, now=now,
                       due_at=rules.reminder_due(now, found.update_every_minutes))
    records.notify_stakeholders(session, config=config, incident=incident, now=now,
                                text=f"{incident.key} declared ({found.name}): "
                                     f"{incident.title}")
    audit.record(session, now=now, actor=actor, surface=surface, action="incident.declare",
                 object_type="incident", object_id=incident.key,
                 after={"title": incident.title, "severity": found.name, "commander": chosen,
                        "services": list(services), "private": private})
    event(log, "incident.declared", incident=incident.key, severity=found.name, actor=actor,
          surface=surface, services=",".join(services), private=private)
    return incident


def declare_from_alert(
    session: Session, *, config: Config, alert_id: int, severity: str, actor: str,
    surface: str, now: datetime, title: str | None = None, commander: str | None = None,
    private: bool = False, admin: bool = False,
) -> Incident:
    """Declare for an alert: its title, service and trigger time; it stays linked.

    The alert already pages its route's policy, so the service is not paged again.
    An alert of a private incident is not found by outsiders and refused to members.
    """
    alert = get_alert(session, alert_id)
    records.check_alert_free(session, alert.id, incident=None, viewer=actor, admin=admin)
    return declare(
        session, config=config, title=title or alert.title, severity=severity, actor=actor,
        surface=surface, now=now, commander=commander, alert_ids=(alert.id,),
        services=(alert.service,) if alert.service in config.services else (),
        private=private, impact_start=_impact_start(alert, now), page_services=False,
        admin=admin)


def _impact_start(alert: Alert, now: datetime) -> datetime:
    """When the alert's source says it started (Alertmanager's startsAt...), when that is
    earlier than Tocsin received it and sane; else when it was received."""
    received = min(alert.triggered_at, now)
    started = alert.source_time
    if started is None or started >= received or rules.past_time_fix(started, now):
        return received
    return started


def _check_declare(
    config: Config, title: str, severity: str, services: Sequence[str],
) -> tuple[Severity, tuple[str, ...]]:
    problems = []
    if not title.strip():
        problems.append(FieldProblem("title", "is empty; say what is wrong in one line"))
    elif len(title.strip()) > rules.MAX_TITLE:
        problems.append(FieldProblem("title", f"is longer than {rules.MAX_TITLE} characters"))
    found = config.severity(severity)
    if found is None:
        names = ", ".join(s.name for s in config.severities)
        problems.append(FieldProblem("severity", f"{severity!r} is unknown; use one of {names}"))
    chosen: list[str] = []
    for index, name in enumerate(services):
        known = next((s for s in config.services if s.casefold() == name.casefold()), None)
        if known is None:
            listed = ", ".join(sorted(config.services)) or "(none defined)"
            problems.append(FieldProblem(f"services[{index}]",
                                         f"{name!r} is not a service; use one of {listed}"))
        elif known not in chosen:
            chosen.append(known)
    if problems or found is None:
        raise InvalidInput("the incident cannot be declared", problems)
    return found, tuple(chosen)


def _commander(
    session: Session, config: Config, commander: str | None, actor: str, now: datetime,
) -> str | None:
    """The named user, else who is on the commander schedule, else the declarer when they
    are a config user; None: nobody yet (a route or an unknown CLI `--as` declared)."""
    if commander:
        found = paging.user_id(config, commander)
        if found is None:
            raise InvalidInput(f"no user is named {commander!r}", [FieldProblem(
                "commander", "name a user from the config by id, e-mail or name")])
        return found
    schedule = config.schedules.get(config.incidents.commander_schedule or "")
    if schedule is not None:
        shifts = on_call(session, schedule, now)
        if shifts:
            return shifts[0].user
    return actor if actor in config.users else None


def _page_declared(
    session: Session, *, config: Config, incident: Incident, severity: Severity, actor: str,
    surface: str, now: datetime, services: Sequence[str],
) -> list[str]:
    """Page each service's policy and the severity's notify list; who they reach now."""
    reached: list[str] = []
    for name in services:
        policy = config.services[name].escalation_policy
        if policy is None:
            records.add_entry(session, incident, kind=rules.NOT_PAGED, actor=actor,
                              surface=surface, now=now, data={"service": name},
                              text=f"service {name} has no escalation policy; nobody paged")
            continue
        target = Target("escalation_policy", policy)
        reached += _page(session, config, incident, target, severity, actor, surface, now,
                         why=f"on call for service {name}")
    for target in severity.notify:
        reached += _page(session, config, incident, target, severity, actor, surface, now,
                         why=f"{severity.name} notifies it")
    return reached


def _page(
    session: Session, config: Config, incident: Incident, target: Target, severity: Severity,
    actor: str, surface: str, now: datetime, *, why: str,
) -> list[str]:
    paged = paging.page(session, config=config, incident=incident, target=target,
                        severity=severity, actor=actor, surface=surface, now=now, why=why)
    records.add_entry(session, incident, kind=rules.PAGED, actor=actor, surface=surface,
                      now=now, text=f"{paged.started}: {why}",
                      data={"alert_id": paged.alert_id, "target": {target.kind: target.name},
                            "users": list(paged.people)})
    event(log, "incident.paged", incident=incident.key, alert_id=paged.alert_id,
          target_kind=target.kind, target=target.name)
    return list(paged.people)


# -- reading -------------------------------------------------------------------------


def listing(
    session: Session, *, status: str | None = None, severity: str | None = None,
    service: str | None = None, since: datetime | None = None, until: datetime | None = None,
    viewer: str | None = None, admin: bool = False, limit: int = 200,
) -> list[Incident]:
    """Open incidents first, then resolved ones; newest first within each."""
    records.check_storable(severity=severity, service=service, viewer=viewer)
    query = select(Incident)
    if status == "open":
        query = query.where(Incident.status != rules.RESOLVED)
    elif status is not None:
        if status not in rules.STATUSES:
            raise InvalidInput(f"unknown status {status!r}", [FieldProblem(
                "status", f"use open or one of {', '.join(rules.STATUSES)}")])
        query = query.where(Incident.status == status)
    if severity is not None:
        query = query.where(func.lower(Incident.severity) == severity.strip().lower())
    if since is not None:
        query = query.where(Incident.declared_at >= since)
    if until is not None:
        query = query.where(Incident.declared_at < until)
    if not admin:
        member_of = select(IncidentMember.incident_id).where(IncidentMember.user_id == viewer)
        query = query.where(or_(Incident.private.is_(false()), Incident.id.in_(member_of)))
    if service is not None:
        query = query.where(_lists_service(service))
    resolved_last = case((Incident.status == rules.RESOLVED, 1), else_=0)
    query = query.order_by(resolved_last, Incident.id.desc())
    return list(session.scalars(query.limit(limit)))


def _lists_service(name: str) -> ColumnElement[bool]:
    """`incidents.services` holds `name`, matched on the list's JSON text.

    Both backends keep the text `json.dumps` wrote (`["payment", "search"]`: ASCII,
    ", " between items), so the name's quoted form after `[` or `, ` is exactly one
    item: a quote inside an item is always escaped. substr() and replace() compare
    case-sensitively on both backends, where SQLite's LIKE would not, and need no
    escaping of `%` or `_`.
    """
    stored = cast(Incident.services, Text)
    first, later = "[" + json.dumps(name), ", " + json.dumps(name)
    return or_(func.substr(stored, 1, len(first)) == first,
               func.replace(stored, later, "") != stored)


def recent(session: Session, limit: int = 50) -> list[Incident]:
    return listing(session, admin=True, limit=limit)


def timeline(session: Session, key: str | Incident) -> list[TimelineEntry]:
    """Every entry, by when it happened; the caller checked the incident is visible.

    Acknowledgements of the incident's linked alerts are read from those
    alerts' own timelines, so "time to acknowledge" needs no copy of them.
    """
    incident = key if isinstance(key, Incident) else records.get(session, key, admin=True)
    rows = session.scalars(select(TimelineRow).where(TimelineRow.incident_id == incident.id))
    entries = [records.entry_of(row) for row in rows]
    entries += _alert_acknowledgements(session, incident)
    return rules.ordered(entries)


def _alert_acknowledgements(session: Session, incident: Incident) -> list[TimelineEntry]:
    query = (select(AlertEvent).join(IncidentAlert, IncidentAlert.alert_id == AlertEvent.alert_id)
             .where(IncidentAlert.incident_id == incident.id, AlertEvent.kind == "acknowledged"))
    return [TimelineEntry(id=None, kind=rules.ACKNOWLEDGED, actor=row.actor, surface=row.surface,
                          text=f"alert {row.alert_id} acknowledged by {row.actor or 'someone'}",
                          occurred_at=row.at, recorded_at=row.at,
                          data={"alert_id": row.alert_id}) for row in session.scalars(query)]


def roles_of(session: Session, incident: Incident) -> dict[str, str]:
    """Role name to the user holding it."""
    rows = session.scalars(select(IncidentRole).where(IncidentRole.incident_id == incident.id)
                           .order_by(IncidentRole.id))
    return {row.role: row.user_id for row in rows}


def members_of(session: Session, incident: Incident) -> list[str]:
    return list(session.scalars(select(IncidentMember.user_id).where(
        IncidentMember.incident_id == incident.id).order_by(IncidentMember.user_id)))


def alerts_of(session: Session, incident: Incident) -> list[IncidentAlert]:
    return list(session.scalars(select(IncidentAlert).where(
        IncidentAlert.incident_id == incident.id).order_by(IncidentAlert.alert_id)))


__all__ = [
    "RoleAssigned", "add_note", "add_responder", "alerts_of", "assign_role", "clocks",
    "declare", "declare_from_alert", "edit_entry", "get", "link_alert", "listing",
    "mark_mitigated", "members_of", "post_update", "recent", "roles_of", "set_impact",
    "set_severity", "set_status", "timeline", "visible",
]
