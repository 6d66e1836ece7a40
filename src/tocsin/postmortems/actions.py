"""Action item use cases: add, change, list, push to a tracker, take status back.

Every function takes the caller's session first and never commits. Each
change writes a row on the incident's timeline (kind `action_item`), an
audit row and one log line with the item's id. Reminders are outbox rows
(`actions_store`) planned in the same transaction as the change that moves
them, and a push is a queued row the engine sends (`engine/action_item_trackers`).

Items of a private incident are visible only to its members and admins,
as the incident itself is. So an item's owner becomes a member of its
private incident when the item is given to them (a timeline row and an
audit row, as for an added responder): reminders carry the title and a
link, and the owner must be able to open the item and close it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts.maintenance_rules import unstorable
from tocsin.config.model import Config
from tocsin.db import MAX_ID
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.incidents import records
from tocsin.incidents.store import Incident, IncidentMember
from tocsin.logs import event
from tocsin.postmortems import action_rules as rules
from tocsin.postmortems import actions_store as store
from tocsin.postmortems.store import ActionItem, Postmortem

log = logging.getLogger(__name__)

TIMELINE_KIND = "action_item"


class _Keep:
    """The value of an argument left out: keep what the item has."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class Filters:
    incident: str | None = None
    owner: str | None = None
    team: str | None = None
    status: str | None = None  # a status, or "open"
    overdue: bool = False


def reminder_plan(config: Config) -> rules.ReminderPlan:
    settings = config.action_items
    return rules.ReminderPlan(before_days=settings.remind_before_days,
                              every_days_overdue=settings.remind_every_days_overdue,
                              at=settings.remind_at)


def owner_zone(config: Config, owner: str) -> ZoneInfo:
    """The owner's own zone, else the file's."""
    user = config.users.get(owner)
    return ZoneInfo((user.timezone if user else None) or config.timezone)


def get(session: Session, item_id: int, *, viewer: str | None, admin: bool,
        lock: bool = False) -> ActionItem:
    if not 0 < item_id <= MAX_ID:
        raise NotFound(f"action item {item_id} does not exist")
    query = select(ActionItem).where(ActionItem.id == item_id)
    if lock:
        query = query.with_for_update()
    item = session.scalars(query).first()
    if item is None or not records.visible(session, incident_of(session, item), viewer=viewer,
                                           admin=admin):
        raise NotFound(f"action item {item_id} does not exist")
    return item


def create(
    session: Session, *, config: Config, incident: str, title: str, owner: str,
    due_date: date | str | None = None, priority: str = "P1", actor: str, surface: str,
    now: datetime, admin: bool = False,
) -> ActionItem:
    """Add an item to an incident (and to its post-mortem, when it has one)."""
    found = records.get(session, incident, viewer=actor, admin=admin)
    problems: list[FieldProblem] = []
    checked_title = _title(title, problems)
    owner_id = _owner(config, owner, problems)
    checked_due = _due_date(due_date, problems)
    checked_priority = _priority(priority, problems)
    if problems:
        raise InvalidInput("the action item is not valid", problems)
    postmortem = session.scalars(
        select(Postmortem.id).where(Postmortem.incident_id == found.id)).first()
    item = ActionItem(incident_id=found.id, postmortem_id=postmortem, title=checked_title,
                      owner=owner_id, due_date=checked_due, priority=checked_priority,
                      status=rules.PLANNED, created_at=now, created_by=actor, updated_at=now)
    session.add(item)
    session.flush()
    text = f"action item #{item.id} added: {item.title} ({_summary(item)})"
    record_change(session, item, found, action="created", text=text, actor=actor,
                  surface=surface, now=now, before={}, after=_state(item))
    admit_owner(session, item, found, actor=actor, surface=surface, now=now)
    queue_reminder(session, config=config, item=item, now=now)
    return item


def update(
    session: Session, *, config: Config, item_id: int, actor: str, surface: str,
    now: datetime, admin: bool = False, title: Any = KEEP, owner: Any = KEEP,
    due_date: Any = KEEP, priority: Any = KEEP, status: Any = KEEP,
) -> ActionItem:
    """Change what is given; `due_date=None` clears the date. Done sets completed_at."""
    item = get(session, item_id, viewer=actor, admin=admin, lock=True)
    problems: list[FieldProblem] = []
    wanted: dict[str, Any] = {}
    if title is not KEEP:
        wanted["title"] = _title(title, problems)
    if owner is not KEEP:
        wanted["owner"] = _owner(config, owner, problems)
    if due_date is not KEEP:
        wanted["due_date"] = _due_date(due_date, problems)
    if priority is not KEEP:
        wanted["priority"] = _priority(priority, problems)
    if status is not KEEP:
        wanted["status"] = checked_status(status, problems)
    if problems:
        raise InvalidInput("the change is not valid", problems)
    if not wanted:
        raise InvalidInput("nothing to change", [FieldProblem(
            "status", "give title, owner, due_date, priority or status")])
    return apply_change(session, config=config, item=item, wanted=wanted, actor=actor,
                        surface=surface, now=now)


