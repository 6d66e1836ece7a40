"""Apply a due timer to its alert: run an escalation step or lapse an ack.

The engine calls `apply_timer` inside the transaction that claimed the
timer, with the alert row locked, so each step takes effect exactly once
even with several workers. A step is resolved at the moment it runs; after
downtime only the next due step runs and later timers count from now.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.alerts import maintenance, paging, responders
from tocsin.alerts.service import add_timeline, get_alert, paging_fallback
from tocsin.alerts.store import ACKNOWLEDGED, TRIGGERED, Alert
from tocsin.config.model import Config, EscalationPolicy, Step, Target
from tocsin.escalation import rules
from tocsin.escalation import store as timers
from tocsin.logs import event

log = logging.getLogger(__name__)


def policy_for(config: Config, name: str | None) -> EscalationPolicy | None:
    """The named policy; a route's direct target gets a one-step policy."""
    if name is None:
        return None
    if name in config.escalation_policies:
        return config.escalation_policies[name]
    if not name.startswith("implicit:"):
        return None
    target_name = name.removeprefix("implicit:")
    if target_name in config.schedules:
        target = Target("schedule", target_name)
    elif target_name in config.users:
        target = Target("user", target_name)
    else:
        return None
    step = Step(targets=(target,), timeout_minutes=0)
    return EscalationPolicy(name=name, steps=(step,), implicit=True)


def alert_policy(config: Config, alert: Alert) -> EscalationPolicy | None:
    """The policy an alert runs now: its sender's responders, or its route's policy."""
    if alert.responders:
        return responders.policy_for(config, responders.from_json(alert.responders))
    return policy_for(config, alert.policy)


def apply_timer(session: Session, *, config: Config, timer: timers.Timer, now: datetime) -> None:
    alert = get_alert(session, timer.alert_id, lock=True)
    timer.state = timers.DONE
    timer.done_at = now
    if timer.kind == timers.ACK_LAPSE:
        _lapse(session, config=config, alert=alert, now=now)
        return
    if alert.status != TRIGGERED:
        return
    position = rules.Position(timer.step, timer.pass_number)
    run_from(session, config=config, alert=alert, position=position, now=now)


def run_from(
    session: Session, *, config: Config, alert: Alert, position: rules.Position, now: datetime,
) -> None:
    """Run the step at `position`; steps that reach nobody hand on at once.

    While a maintenance window holds the alert, the step waits for its end.
    """
    if maintenance.hold(session, config=config, alert=alert, now=now, position=position):
        return
    policy = alert_policy(config, alert)
    if policy is None:
        paging_fallback(session, config=config, alert=alert, now=now,
                        why=f"escalation policy {alert.policy!r} no longer exists")
        return
    current: rules.Position | None = rules.clamp(policy, position)
    while current is not None:
        if _run_step(session, config=config, alert=alert, policy=policy, position=current,
                     now=now):
            _schedule_next(session, alert=alert, policy=policy, position=current, now=now)
            return
        following = rules.after(policy, current)
        if following is None:
            paging_fallback(session, config=config, alert=alert, now=now,
                            why="the final escalation step found nobody to page")
            return
        current = following.position


def _run_step(
    session: Session, *, config: Config, alert: Alert, policy: EscalationPolicy,
    position: rules.Position, now: datetime,
) -> bool:
    """Page the step's people; False when it reached nobody."""
    alert.step = position.step
    alert.pass_number = position.pass_number
    step = policy.steps[position.step]
    label = _label(policy, position)
    people = paging.resolve_targets(session, config, step.targets, now)
    reaches = [paging.reach(config, person, alert.channels) for person in people]
    usable = [found for found in reaches if paging.is_reachable(config, found)]
    if not usable:
        names = ", ".join(t.name for t in step.targets)
        why = "nobody is on call" if not people else "nobody has a usable contact"
        add_timeline(session, alert, kind="step_skipped", now=now,
                     message=f"{label} ({names}): {why}; moving on",
                     data={"step": position.step + 1, "pass": position.pass_number})
        event(log, "escalation.step_skipped", alert_id=alert.id, step=position.step + 1,
              pass_number=position.pass_number, why=why)
        return False
    paging.queue_pages(session, alert_id=alert.id, reaches=usable, step=position.step + 1,
                       now=now)
    unreachable = [found.user.display for found in reaches if found not in usable]
    if unreachable:
        add_timeline(session, alert, kind="unreachable", now=now,
                     message=f"{label}: {', '.join(unreachable)} on call but with no usable "
                             "contact; not paged")
    names = ", ".join(found.user.display for found in usable)
    add_timeline(session, alert, kind="escalated", now=now,
                 message=f"{label}: paging {names}",
                 data={"step": position.step + 1, "pass": position.pass_number,
                       "users": [found.user.id for found in usable]})
    event(log, "escalation.step_started", alert_id=alert.id, step=position.step + 1,
          pass_number=position.pass_number, users=len(usable))
    return True


def _schedule_next(
    session: Session, *, alert: Alert, policy: EscalationPolicy, position: rules.Position,
    now: datetime,
) -> None:
    following = rules.after(policy, position)
    if following is None:
        event(log, "escalation.finished", alert_id=alert.id, policy=policy.name)
        return
    due = now + timedelta(minutes=following.after_minutes)
    timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=due, now=now,
                    step=following.position.step, pass_number=following.position.pass_number)


def _label(policy: EscalationPolicy, position: rules.Position) -> str:
    label = f"step {position.step + 1} of {len(policy.steps)}"
    if policy.repeat:
        label += f", pass {position.pass_number + 1} of {policy.repeat + 1}"
    return label


def _lapse(session: Session, *, config: Config, alert: Alert, now: datetime) -> None:
    if alert.status != ACKNOWLEDGED:
        return
    alert.status = TRIGGERED
    add_timeline(session, alert, kind="ack_lapsed", now=now,
                 message=f"acknowledgement by {alert.acknowledged_by} lapsed; re-triggered")
    event(log, "alert.ack_lapsed", alert_id=alert.id)
    alert.acknowledged_at = None
    alert.acknowledged_by = None
    position = rules.Position(max(alert.step, 0), alert.pass_number)
    run_from(session, config=config, alert=alert, position=position, now=now)
