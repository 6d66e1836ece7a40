"""Alert groups: the alerts a route's `group_by` puts together page once.

The first alert of a group pages through the route's escalation like any
alert and leads the group. Later members get a timeline row and page
nobody; one that joins an acknowledged group is acknowledged with it.
`service` does the rest with the helpers here: acknowledging any member
acknowledges every firing member (one audit row each), a person resolving
any member resolves them all, and a source resolving one member resolves
that member only. When the lead resolves while others still fire, its
pending escalation (timers, queued pages, maintenance holds, further
chains) moves to another firing member, so the next step pages on time.
The group resolves with its last firing member; the same key values after
that open a new group.

Locks: a member's row, then its group's row, as everywhere (the alert
first). A change to the whole group locks the group's open members in key
order, the order batch ingest locks keys in, and then the group. Within a
transaction the groups already locked are remembered, so a webhook of
thousands of alerts for one group locks it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from tocsin.alerts import group_store as store
from tocsin.alerts.group_rules import describe_counts, describe_key, group_key, open_key
from tocsin.alerts.maintenance_store import HELD, MaintenanceHold
from tocsin.alerts.routes import RouteDecision
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert, AlertEvent
from tocsin.db import MAX_ID
from tocsin.escalation import store as timers
from tocsin.logs import event
from tocsin.notify import store as outbox

log = logging.getLogger(__name__)

_LOCKED = "tocsin.groups.locked"
# Members looked at per query when choosing the next lead.
_SUCCESSOR_PAGE = 50
# Alert ids per query: far below either backend's limit on bound parameters.
_CHUNK = 1000


@dataclass
class _Locked:
    """The groups this transaction holds the lock of: by id, and open ones by key."""

    transaction: object
    by_id: dict[int, store.AlertGroup] = field(default_factory=dict)
    by_key: dict[str, store.AlertGroup] = field(default_factory=dict)


def _locked(session: Session) -> _Locked:
    found = session.info.get(_LOCKED)
    current = session.get_transaction()
    if not isinstance(found, _Locked) or found.transaction is not current:
        found = _Locked(current)
        session.info[_LOCKED] = found
    return found


def _remember(session: Session, group: store.AlertGroup) -> store.AlertGroup:
    locked = _locked(session)
    locked.by_id[group.id] = group
    if group.open_key is not None:
        locked.by_key[group.open_key] = group
    return group


def lock_group(session: Session, group_id: int) -> store.AlertGroup | None:
    """The group, locked; as this transaction already has it, when it locked it before."""
    known = _locked(session).by_id.get(group_id)
    if known is not None:
        return known
    group = store.lock(session, group_id)
    return None if group is None else _remember(session, group)


def _open_group(session: Session, name: str) -> store.AlertGroup | None:
    known = _locked(session).by_key.get(name)
    if known is not None and known.open_key == name:
        return known
    group = store.find_open(session, name)
    return None if group is None else _remember(session, group)


# -- joining ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Wanted:
    route: str
    key: dict[str, str]
    name: str


def _wanted(decision: RouteDecision) -> _Wanted | None:
    """The group a routing decision puts an alert in; None when its route does not group."""
    choice = decision.choice
    if choice is None or not choice.route.group_by:
        return None
    key = group_key(choice.route.group_by, decision.labels)
    return _Wanted(choice.route.path, key, open_key(choice.route.path, key))


def join(session: Session, *, alert: Alert, decision: RouteDecision, now: datetime) -> bool:
    """Put a routed, firing alert in the open group of its route and key values.

    True when it joined a group that already pages: the caller starts no
    escalation for it. False when it opened the group (it leads, and the
    caller starts its escalation as for any alert) or its route does not group.
    """
    wanted = _wanted(decision)
    if wanted is None or alert.status == RESOLVED or alert.responders:
        return False
    for _ in range(3):
        group = _open_group(session, wanted.name)
        if group is not None:
            _add(session, group=group, alert=alert, now=now)
            return True
        group = store.insert_open(session, {
            "route": wanted.route, "key": wanted.key, "open_key": wanted.name,
            "status": store.TRIGGERED, "lead_alert_id": alert.id, "alert_count": 1,
            "firing_count": 1, "opened_at": now})
        if group is not None:
            _opened(session, group=_remember(session, group), alert=alert, now=now)
            return False
        # Another transaction opened it since we looked: join that one.
    # Opened and closed by others three times over while we looked: rather than
    # fail the request, the alert pages on its own.
    event(log, "alert.group_missed", level=logging.WARNING, alert_id=alert.id,
          route=wanted.route)
    return False


def _opened(session: Session, *, group: store.AlertGroup, alert: Alert, now: datetime) -> None:
    alert.group_id = group.id
    _note(session, alert, now, f"opened group {group.id} ({group.route} by "
          f"{describe_key(group.key)}); this alert pages for the group", group)
    event(log, "group.opened", group_id=group.id, alert_id=alert.id, route=group.route)
    event(log, "alert.grouped", alert_id=alert.id, group_id=group.id, lead=True)


def _add(session: Session, *, group: store.AlertGroup, alert: Alert, now: datetime) -> None:
    group.alert_count += 1
    group.firing_count += 1
    alert.group_id = group.id
    counts = describe_counts(group.alert_count, group.firing_count)
    if group.status == store.ACKNOWLEDGED:
        # One acknowledgement covers the group, so a newcomer pages nobody.
        alert.status = ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = group.acknowledged_by
        why = (f"the group is acknowledged by {group.acknowledged_by}, and so is this alert; "
               "nobody paged")
    else:
        why = f"alert #{group.lead_alert_id} pages for the group; nobody else paged"
    _note(session, alert, now, f"joined group {group.id}: {counts}; {why}", group)
    # Kept short: a storm writes one of these per alert (the counts are on the timeline).
    event(log, "alert.grouped", alert_id=alert.id, group_id=group.id)


def _note(session: Session, alert: Alert, now: datetime, message: str,
          group: store.AlertGroup, kind: str = "grouped") -> None:
    # Every column given, as service.add_timeline does: a batch writes rows of
    # one shape in one statement (batch.write_added_rows).
    session.add(AlertEvent(alert_id=alert.id, at=now, kind=kind, actor=None, surface=None,
                           message=message, data={"group": group.id, "alerts": group.alert_count,
                                                  "firing": group.firing_count}))


# -- changing a whole group ------------------------------------------------------------


def _key_order(session: Session) -> tuple[Any, ...]:
    # The order batch ingest locks keys in: bytewise, which PostgreSQL needs told.
    if session.get_bind().dialect.name == "postgresql":
        return Alert.integration.collate("C"), Alert.dedup_key.collate("C"), Alert.id
    return Alert.integration, Alert.dedup_key, Alert.id


def lock_group_of(session: Session, alert_id: int) -> None:
    """Before changing a whole group: lock the open members of the alert's group in
    key order, then the group. Nothing for an alert in no group."""
    if not 0 < alert_id <= MAX_ID:
        return
    known = session.identity_map.get(identity_key(Alert, alert_id))
    if isinstance(known, Alert):
        group_id = known.group_id
    else:
        group_id = session.scalar(select(Alert.group_id).where(Alert.id == alert_id))
    if group_id is None:
        return
    session.flush()  # members a batch added so far must be seen by the query
    members = (select(Alert).where(Alert.group_id == group_id, Alert.status != RESOLVED)
               .order_by(*_key_order(session)).with_for_update())
    session.scalars(members).all()
    lock_group(session, group_id)


def _open_members(session: Session, group_id: int) -> list[Alert]:
    query = select(Alert).where(Alert.group_id == group_id, Alert.status != RESOLVED)
    return [member for member in session.scalars(query.order_by(Alert.id))
            if member.status != RESOLVED and member.group_id == group_id]


def mates(session: Session, alert: Alert, *, status: str) -> list[Alert]:
    """The other members of the alert's group with `status`, by id; [] for no group."""
    if alert.group_id is None:
        return []
    return [member for member in _open_members(session, alert.group_id)
            if member.id != alert.id and member.status == status]


