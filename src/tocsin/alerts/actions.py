"""Answering a page: snooze, unacknowledge, escalate now, reassign, add a responder.

Each runs inside the caller's session and never commits. A grouped alert
pages through its group's lead, so every action here acts on the lead (the
alert carrying the group's escalation); snooze and unacknowledge change the
whole group, the way acknowledge does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts import escalate, groups, responders
from tocsin.alerts.service import acknowledge, add_timeline, get_alert
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert
from tocsin.config.model import Config, Target
from tocsin.errors import Conflict, FieldProblem, InvalidInput
from tocsin.escalation import rules
from tocsin.escalation import store as timers
from tocsin.escalation.rules import MAX_WAIT_MINUTES
from tocsin.logs import event
from tocsin.notify import pagerduty_store
from tocsin.notify import store as deliveries

log = logging.getLogger(__name__)

TARGET_FIELDS = ("user", "schedule", "escalation_policy")


def target_of(config: Config, *, user: str | None = None, schedule: str | None = None,
              escalation_policy: str | None = None, prefix: str = "") -> Target:
    """The one target named, checked against the config; 400 naming the field otherwise."""
    given = {k: v for k, v in (("user", user), ("schedule", schedule),
                               ("escalation_policy", escalation_policy)) if v}
    if len(given) != 1:
        raise InvalidInput("name exactly one target", [FieldProblem(
            prefix + "user", "give exactly one of user, schedule or escalation_policy")])
    kind, name = next(iter(given.items()))
    tables: dict[str, Mapping[str, Any]] = {
        "user": config.users, "schedule": config.schedules,
        "escalation_policy": config.escalation_policies}
    defined = tables[kind]
    if kind == "escalation_policy" and name.startswith(responders.IMPLICIT_PREFIX):
        defined = {}
    if kind == "user" and name not in defined:
        name = next((u.id for u in config.users.values() if u.email == name), name)
    if name not in defined:
        known = ", ".join(sorted(n for n in defined if not n.startswith("implicit:"))[:10])
        raise InvalidInput(f"no {kind.replace('_', ' ')} named {name!r}", [FieldProblem(
            prefix + kind, f"{name!r} is not defined; use one of: {known or '(none)'}")])
    return Target(kind, name)  # type: ignore[arg-type]


def chain_name(target: Target) -> str:
    """The policy name a chain for `target` runs: a user or schedule gets a one-step one."""
    if target.kind == "escalation_policy":
        return target.name
    return responders.IMPLICIT_PREFIX + target.name


def _carrier(session: Session, alert_id: int) -> Alert:
    """The alert whose escalation pages for `alert_id`: itself or its group's lead."""
    groups.lock_group_of(session, alert_id)
    alert = get_alert(session, alert_id, lock=True)
    if alert.group_id is not None:
        group = groups.lock_group(session, alert.group_id)
        if group is not None and group.lead_alert_id not in (None, alert.id):
            return get_alert(session, group.lead_alert_id, lock=True)
    return alert


def _open(alert: Alert, doing: str) -> None:
    if alert.status == RESOLVED:
        raise Conflict(f"cannot {doing} alert {alert.id}: it is already resolved by "
                       f"{alert.resolved_by} at {alert.resolved_at:%Y-%m-%dT%H:%M:%SZ}")


def _record(session: Session, *, alert: Alert, action: str, actor: str, surface: str,
            now: datetime, before: Mapping[str, Any], message: str,
            data: dict[str, object] | None = None) -> None:
    after = {"status": alert.status, **(data or {})}
    audit.record(session, now=now, actor=actor, surface=surface, action=f"alert.{action}",
                 object_type="alert", object_id=alert.id, before=dict(before), after=after)
    add_timeline(session, alert, kind=action, now=now, actor=actor, surface=surface,
                 message=f"{message} by {actor} via {surface}", data=dict(data or {}))
    event(log, f"alert.{action}", alert_id=alert.id, actor=actor, surface=surface)


