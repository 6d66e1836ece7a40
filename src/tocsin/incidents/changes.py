"""What people do while an incident runs: status, mitigation, severity, impact,
roles, notes and their edits, responders, updates and linked alerts.

Each takes the caller's session first, keyword-only arguments after, and
writes an audit row, a timeline entry and one log line. `admin` lets an
admin act on a private incident they are not a member of; anyone else who
is not a member gets "does not exist", as from `get`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.config.model import Config, Severity, Target
from tocsin.db import MAX_ID
from tocsin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tocsin.incidents import paging, records, rules, severities, slack_tasks
from tocsin.incidents.records import get
from tocsin.incidents.rules import TimelineEntry
from tocsin.incidents.store import SET_TOPIC, Incident, IncidentUpdate, TimelineRow
from tocsin.logs import event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoleAssigned:
    incident: Incident
    role: str  # as the config spells it
    user: str
    duty: str  # the role's one-line duty, for the reply
    previous: str | None


def _load(session: Session, key: str, actor: str, admin: bool) -> Incident:
    return get(session, key, viewer=actor, admin=admin, lock=True)


def _record(
    session: Session, incident: Incident, *, action: str, actor: str, surface: str,
    now: datetime, before: dict[str, Any], after: dict[str, Any],
) -> None:
    audit.record(session, now=now, actor=actor, surface=surface, action=f"incident.{action}",
                 object_type="incident", object_id=incident.key, before=before, after=after)
    event(log, f"incident.{action}", incident=incident.key, actor=actor, surface=surface)


def set_status(
    session: Session, *, config: Config, key: str, status: str, actor: str, surface: str,
    now: datetime, note: str | None = None, admin: bool = False,
) -> Incident:
    """Move to a status; resolving sets resolved_at, a later open status reopens."""
    records.check_storable(note=note)
    wanted = status.strip().lower()
    if wanted not in rules.STATUSES:
        raise InvalidInput(f"unknown status {status!r}", [FieldProblem(
            "status", f"use one of {', '.join(rules.STATUSES)}")])
    incident = _load(session, key, actor, admin)
    before = incident.status
    note = note.strip() if note else None
    if before == wanted and not note:
        return incident
    if before != wanted:
        incident.status, incident.status_changed_at = wanted, now
    text = f"status {before} -> {wanted}" if before != wanted else f"status stays {wanted}"
    if note:
        text += f": {note}"
    if wanted == rules.RESOLVED:
        incident.resolved_at = now
        slack_tasks.remind(session, config=config, incident=incident, due_at=None, now=now)
    elif before == rules.RESOLVED:
        incident.resolved_at = None
        text += " (reopened)"
        severity = severities.settings_of(config, incident)
        every = severity.update_every_minutes if severity is not None else None
        slack_tasks.remind(session, config=config, incident=incident, now=now,
                           due_at=rules.reminder_due(now, every))
    records.add_entry(session, incident, kind=rules.STATUS, text=text, actor=actor,
                      surface=surface, now=now,
                      data={"status": wanted, "from": before, "note": note})
    if wanted == rules.RESOLVED:
        _resolve_pages(session, config, incident, actor, surface, now)
    slack_tasks.post(session, config=config, incident=incident, now=now,
                     text=f"{incident.key}: {text} (by {actor})")
    _set_topic(session, config, incident, now)
    _record(session, incident, action="status", actor=actor, surface=surface, now=now,
            before={"status": before}, after={"status": wanted, "note": note})
    return incident


def _resolve_pages(session: Session, config: Config, incident: Incident, actor: str,
                   surface: str, now: datetime) -> None:
    """A resolved incident pages nobody: its own pages still open are resolved with it.
    Reopening it does not page again; add a responder to page someone."""
    resolved = paging.resolve_pages(session, config=config, incident=incident, actor=actor,
                                    surface=surface, now=now)
    if not resolved:
        return
    listed = ", ".join(f"#{alert_id}" for alert_id in resolved)
    noun = "page" if len(resolved) == 1 else "pages"
    records.add_entry(session, incident, kind=rules.PAGES_RESOLVED, actor=actor,
                      surface=surface, now=now,
                      text=f"resolved the incident's open {noun} (alert {listed})",
                      data={"alert_ids": resolved})
    event(log, "incident.pages_resolved", incident=incident.key, alerts=resolved, actor=actor)


def mark_mitigated(
    session: Session, *, config: Config, key: str, actor: str, surface: str, now: datetime,
    admin: bool = False,
) -> Incident:
    """Record the mitigated milestone once; marking it again changes nothing."""
    incident = _load(session, key, actor, admin)
    if incident.mitigated_at is not None:
        return incident
    incident.mitigated_at = now
    records.add_entry(session, incident, kind=rules.MITIGATED, text="impact mitigated",
                      actor=actor, surface=surface, now=now)
    slack_tasks.post(session, config=config, incident=incident, now=now,
                     text=f"{incident.key}: impact mitigated (by {actor})")
    _record(session, incident, action="mitigated", actor=actor, surface=surface, now=now,
            before={"mitigated_at": None}, after={"mitigated_at": now.isoformat()})
    return incident


def set_severity(
    session: Session, *, config: Config, key: str, severity: str, actor: str, surface: str,
    now: datetime, admin: bool = False,
) -> Incident:
    """Change the severity; a new severity's notify list is paged."""
    found = config.severity(severity)
    if found is None:
        names = ", ".join(s.name for s in config.severities)
        raise InvalidInput(f"unknown severity {severity!r}", [FieldProblem(
            "severity", f"use one of {names}")])
    incident = _load(session, key, actor, admin)
    before = incident.severity
    if before == found.name:
        return incident
    incident.severity, incident.target_mttr_minutes = found.name, found.target_mttr_minutes
    records.add_entry(session, incident, kind=rules.SEVERITY, actor=actor, surface=surface,
                      now=now, text=f"severity {before} -> {found.name}",
                      data={"severity": found.name, "from": before})
    for target in found.notify:
        _page_responder(session, config, incident, target, actor, surface, now,
                        why=f"{found.name} notifies it")
    if incident.is_open:
        last = incident.last_update_at or incident.declared_at
        slack_tasks.remind(session, config=config, incident=incident, now=now,
                           due_at=rules.reminder_due(last, found.update_every_minutes))
    slack_tasks.post(session, config=config, incident=incident, now=now,
                     text=f"{incident.key}: severity {before} -> {found.name} (by {actor})")
    _set_topic(session, config, incident, now)
    _record(session, incident, action="severity", actor=actor, surface=surface, now=now,
            before={"severity": before}, after={"severity": found.name})
    return incident