def apply_change(session: Session, *, config: Config, item: ActionItem,
                 wanted: dict[str, Any], actor: str, surface: str, now: datetime,
                 note: str = "") -> ActionItem:
    before = _state(item)
    changed = {key: value for key, value in wanted.items() if getattr(item, key) != value}
    if not changed:
        return item
    for key, value in changed.items():
        setattr(item, key, value)
    if "status" in changed:
        item.completed_at = now if item.status == rules.DONE else None
    item.updated_at = now
    words = ", ".join(f"{key.replace('_', ' ')} {_shown(before[key])} -> "
                      f"{_shown(_state(item)[key])}" for key in changed)
    text = f"action item #{item.id} ({item.title}): {words}{note}"
    incident = incident_of(session, item)
    record_change(session, item, incident, action="updated", text=text,
                  actor=actor, surface=surface, now=now,
                  before={k: before[k] for k in changed},
                  after={k: _state(item)[k] for k in changed})
    if "owner" in changed:
        admit_owner(session, item, incident, actor=actor, surface=surface, now=now)
    if changed.keys() & {"status", "owner", "due_date"}:
        queue_reminder(session, config=config, item=item, now=now)
    return item


def listing(session: Session, *, config: Config, filters: Filters, now: datetime,
            viewer: str | None, admin: bool, limit: int = 500) -> list[ActionItem]:
    """Open items first (by due date, no date last), then done ones, newest first."""
    problems: list[FieldProblem] = []
    query = select(ActionItem).join(Incident, Incident.id == ActionItem.incident_id)
    if filters.incident is not None:
        query = query.where(ActionItem.incident_id == records.parse_number(filters.incident))
    if filters.owner is not None:
        query = query.where(ActionItem.owner == _owner(config, filters.owner, problems,
                                                       path="owner"))
    if filters.team is not None:
        team = config.teams.get(filters.team)
        if team is None:
            problems.append(FieldProblem("team", f"unknown team {filters.team!r}; use one of "
                                         f"{', '.join(config.teams) or '(no teams defined)'}"))
        else:
            query = query.where(ActionItem.owner.in_(team.members))
    if filters.status == "open" or filters.overdue:
        query = query.where(ActionItem.status != rules.DONE)
    elif filters.status is not None:
        wanted = checked_status(filters.status, problems, open_ok=True)
        query = query.where(ActionItem.status == wanted)
    if problems:
        raise InvalidInput("the filter is not valid", problems)
    if not admin:
        member_of = select(IncidentMember.incident_id).where(IncidentMember.user_id == viewer)
        query = query.where(or_(Incident.private.is_(false()), Incident.id.in_(member_of)))
    found = list(session.scalars(query.order_by(ActionItem.id.desc()).limit(limit)))
    if filters.overdue:
        found = [i for i in found if rules.is_overdue(i.due_date, i.status, now,
                                                      owner_zone(config, i.owner))]
    return sorted(found, key=lambda i: (i.status == rules.DONE, i.due_date or date.max,
                                        i.priority, i.id))


def queue_reminder(session: Session, *, config: Config, item: ActionItem,
                   now: datetime) -> int | None:
    """Replace the item's queued reminder with the next one its state calls for."""
    store.drop_queued_reminders(session, item.id)
    if item.status == rules.DONE or item.due_date is None:
        return None
    zone = owner_zone(config, item.owner)
    reminder = rules.next_reminder(item.due_date, reminder_plan(config), zone,
                                   last=store.last_reminder_slot(session, item.id), now=now)
    if reminder is None:
        return None
    notice_id = store.insert_notice(
        session, key=f"reminder:{item.id}:{item.owner}:{reminder.slot.isoformat()}",
        item_id=item.id, team=None, user_id=item.owner, kind=reminder.kind,
        slot=reminder.slot, due_at=reminder.due_at, now=now)
    if notice_id is not None:
        event(log, "action_item.reminder_queued", item_id=item.id, notice_id=notice_id,
              kind=reminder.kind, due_at=reminder.due_at.isoformat())
    return notice_id


def plan_missing_reminders(session: Session, *, config: Config, now: datetime,
                           limit: int = 200) -> int:
    """Queue the next reminder of open dated items that have none queued (after a
    sent one, a config change or a restart)."""
    waiting = select(store.ActionItemNotice.item_id).where(
        store.ActionItemNotice.item_id.is_not(None),
        store.ActionItemNotice.status.in_((store.QUEUED, store.SENDING)))
    query = (select(ActionItem)
             .where(ActionItem.status != rules.DONE, ActionItem.due_date.is_not(None),
                    ActionItem.id.not_in(waiting))
             .order_by(ActionItem.id).limit(limit))
    if config.action_items.remind_every_days_overdue <= 0:
        # Without overdue repeats an item past its due date has no reminder left; two
        # days back covers every zone, so those items are not looked at again each pass.
        query = query.where(ActionItem.due_date >= (now - timedelta(days=2)).date())
    queued = 0
    for item in session.scalars(query):
        if queue_reminder(session, config=config, item=item, now=now) is not None:
            queued += 1
    return queued