def _forward_retrigger(session: Session, config: Config, alert: Alert, now: datetime) -> None:
    """An acknowledged alert triggered again: a new trigger to every key it was forwarded to."""
    pagerduty_store.queue(session, notifications=config.notifications, alert_id=alert.id,
                          action=pagerduty_store.TRIGGER, now=now)


def _stop(session: Session, alert: Alert, now: datetime, reason: str) -> None:
    timers.cancel_for_alert(session, alert_id=alert.id, now=now)
    deliveries.cancel_for_alert(session, alert_id=alert.id, now=now, reason=reason, held=True)


def _cancel_own_steps(session: Session, alert: Alert, now: datetime) -> None:
    """Cancel the waiting steps of the alert's own policy; further policies keep theirs."""
    session.execute(
        update(timers.Timer)
        .where(timers.Timer.alert_id == alert.id, timers.Timer.policy.is_(None),
               timers.Timer.kind == timers.ESCALATE, timers.Timer.state == timers.PENDING)
        .values(state=timers.CANCELLED, done_at=now)
        .execution_options(synchronize_session="fetch"))


def snooze(session: Session, *, config: Config, alert_id: int, minutes: float, actor: str,
           surface: str, now: datetime) -> Alert:
    """Acknowledge now; re-trigger at the current step after `minutes` unless resolved."""
    if not 0 < minutes <= MAX_WAIT_MINUTES:
        raise InvalidInput("minutes is out of range", [FieldProblem(
            "minutes", f"give a number of minutes above 0 and at most {MAX_WAIT_MINUTES}")])
    alert = _carrier(session, alert_id)
    _open(alert, "snooze")
    before = {"status": alert.status}
    if alert.status == TRIGGERED:
        acknowledge(session, config=config, alert_id=alert.id, actor=actor, surface=surface,
                    now=now)
    # The ack-lapse timer re-triggers the alert (and its group) at its current step.
    timers.cancel_for_alert(session, alert_id=alert.id, now=now)
    until = now + timedelta(minutes=minutes)
    timers.schedule(session, kind=timers.ACK_LAPSE, alert_id=alert.id, due_at=until, now=now,
                    step=max(alert.step, 0), pass_number=alert.pass_number)
    _record(session, alert=alert, action="snoozed", actor=actor, surface=surface, now=now,
            before=before, message=f"snoozed for {minutes:g} min until "
                                   f"{until:%Y-%m-%dT%H:%M:%SZ}",
            data={"minutes": minutes, "until": until.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return alert


def unacknowledge(session: Session, *, config: Config, alert_id: int, actor: str,
                  surface: str, now: datetime) -> Alert:
    """Back to triggered; the escalation resumes at its current step at once.

    A triggered alert is left as it is (200, like acking an acked one).
    """
    alert = _carrier(session, alert_id)
    _open(alert, "unacknowledge")
    if alert.status != ACKNOWLEDGED:
        return alert
    before = {"status": alert.status, "acknowledged_by": alert.acknowledged_by}
    timers.cancel_for_alert(session, alert_id=alert.id, now=now)  # the ack lapse, a snooze
    alert.status = TRIGGERED
    _record(session, alert=alert, action="unacknowledged", actor=actor, surface=surface,
            now=now, before=before, message="unacknowledged; escalation resumes at step "
                                            f"{max(alert.step, 0) + 1}")
    alert.acknowledged_at = None
    alert.acknowledged_by = None
    groups.lapsed(session, alert=alert, now=now)
    _forward_retrigger(session, config, alert, now)
    escalate.resume(session, config=config, alert=alert, now=now)
    return alert


def escalate_now(session: Session, *, config: Config, alert_id: int, actor: str,
                 surface: str, now: datetime, from_step: int | None = None) -> Alert:
    """Page the next step of the alert's own policy now, from triggered or acknowledged.

    An acknowledged alert goes back to triggered (a page to an acknowledged
    alert is never sent). Further policies (chains) keep their own pace.
    `from_step` (1-based): escalate only if the alert is still at that step,
    as a button on a message sent at that step means.
    """
    alert = _carrier(session, alert_id)
    _open(alert, "escalate")
    if from_step is not None and max(alert.step, 0) + 1 != from_step:
        raise Conflict(f"alert {alert.id} has already moved on to step "
                       f"{max(alert.step, 0) + 1} since this message was sent at step "
                       f"{from_step}")
    policy = escalate.alert_policy(config, alert)
    if policy is None:
        raise Conflict(f"alert {alert.id} has no escalation policy to escalate; "
                       "reassign it to a user, schedule or policy")
    if alert.step < 0:
        following: rules.Position | None = rules.Position(0, 0)
    else:
        nxt = rules.after(policy, rules.Position(alert.step, alert.pass_number))
        following = None if nxt is None else nxt.position
    if following is None:
        raise Conflict(f"alert {alert.id} is at the last step of {policy.name}; nothing to "
                       "escalate to: reassign it or add a responder")
    before = {"status": alert.status, "step": alert.step + 1}
    if alert.status == ACKNOWLEDGED:
        timers.cancel_for_alert(session, alert_id=alert.id, now=now)
        alert.status = TRIGGERED
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        groups.lapsed(session, alert=alert, now=now)
        _forward_retrigger(session, config, alert, now)
    else:
        _cancel_own_steps(session, alert, now)
    _record(session, alert=alert, action="escalated_now", actor=actor, surface=surface,
            now=now, before=before, data={"step": following.step + 1},
            message=f"escalated to step {following.step + 1} of {policy.name}")
    escalate.run_from(session, config=config, alert=alert, position=following, now=now)
    return alert


def reassign(session: Session, *, config: Config, alert_id: int, target: Target, actor: str,
             surface: str, now: datetime) -> Alert:
    """Restart the alert's escalation at step 1 with `target` instead of its policy.

    Further policies stop; an acknowledged alert is triggered again so the
    new target is paged.
    """
    alert = _carrier(session, alert_id)
    _open(alert, "reassign")
    before = {"status": alert.status, "policy": alert.policy}
    _stop(session, alert, now, f"reassigned by {actor}")
    for found in timers.chains_of(session, alert.id):
        found.stopped_at = now
    if alert.status == ACKNOWLEDGED:
        alert.status = TRIGGERED
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        groups.lapsed(session, alert=alert, now=now)
    alert.responders = responders.to_json([target])
    alert.policy = responders.policy_name([target])
    alert.step, alert.pass_number = -1, 0
    noun = target.kind.replace("_", " ")
    _record(session, alert=alert, action="reassigned", actor=actor, surface=surface, now=now,
            before=before, data={"target": {target.kind: target.name}},
            message=f"reassigned to {noun} {target.name}")
    escalate.run_from(session, config=config, alert=alert, position=rules.Position(0, 0),
                      now=now)
    return alert


def add_responder(session: Session, *, config: Config, alert_id: int, target: Target,
                  actor: str, surface: str, now: datetime) -> Alert:
    """Page `target` for this alert too, as a further policy beside its own."""
    alert = _carrier(session, alert_id)
    _open(alert, "add a responder to")
    if alert.status == ACKNOWLEDGED:
        raise Conflict(f"alert {alert.id} is acknowledged, so a page would not be sent; "
                       "unacknowledge it first, or page the responder directly")
    name = chain_name(target)
    found = timers.chain(session, alert.id, name)
    if found is not None and found.stopped_at is None:
        raise Conflict(f"{target.kind.replace('_', ' ')} {target.name} is already paged "
                       f"for alert {alert.id}")
    noun = target.kind.replace("_", " ")
    timers.start_chain(session, alert_id=alert.id, policy=name,
                       route=f"responder added by {actor}", now=now)
    _record(session, alert=alert, action="responder_added", actor=actor, surface=surface,
            now=now, before={"status": alert.status}, data={"target": {target.kind: target.name}},
            message=f"added responder {noun} {target.name}")
    escalate.run_from(session, config=config, alert=alert, position=rules.Position(0, 0),
                      now=now, chain=name)
    return alert