def resolve_order(session: Session, alert: Alert) -> list[Alert]:
    """Every open member of the alert's group, `alert` among them, the lead last, so
    resolving them in turn hands the escalation to nobody; [alert] for no group."""
    if alert.group_id is None:
        return [alert]
    group = lock_group(session, alert.group_id)
    lead = group.lead_alert_id if group is not None else None
    others = [member for member in _open_members(session, alert.group_id)
              if member.id != alert.id]
    ordered = [member for member in others if member.id != lead] + [alert]
    return ordered + [member for member in others if member.id == lead]


def with_paging(session: Session, members: list[Alert]) -> set[int]:
    """Which of these alerts have an escalation step or a page waiting.

    Members other than the lead page nobody, so when a whole group of
    thousands is acknowledged or resolved, only these need their paging
    stopped one by one. One alert alone is taken as waiting, as before.
    """
    if len(members) <= 1:
        return {member.id for member in members}
    ids = [member.id for member in members]
    wanted = set(ids)
    found = {added.alert_id for added in session.new
             if isinstance(added, timers.Timer | outbox.Delivery) and added.alert_id in wanted}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        found.update(session.scalars(select(timers.Timer.alert_id).where(
            timers.Timer.alert_id.in_(chunk), timers.Timer.state == timers.PENDING)))
        found.update(session.scalars(select(outbox.Delivery.alert_id).where(
            outbox.Delivery.alert_id.in_(chunk), outbox.Delivery.status == outbox.QUEUED)))
    return found


