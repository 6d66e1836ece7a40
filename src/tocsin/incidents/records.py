"""What the incident use cases share: finding an incident the viewer may see,
and writing timeline entries, roles, members, linked alerts and stakeholder posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.maintenance_rules import unstorable
from tocsin.alerts.service import get_alert
from tocsin.config.model import Config
from tocsin.db import MAX_ID
from tocsin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tocsin.incidents import notice_store, paging, rules, slack_tasks
from tocsin.incidents.rules import TimelineEntry
from tocsin.incidents.store import (
    Incident,
    IncidentAlert,
    IncidentMember,
    IncidentRole,
    TimelineRow,
)

COMMANDER = "Commander"


def get(session: Session, key: str, *, viewer: str | None = None, admin: bool = False,
        lock: bool = False) -> Incident:
    number = parse_number(key)
    query = select(Incident).where(Incident.id == number)
    if lock:
        query = query.with_for_update()
    incident = session.scalars(query).first()
    if incident is None or not visible(session, incident, viewer=viewer, admin=admin):
        raise NotFound(f"incident {key} does not exist")
    return incident


def parse_number(key: str) -> int:
    number = rules.parse_key(str(key))
    if number is None:
        raise NotFound(f"{key!r} is not an incident id; use INC-<number>")
    if not 0 < number <= MAX_ID:
        raise NotFound(f"incident {key} does not exist")
    return number


def visible(session: Session, incident: Incident, *, viewer: str | None, admin: bool) -> bool:
    if not incident.private or admin:
        return True
    return viewer is not None and session.get(IncidentMember, (incident.id, viewer)) is not None


def entry_of(row: TimelineRow) -> TimelineEntry:
    return TimelineEntry(
        id=row.id, kind=row.kind, text=row.text, actor=row.actor, surface=row.surface,
        occurred_at=row.occurred_at, recorded_at=row.recorded_at, edited_at=row.edited_at,
        edited_by=row.edited_by, data=dict(row.data or {}), slack_ts=row.slack_ts)


def add_entry(
    session: Session, incident: Incident, *, kind: str, text: str, actor: str | None,
    surface: str | None, now: datetime, occurred_at: datetime | None = None,
    data: dict[str, object] | None = None, slack_ts: str | None = None,
) -> TimelineRow:
    row = TimelineRow(incident_id=incident.id, kind=kind, text=text, actor=actor,
                      surface=surface, occurred_at=occurred_at or now, recorded_at=now,
                      data=data or {}, slack_ts=slack_ts)
    session.add(row)
    incident.updated_at = now
    session.flush()
    return row


def add_member(session: Session, incident: Incident, user: str, *, actor: str,
               now: datetime) -> bool:
    if session.get(IncidentMember, (incident.id, user)) is not None:
        return False
    session.add(IncidentMember(incident_id=incident.id, user_id=user, added_at=now,
                               added_by=actor))
    session.flush()
    return True


def set_role(session: Session, incident: Incident, *, role: str, user: str, actor: str,
              surface: str, now: datetime) -> str | None:
    """Give `role` to `user`; the previous holder, if any."""
    row = session.scalars(select(IncidentRole).where(
        IncidentRole.incident_id == incident.id, IncidentRole.role == role)).first()
    previous = row.user_id if row is not None else None
    if row is None:
        session.add(IncidentRole(incident_id=incident.id, role=role, user_id=user,
                                 assigned_at=now, assigned_by=actor))
    else:
        row.user_id, row.assigned_at, row.assigned_by = user, now, actor
    if role == COMMANDER:
        incident.commander = user
    was = f" (was {previous})" if previous and previous != user else ""
    add_entry(session, incident, kind=rules.ROLE, text=f"{role}: {user}{was}", actor=actor,
              surface=surface, now=now, data={"role": role, "user": user, "previous": previous})
    return previous


def check_alert_free(session: Session, alert_id: int, *, incident: Incident | None,
                     viewer: str | None, admin: bool) -> None:
    """Refuse to put an alert that is in an incident into another incident (or a new one).

    An alert belongs to one incident at most: a second declare or link is told which
    incident holds it (409). Someone who may not see a private holder is told the alert
    does not exist (404, as for the incident itself). Linking it again to its own
    incident passes: that changes nothing.
    """
    owners = session.scalars(select(Incident).join(
        IncidentAlert, IncidentAlert.incident_id == Incident.id).where(
        IncidentAlert.alert_id == alert_id).order_by(Incident.id))
    for owner in owners:
        if incident is not None and owner.id == incident.id:
            continue
        if owner.private and not visible(session, owner, viewer=viewer, admin=admin):
            raise NotFound(f"alert {alert_id} does not exist")
        kind = "the private incident" if owner.private else "incident"
        raise Conflict(f"alert {alert_id} is already in {kind} {owner.key}; "
                       "an alert is in one incident only: work on it there")


def link_alert_row(session: Session, incident: Incident, alert_id: int, *, actor: str,
                   surface: str, now: datetime, admin: bool = False) -> bool:
    alert = get_alert(session, alert_id)
    check_alert_free(session, alert.id, incident=incident, viewer=actor, admin=admin)
    if not paging.link(session, incident=incident, alert_id=alert.id, reason=paging.LINKED,
                       actor=actor, now=now):
        return False
    add_entry(session, incident, kind=rules.ALERT_LINKED, actor=actor, surface=surface,
              now=now, text=f"alert {alert.id} linked: {alert.title}",
              data={"alert_id": alert.id, "status": alert.status})
    return True


def notify_stakeholders(
    session: Session, *, config: Config, incident: Incident, text: str, now: datetime,
) -> int:
    """Tell the matching stakeholders: their Slack channels, people by Slack message
    and by e-mail (a notice, when an e-mail provider is configured).

    Stakeholders are told, never paged. How many Slack posts were queued.
    """
    channels: list[str] = []
    mailed: list[str] = []
    for entry in rules.stakeholders_for(config.incidents, incident.services or [],
                                        incident.severity):
        channels += entry.slack_channels
        people = list(entry.users)
        for team in entry.teams:
            found = config.teams.get(team)
            people += list(found.members) if found is not None else []
        for person in people:
            user = config.users.get(person)
            slack_id = user.contacts.get("slack") if user is not None else None
            if slack_id:
                channels.append(slack_id)
            if user is not None and user.contacts.get("email") and user.id not in mailed:
                mailed.append(user.id)
    if incident.private:
        return 0  # a private incident is never announced outside its channel
    if config.notifications.email is not None:
        for user_id in mailed:
            notice_store.queue(session, incident_id=incident.id, user_id=user_id, text=text,
                               now=now)
    return slack_tasks.post_elsewhere(session, config=config, incident=incident,
                                      channels=channels, text=text, now=now)


def topic(incident: Incident) -> str:
    return f"{incident.key} [{incident.severity}] {incident.status}: {incident.title}"[:250]


def check_storable(**values: str | None) -> None:
    """400 naming each field no database could keep (NUL, lone surrogates), on both
    backends alike: PostgreSQL would refuse it and SQLite would keep it."""
    problems = [FieldProblem(path, why) for path, value in values.items()
                if value is not None and (why := unstorable(value)) is not None]
    if problems:
        raise InvalidInput("the text cannot be stored", problems)


def text_or_none(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


