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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tocsin.config.model import Config, Target, User
from tocsin.logs import event
from tocsin.notify.store import QUEUED, Delivery
from tocsin.oncall.service import on_call

log = logging.getLogger(__name__)

CONSOLE = "console"
# session.info, inside queued_together: the rows queue_pages left for it to insert,
# and who each schedule has on call at a moment, as found.
_WAITING = "tocsin.paging.waiting"
_ON_CALL = "tocsin.paging.on_call"
_DELIVERIES = Delivery.metadata.tables["deliveries"]


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
    """The people a step's targets name at `now`, each once, in target order.

    Who is on call never depends on the caller's pending writes (timeline rows,
    timers): they are not flushed for it, so that a batch of steps writes them
    together rather than one alert at a time.
    """
    people: list[User] = []
    with session.no_autoflush:
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
        # A batch of steps (queued_together) asks once per schedule: one
        # transaction, one moment, one answer, and nothing in it edits a schedule.
        known: dict[tuple[str, datetime], list[str]] | None = session.info.get(_ON_CALL)
        if known is not None and (target.name, now) in known:
            return known[(target.name, now)]
        found = [shift.user for shift in on_call(session, schedule, now)]
        if known is not None:
            known[(target.name, now)] = found
        return found
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
    chain: str | None,
) -> None:
    """One delivery per notification rule (or per contact, at once, for a person without
    rules), plus the console copy of each page at once.

    `chain`: the further policy whose step pages (its name, as its timers give it);
    None for the alert's own policy and for pages of no policy (the fallback). When
    that policy moves on, its own waiting rule pages stop (alerts.rule_stops).

    Inside `queued_together` the rows are inserted (and logged) with the
    others at its end; elsewhere at once.
    """
    rows: list[dict[str, Any]] = []
    for found in reaches:
        planned = found.timed or tuple((0.0, channel, address)
                                       for channel, address in found.contacts)
        for minutes, channel, address in ((0.0, CONSOLE, found.user.id), *planned):
            due = now + timedelta(minutes=minutes)
            # Every column named, so that any number of rows is one statement.
            rows.append({
                "alert_id": alert_id, "user_id": found.user.id, "channel": channel,
                "address": address, "step": step, "status": QUEUED, "attempts": 0,
                "due_at": due, "first_due_at": due, "lease_until": None, "created_at": now,
                "finished_at": None, "idempotency_key": f"tocsin-{uuid.uuid4().hex}",
                "detail": "", "provider_id": None, "failed_over_at": None, "chain": chain,
            })
    waiting: list[dict[str, Any]] | None = session.info.get(_WAITING)
    if waiting is not None:
        waiting.extend(rows)
    else:
        _insert(session, rows)


@contextmanager
def queued_together(session: Session) -> Iterator[None]:
    """Insert the pages queued inside in one statement when the block ends, then log them.

    For a batch of escalation steps: one multi-row insert rather than one per
    alert. Until then a statement inside does not see them.
    """
    if _WAITING in session.info:
        yield  # an outer block writes them
        return
    waiting: list[dict[str, Any]] = []
    session.info[_WAITING] = waiting
    session.info[_ON_CALL] = {}
    try:
        yield
    finally:
        del session.info[_WAITING]
        del session.info[_ON_CALL]
    _insert(session, waiting)


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert delivery rows given as values (no row objects to build and flush), then log
    each with its id.

    One executemany on the table and one query for the ids by idempotency key:
    on PostgreSQL, INSERT ... RETURNING for many rows is one statement of
    thousands of parameters, several times the cost of both.
    """
    if not rows:
        return
    session.execute(insert(_DELIVERIES), rows)
    keys = [row["idempotency_key"] for row in rows]
    ids = {key: delivery_id for key, delivery_id in session.execute(
        select(Delivery.idempotency_key, Delivery.id).where(Delivery.idempotency_key.in_(keys)))}
    for row in rows:
        row["id"] = ids[row["idempotency_key"]]
    _note_queued(rows)


def _note_queued(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        event(log, "delivery.queued", delivery_id=row["id"], alert_id=row["alert_id"],
              user=row["user_id"], channel=row["channel"], step=row["step"],
              due_at=row["due_at"].isoformat())