def leads(session: Session, alert: Alert) -> bool:
    """Whether the alert carries its own escalation: in no group, or its group's lead."""
    if alert.group_id is None:
        return True
    group = lock_group(session, alert.group_id)
    return group is None or group.lead_alert_id == alert.id


def acknowledged(session: Session, *, alert: Alert, actor: str, now: datetime) -> None:
    """The alert's group is acknowledged, now that every firing member is."""
    group = lock_group(session, alert.group_id) if alert.group_id is not None else None
    if group is None or group.status != store.TRIGGERED:
        return
    group.status = store.ACKNOWLEDGED
    group.acknowledged_at = now
    group.acknowledged_by = actor
    event(log, "group.acknowledged", group_id=group.id, alert_id=alert.id, actor=actor,
          firing=group.firing_count)


def lapsed(session: Session, *, alert: Alert, now: datetime) -> None:
    """The lead's acknowledgement lapsed: the whole group is triggered again; the
    lead's escalation pages for it, the other members page nobody."""
    if alert.group_id is None:
        return
    lock_group_of(session, alert.id)  # the members this changes, then the group
    group = lock_group(session, alert.group_id)
    if group is None or group.status != store.ACKNOWLEDGED:
        return
    by = group.acknowledged_by
    group.status = store.TRIGGERED
    group.acknowledged_at = None
    group.acknowledged_by = None
    for member in mates(session, alert, status=ACKNOWLEDGED):
        member.status = TRIGGERED
        member.acknowledged_at = None
        member.acknowledged_by = None
        _note(session, member, now, f"acknowledgement by {by} lapsed with group {group.id}; "
              f"re-triggered, alert #{alert.id} pages for the group", group, "ack_lapsed")
    event(log, "group.ack_lapsed", group_id=group.id, alert_id=alert.id)


# -- leaving -------------------------------------------------------------------------------


def member_resolved(session: Session, *, alert: Alert, actor: str, now: datetime) -> None:
    """Count a member's resolve; close the group after its last firing member, or
    hand the lead's escalation on. Call it before the member's paging is stopped."""
    group = lock_group(session, alert.group_id) if alert.group_id is not None else None
    if group is None or group.status == store.RESOLVED:
        return
    group.firing_count = max(group.firing_count - 1, 0)
    _carry_on(session, group=group, leaving=alert, actor=actor, now=now)