def set_impact(
    session: Session, *, config: Config, key: str, actor: str, surface: str, now: datetime,
    impact_start: datetime | None = None, users_affected: int | None = None,
    services: list[str] | None = None, summary: str | None = None,
    root_cause: str | None = None, users_unknown: bool = False, admin: bool = False,
) -> Incident:
    """Change the impact fields given; the others stay as they are. `users_unknown`
    forgets users_affected (a number given with it wins)."""
    records.check_storable(summary=summary, root_cause=root_cause)
    problems = []
    if impact_start is not None and (fix := rules.past_time_fix(impact_start, now)):
        problems.append(FieldProblem("impact_start", fix))
    if users_affected is not None and (isinstance(users_affected, bool)
                                       or not 0 <= users_affected <= MAX_ID):
        problems.append(FieldProblem("users_affected",
                                     f"give a whole number from 0 to {MAX_ID}"))
    chosen = _services(config, services or [], problems) if services is not None else None
    if problems:
        raise InvalidInput("the impact cannot be changed", problems)
    incident = _load(session, key, actor, admin)
    before = _impact(incident)
    if impact_start is not None:
        incident.impact_start = impact_start
    if users_affected is not None or users_unknown:
        incident.users_affected = users_affected
    if chosen is not None:
        incident.services = chosen
    if summary is not None:
        incident.summary = records.text_or_none(summary)
    if root_cause is not None:
        incident.root_cause = records.text_or_none(root_cause)
    after = _impact(incident)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return incident
    records.add_entry(session, incident, kind=rules.IMPACT, actor=actor, surface=surface,
                      now=now, text="impact: " + "; ".join(
                          f"{k} {'cleared' if v is None else v}" for k, v in changed.items()),
                      data={"before": {k: before[k] for k in changed}, "after": changed})
    _record(session, incident, action="impact", actor=actor, surface=surface, now=now,
            before={k: before[k] for k in changed}, after=changed)
    return incident


def _impact(incident: Incident) -> dict[str, Any]:
    return {"impact_start": incident.impact_start.isoformat(),
            "users_affected": incident.users_affected, "services": list(incident.services or []),
            "summary": incident.summary, "root_cause": incident.root_cause}


def _services(config: Config, names: list[str], problems: list[FieldProblem]) -> list[str]:
    chosen: list[str] = []
    for index, name in enumerate(names):
        known = next((s for s in config.services if s.casefold() == str(name).casefold()), None)
        if known is None:
            problems.append(FieldProblem(f"services[{index}]", f"{name!r} is not a service; "
                                         f"use one of {', '.join(sorted(config.services))}"))
        elif known not in chosen:
            chosen.append(known)
    return chosen


