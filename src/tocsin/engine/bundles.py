"""Send due storm bundles: one page for many alerts, and record what happened.

A bundle is leased like a delivery. Just before sending, its alerts are read
again: a page whose alert was acknowledged or resolved by then is left out
(and cancelled), and a bundle with nothing left is not sent at all. The
outcome is then written on every page the bundle carried, so each alert's
timeline says how it was paged; a bundle that fails for good sends each of
its alerts to the fallback contact, as a failed page would.

A bundle of pages a rate limit held (reason RATE_LIMIT) that has only one
alert left at its first try is not sent as a bundle: its pages go back to
the outbox on their own, so the person gets a normal page for that alert.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarSelect, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.bundles import bundle_name, note_on_alerts
from tocsin.alerts.service import paging_fallback
from tocsin.alerts.store import TRIGGERED, Alert
from tocsin.alerts.storm_rules import route_path
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.delivery import DEFAULT_MAX_ATTEMPTS, nothing_else_reaches
from tocsin.engine.failover import fail_over
from tocsin.links import LinkSigner
from tocsin.logs import event
from tocsin.notify import bundle_store
from tocsin.notify.base import DeliveryOutcome, Notifier
from tocsin.notify.bundle_store import StormBundle, StormBundleItem
from tocsin.notify.bundles import (
    RATE_LIMIT,
    BundledAlert,
    BundleNotifier,
    BundlePage,
    limit_words,
)
from tocsin.notify.retry import backoff_seconds
from tocsin.notify.store import BUNDLED, CANCELLED, FAILED, QUEUED, SENT, Delivery
from tocsin.telemetry import PAGES

log = logging.getLogger(__name__)

# Ids per UPDATE ... IN (...): far below both backends' bind-parameter limits.
_CHUNK = 1000


@dataclass(frozen=True)
class _Prepared:
    page: BundlePage
    channel: str
    live: list[tuple[int, int]]  # (delivery id, alert id) of the pages it carries
    dropped: list[tuple[int, int, str]]  # (delivery id, alert id, alert status) left out
    first_try: bool

    @property
    def alone(self) -> bool:
        """A rate limit's bundle down to one alert before it went: that alert is paged alone."""
        page = self.page
        return page.reason == RATE_LIMIT and self.first_try and len(page.alerts) == 1