def follow_route(session: Session, *, alert: Alert, decision: RouteDecision,
                 now: datetime) -> bool:
    """After a severity change rerouted an open alert: keep it in its group, or move
    it to the group of its new route and key values (or out of any).

    True when the alert carries its own escalation afterwards (in no group,
    or leading one); False when another member pages for its group.
    """
    wanted = None if alert.responders else _wanted(decision)
    group = lock_group(session, alert.group_id) if alert.group_id is not None else None
    if group is not None and wanted is not None and group.open_key == wanted.name:
        return group.lead_alert_id == alert.id
    if group is not None:
        _leave(session, group=group, alert=alert, now=now)
    if wanted is None or not join(session, alert=alert, decision=decision, now=now):
        return True
    # Its new group's lead pages for it, so whatever it still had waiting stops.
    timers.cancel_for_alert(session, alert_id=alert.id, now=now)
    alert.route = decision.where
    alert.policy = decision.policy
    alert.channels = list(decision.channels) if decision.channels is not None else None
    return False


def _leave(session: Session, *, group: store.AlertGroup, alert: Alert, now: datetime) -> None:
    group.alert_count = max(group.alert_count - 1, 0)
    if alert.status != RESOLVED:
        group.firing_count = max(group.firing_count - 1, 0)
    alert.group_id = None
    _note(session, alert, now, f"left group {group.id}: its route changed; the group now "
          f"has {describe_counts(group.alert_count, group.firing_count)}", group)
    event(log, "alert.ungrouped", alert_id=alert.id, group_id=group.id)
    _carry_on(session, group=group, leaving=alert, actor="tocsin", now=now)


def _carry_on(session: Session, *, group: store.AlertGroup, leaving: Alert, actor: str,
              now: datetime) -> None:
    if group.firing_count == 0:
        _close(session, group=group, last=leaving, actor=actor, now=now)
    elif group.lead_alert_id == leaving.id:
        _hand_over(session, group=group, leaving=leaving, actor=actor, now=now)


def _close(session: Session, *, group: store.AlertGroup, last: Alert, actor: str,
           now: datetime) -> None:
    name = group.open_key
    group.status = store.RESOLVED
    group.open_key = None
    group.resolved_at = now
    group.resolved_by = actor
    # Written now, not at the flush: an alert of the same key values later in
    # this transaction opens a new group under the same name.
    session.execute(update(store.AlertGroup).where(store.AlertGroup.id == group.id)
                    .values(open_key=None).execution_options(synchronize_session=False))
    if name is not None:
        _locked(session).by_key.pop(name, None)
    _note(session, last, now, f"group {group.id} resolved: none of its "
          f"{group.alert_count} alerts fires any more", group, "group_resolved")
    event(log, "group.resolved", group_id=group.id, alert_id=last.id, alerts=group.alert_count)


