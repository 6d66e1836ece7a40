"""Alert use cases: ingest an event, acknowledge, resolve.

Each function runs inside the session its caller passes and never commits;
the caller commits before it answers, so an accepted alert and the timers
it caused are stored together or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts import batch_store, flapping, groups, maintenance, paging, responders
from tocsin.alerts.routes import AlsoTarget, RouteDecision, decide_route
from tocsin.alerts.rules import AlertState, Decision, IncomingEvent, decide
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert, AlertEvent
from tocsin.config.model import Config, Flapping, Integration
from tocsin.db import MAX_ID
from tocsin.errors import Conflict, NotFound
from tocsin.escalation import store as timers
from tocsin.escalation.rules import MAX_WAIT_MINUTES
from tocsin.logs import event
from tocsin.notify import pagerduty_store
from tocsin.notify import store as deliveries
from tocsin.notify.bundle_store import StormBundle
from tocsin.notify.bundles import RATE_LIMIT
from tocsin.routing.rules import RouteChoice
from tocsin.telemetry import PAGING_FALLBACKS, UNROUTED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    alert_id: int | None
    outcome: str
    dedup_key: str
    reason: str = ""


def add_timeline(
    session: Session, alert: Alert, *, kind: str, now: datetime, message: str,
    actor: str | None = None, surface: str | None = None, data: dict[str, Any] | None = None,
) -> None:
    session.add(AlertEvent(
        alert_id=alert.id, at=now, kind=kind, actor=actor, surface=surface,
        message=message, data=data or {},
    ))


def _latest(session: Session, integration: str, dedup_key: str) -> Alert | None:
    batch_store.lock_keys(session, integration, [dedup_key])
    query = (
        select(Alert)
        .where(Alert.integration == integration, Alert.dedup_key == dedup_key)
        .order_by(Alert.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()


def ingest(
    session: Session, *, config: Config, integration: Integration, incoming: IncomingEvent,
    now: datetime,
) -> IngestResult:
    """Apply one event from a source to the alert its key names."""
    current = _latest(session, integration.name, incoming.dedup_key)
    decision = decide_event(current, incoming)
    if decision.outcome in ("open", "open_resolved"):
        alert = build_alert(integration=integration, incoming=incoming, now=now,
                            resolved=decision.outcome == "open_resolved")
        session.add(alert)
        session.flush()
        record_opened(session, config=config, alert=alert, now=now,
                      reopened=current is not None)
        return IngestResult(alert.id, decision.outcome, incoming.dedup_key, decision.reason)
    return apply_decision(session, config=config, integration=integration, incoming=incoming,
                          current=current, decision=decision, now=now)


def decide_event(current: Alert | None, incoming: IncomingEvent) -> Decision:
    """What `incoming` does, given the latest alert with its key (None: never seen)."""
    state = None
    if current is not None:
        state = AlertState(current.status, current.instance, current.source_time)
    return decide(state, incoming)


def apply_decision(
    session: Session, *, config: Config, integration: Integration, incoming: IncomingEvent,
    current: Alert | None, decision: Decision, now: datetime,
) -> IngestResult:
    """Apply a decision other than opening an alert to the latest alert of the key."""
    source_actor = f"integration:{integration.name}"
    assert current is not None or decision.outcome == "ignore"
    if current is None:
        event(log, "alert.event_dropped", integration=integration.name,
              dedup_key=incoming.dedup_key, reason=decision.reason)
        return IngestResult(None, "ignore", incoming.dedup_key, decision.reason)
    if decision.outcome == "update":
        _update(session, config=config, alert=current, incoming=incoming, now=now)
    elif decision.outcome == "acknowledge":
        acknowledge(session, config=config, alert_id=current.id, actor=source_actor,
                    surface="source", now=now)
    elif decision.outcome == "resolve":
        resolve(session, config=config, alert_id=current.id, actor=source_actor,
                surface="source", now=now)
    else:
        # Kept on the alert so "why did my resolve not close it?" has an answer.
        add_timeline(session, current, kind="event_ignored", now=now, actor=source_actor,
                     surface="source", message=f"{incoming.action} ignored: {decision.reason}")
        event(log, "alert.event_ignored", alert_id=current.id, reason=decision.reason)
    return IngestResult(current.id, decision.outcome, incoming.dedup_key, decision.reason)


def build_alert(
    *, integration: Integration, incoming: IncomingEvent, now: datetime, resolved: bool,
) -> Alert:
    """A new alert for `incoming`, not yet in any session: the caller adds and flushes it."""
    service = incoming.service or integration.service
    return Alert(
        integration=integration.name, dedup_key=incoming.dedup_key,
        open_key=None if resolved else incoming.dedup_key, instance=incoming.instance,
        status=RESOLVED if resolved else TRIGGERED, title=incoming.title or incoming.dedup_key,
        description=incoming.description, severity=incoming.severity, service=service,
        source=incoming.source, labels=dict(incoming.labels), details=dict(incoming.details),
        source_url=incoming.source_url, runbook_url=incoming.runbook_url,
        triggered_at=now, last_event_at=now, source_time=incoming.instance_time,
        event_count=1, step=-1, pass_number=0,
        responders=responders.to_json(incoming.responders) or None,
        resolved_at=now if resolved else None,
        resolved_by=f"integration:{integration.name}" if resolved else None,
    )


def record_opened(
    session: Session, *, config: Config, alert: Alert, now: datetime, reopened: bool = False,
) -> None:
    """Once a new alert has its id: its first timeline row, then its route if it fires.

    `reopened`: an earlier alert of the key has resolved, so the key firing
    again is a change of it (see `flapping`).
    """
    if alert.status == RESOLVED:
        add_timeline(session, alert, kind="resolved", now=now, surface="source",
                     actor=alert.resolved_by,
                     message="resolve received for an alert never seen; kept, nobody paged")
        event(log, "alert.resolved_unseen", alert_id=alert.id, integration=alert.integration)
        return
    add_timeline(session, alert, kind="triggered", now=now, surface="source",
                 actor=f"integration:{alert.integration}", message=f"triggered: {alert.title}")
    event(log, "alert.triggered", alert_id=alert.id, integration=alert.integration,
          dedup_key=alert.dedup_key, severity=alert.severity, service=alert.service)
    _route(session, config=config, alert=alert, now=now, reopened=reopened)


def _route(
    session: Session, *, config: Config, alert: Alert, now: datetime, reopened: bool = False,
) -> None:
    decision = decide_route(config, alert.labels, severity=alert.severity,
                            service=alert.service, at=now)
    alert.urgency = decision.urgency
    setting = flapping.setting_for(config, decision)
    if reopened:
        flapping.note_change(session, alert=alert, setting=setting, now=now)
    if maintenance.hold(session, config=config, alert=alert, now=now):
        return  # routed and paged when the window ends (maintenance_release)
    if alert.responders:
        _route_to_responders(session, alert=alert, choice=decision.choice, setting=setting,
                             now=now)
        return
    if decision.policy is None:
        alert.route = None
        add_timeline(session, alert, kind="unrouted", now=now,
                     message="no route matched; paging the fallback contact")
        event(log, "alert.unrouted", level=logging.WARNING, alert_id=alert.id)
        UNROUTED.inc()
        paging_fallback(session, config=config, alert=alert, now=now, why="no route matched",
                        reason="no_route")
        return
    alert.route = decision.where
    alert.policy = decision.policy
    alert.channels = list(decision.channels) if decision.channels is not None else None
    add_timeline(session, alert, kind="routed", now=now,
                 message=f"{_taken(decision)}; policy {decision.policy}")
    if _declares_incident(decision):  # incidents.auto declares it, from the engine
        timers.schedule(session, kind=timers.DECLARE_INCIDENT, alert_id=alert.id, due_at=now,
                        now=now)
    if groups.join(session, alert=alert, decision=decision, now=now):
        return  # its group's lead pages for it
    due = flapping.first_page_at(session, alert=alert, setting=setting, now=now)
    timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=due, now=now)
    _start_chains(session, alert=alert, also=decision.also, kind="routed", now=now)


def _declares_incident(decision: RouteDecision) -> bool:
    routes = [decision.choice.route] if decision.choice is not None else []
    return any(r.declare_incident for r in routes + [f.choice.route for f in decision.also])


def _start_chains(
    session: Session, *, alert: Alert, also: tuple[AlsoTarget, ...], kind: str, now: datetime,
) -> None:
    """Start each further policy of a route with `continue` beside the alert's own.

    An acknowledged alert pages nobody now; its chains start if the
    acknowledgement lapses.
    """
    for found in also:
        route = found.choice.route
        where = f"{route.path} (line {route.line})"
        timers.start_chain(session, alert_id=alert.id, policy=found.policy,
                           route=f"{where}: {found.choice.why}", now=now)
        add_timeline(session, alert, kind=kind, now=now,
                     message=f"{route.path} matched too ({found.choice.why}), as the walk "
                             f"continued; policy {found.policy} escalates beside "
                             f"{alert.policy}", data={"policy": found.policy, "route": where})
        event(log, "escalation.chain_started", alert_id=alert.id, policy=found.policy,
              route=route.path)
        if alert.status == TRIGGERED:
            timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=now,
                            now=now, policy=found.policy)


def _stop_chains(
    session: Session, *, alert: Alert, keep: set[str], now: datetime,
) -> set[str]:
    """Stop the further policies a changed route no longer adds; the names still running."""
    running: set[str] = set()
    for chain in timers.chains_of(session, alert.id):
        if chain.policy in keep:
            running.add(chain.policy)
            continue
        chain.stopped_at = now
        timers.cancel_for_chain(session, alert_id=alert.id, policy=chain.policy, now=now)
        add_timeline(session, alert, kind="rerouted", now=now,
                     message=f"no route adds policy {chain.policy} any more; its escalation "
                             "stops", data={"policy": chain.policy})
        event(log, "escalation.chain_stopped", alert_id=alert.id, policy=chain.policy)
    return running


def route_alert(session: Session, *, config: Config, alert: Alert, now: datetime) -> None:
    """Route an alert and start paging it now, as if it had just triggered."""
    _route(session, config=config, alert=alert, now=now)


def _taken(decision: RouteDecision) -> str:
    if decision.choice is None:
        return f"no route matched; service {decision.labels.get('service')} names its policy"
    return f"{decision.choice.route.path} matched ({decision.choice.why})"


def _route_to_responders(
    session: Session, *, alert: Alert, choice: RouteChoice | None, setting: Flapping | None,
    now: datetime,
) -> None:
    # The sender named who to page: a matching route still sets the channels
    # and explains itself, but its target gives way to the responders.
    targets = responders.from_json(alert.responders)
    alert.policy = responders.policy_name(targets)
    if choice is not None:
        route = choice.route
        alert.route = f"{route.path} (line {route.line}): {choice.why}"
        alert.channels = list(route.channels) if route.channels is not None else None
    names = ", ".join(f"{t.kind.replace('_', ' ')} {t.name}" for t in targets)
    matched = "no route matched" if choice is None else (
        f"{choice.route.path} matched ({choice.why})")
    add_timeline(session, alert, kind="routed", now=now,
                 message=f"{matched}; paging the responders the sender named ({names}) "
                         "instead of a route's target", data={"responders": alert.responders})
    due = flapping.first_page_at(session, alert=alert, setting=setting, now=now)
    timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=due, now=now)


def _update(
    session: Session, *, config: Config, alert: Alert, incoming: IncomingEvent, now: datetime,
) -> None:
    alert.event_count += 1
    alert.last_event_at = now
    if incoming.instance is not None and incoming.instance != alert.instance:
        alert.instance = incoming.instance
        alert.source_time = incoming.instance_time
    if incoming.title:
        alert.title = incoming.title
    alert.labels = dict(incoming.labels) or alert.labels
    if incoming.description is not None:
        alert.description = incoming.description
    if incoming.severity is not None and incoming.severity != alert.severity:
        add_timeline(session, alert, kind="severity_changed", now=now, surface="source",
                     message=f"severity {alert.severity} -> {incoming.severity}")
        alert.severity = incoming.severity
        _reroute(config=config, alert=alert, session=session, now=now)
    else:
        flapping.recheck(session, config=config, alert=alert, now=now)
    event(log, "alert.repeated", alert_id=alert.id, count=alert.event_count)


def _reroute(*, config: Config, alert: Alert, session: Session, now: datetime) -> None:
    decision = decide_route(config, alert.labels, severity=alert.severity,
                            service=alert.service, at=now)
    # A severity change is a change of the key, whatever it does to the route.
    setting = flapping.setting_for(config, decision)
    flapping.note_change(session, alert=alert, setting=setting, now=now)
    if decision.urgency != alert.urgency:
        add_timeline(session, alert, kind="urgency_changed", now=now,
                     message=f"urgency {alert.urgency} -> {decision.urgency}")
        alert.urgency = decision.urgency
    if decision.policy is None or alert.responders:
        return  # responders named by the sender stay its targets
    if not groups.follow_route(session, alert=alert, decision=decision, now=now):
        return  # its group's lead pages for it
    if decision.policy != alert.policy:
        _switch_policy(session, alert=alert, decision=decision, policy=decision.policy,
                       setting=setting, now=now)
    # Further policies: those the new route adds and none ran start now, from
    # their first step; those it no longer adds stop.
    running = _stop_chains(session, alert=alert, keep=set(decision.also_policies), now=now)
    new = tuple(found for found in decision.also if found.policy not in running)
    _start_chains(session, alert=alert, also=new, kind="rerouted", now=now)


def _switch_policy(
    session: Session, *, alert: Alert, decision: RouteDecision, policy: str,
    setting: Flapping | None, now: datetime,
) -> None:
    add_timeline(session, alert, kind="rerouted", now=now,
                 message=f"{_taken(decision)}; later steps use {policy}")
    alert.route = decision.where
    alert.policy = policy
    alert.channels = list(decision.channels) if decision.channels else None
    if alert.status != TRIGGERED:
        return
    if timers.has_pending(session, alert_id=alert.id, kind=timers.ESCALATE):
        return
    # The old policy had run out (or never started): the new one starts from
    # its first step at once, so a raised severity is never left unpaged
    # (while the key flaps, once the hold on its pages ends).
    due = flapping.first_page_at(session, alert=alert, setting=setting, now=now)
    starts = "now" if due <= now else "when the flapping hold ends"
    add_timeline(session, alert, kind="rerouted", now=now,
                 message=f"no step was waiting; {policy} starts {starts}")
    timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=due, now=now)


def get_alert(session: Session, alert_id: int, *, lock: bool = False) -> Alert:
    if not 0 < alert_id <= MAX_ID:
        raise NotFound(f"alert {alert_id} does not exist")
    query = select(Alert).where(Alert.id == alert_id)
    if lock:
        query = query.with_for_update()
    alert = session.scalars(query).first()
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return alert


def acknowledge(
    session: Session, *, config: Config, alert_id: int, actor: str, surface: str,
    now: datetime, bundle_id: int | None = None,
) -> Alert:
    """Acknowledge: stop the escalation and cancel every queued page.

    `bundle_id`: the storm bundle whose acknowledgement this is, named on the
    timeline and in the audit row.
    """
    groups.lock_group_of(session, alert_id)
    alert = get_alert(session, alert_id, lock=True)
    if alert.status == RESOLVED:
        raise Conflict(f"alert {alert.id} is already resolved by {alert.resolved_by} "
                       f"at {alert.resolved_at:%Y-%m-%dT%H:%M:%SZ}")
    if alert.status == ACKNOWLEDGED:
        return alert
    # Acknowledging one member of a group acknowledges every firing member.
    members = [*groups.mates(session, alert, status=TRIGGERED), alert]
    waiting = groups.with_paging(session, members)
    for member in members:
        _acknowledge(session, config=config, alert=member, actor=actor, surface=surface,
                     now=now, bundle_id=bundle_id, stop=member.id in waiting)
    groups.acknowledged(session, alert=alert, actor=actor, now=now)
    return alert


def _acknowledge(
    session: Session, *, config: Config, alert: Alert, actor: str, surface: str,
    now: datetime, bundle_id: int | None, stop: bool = True,
) -> None:
    before = {"status": alert.status}
    bundle = {"bundle_id": bundle_id} if bundle_id is not None else {}
    grouped = {"group_id": alert.group_id} if alert.group_id is not None else {}
    alert.status = ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = actor
    if alert.first_acknowledged_at is None:
        alert.first_acknowledged_at = now
    if stop:
        _stop_paging(session, alert=alert, now=now, reason=f"acknowledged by {actor}")
    pagerduty_store.queue(session, notifications=config.notifications, alert_id=alert.id,
                          action=pagerduty_store.ACKNOWLEDGE, now=now)
    policy = config.escalation_policies.get(alert.policy or "")
    # In a group only the lead's acknowledgement lapses: it re-triggers them all.
    if policy is not None and policy.ack_timeout_minutes and groups.leads(session, alert):
        due = now + timedelta(minutes=min(policy.ack_timeout_minutes, MAX_WAIT_MINUTES))
        timers.schedule(session, kind=timers.ACK_LAPSE, alert_id=alert.id, due_at=due, now=now,
                        step=max(alert.step, 0), pass_number=alert.pass_number)
    audit.record(session, now=now, actor=actor, surface=surface, action="alert.acknowledge",
                 object_type="alert", object_id=alert.id, before=before,
                 after={"status": alert.status, **bundle, **grouped})
    with_bundle = f" with {_bundle_named(session, bundle_id)}" if bundle_id is not None else ""
    with_group = f" with group {alert.group_id}" if grouped else ""
    add_timeline(session, alert, kind="acknowledged", now=now, actor=actor, surface=surface,
                 message=f"acknowledged by {actor} via {surface}{with_bundle}{with_group}",
                 data={**bundle, **grouped})
    event(log, "alert.acknowledged", alert_id=alert.id, actor=actor, surface=surface,
          **bundle, **grouped)


def _bundle_named(session: Session, bundle_id: int) -> str:
    """As alerts.bundles.bundle_name: a rate limit's bundle is not called a storm's."""
    found = session.get(StormBundle, bundle_id)
    if found is not None and found.reason == RATE_LIMIT:
        return f"bundle #{bundle_id} (rate limit)"
    return f"storm bundle #{bundle_id}"


def resolve(
    session: Session, *, config: Config, alert_id: int, actor: str, surface: str,
    now: datetime,
) -> Alert:
    """Resolve: close the alert, free its key, stop everything queued for it.

    A person resolving a member of a group resolves every member; a source
    resolves the one alert it names.
    """
    whole_group = surface != "source"
    if whole_group:
        groups.lock_group_of(session, alert_id)
    alert = get_alert(session, alert_id, lock=True)
    if alert.status == RESOLVED:
        return alert
    members = groups.resolve_order(session, alert) if whole_group else [alert]
    waiting = groups.with_paging(session, members)
    for member in members:
        _resolve(session, config=config, alert=member, actor=actor, surface=surface, now=now,
                 stop=member.id in waiting)
    return alert


def _resolve(
    session: Session, *, config: Config, alert: Alert, actor: str, surface: str, now: datetime,
    stop: bool = True,
) -> None:
    before = {"status": alert.status}
    grouped = {"group_id": alert.group_id} if alert.group_id is not None else {}
    alert.status = RESOLVED
    alert.open_key = None
    alert.resolved_at = now
    alert.resolved_by = actor
    audit.record(session, now=now, actor=actor, surface=surface, action="alert.resolve",
                 object_type="alert", object_id=alert.id, before=before,
                 after={"status": alert.status, **grouped})
    with_group = f" with group {alert.group_id}" if grouped and surface != "source" else ""
    add_timeline(session, alert, kind="resolved", now=now, actor=actor, surface=surface,
                 message=f"resolved by {actor} via {surface}{with_group}", data=grouped)
    # Before paging stops: a lead's escalation moves on to a member still firing.
    groups.member_resolved(session, alert=alert, actor=actor, now=now)
    if stop:
        _stop_paging(session, alert=alert, now=now, reason=f"resolved by {actor}")
    pagerduty_store.queue(session, notifications=config.notifications, alert_id=alert.id,
                          action=pagerduty_store.RESOLVE, now=now)
    event(log, "alert.resolved", alert_id=alert.id, actor=actor, surface=surface, **grouped)
    flapping.note_change(session, alert=alert, setting=flapping.setting_now(config, alert, now),
                         now=now)


def _stop_paging(session: Session, *, alert: Alert, now: datetime, reason: str) -> None:
    stopped_timers = timers.cancel_for_alert(session, alert_id=alert.id, now=now)
    stopped_pages = deliveries.cancel_for_alert(session, alert_id=alert.id, now=now,
                                                reason=reason)
    if stopped_timers or stopped_pages:
        event(log, "escalation.stopped", alert_id=alert.id, timers=stopped_timers,
              deliveries=stopped_pages)


def paging_fallback(
    session: Session, *, config: Config, alert: Alert, now: datetime, why: str,
    reason: str = "other",
) -> None:
    """Page the configured fallback contacts; say so on the alert either way.

    `reason` labels the `tocsin_paging_fallbacks` metric (see telemetry).
    """
    people = [config.users[u] for u in config.notifications.fallback if u in config.users]
    reaches = [paging.reach(config, person, None) for person in people]
    # As for a step: once a real provider is configured the console reaches nobody.
    usable = [found for found in reaches if paging.is_reachable(config, found)]
    unreachable = ", ".join(found.user.display for found in reaches if found not in usable)
    if not usable:
        nobody = ("no fallback contact is configured" if not reaches else
                  f"the fallback contact ({unreachable}) has no usable contact")
        add_timeline(session, alert, kind="fallback", now=now,
                     message=f"{why}; {nobody}, nobody was paged")
        event(log, "alert.nobody_paged", level=logging.ERROR, alert_id=alert.id, why=why)
        PAGING_FALLBACKS.labels(reason=reason, outcome="nobody_paged").inc()
        return
    paging.queue_pages(session, alert_id=alert.id, reaches=usable, step=0, now=now,
                       chain=None)
    flapping.note_page(session, alert=alert, now=now)
    names = ", ".join(found.user.display for found in usable)
    also = f" ({unreachable}: no usable contact)" if unreachable else ""
    add_timeline(session, alert, kind="fallback", now=now,
                 message=f"{why}; paged the fallback contact: {names}{also}")
    event(log, "alert.fallback_paged", level=logging.WARNING, alert_id=alert.id, why=why)
    PAGING_FALLBACKS.labels(reason=reason, outcome="fallback_paged").inc()