@dataclass
class BundleSender:
    sessions: sessionmaker[Session]
    config: Config
    notifiers: dict[str, Notifier]
    links: LinkSigner
    clock: Clock
    rng: random.Random

    def send(self, bundle_id: int) -> None:
        prepared = self._prepare(bundle_id)
        if prepared is None:
            return
        if not prepared.live:
            self._record(bundle_id, prepared, None)
            return
        if prepared.alone:
            self._unbundle(bundle_id, prepared)
            return
        notifier = self.notifiers.get(prepared.channel)
        if isinstance(notifier, BundleNotifier):
            outcome = self._call(notifier, prepared.page)
        else:
            detail = f"no provider that sends bundles is configured for {prepared.channel}"
            outcome = DeliveryOutcome(ok=False, detail=detail)
        self._record(bundle_id, prepared, outcome)

    def _prepare(self, bundle_id: int) -> _Prepared | None:
        with self.sessions() as session:
            bundle = session.get(StormBundle, bundle_id)
            if bundle is None:
                return None
            query = (
                select(StormBundleItem.delivery_id, Alert)
                .join(Delivery, Delivery.id == StormBundleItem.delivery_id)
                .join(Alert, Alert.id == StormBundleItem.alert_id)
                .where(StormBundleItem.bundle_id == bundle_id, Delivery.status == BUNDLED)
                .order_by(Alert.id, StormBundleItem.delivery_id)
            )
            live: list[tuple[int, int]] = []
            dropped: list[tuple[int, int, str]] = []
            alerts: dict[int, BundledAlert] = {}
            for delivery_id, alert in session.execute(query):
                if alert.status != TRIGGERED:
                    dropped.append((delivery_id, alert.id, alert.status))
                    continue
                live.append((delivery_id, alert.id))
                alerts.setdefault(alert.id, _bundled(alert))
            user = self.config.users.get(bundle.user_id)
            limit = self.config.notifications.rate_limit(bundle.channel)
            held_by = (limit_words(bundle.channel, limit.messages, limit.per_minutes)
                       if limit else "")
            page = BundlePage(
                bundle_id=bundle.id, idempotency_key=bundle.idempotency_key,
                user_id=bundle.user_id, user_name=user.display if user else bundle.user_id,
                address=bundle.address, alerts=tuple(alerts.values()),
                ack_url=self.links.bundle_url(bundle.id, bundle.user_id),
                reason=bundle.reason, limit=held_by,
            )
            return _Prepared(page, bundle.channel, live, dropped, bundle.attempts == 1)

    def _unbundle(self, bundle_id: int, prepared: _Prepared) -> None:
        """Send the one alert left in a rate limit's bundle as a page of its own."""
        now = self.clock.now()
        delivery_ids = [delivery_id for delivery_id, _ in prepared.live]
        with transaction(self.sessions) as session:
            bundle = session.get(StormBundle, bundle_id)
            if bundle is None:
                return
            _leave_out(session, bundle, prepared.dropped, now)
            # No longer in the bundle: the page counts, and is listed, on its own.
            session.execute(delete(StormBundleItem).where(
                StormBundleItem.bundle_id == bundle_id,
                StormBundleItem.delivery_id.in_(delivery_ids)))
            session.execute(
                update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.status == BUNDLED)
                .values(status=QUEUED, due_at=now, lease_until=None, attempts=0,
                        detail=f"released from the {prepared.channel} rate limit"))
            bundle.status = CANCELLED
            bundle.lease_until = None
            bundle.finished_at = now
            bundle.detail = "one alert was left; it goes as a page of its own"
        event(log, "bundle.cancelled", bundle_id=bundle_id, user=prepared.page.user_id,
              channel=prepared.channel, count=1, left_out=len(prepared.dropped),
              detail=bundle.detail)
        for delivery_id, alert_id in prepared.live:
            event(log, "delivery.unbundled", delivery_id=delivery_id, alert_id=alert_id,
                  bundle_id=bundle_id)

    def _call(self, notifier: BundleNotifier, page: BundlePage) -> DeliveryOutcome:
        try:
            return notifier.send_bundle(page)
        except Exception as exc:
            # An adapter bug must cost a retry, not the pages.
            log.exception("bundle.adapter_crashed")
            return DeliveryOutcome(ok=False, retryable=True, detail=type(exc).__name__)

    def _record(self, bundle_id: int, prepared: _Prepared,
                outcome: DeliveryOutcome | None) -> None:
        """`outcome` None: nothing was left to send."""
        now = self.clock.now()
        page, channel = prepared.page, prepared.channel
        with transaction(self.sessions) as session:
            bundle = session.get(StormBundle, bundle_id)
            if bundle is None:
                return
            _leave_out(session, bundle, prepared.dropped, now)
            if outcome is None:
                status = CANCELLED
                bundle.detail = "every alert in it was acknowledged or resolved; not sent"
            else:
                status = self._next_status(bundle, outcome, now)
                bundle.detail = outcome.detail
                bundle.provider_id = outcome.provider_id
                self._mark_pages(session, bundle, prepared, status, outcome, now)
            bundle.status = status
            bundle.lease_until = None
            if status != QUEUED:
                bundle.finished_at = now
            if status == SENT:
                bundle.alert_count = len(page.alerts)
        if outcome is not None:
            PAGES.labels(channel=channel, outcome=status).inc()
        event(log, "bundle." + status, bundle_id=bundle_id, user=page.user_id,
              channel=channel, count=len(page.alerts), left_out=len(prepared.dropped),
              detail=bundle.detail)

    def _mark_pages(
        self, session: Session, bundle: StormBundle, prepared: _Prepared, status: str,
        outcome: DeliveryOutcome, now: datetime,
    ) -> None:
        page, channel = prepared.page, prepared.channel
        alert_ids = sorted({alert_id for _, alert_id in prepared.live})
        who = f"{page.user_name} via {channel}"
        count = f"{len(alert_ids)} alert{'' if len(alert_ids) == 1 else 's'}"
        named = (f"bundle #{bundle.id} ({count} held by the rate limit)"
                 if page.reason == RATE_LIMIT else f"storm bundle #{bundle.id} ({count})")
        data = {"user": page.user_id, "channel": channel, "status": status,
                "attempt": bundle.attempts, "bundle_id": bundle.id, "reason": bundle.reason}
        if status == QUEUED:
            note_on_alerts(session, alert_ids, kind="notification", now=now, data=data,
                           message=f"attempt {bundle.attempts} to notify {who} in {named} "
                                   f"failed ({outcome.detail}); will retry")
            return
        detail = (f"sent in {bundle_name(bundle)}" if status == SENT
                  else f"{bundle_name(bundle)} failed: {outcome.detail}")
        _set_pages(session, [delivery_id for delivery_id, _ in prepared.live],
                   status=status, detail=detail, now=now, provider_id=outcome.provider_id)
        message = (f"notified {who} in {named}" if status == SENT
                   else f"could not notify {who} in {named}: {outcome.detail}")
        note_on_alerts(session, alert_ids, kind="notification", now=now, data=data,
                       message=message)
        if status == FAILED:
            self._fall_back(session, prepared, now)

    def _fall_back(self, session: Session, prepared: _Prepared, now: datetime) -> None:
        for delivery_id, alert_id in prepared.live:
            row = session.get(Delivery, delivery_id)
            alert = session.get(Alert, alert_id)
            if row is not None and alert is not None:
                fail_over(session, alert=alert, failed=row, user_name=prepared.page.user_name,
                          now=now)
            if row is not None and alert is not None and nothing_else_reaches(session, row):
                paging_fallback(session, config=self.config, alert=alert, now=now,
                                why=f"no channel could deliver the page to "
                                    f"{prepared.page.user_name}",
                                reason="undeliverable")

    def _next_status(self, bundle: StormBundle, outcome: DeliveryOutcome, now: datetime) -> str:
        if outcome.ok:
            return SENT
        webhook = self.config.notifications.webhook
        limit = webhook.max_attempts if bundle.channel == "webhook" and webhook else (
            DEFAULT_MAX_ATTEMPTS)
        if outcome.retryable and bundle.attempts < limit:
            bundle.due_at = now + timedelta(seconds=backoff_seconds(bundle.attempts, self.rng))
            return QUEUED
        return FAILED


