"""Who a step pages and through which contacts: targets to delivery rows.

A schedule target is resolved at the moment the step starts, through the
same rotation maths the CLI and API use. A person is reachable through a
contact whose channel has a provider and which the route allows. The
console shows every page; it only counts as reaching someone when no real
provider is configured at all (the laptop demo), so in production a step
of people without a real contact is skipped rather than silently "sent".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.config.model import Config, Target, User
from tocsin.logs import event
from tocsin.notify.store import QUEUED, Delivery
from tocsin.oncall.service import on_call

log = logging.getLogger(__name__)

CONSOLE = "console"


@dataclass(frozen=True)
class Reach:
    user: User
    contacts: tuple[tuple[str, str], ...]  # (channel, address), console excluded
    # The person's notification rules that can be followed, as (minutes after
    # the step starts, channel, address), by delay; empty: every contact at once.
    timed: tuple[tuple[float, str, str], ...] = ()
    # True when the person has rules for this urgency but the route or the
    # providers leave none of them, so every allowed contact goes at once.
    rules_unusable: bool = False

    @property
    def channels(self) -> list[str]:
        return [channel for channel, _ in self.contacts]


def resolve_targets(
    session: Session, config: Config, targets: Sequence[Target], now: datetime,
) -> list[User]:
    """The people a step's targets name at `now`, each once, in target order."""
    people: list[User] = []
    for target in targets:
        for user_id in _target_user_ids(session, config, target, now):
            user = config.users.get(user_id)
            if user is not None and user not in people:
                people.append(user)
    return people


def _target_user_ids(
    session: Session, config: Config, target: Target, now: datetime,
) -> list[str]:
    if target.kind == "user":
        return [target.name]
    if target.kind == "schedule":
        schedule = config.schedules.get(target.name)
        if schedule is None:
            return []
        return [shift.user for shift in on_call(session, schedule, now)]
    return []


def reach(
    config: Config, user: User, allowed: Sequence[str] | None, urgency: str | None = None,
) -> Reach:
    """How a page reaches `user`; with an `urgency`, following their notification rules.

    Without one (fallback pages, notices) every usable contact goes at once.
    """
    providers = config.notifications.real_channels
    contacts = tuple(
        (channel, address)
        for channel, address in user.contacts.items()
        if channel in providers and (allowed is None or channel in allowed) and address
    )
    rules = user.rules_for(urgency) if urgency is not None else ()
    usable = dict(contacts)
    timed = tuple((rule.after_minutes, rule.channel, usable[rule.channel])
                  for rule in rules if rule.channel in usable)
    return Reach(user, contacts, timed, rules_unusable=bool(rules and contacts and not timed))


def is_reachable(config: Config, found: Reach) -> bool:
    demo_mode = not config.notifications.real_channels
    return bool(found.contacts) or demo_mode


def queue_pages(
    session: Session, *, alert_id: int, reaches: Sequence[Reach], step: int, now: datetime,
) -> list[Delivery]:
    """One delivery per notification rule (or per contact, at once, for a person without
    rules), plus the console copy of each page at once."""
    rows: list[Delivery] = []
    for found in reaches:
        planned = found.timed or tuple((0.0, channel, address)
                                       for channel, address in found.contacts)
        for minutes, channel, address in ((0.0, CONSOLE, found.user.id), *planned):
            rows.append(Delivery(
                alert_id=alert_id, user_id=found.user.id, channel=channel, address=address,
                step=step, status=QUEUED, attempts=0, due_at=now + timedelta(minutes=minutes),
                created_at=now, idempotency_key=f"tocsin-{uuid.uuid4().hex}", detail="",
            ))
    session.add_all(rows)
    session.flush()
    for row in rows:
        event(log, "delivery.queued", delivery_id=row.id, alert_id=alert_id,
              user=row.user_id, channel=row.channel, step=step, due_at=row.due_at.isoformat())
    return rows
