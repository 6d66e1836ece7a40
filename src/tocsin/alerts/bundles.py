"""Storm bundles as use cases: pages are sorted into them; a person acknowledges one.

Like every service these run in the caller's session and never commit.
Acknowledging a bundle acknowledges, through `service.acknowledge`, each
alert it lists that is still triggered, each with its own audit row and a
timeline entry naming the bundle.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.alerts import service
from tocsin.alerts.store import ACKNOWLEDGED, TRIGGERED, Alert, AlertEvent
from tocsin.alerts.storm_rules import bundle_due, route_path
from tocsin.alerts.views import stamp
from tocsin.config.model import Config
from tocsin.db import MAX_ID
from tocsin.errors import Conflict, NotFound
from tocsin.logs import event
from tocsin.notify import bundle_store
from tocsin.notify.bundle_store import StormBundle, StormBundleItem
from tocsin.notify.bundles import RATE_LIMIT, STORM
from tocsin.notify.store import BUNDLED, QUEUED, SENDING, Delivery

log = logging.getLogger(__name__)


@dataclass
class BundleAck:
    bundle_id: int
    acknowledged: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)  # acknowledged before
    resolved: list[int] = field(default_factory=list)  # left as they are

    def as_json(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle_id, "acknowledged": self.acknowledged,
                "already_acknowledged": self.already, "resolved": self.resolved}


def sort_into_bundles(
    session: Session, *, delivery_ids: Sequence[int], stormy: Collection[str], now: datetime,
    channels: Collection[str] | None = None,
) -> list[tuple[Delivery, StormBundle]]:
    """Put the leased pages that a storm holds into their people's open bundles.

    A page is held when it is the first try of an escalation step's page of
    a triggered alert whose route is in `stormy` (paths), or whose alert had
    a page bundled before: a storm's alerts go on escalating together after
    the arrivals calm down. Pages to the fallback contact (step 0) and
    retries are never held. Each person and channel has one open bundle; a
    new one is due now, or a minute after the person's last one on the
    channel. Only pages on `channels` (those whose sender carries bundles;
    None: any) are held: a page no bundle can carry goes on its own.
    Answers the pages held, each with its bundle.
    """
    query = (
        select(Delivery.id, Delivery.alert_id, Delivery.channel, Alert.route)
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == SENDING,
               Delivery.attempts == 1, Delivery.step >= 1, Alert.status == TRIGGERED)
        .order_by(Delivery.id)
        .with_for_update(of=Delivery)
    )
    found = [(row, route_path(row.route) in stormy) for row in session.execute(query)]
    before = bundle_store.bundled_alerts(session, [row.alert_id for row, storm in found
                                                   if not storm])
    held_ids = [row.id for row, storm in found if (storm or row.alert_id in before)
                and (channels is None or row.channel in channels)]
    # Row objects only for the pages held (locked above): out of a storm that is none.
    held = list(session.scalars(
        select(Delivery).where(Delivery.id.in_(held_ids)).order_by(Delivery.id))
        ) if held_ids else []
    opened: dict[tuple[str, str], StormBundle] = {}
    joined = []
    for row in held:
        key = (row.user_id, row.channel)
        if key not in opened:
            opened[key] = _open_bundle(session, row, now)
        bundle = opened[key]
        bundle.address = row.address  # the newest, should a reload have changed it
        bundle.reason = STORM  # a rate limit's open bundle that a storm joins is the storm's
        session.add(StormBundleItem(bundle_id=bundle.id, delivery_id=row.id,
                                    alert_id=row.alert_id))
        row.status = BUNDLED
        row.lease_until = None
        row.attempts = 0  # it was never tried on its own
        row.detail = f"waiting in storm bundle #{bundle.id}"
        joined.append((row, bundle))
    return joined


def join_bundle(session: Session, *, rows: Sequence[Delivery], now: datetime) -> StormBundle:
    """Put pages of one person on one channel into their open bundle, opened if none.

    For pages a rate limit held (engine.pacing): they go as one message, as a
    storm's do. A bundle opened here says so (RATE_LIMIT); a storm's open
    bundle they join stays a storm's.
    """
    bundle = _open_bundle(session, rows[0], now, reason=RATE_LIMIT)
    bundle.address = rows[0].address
    for row in rows:
        session.add(StormBundleItem(bundle_id=bundle.id, delivery_id=row.id,
                                    alert_id=row.alert_id))
        row.status = BUNDLED
        row.lease_until = None
        row.attempts = 0
        row.detail = f"waiting in {bundle_name(bundle)}"
    return bundle


def bundle_name(bundle: StormBundle) -> str:
    """`storm bundle #4`, or `bundle #4 (rate limit)`: how details and timelines name it."""
    if bundle.reason == RATE_LIMIT:
        return f"bundle #{bundle.id} (rate limit)"
    return f"storm bundle #{bundle.id}"


def _open_bundle(session: Session, delivery: Delivery, now: datetime,
                 reason: str = STORM) -> StormBundle:
    key = {"user_id": delivery.user_id, "channel": delivery.channel}
    for _ in range(3):
        found = bundle_store.open_bundle(session, **key)
        if found is not None:
            return found
        due = bundle_due(now, bundle_store.last_due(session, **key))
        bundle = StormBundle(**key, address=delivery.address, status=QUEUED, attempts=0,
                             due_at=due, created_at=now, detail="", reason=reason,
                             idempotency_key=f"tocsin-bundle-{uuid.uuid4().hex}")
        try:
            with session.begin_nested():
                session.add(bundle)
        except IntegrityError:
            continue  # another engine opened one at the same moment: join that
        event(log, "bundle.opened", bundle_id=bundle.id, user=delivery.user_id,
              channel=delivery.channel, due_at=stamp(due), reason=reason)
        return bundle
    raise RuntimeError(f"no open bundle for {delivery.user_id} on {delivery.channel}")


def note_on_alerts(
    session: Session, alert_ids: list[int], *, kind: str, now: datetime, message: str,
    data: dict[str, Any],
) -> None:
    """The same timeline entry on many alerts, in one multi-row insert."""
    if alert_ids:
        session.execute(insert(AlertEvent), [
            {"alert_id": alert_id, "at": now, "kind": kind, "actor": None, "surface": None,
             "message": message, "data": data} for alert_id in alert_ids])


def get_bundle(session: Session, bundle_id: int) -> StormBundle:
    bundle = session.get(StormBundle, bundle_id) if 0 < bundle_id <= MAX_ID else None
    if bundle is None:
        raise NotFound(f"bundle {bundle_id} does not exist")
    return bundle


def listed_alerts(session: Session, bundle_id: int) -> list[Alert]:
    ids = bundle_store.listed_alert_ids(session, bundle_id)
    if not ids:
        return []
    return list(session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)))


def acknowledge_bundle(
    session: Session, *, config: Config, bundle_id: int, actor: str, surface: str,
    now: datetime,
) -> BundleAck:
    """Acknowledge every alert the bundle lists that is still triggered."""
    get_bundle(session, bundle_id)
    done = BundleAck(bundle_id)
    ids = bundle_store.listed_alert_ids(session, bundle_id)
    # Plain columns, not alerts: `acknowledge` loads each alert under its lock.
    found = session.execute(select(Alert.id, Alert.status, Alert.integration, Alert.dedup_key)
                            .where(Alert.id.in_(ids))).all()
    # In the order ingest locks a source's alerts in, so that a bundle
    # acknowledged during a webhook of the same alerts queues, not deadlocks.
    for alert_id, status, _, _ in sorted(found, key=lambda row: (row[2], _bytes(row[3]))):
        if status != TRIGGERED:
            (done.already if status == ACKNOWLEDGED else done.resolved).append(alert_id)
            continue
        try:
            alert = service.acknowledge(session, config=config, alert_id=alert_id, actor=actor,
                                        surface=surface, now=now, bundle_id=bundle_id)
        except Conflict:
            done.resolved.append(alert_id)  # resolved since it was read
            continue
        # Ours also when an acknowledgement of ours took its whole group a moment ago.
        ours = (alert.acknowledged_by, alert.acknowledged_at) == (actor, now)
        (done.acknowledged if ours else done.already).append(alert_id)
    for listed in (done.acknowledged, done.already, done.resolved):
        listed.sort()
    event(log, "bundle.acknowledged", bundle_id=bundle_id, actor=actor, surface=surface,
          alerts=len(done.acknowledged))
    return done


def _bytes(key: str) -> bytes:
    # Byte order of a dedup key, as batch_store.latest_alerts locks them.
    return key.encode("utf-8", "surrogatepass")


def bundle_json(session: Session, bundle: StormBundle) -> dict[str, Any]:
    """A bundle for the API: whom it went to, when, and the alerts it lists."""
    alerts = listed_alerts(session, bundle.id)
    return {
        "id": bundle.id, "user": bundle.user_id, "channel": bundle.channel,
        "status": bundle.status, "due_at": stamp(bundle.due_at),
        "finished_at": stamp(bundle.finished_at), "attempts": bundle.attempts,
        "detail": bundle.detail, "reason": bundle.reason,
        "alerts": [{"id": a.id, "title": a.title, "status": a.status,
                    "route": route_path(a.route), "severity": a.severity, "service": a.service}
                   for a in alerts],
    }
