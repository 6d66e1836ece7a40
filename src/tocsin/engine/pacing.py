"""Rate limits per contact: hold what a contact may not get yet, then send it as one.

`notifications.rate_limits` caps the pages one contact (a channel and an
address) gets: at most `messages` in any `per_minutes`. A page leased for
its first try while its contact is at the cap is held (status `held`, due
when the window frees), never dropped; a page for a contact that already
has pages held joins them. When the window frees, the held pages whose
alert still needs paging go as one bundle (alerts.bundles; its reason "rate
limit" makes every text say they were held, not that a route is in storm)
when they are about two alerts or more, or alone when only one alert is
left, then or by the time the bundle goes (engine.bundles); those whose
alert was acknowledged or resolved meanwhile drop out with a timeline note.
Unlike a storm's, such a bundle does not bundle its alerts' later pages.
Held pages keep counting for the hard failover (engine.overdue). A storm's
bundle due for a contact at its limit waits the same way, taking pages on
meanwhile. What counts: pages sent, being sent or failed (by the provider's
report too: the phone may have got it) to the contact on their own, and
bundles sent, being sent or coming. So a fallback contact who is the person
whose text just failed is not texted again within their own limit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarSelect, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.bundles import join_bundle
from tocsin.alerts.service import add_timeline
from tocsin.alerts.store import RESOLVED, TRIGGERED, Alert
from tocsin.clock import Clock
from tocsin.config.model import Config, RateLimit
from tocsin.db import transaction
from tocsin.logs import event
from tocsin.notify.bundle_store import StormBundle, StormBundleItem
from tocsin.notify.store import CANCELLED, FAILED, HELD, QUEUED, SENDING, SENT, Delivery

log = logging.getLogger(__name__)

Contact = tuple[str, str]  # (channel, address)
_Change = tuple[str, dict[str, Any]]  # a log event and its fields


def window_frees(sent: Sequence[datetime], limit: RateLimit, now: datetime) -> datetime | None:
    """When the contact may get another page: None for now, else the time.

    `sent`: when each page counted went (those in flight as `now`), all within
    the last `per_minutes`.
    """
    if len(sent) < limit.messages:
        return None
    ordered = sorted(sent)
    # The window frees once enough of the oldest have aged out of it.
    oldest_to_leave = ordered[len(ordered) - limit.messages]
    return max(now, oldest_to_leave + timedelta(minutes=limit.per_minutes))


def recent_pages(session: Session, contact: Contact, *, since: datetime, now: datetime,
                 leaving_out: Sequence[int] = (), bundle: int | None = None) -> list[datetime]:
    """When the contact got each page counted against its limit after `since`.

    A page that went in a bundle counts as that one bundle; pages and bundles
    being sent count as `now`. `leaving_out`: pages being decided on;
    `bundle`: the bundle being decided on.
    """
    channel, address = contact
    alone = ~exists().where(StormBundleItem.delivery_id == Delivery.id)
    # A failed page was tried: it counts from when it failed.
    pages = select(Delivery.finished_at).where(
        Delivery.channel == channel, Delivery.address == address,
        Delivery.status.in_((SENT, FAILED)), Delivery.finished_at > since, alone)
    flying = select(func.count()).select_from(Delivery).where(
        Delivery.status == SENDING, Delivery.channel == channel, Delivery.address == address,
        Delivery.id.not_in(leaving_out))
    bundles = select(StormBundle.finished_at).where(
        StormBundle.channel == channel, StormBundle.address == address,
        StormBundle.status == SENT, StormBundle.finished_at > since)
    # A bundle not sent yet counts from when it goes.
    coming = select(StormBundle.due_at).where(
        StormBundle.channel == channel, StormBundle.address == address,
        StormBundle.status.in_((QUEUED, SENDING)), StormBundle.id != (bundle or 0))
    found = [at for at in session.scalars(pages) if at is not None]
    found += [at for at in session.scalars(bundles) if at is not None]
    found += [max(now, at) for at in session.scalars(coming)]
    return found + [now] * int(session.scalar(flying) or 0)


@dataclass
class Pacing:
    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    batch: int = 100

    # -- holding ------------------------------------------------------------

    def hold(self, delivery_ids: list[int]) -> list[int]:
        """Hold the leased pages whose contact is at its limit; answer the others."""
        config = self.config()
        limited = [limit.channel for limit in config.notifications.rate_limits]
        if not limited or not delivery_ids:
            return delivery_ids
        now = self.clock.now()
        with transaction(self.sessions) as session:
            query = (
                select(Delivery)
                .where(Delivery.id.in_(delivery_ids), Delivery.status == SENDING,
                       Delivery.attempts == 1, Delivery.channel.in_(limited))
                .order_by(Delivery.id)
            )
            by_contact: dict[Contact, list[Delivery]] = defaultdict(list)
            for row in session.scalars(query):
                by_contact[(row.channel, row.address)].append(row)
            held: list[tuple[Delivery, datetime]] = []
            for contact, rows in by_contact.items():
                limit = config.notifications.rate_limit(contact[0])
                assert limit is not None
                held += self._hold_contact(session, config, contact, rows, limit,
                                           delivery_ids, now)
            done = [(row.id, row.alert_id, row.channel, until) for row, until in held]
        for delivery_id, alert_id, channel, until in done:
            event(log, "delivery.held", delivery_id=delivery_id, alert_id=alert_id,
                  channel=channel, until=until.isoformat())
        kept = {delivery_id for delivery_id, _, _, _ in done}
        return [delivery_id for delivery_id in delivery_ids if delivery_id not in kept]

    def _hold_contact(
        self, session: Session, config: Config, contact: Contact, rows: list[Delivery],
        limit: RateLimit, deciding: Sequence[int], now: datetime,
    ) -> list[tuple[Delivery, datetime]]:
        window = timedelta(minutes=limit.per_minutes)
        sent = recent_pages(session, contact, since=now - window, now=now, leaving_out=deciding)
        held = []
        for row in rows:
            # Pages held before are due when the window frees, so this joins them.
            until = window_frees(sent, limit, now)
            if until is None:
                sent.append(now)  # this one goes
                continue
            self._hold(session, config, row, limit, until, now)
            held.append((row, until))
        return held

    def _hold(self, session: Session, config: Config, row: Delivery, limit: RateLimit,
              until: datetime, now: datetime) -> None:
        row.status = HELD
        row.due_at = until
        row.attempts = 0  # never tried
        row.lease_until = None
        row.detail = f"held by the {row.channel} rate limit until {_clock_time(until)}"
        alert = session.get(Alert, row.alert_id)
        if alert is None:
            return
        user = config.users.get(row.user_id)
        name = user.display if user else row.user_id
        plural = "" if limit.messages == 1 else "s"
        add_timeline(session, alert, kind="notification", now=now,
                     message=f"held the {row.channel} page to {name}: at most {limit.messages} "
                             f"page{plural} in {limit.per_minutes:g} minutes (rate limit); it "
                             f"goes at {_clock_time(until)} with any others held by then",
                     data={"user": row.user_id, "channel": row.channel, "status": HELD,
                           "delivery_id": row.id})

    # -- releasing ----------------------------------------------------------

    def run_due(self) -> int:
        """Release the held pages whose window freed by now; how many pages went on.

        Then hold back a storm's bundle due now whose contact is at its limit.
        """
        now = self.clock.now()
        with self.sessions() as session:
            contacts = session.execute(
                select(Delivery.channel, Delivery.address)
                .where(Delivery.status == HELD, Delivery.due_at <= now)
                .group_by(Delivery.channel, Delivery.address)
                .limit(self.batch)
            ).all()
        went = sum(self._release(contact, now) for contact in contacts)
        self._hold_bundles(now)
        return went

    def _hold_bundles(self, now: datetime) -> None:
        """Move a bundle's first try to when its contact's window frees; pages still join it."""
        config = self.config()
        limited = [limit.channel for limit in config.notifications.rate_limits]
        if not limited:
            return
        with transaction(self.sessions) as session:
            due = session.scalars(
                select(StormBundle)
                .where(StormBundle.status == QUEUED, StormBundle.due_at <= now,
                       StormBundle.attempts == 0, StormBundle.channel.in_(limited))
                .order_by(StormBundle.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True))
            held = []
            for bundle in due:
                limit = config.notifications.rate_limit(bundle.channel)
                assert limit is not None
                sent = recent_pages(session, (bundle.channel, bundle.address),
                                    since=now - timedelta(minutes=limit.per_minutes), now=now,
                                    bundle=bundle.id)
                later = window_frees(sent, limit, now)
                if later is not None:
                    bundle.due_at = later
                    held.append((bundle.id, bundle.user_id, bundle.channel, later))
        for bundle_id, user, channel, until in held:
            event(log, "bundle.held", bundle_id=bundle_id, user=user, channel=channel,
                  until=until.isoformat())

    def _release(self, contact: Contact, now: datetime) -> int:
        config = self.config()
        channel, address = contact
        limit = config.notifications.rate_limit(channel)
        with transaction(self.sessions) as session:
            rows = list(session.scalars(
                select(Delivery)
                .where(Delivery.status == HELD, Delivery.channel == channel,
                       Delivery.address == address, Delivery.due_at <= now)
                .order_by(Delivery.id)
                .with_for_update(skip_locked=True)))
            if not rows:
                return 0
            if limit is not None:
                window = timedelta(minutes=limit.per_minutes)
                sent = recent_pages(session, contact, since=now - window, now=now)
                later = window_frees(sent, limit, now)
                if later is not None:
                    for row in rows:
                        row.due_at = later  # something went meanwhile: the next window
                    return 0
            alerts = {row.alert_id: session.get(Alert, row.alert_id) for row in rows}
            live = [row for row in rows if _needs_paging(row, alerts[row.alert_id])]
            changes = self._drop(session, config, [row for row in rows if row not in live],
                                 alerts, now)
            changes += self._send(session, live, alerts, limit, now)
        # Logged once the change is stored.
        for name, fields in changes:
            event(log, name, **fields)
        return sum(1 for name, _ in changes if name == "delivery.released")

    def _drop(self, session: Session, config: Config, rows: list[Delivery],
              alerts: dict[int, Alert | None], now: datetime) -> list[_Change]:
        changes: list[_Change] = []
        for row in rows:
            alert = alerts[row.alert_id]
            status = alert.status if alert is not None else "gone"
            row.status = CANCELLED
            row.finished_at = now
            row.detail = f"alert is {status}; held page dropped"
            if alert is not None:
                user = config.users.get(row.user_id)
                name = user.display if user else row.user_id
                add_timeline(session, alert, kind="notification", now=now,
                             message=f"dropped the held {row.channel} page to {name}: "
                                     f"the alert is {status}",
                             data={"user": row.user_id, "channel": row.channel,
                                   "status": CANCELLED, "delivery_id": row.id})
            changes.append(("delivery.cancelled", {"delivery_id": row.id,
                                                   "alert_id": row.alert_id,
                                                   "detail": row.detail}))
        return changes

    def _send(self, session: Session, live: list[Delivery], alerts: dict[int, Alert | None],
              limit: RateLimit | None, now: datetime) -> list[_Change]:
        """One message now: a bundle of the first person's pages, or one page alone."""
        if not live:
            return []
        person = [row for row in live if row.user_id == live[0].user_id]
        bundled = [row for row in person
                   if (alert := alerts[row.alert_id]) is not None and alert.status == TRIGGERED]
        # Two pages for one alert (two steps, a repeat) are still one alert: not a bundle.
        going = bundled if len({row.alert_id for row in bundled}) >= 2 else person[:1]
        changes: list[_Change] = []
        if len(going) >= 2:
            bundle = join_bundle(session, rows=going, now=now)
            changes += [("delivery.released", {"delivery_id": row.id, "alert_id": row.alert_id,
                                               "bundle_id": bundle.id}) for row in going]
        else:
            row = going[0]
            row.status = QUEUED
            row.due_at = now
            row.detail = f"released from the {row.channel} rate limit"
            changes.append(("delivery.released", {"delivery_id": row.id,
                                                  "alert_id": row.alert_id}))
        # Another person's pages on a shared address, or a fallback page no bundle
        # can carry, wait for the next window.
        later = now + timedelta(minutes=limit.per_minutes if limit else 0)
        for row in live:
            if row not in going:
                row.due_at = later
        return changes

    def due_probes(self) -> list[ScalarSelect[Any]]:
        """When the first held page's window frees (see `leases.earliest`)."""
        return [select(func.min(Delivery.due_at)).where(Delivery.status == HELD)
                .scalar_subquery()]


def _needs_paging(row: Delivery, alert: Alert | None) -> bool:
    """As the sender decides: a triggered alert; a fallback page until resolved."""
    if alert is None:
        return False
    return alert.status == TRIGGERED or (row.step == 0 and alert.status != RESOLVED)


def _clock_time(when: datetime) -> str:
    return when.strftime("%H:%M:%S UTC")