def admit_owner(session: Session, item: ActionItem, incident: Incident, *, actor: str,
                surface: str, now: datetime) -> bool:
    """Make the owner a member of the item's private incident; True when they were not."""
    if not incident.private or not records.add_member(session, incident, item.owner,
                                                      actor=actor, now=now):
        return False
    records.add_entry(session, incident, kind=TIMELINE_KIND, actor=actor, surface=surface,
                      now=now, text=f"{item.owner} added as a member: owner of action item "
                                    f"#{item.id}",
                      data={"action_item_id": item.id, "member": item.owner})
    audit.record(session, now=now, actor=actor, surface=surface, action="incident.member_added",
                 object_type="incident", object_id=incident.key, before={},
                 after={"member": item.owner, "action_item_id": item.id})
    event(log, "incident.member_added", incident=incident.key, user=item.owner,
          item_id=item.id, actor=actor)
    return True


def incident_of(session: Session, item: ActionItem) -> Incident:
    incident = session.get(Incident, item.incident_id)
    if incident is None:  # the foreign key cascades: only a row deleted mid-transaction
        raise NotFound(f"the incident of action item {item.id} no longer exists")
    return incident


def record_change(session: Session, item: ActionItem, incident: Incident, *, action: str,
                  text: str, actor: str, surface: str, now: datetime, before: dict[str, Any],
                  after: dict[str, Any]) -> None:
    records.add_entry(session, incident, kind=TIMELINE_KIND, text=text, actor=actor,
                      surface=surface, now=now, data={"action_item_id": item.id})
    audit.record(session, now=now, actor=actor, surface=surface,
                 action=f"action_item.{action}", object_type="action_item", object_id=item.id,
                 before=before, after=after)
    event(log, f"action_item.{action}", item_id=item.id, incident=incident.key, actor=actor,
          surface=surface)


def _state(item: ActionItem) -> dict[str, Any]:
    return {"title": item.title, "owner": item.owner, "priority": item.priority,
            "status": item.status,
            "due_date": item.due_date.isoformat() if item.due_date else None}


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def _summary(item: ActionItem) -> str:
    due = item.due_date.isoformat() if item.due_date else "no due date"
    return f"owner {item.owner}, {item.priority}, due {due}"


def _title(title: Any, problems: list[FieldProblem]) -> str:
    text = str(title or "").strip()
    why = unstorable(text)
    if not text:
        problems.append(FieldProblem("title", "must not be empty; say what will be done"))
    elif len(text) > rules.MAX_TITLE:
        problems.append(FieldProblem("title", f"at most {rules.MAX_TITLE} characters"))
    elif why is not None:
        problems.append(FieldProblem("title", why))
    elif rules.unprintable(text) is not None:
        problems.append(FieldProblem("title", f"must be one line of plain text; remove the "
                                              f"{rules.unprintable(text)}"))
    return text


def _due_date(due: date | str | None, problems: list[FieldProblem]) -> date | None:
    """A date, or YYYY-MM-DD text (the API's), within FIRST_DUE..LAST_DUE."""
    if isinstance(due, str):
        text = due.strip()
        try:
            due = date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(FieldProblem("due_date", f"{text[:40]!r} is not a date; "
                                                     "write it as YYYY-MM-DD"))
            return None
    if due is not None and not rules.FIRST_DUE <= due <= rules.LAST_DUE:
        problems.append(FieldProblem("due_date", f"{due.isoformat()} is out of range; give a "
                                                 f"date from {rules.FIRST_DUE.isoformat()} to "
                                                 f"{rules.LAST_DUE.isoformat()}"))
    return due


def _owner(config: Config, owner: Any, problems: list[FieldProblem], *,
           path: str = "owner") -> str:
    name = str(owner or "").strip()
    user = config.user_by_email_or_id(name) if name else None
    if user is None:
        known = ", ".join(sorted(config.users)[:10]) or "none is defined"
        problems.append(FieldProblem(path, f"{name!r} is not a user in the config; "
                                           f"use a user id or e-mail ({known})"))
        return name
    return user.id


def _priority(priority: Any, problems: list[FieldProblem]) -> str:
    value = str(priority or "").strip().upper()
    if value not in rules.PRIORITIES:
        problems.append(FieldProblem("priority", f"use one of {', '.join(rules.PRIORITIES)}"))
    return value


def checked_status(status: Any, problems: list[FieldProblem], *, open_ok: bool = False) -> str:
    value = str(status or "").strip().lower().replace(" ", "_").replace("-", "_")
    allowed = (*rules.STATUSES, "open") if open_ok else rules.STATUSES
    if value not in allowed:
        problems.append(FieldProblem("status", f"use one of {', '.join(allowed)}"))
    return value

