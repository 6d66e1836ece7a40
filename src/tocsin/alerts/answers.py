"""Answering a page from a text reply, the phone keypad or the signed link.

Each verb calls the function the API calls for it (service.acknowledge,
service.resolve, actions.snooze, actions.escalate_now, actions.unacknowledge,
actions.reassign, actions.add_responder) with the surface it came from, so
the audit row, the timeline entry and a group's handling happen there; this
module only says what happened in one short sentence for a text, a voice or
a page.

Runs inside the caller's session and never commits. Raises what those
functions raise: NotFound, Conflict (a resolved alert, the last step),
InvalidInput (snooze minutes out of range).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts import actions, service
from tocsin.alerts.reply_rules import (
    ACK,
    ADD,
    DEFAULT_SNOOZE_MINUTES,
    ESCALATE,
    REASSIGN,
    RESOLVE,
    SNOOZE,
    UNACK,
)
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert
from tocsin.config.answer_targets import noun
from tocsin.config.model import Config, Target
from tocsin.notify import store as deliveries

VERBS = (ACK, RESOLVE, SNOOZE, ESCALATE, UNACK, REASSIGN, ADD)


@dataclass(frozen=True)
class Answer:
    alert: Alert  # the alert named, as it is now
    changed: bool  # False: the alert was already as asked, nothing was written
    said: str  # "Alert 42 snoozed until 14:32 UTC."


def answer(session: Session, *, config: Config, verb: str, alert_id: int, actor: str,
           surface: str, now: datetime, minutes: float = DEFAULT_SNOOZE_MINUTES,
           target: Target | None = None) -> Answer:
    """Do `verb` to alert `alert_id` as `actor` from `surface`; what to tell them.

    REASSIGN and ADD need `target`, already checked against the config.
    """
    before = service.get_alert(session, alert_id).status
    if verb in (REASSIGN, ADD):
        if target is None:
            raise ValueError(f"{verb} needs a target")
        return _targeted(session, config=config, verb=verb, alert_id=alert_id, target=target,
                         actor=actor, surface=surface, now=now)

    if verb == ACK:
        service.acknowledge(session, config=config, alert_id=alert_id, actor=actor,
                            surface=surface, now=now)
        return _after(session, alert_id, before != ACKNOWLEDGED, _acknowledged)
    if verb == RESOLVE:
        service.resolve(session, config=config, alert_id=alert_id, actor=actor,
                        surface=surface, now=now)
        return _after(session, alert_id, before != RESOLVED, _resolved)
    if verb == UNACK:
        carrier = actions.unacknowledge(session, config=config, alert_id=alert_id,
                                        actor=actor, surface=surface, now=now)
        return _after(session, alert_id, before == ACKNOWLEDGED,
                      lambda alert: _unacknowledged(alert, carrier))
    if verb == SNOOZE:
        carrier = actions.snooze(session, config=config, alert_id=alert_id, minutes=minutes,
                                 actor=actor, surface=surface, now=now)
        until = now + timedelta(minutes=minutes)
        return _after(session, alert_id, True,
                      lambda alert: _snoozed(alert, carrier, until, now))
    if verb == ESCALATE:
        carrier = actions.escalate_now(session, config=config, alert_id=alert_id, actor=actor,
                                       surface=surface, now=now)
        return _after(session, alert_id, True, lambda alert: _escalated(alert, carrier))
    raise ValueError(f"unknown verb {verb!r}; use one of {', '.join(VERBS)}")


def _targeted(session: Session, *, config: Config, verb: str, alert_id: int, target: Target,
              actor: str, surface: str, now: datetime) -> Answer:
    who = f"{noun(target.kind)} {target.name}"
    if verb == REASSIGN:
        carrier = actions.reassign(session, config=config, alert_id=alert_id, target=target,
                                   actor=actor, surface=surface, now=now)
        return _after(session, alert_id, True, lambda alert: (
            f"Alert {alert.id} reassigned{_group(alert, carrier)} to {who}; "
            "paging from step 1."))
    carrier = actions.add_responder(session, config=config, alert_id=alert_id, target=target,
                                    actor=actor, surface=surface, now=now)
    return _after(session, alert_id, True, lambda alert: (
        f"Added {who} as a responder to alert {alert.id}{_group(alert, carrier)}."))


def _group(alert: Alert, carrier: Alert) -> str:
    return "" if carrier.id == alert.id else " with its group"


def open_texted(session: Session, *, user_id: str, channel: str = "sms") -> list[int]:
    """Open alerts texted to `user_id`, the most recently paged first."""
    last_sent = func.max(deliveries.Delivery.created_at)
    query = (
        select(deliveries.Delivery.alert_id)
        .join(Alert, Alert.id == deliveries.Delivery.alert_id)
        .where(deliveries.Delivery.user_id == user_id, deliveries.Delivery.channel == channel,
               deliveries.Delivery.status == deliveries.SENT, Alert.status != RESOLVED)
        .group_by(deliveries.Delivery.alert_id)
        .order_by(last_sent.desc(), deliveries.Delivery.alert_id.desc())
    )
    return [int(alert_id) for alert_id in session.scalars(query)]


def _after(session: Session, alert_id: int, changed: bool,
           say: Callable[[Alert], str]) -> Answer:
    alert = service.get_alert(session, alert_id)
    return Answer(alert, changed, say(alert) if changed else _unchanged(alert))


def _unchanged(alert: Alert) -> str:
    if alert.status == RESOLVED:
        return (f"Alert {alert.id} was already resolved by {alert.resolved_by} at "
                f"{_clock(alert.resolved_at)}; nothing changed.")
    if alert.status == ACKNOWLEDGED:
        return f"Alert {alert.id} was already acknowledged by {alert.acknowledged_by}."
    return f"Alert {alert.id} is not acknowledged; nothing changed."


def _acknowledged(alert: Alert) -> str:
    return f"Alert {alert.id} acknowledged."


def _resolved(alert: Alert) -> str:
    return f"Alert {alert.id} resolved."


def _unacknowledged(alert: Alert, carrier: Alert) -> str:
    group = "" if carrier.id == alert.id else " with its group"
    return (f"Alert {alert.id} unacknowledged{group}; escalation resumes at step "
            f"{max(carrier.step, 0) + 1}.")


def _snoozed(alert: Alert, carrier: Alert, until: datetime, now: datetime) -> str:
    group = "" if carrier.id == alert.id else " with its group"
    return f"Alert {alert.id} snoozed{group} until {_until(until, now)}."


def _escalated(alert: Alert, carrier: Alert) -> str:
    group = "" if carrier.id == alert.id else " with its group"
    where = f"step {carrier.step + 1} of {carrier.policy}" if carrier.step >= 0 else "step 1"
    state = "" if alert.status == TRIGGERED else f"; it is {alert.status}"
    return f"Alert {alert.id} escalated{group} to {where}{state}."


def _until(until: datetime, now: datetime) -> str:
    """14:32 UTC today; Tue 3 Mar 14:32 UTC on another day; with the year in another year."""
    if until.date() == now.date():
        return f"{until:%H:%M} UTC"
    if until.year == now.year:
        return f"{until:%a} {until.day} {until:%b %H:%M} UTC"
    return f"{until:%a} {until.day} {until:%b %Y %H:%M} UTC"


def _clock(at: datetime | None) -> str:
    return "an unknown time" if at is None else f"{at:%Y-%m-%dT%H:%M:%SZ}"