def assign_role(
    session: Session, *, config: Config, key: str, role: str, user: str, actor: str,
    surface: str, now: datetime, admin: bool = False,
) -> RoleAssigned:
    found = config.incidents.role(role)
    if found is None:
        names = ", ".join(r.name for r in config.incidents.roles)
        raise InvalidInput(f"unknown role {role!r}", [FieldProblem("role", f"use one of {names}")])
    person = paging.user_id(config, user)
    if person is None:
        raise InvalidInput(f"no user is named {user!r}", [FieldProblem(
            "user", "name a user from the config by id, e-mail, name or Slack mention")])
    incident = _load(session, key, actor, admin)
    previous = records.set_role(session, incident, role=found.name, user=person, actor=actor,
                                surface=surface, now=now)
    records.add_member(session, incident, person, actor=actor, now=now)
    slack_tasks.invite(session, config=config, incident=incident, users=[person], now=now)
    slack_tasks.post(session, config=config, incident=incident, now=now,
                     text=f"{incident.key}: {person} is {found.name}: {found.duty}")
    if found.name == records.COMMANDER and previous != person:
        _set_topic(session, config, incident, now)
    _record(session, incident, action="role", actor=actor, surface=surface, now=now,
            before={"role": found.name, "user": previous},
            after={"role": found.name, "user": person})
    return RoleAssigned(incident, found.name, person, found.duty, previous)


def _checked_text(text: str, path: str = "text") -> str:
    records.check_storable(**{path: text})
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"the {path} is empty", [FieldProblem(path, "write some text")])
    if len(stripped) > rules.MAX_TEXT:
        raise InvalidInput(f"the {path} is too long", [FieldProblem(
            path, f"keep it under {rules.MAX_TEXT} characters")])
    return stripped


def _checked_time(occurred_at: datetime | None, now: datetime) -> datetime | None:
    if occurred_at is not None and (fix := rules.past_time_fix(occurred_at, now)):
        raise InvalidInput("occurred_at must be from 2000-01-01 to now", [FieldProblem(
            "occurred_at", fix)])
    return occurred_at


def add_note(
    session: Session, *, config: Config, key: str, text: str, actor: str, surface: str,
    now: datetime, occurred_at: datetime | None = None, source: str = "manual",
    slack_ts: str | None = None, admin: bool = False,
) -> TimelineEntry:
    """A note on the timeline; the same Slack message pinned twice is one entry."""
    records.check_storable(slack_ts=slack_ts, source=source)
    body, when = _checked_text(text), _checked_time(occurred_at, now)
    incident = _load(session, key, actor, admin)
    if slack_ts is not None:
        existing = _by_slack_ts(session, incident, slack_ts)
        if existing is not None:
            return records.entry_of(existing)
    try:
        with session.begin_nested():
            row = records.add_entry(session, incident, kind=rules.NOTE, text=body, actor=actor,
                                    surface=surface, now=now, occurred_at=when,
                                    data={"source": source}, slack_ts=slack_ts)
    except IntegrityError:
        # Another request pinned the same message a moment ago.
        found = _by_slack_ts(session, incident, slack_ts or "")
        if found is None:
            raise
        return records.entry_of(found)
    _record(session, incident, action="note", actor=actor, surface=surface, now=now,
            before={}, after={"entry": row.id, "source": source})
    return records.entry_of(row)


def _by_slack_ts(session: Session, incident: Incident, slack_ts: str) -> TimelineRow | None:
    return session.scalars(select(TimelineRow).where(
        TimelineRow.incident_id == incident.id, TimelineRow.slack_ts == slack_ts)).first()


