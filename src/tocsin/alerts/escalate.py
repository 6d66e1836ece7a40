"""Apply a due timer to its alert: run an escalation step or lapse an ack.

The engine calls `apply_timer` inside the transaction that claimed the
timer, with the alert row locked, so each step takes effect exactly once
even with several workers. A step is resolved at the moment it runs; after
downtime only the next due step runs and later timers count from now.

An alert may run several policies at once (routes with `continue`): its own
(timers with no policy) and further ones (timers naming theirs), each a
chain that advances on its own timers. A lapsed acknowledgement restarts
every chain from the step it had reached.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.alerts import groups, maintenance, paging, responders, rule_stops
from tocsin.alerts.service import add_timeline, get_alert, paging_fallback
from tocsin.alerts.store import ACKNOWLEDGED, TRIGGERED, Alert
from tocsin.config.model import Config, EscalationPolicy, Step, Target
from tocsin.escalation import rules
from tocsin.escalation import store as timers
from tocsin.logs import event
from tocsin.notify import pagerduty_store

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


def apply_timer(
    session: Session, *, config: Config, timer: timers.Timer, now: datetime,
    alert: Alert | None = None,
) -> None:
    """`alert`: the timer's alert, already read with its row locked in this transaction
    (the engine locks a batch's alerts in one statement); None: it is read and locked here."""
    if alert is None:
        alert = get_alert(session, timer.alert_id, lock=True)
    timer.state = timers.DONE
    timer.done_at = now
    if timer.kind == timers.ACK_LAPSE:
        _lapse(session, config=config, alert=alert, now=now)
        return
    if alert.status != TRIGGERED:
        return
    if timer.policy is not None and not _runs(session, alert, timer.policy):
        return  # a severity change took that policy off the alert
    position = rules.Position(timer.step, timer.pass_number)
    run_from(session, config=config, alert=alert, position=position, now=now,
             chain=timer.policy)


def _runs(session: Session, alert: Alert, chain: str) -> bool:
    found = timers.chain(session, alert.id, chain)
    return found is not None and found.stopped_at is None


def run_from(
    session: Session, *, config: Config, alert: Alert, position: rules.Position, now: datetime,
    chain: str | None = None,
) -> None:
    """Run the step at `position` of the chain `chain` (None: the alert's own policy);
    steps that reach nobody hand on at once.

    While a maintenance window holds the alert, the step waits for its end.
    """
    if maintenance.hold(session, config=config, alert=alert, now=now, position=position,
                        policy=chain):
        return
    policy = alert_policy(config, alert) if chain is None else policy_for(config, chain)
    if policy is None:
        gone = alert.policy if chain is None else chain
        paging_fallback(session, config=config, alert=alert, now=now,
                        why=f"escalation policy {gone!r} no longer exists")
        return
    current: rules.Position | None = rules.clamp(policy, position)
    while current is not None:
        if _run_step(session, config=config, alert=alert, policy=policy, position=current,
                     now=now, chain=chain):
            _schedule_next(session, alert=alert, policy=policy, position=current, now=now,
                           chain=chain)
            return
        following = rules.after(policy, current)
        if following is None:
            paging_fallback(session, config=config, alert=alert, now=now,
                            why="the final escalation step found nobody to page",
                            reason="nobody_found")
            return
        current = following.position


def _run_step(
    session: Session, *, config: Config, alert: Alert, policy: EscalationPolicy,
    position: rules.Position, now: datetime, chain: str | None,
) -> bool:
    """Page the step's people; False when it reached nobody."""
    _reached(session, alert, chain, position)
    step = policy.steps[position.step]
    label = _label(policy, position)
    people = paging.resolve_targets(session, config, step.targets, now)
    reaches = [paging.reach(config, person, alert.channels, alert.urgency) for person in people]
    usable = [found for found in reaches if paging.is_reachable(config, found)]
    if not usable:
        names = ", ".join(t.name for t in step.targets)
        why = "nobody is on call" if not people else "nobody has a usable contact"
        add_timeline(session, alert, kind="step_skipped", now=now,
                     message=f"{label} ({names}): {why}; moving on",
                     data={"step": position.step + 1, "pass": position.pass_number,
                           "policy": policy.name})
        event(log, "escalation.step_skipped", alert_id=alert.id, policy=policy.name,
              step=position.step + 1, pass_number=position.pass_number, why=why)
        return False
    if position != rules.Position(0, 0):
        rule_stops.stop_waiting(session, config=config, alert=alert, chain=chain,
                                label=label, now=now)
    paging.queue_pages(session, alert_id=alert.id, reaches=usable, step=position.step + 1,
                       now=now, chain=chain)
    _note_unusable_rules(session, alert, usable, label, now)
    unreachable = [found.user.display for found in reaches if found not in usable]
    if unreachable:
        add_timeline(session, alert, kind="unreachable", now=now,
                     message=f"{label}: {', '.join(unreachable)} on call but with no usable "
                             "contact; not paged")
    names = ", ".join(found.user.display for found in usable)
    add_timeline(session, alert, kind="escalated", now=now,
                 message=f"{label}: paging {names}",
                 data={"step": position.step + 1, "pass": position.pass_number,
                       "policy": policy.name, "users": [found.user.id for found in usable]})
    event(log, "escalation.step_started", alert_id=alert.id, policy=policy.name,
          step=position.step + 1, pass_number=position.pass_number, users=len(usable))
    return True


def _note_unusable_rules(
    session: Session, alert: Alert, usable: list[paging.Reach], label: str, now: datetime,
) -> None:
    for found in usable:
        if found.rules_unusable:
            add_timeline(session, alert, kind="rules_skipped", now=now,
                         message=f"{label}: none of {found.user.display}'s {alert.urgency} "
                                 "urgency notification rules can be used on this route; "
                                 "paging every allowed contact at once "
                                 f"({', '.join(found.channels)})")


def _reached(session: Session, alert: Alert, chain: str | None, position: rules.Position,
             ) -> None:
    """Remember the step the chain reached: on the alert for its own policy."""
    if chain is None:
        alert.step, alert.pass_number = position.step, position.pass_number
        return
    found = timers.chain(session, alert.id, chain)
    if found is not None:
        found.step, found.pass_number = position.step, position.pass_number


def _schedule_next(
    session: Session, *, alert: Alert, policy: EscalationPolicy, position: rules.Position,
    now: datetime, chain: str | None,
) -> None:
    following = rules.after(policy, position)
    if following is None:
        event(log, "escalation.finished", alert_id=alert.id, policy=policy.name)
        return
    due = now + timedelta(minutes=following.after_minutes)
    timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=due, now=now,
                    step=following.position.step, pass_number=following.position.pass_number,
                    policy=chain)