def _hand_over(session: Session, *, group: store.AlertGroup, leaving: Alert, actor: str,
               now: datetime) -> None:
    """Move the leaving lead's pending escalation to another firing member."""
    successor = _successor(session, group, leaving)
    if successor is None:
        # The count said someone fires, but nobody does: the group is over.
        group.firing_count = 0
        _close(session, group=group, last=leaving, actor=actor, now=now)
        return
    moved = _move_work(session, leaving.id, successor.id)
    successor.step, successor.pass_number = leaving.step, leaving.pass_number
    if leaving.flapping and not successor.flapping and leaving.step < 0:
        # The first step waited only because the old lead's key flapped; the
        # new lead's key does not, so its first step is due now.
        session.execute(
            update(timers.Timer)
            .where(timers.Timer.alert_id == successor.id, timers.Timer.state == timers.PENDING,
                   timers.Timer.kind == timers.ESCALATE, timers.Timer.due_at > now)
            .values(due_at=now)
            .execution_options(synchronize_session="fetch"))
    group.lead_alert_id = successor.id
    why = "stopped firing" if leaving.status == RESOLVED else "left the group"
    counts = describe_counts(group.alert_count, group.firing_count)
    if any(moved.values()):
        step = f"step {leaving.step + 1}" if leaving.step >= 0 else "its first step"
        ours = f"alert #{successor.id} carries group {group.id}'s escalation on from {step}"
        theirs = (f"now pages for group {group.id} ({counts}): alert #{leaving.id} {why} at "
                  f"{step}; its escalation carries on here")
    else:
        ours = f"alert #{successor.id} now leads group {group.id}; nothing was waiting to page"
        theirs = (f"now leads group {group.id} ({counts}): alert #{leaving.id} {why} after its "
                  "escalation had ended; nobody more is paged")
    _note(session, leaving, now, f"{why}; {ours}", group, "group_lead")
    _note(session, successor, now, theirs, group, "group_lead")
    event(log, "group.lead_changed", group_id=group.id, alert_id=successor.id,
          previous=leaving.id, **moved)


def _successor(session: Session, group: store.AlertGroup, leaving: Alert) -> Alert | None:
    """The next lead: the newest triggered member, else the newest acknowledged one.

    The newest, since alerts tend to stop firing in the order they started:
    the lead then changes about once per group, not once per member.
    Statuses come from the database, unless this transaction changed the
    member already and has not written it yet (a batch writes at the end).
    """
    triggered_first = case((Alert.status == TRIGGERED, 0), else_=1)
    query = (select(Alert.id, Alert.status)
             .where(Alert.group_id == group.id, Alert.id != leaving.id,
                    Alert.status != RESOLVED)
             .order_by(triggered_first, Alert.id.desc()))
    seen = 0
    while True:
        rows = session.execute(query.offset(seen).limit(_SUCCESSOR_PAGE)).all()
        ranked = []
        for alert_id, stored in rows:
            held = session.identity_map.get(identity_key(Alert, alert_id))
            if isinstance(held, Alert) and held.group_id != group.id:
                continue  # it left the group in this transaction
            status = held.status if isinstance(held, Alert) else stored
            if status != RESOLVED:
                ranked.append((status != TRIGGERED, -alert_id))
        if ranked:
            chosen = -min(ranked)[1]
            return session.scalars(select(Alert).where(Alert.id == chosen)
                                   .with_for_update()).one()
        if len(rows) < _SUCCESSOR_PAGE:
            return None
        seen += len(rows)


def _move_work(session: Session, old: int, new: int) -> dict[str, int]:
    """Re-point the pending work of alert `old` at alert `new`; how many rows of each."""
    moved = {}
    # A further policy (route `continue`) runs once per alert: one the new
    # lead runs already stays where it is.
    its_own = {chain.policy for chain in timers.chains_of(session, new, running_only=False)}
    for name, model, pending in (
        ("timers", timers.Timer, timers.Timer.state == timers.PENDING),
        # Pages a rate limit holds (engine.pacing) go on for the group too.
        ("pages", outbox.Delivery, outbox.Delivery.status.in_((outbox.QUEUED, outbox.HELD))),
        ("holds", MaintenanceHold, MaintenanceHold.state == HELD),
        ("chains", timers.Chain, timers.Chain.policy.not_in(its_own)),
    ):
        # No transaction that resolves or reroutes an alert has these rows
        # loaded (the engine claims timers and sends pages in its own), so the
        # session has nothing to bring up to date.
        result = session.execute(update(model).where(model.alert_id == old, pending)
                                 .values(alert_id=new)
                                 .execution_options(synchronize_session=False))
        moved[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Timers added in this transaction and not written yet move with the rest.
    for added in session.new:
        if isinstance(added, timers.Timer) and added.alert_id == old:
            added.alert_id = new
            moved["timers"] += 1
    return moved