def _bundled(alert: Alert) -> BundledAlert:
    labels = alert.labels or {}
    kind = str(labels.get("alertname") or alert.title)
    return BundledAlert(alert_id=alert.id, title=alert.title, kind=kind, status=alert.status,
                        route=route_path(alert.route) or "", severity=alert.severity,
                        service=alert.service)


def _leave_out(session: Session, bundle: StormBundle,
               dropped: Sequence[tuple[int, int, str]], now: datetime) -> None:
    by_status: dict[str, list[int]] = {}
    for delivery_id, _, alert_status in dropped:
        by_status.setdefault(alert_status, []).append(delivery_id)
    for alert_status, ids in by_status.items():
        _set_pages(session, ids, status=CANCELLED, now=now,
                   detail=f"alert is {alert_status}; left out of {bundle_name(bundle)}")


def _set_pages(session: Session, delivery_ids: list[int], *, status: str, detail: str,
               now: datetime, provider_id: str | None = None) -> None:
    """Finish pages still waiting in a bundle; one an acknowledgement cancelled stays so."""
    for start in range(0, len(delivery_ids), _CHUNK):
        chunk = delivery_ids[start:start + _CHUNK]
        session.execute(
            update(Delivery).where(Delivery.id.in_(chunk), Delivery.status == BUNDLED)
            .values(status=status, detail=detail, finished_at=now, lease_until=None,
                    provider_id=provider_id))


@dataclass
class Bundles:
    """The engine's bundle step: send every due bundle, a batch at a time."""

    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    notifiers: Callable[[], dict[str, Notifier]]
    links: LinkSigner
    clock: Clock
    rng: random.Random
    pool: ThreadPoolExecutor
    lease: timedelta
    batch: int

    def run_due(self) -> int:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            claimed = bundle_store.claim_due(session, now=now, lease_until=now + self.lease,
                                             limit=self.batch)
        if not claimed:
            return 0
        sender = BundleSender(sessions=self.sessions, config=self.config(),
                              notifiers=self.notifiers(), links=self.links, clock=self.clock,
                              rng=self.rng)
        futures = [self.pool.submit(sender.send, bundle_id) for bundle_id in claimed]
        for future in futures:
            future.result()
        return len(claimed)

    def due_probes(self) -> list[ScalarSelect[Any]]:
        """When a bundle is next due (see `leases.earliest`)."""
        return bundle_store.due_probes()
