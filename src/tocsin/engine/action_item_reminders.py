"""Action item reminders and each team's weekly digest, to people's own channels.

Reminder rows are queued by the item's own changes (same transaction) and,
once a minute, for open dated items that have none queued: after one was
sent, after a restart, after a config change. Digest rows are planned
once a minute for the week's digest time, one per team member; the
row's unique key sends each once however many workers plan it.

Both are sent through the shared notice sender (leased, one idempotency
key per row, retried with backoff), to the console, e-mail, Slack and
webhook contacts: a reminder is not worth a text message or a call. The
text is written at send time from the item as it is then; a reminder for
an item since done, reassigned or given another due date is cancelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from tocsin.alerts.paging import CONSOLE
from tocsin.config.model import Config, User
from tocsin.db import transaction
from tocsin.engine import notices
from tocsin.incidents import records
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.postmortems import action_rules as rules
from tocsin.postmortems import actions
from tocsin.postmortems import actions_store as store
from tocsin.postmortems.store import ActionItem

log = logging.getLogger(__name__)

CHANNELS = (CONSOLE, "email", "slack", "webhook")


@dataclass
class NoticeSender(notices.NoticeSender):
    model: ClassVar[Any] = store.ActionItemNotice
    prefix: ClassVar[str] = "action_item_notice"

    def prepare(self, notice_id: int) -> notices.Ready:
        now = self.clock.now()
        with self.sessions() as session:
            row = session.get(store.ActionItemNotice, notice_id)
            if row is None:
                raise notices.Skip("notice no longer exists")
            user = self.config.users.get(row.user_id)
            if user is None:
                raise notices.Skip("person no longer in the config")
            if row.kind == store.DIGEST:
                text = _digest(session, self.config, row.team or "", user, now)
            else:
                text = _reminder(session, self.config, row, now)
        contacts = [(channel, address) for channel, address
                    in notices.contacts_of(self.config, user) if channel in CHANNELS]
        return notices.Ready(kind=f"action_item.{row.kind}", text=text, user=user,
                             contacts=contacts)


def _reminder(session: Session, config: Config, row: store.ActionItemNotice,
              now: datetime) -> str:
    item = session.get(ActionItem, row.item_id) if row.item_id is not None else None
    if item is None:
        raise notices.Skip("the action item no longer exists")
    if item.status == rules.DONE:
        raise notices.Skip("the action item is done")
    if item.owner != row.user_id:
        raise notices.Skip(f"the action item now belongs to {item.owner}")
    if not records.visible(session, actions.incident_of(session, item), viewer=item.owner,
                           admin=False):
        # Owners join a private incident when given an item; one that is not a member
        # (an item older than that rule) is not sent the private title.
        raise notices.Skip("the owner is not a member of the private incident")
    zone = actions.owner_zone(config, item.owner)
    plan = actions.reminder_plan(config)
    if item.due_date is None or rules.is_slot(item.due_date, plan, zone, row.slot) is None:
        raise notices.Skip("the due date or the reminder settings changed")
    base = config.public_url.rstrip("/")
    return rules.reminder_text(row.kind, item_id=item.id, title=item.title, due=item.due_date,
                               incident=f"INC-{item.incident_id}", now=now, zone=zone,
                               url=f"{base}/ui/action-items?id={item.id}")


def _digest(session: Session, config: Config, team_name: str, user: User,
            now: datetime) -> str:
    team = config.teams.get(team_name)
    if team is None or user.id not in team.members:
        raise notices.Skip(f"{user.id} is no longer in team {team_name}")
    since = now - rules.DIGEST_DONE_WINDOW
    # Private incidents stay out: a digest goes to people who may not be members.
    query = (select(ActionItem).join(Incident, Incident.id == ActionItem.incident_id)
             .where(ActionItem.owner.in_(team.members), Incident.private.is_(false()),
                    or_(ActionItem.status != rules.DONE, ActionItem.completed_at >= since)))
    items = [rules.DigestItem(id=i.id, title=i.title, owner=i.owner, due=i.due_date,
                              priority=i.priority, status=i.status,
                              completed_at=i.completed_at, incident=f"INC-{i.incident_id}")
             for i in session.scalars(query)]
    digest = rules.team_digest(items, team.members, now=now, zone=ZoneInfo(config.timezone))
    if digest.empty:
        raise notices.Skip(f"team {team_name} has no action items to report")
    base = config.public_url.rstrip("/")
    return rules.digest_text(team_name, digest,
                             url=f"{base}/ui/action-items?team={team_name}")


@dataclass
class ActionItemNotices(notices.NoticeStep):
    """The engine's step for reminders and digests: `run_due` once per pass."""

    store: ClassVar[ModuleType] = store
    prefix: ClassVar[str] = "action_item_notice"
    plan_every: ClassVar[timedelta] = timedelta(minutes=1)

    def plan(self) -> int:
        now = self.clock.now()
        last = self._planned_at
        if last is not None and last <= now < last + self.plan_every:
            return 0
        config = self.config()
        with transaction(self.sessions) as session:
            queued = actions.plan_missing_reminders(session, config=config, now=now)
        if config.action_items.digest_enabled:
            with transaction(self.sessions) as session:
                queued += plan_digests(session, config, now)
        self._planned_at = now
        return queued

    def next_due(self, session: Session) -> datetime | None:
        """The next digest time (the engine's quiet passes skip planning until then)."""
        config = self.config()
        if not (config.action_items.digest_enabled and config.teams):
            return None
        now = self.clock.now()
        if self._planned_at is None:
            return now  # plan once at start; an old digest time is not lag
        settings = config.action_items
        zone = ZoneInfo(config.timezone)
        slot = rules.digest_slot(now, zone, settings.digest_day, settings.digest_time)
        if self._planned_at < slot and now - slot <= rules.DIGEST_GRACE:
            return slot
        return rules.digest_slot(now + timedelta(days=7), zone, settings.digest_day,
                                 settings.digest_time)


def plan_digests(session: Session, config: Config, now: datetime) -> int:
    """Queue this week's digest for every member of every team, once."""
    settings = config.action_items
    slot = rules.digest_slot(now, ZoneInfo(config.timezone), settings.digest_day,
                             settings.digest_time)
    if now - slot > rules.DIGEST_GRACE:
        return 0
    queued = 0
    for team in config.teams.values():
        for member in team.members:
            notice_id = store.insert_notice(
                session, key=f"digest:{team.name}:{member}:{slot.isoformat()}", item_id=None,
                team=team.name, user_id=member, kind=store.DIGEST, slot=slot, due_at=now,
                now=now)
            if notice_id is not None:
                queued += 1
                event(log, "action_item.digest_queued", notice_id=notice_id, team=team.name,
                      user=member)
    return queued


ActionItemNotices.sender = NoticeSender