def _label(policy: EscalationPolicy, position: rules.Position) -> str:
    label = f"{policy.name}, step {position.step + 1} of {len(policy.steps)}"
    if policy.repeat:
        label += f", pass {position.pass_number + 1} of {policy.repeat + 1}"
    return label


def _lapse(session: Session, *, config: Config, alert: Alert, now: datetime) -> None:
    """Re-trigger the alert: its own policy and every further one restart from
    the step each had reached (one not started yet starts from its first)."""
    if alert.status != ACKNOWLEDGED:
        return
    alert.status = TRIGGERED
    chains = timers.chains_of(session, alert.id)
    names = ", ".join(found.policy for found in chains)
    also = f"; further policies restart too: {names}" if chains else ""
    add_timeline(session, alert, kind="ack_lapsed", now=now,
                 message=f"acknowledgement by {alert.acknowledged_by} lapsed; re-triggered"
                         + also)
    event(log, "alert.ack_lapsed", alert_id=alert.id, chains=len(chains))
    alert.acknowledged_at = None
    alert.acknowledged_by = None
    groups.lapsed(session, alert=alert, now=now)  # its group's other members re-trigger too
    # A far side the alert was forwarded to gets a new trigger with the same dedup_key.
    pagerduty_store.queue(session, notifications=config.notifications, alert_id=alert.id,
                          action=pagerduty_store.TRIGGER, now=now)
    resume(session, config=config, alert=alert, now=now)


def resume(session: Session, *, config: Config, alert: Alert, now: datetime) -> None:
    """Run the alert's own policy and each further one from the step each had reached."""
    position = rules.Position(max(alert.step, 0), alert.pass_number)
    run_from(session, config=config, alert=alert, position=position, now=now)
    for found in timers.chains_of(session, alert.id):
        reached = rules.Position(max(found.step, 0), found.pass_number)
        run_from(session, config=config, alert=alert, position=reached, now=now,
                 chain=found.policy)