def edit_entry(
    session: Session, *, config: Config, key: str, entry_id: int, actor: str, surface: str,
    now: datetime, text: str | None = None, occurred_at: datetime | None = None,
    admin: bool = False,
) -> TimelineEntry:
    """Change a note's or update's text or time; who edited and when are kept."""
    del config
    if text is None and occurred_at is None:
        raise InvalidInput("nothing to change", [FieldProblem("text", "give text or "
                                                                      "occurred_at")])
    body = _checked_text(text) if text is not None else None
    when = _checked_time(occurred_at, now)
    incident = _load(session, key, actor, admin)
    row = session.get(TimelineRow, entry_id) if 0 < entry_id <= MAX_ID else None
    if row is None or row.incident_id != incident.id:
        raise NotFound(f"{incident.key} has no timeline entry {entry_id}")
    if row.kind not in rules.EDITABLE:
        raise Conflict(f"entry {entry_id} records what Tocsin did ({row.kind}) and cannot be "
                       "edited; add a note instead")
    before = {"text": row.text, "occurred_at": row.occurred_at.isoformat()}
    if body is not None:
        row.text = body
    if when is not None:
        row.occurred_at = when
    row.edited_at, row.edited_by = now, actor
    incident.updated_at = now
    session.flush()
    _record(session, incident, action="entry_edited", actor=actor, surface=surface, now=now,
            before={"entry": row.id, **before},
            after={"entry": row.id, "text": row.text, "occurred_at": row.occurred_at.isoformat()})
    return records.entry_of(row)


def add_responder(
    session: Session, *, config: Config, key: str, target: str | Target, actor: str,
    surface: str, now: datetime, admin: bool = False,
) -> Incident:
    """Page a person, schedule or policy for the incident and make them members."""
    chosen = target if isinstance(target, Target) else paging.named_target(config, target)
    incident = _load(session, key, actor, admin)
    _page_responder(session, config, incident, chosen, actor, surface, now,
                    why=f"added as a responder by {actor}")
    _record(session, incident, action="responder", actor=actor, surface=surface, now=now,
            before={}, after={"target": {chosen.kind: chosen.name}})
    return incident


def _page_responder(
    session: Session, config: Config, incident: Incident, target: Target, actor: str,
    surface: str, now: datetime, *, why: str,
) -> None:
    severity = config.severity(incident.severity)
    if severity is None:  # a severity since removed from the file: page at high urgency
        severity = Severity(incident.severity)
    paged = paging.page(session, config=config, incident=incident, target=target,
                        severity=severity, actor=actor, surface=surface, now=now, why=why)
    records.add_entry(session, incident, kind=rules.RESPONDER, actor=actor, surface=surface,
                      now=now, text=f"{paged.started}: {why}",
                      data={"alert_id": paged.alert_id, "target": {target.kind: target.name},
                            "users": list(paged.people)})
    for person in paged.people:
        records.add_member(session, incident, person, actor=actor, now=now)
    slack_tasks.invite(session, config=config, incident=incident, users=paged.people, now=now)
    slack_tasks.post(session, config=config, incident=incident, now=now,
                     text=f"{incident.key}: {paged.started}")


def post_update(
    session: Session, *, config: Config, key: str, text: str, actor: str, surface: str,
    now: datetime, admin: bool = False,
) -> IncidentUpdate:
    """Post to the channel and tell the stakeholders; the update reminder restarts."""
    body = _checked_text(text)
    incident = _load(session, key, actor, admin)
    update = IncidentUpdate(incident_id=incident.id, text=body, status=incident.status,
                            severity=incident.severity, posted_at=now, posted_by=actor,
                            surface=surface)
    session.add(update)
    incident.last_update_at = now
    records.add_entry(session, incident, kind=rules.UPDATE, text=body, actor=actor,
                      surface=surface, now=now, data={"status": incident.status})
    message = f"{incident.key} update [{incident.severity}, {incident.status}]: {body}"
    slack_tasks.post(session, config=config, incident=incident, text=message, now=now)
    told = records.notify_stakeholders(session, config=config, incident=incident,
                                       text=message, now=now)
    if incident.is_open:
        severity = severities.settings_of(config, incident)
        every = severity.update_every_minutes if severity is not None else None
        slack_tasks.remind(session, config=config, incident=incident, now=now,
                           due_at=rules.reminder_due(now, every))
    session.flush()
    _record(session, incident, action="update", actor=actor, surface=surface, now=now,
            before={}, after={"update": update.id, "stakeholder_posts": told})
    return update


def link_alert(
    session: Session, *, config: Config, key: str, alert_id: int, actor: str, surface: str,
    now: datetime, admin: bool = False,
) -> Incident:
    """Link an alert; linking it again changes nothing."""
    del config
    incident = _load(session, key, actor, admin)
    if records.link_alert_row(session, incident, alert_id, actor=actor, surface=surface,
                              now=now, admin=admin):
        _record(session, incident, action="alert_linked", actor=actor, surface=surface,
                now=now, before={}, after={"alert_id": alert_id})
    return incident


def _set_topic(session: Session, config: Config, incident: Incident, now: datetime) -> None:
    if slack_tasks.enabled(config):
        slack_tasks.queue(session, incident=incident, kind=SET_TOPIC, now=now,
                          payload={"topic": records.topic(incident)})
