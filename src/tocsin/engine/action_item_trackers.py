"""Push action items to issue trackers, and bring the trackers' status back.

A push is a leased row (`action_item_pushes`), queued by the person who
asked for it. The engine creates the issue with no row lock held, then
records the key on the item. Failures worth retrying are retried with
capped exponential backoff (`retry_delay`: 10 s doubling up to 30 minutes
between tries) for `GIVE_UP_AFTER` (24 hours) from the request, like the
other outboxes, so a tracker down for an afternoon still gets the issue;
then the push fails for good. The last error is kept on the item, with
every form of every tracker credential cut out and its length capped. A
crash between the far side's answer and the record would make the next
attempt create a second issue, so an attempt after the first looks for
the item's label (`tocsin-action-item-<id>`) first.

Every `trackers.sync_every_minutes`, each pushed item that is open, or
was done in the last `RECENT_DONE`, is claimed by moving its `synced_at`
(`FOR UPDATE SKIP LOCKED`: one worker per item), its issue's status is
read, and a change moves the item (closed: done; reopened: in progress).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.leases import CANCELLED, FAILED, QUEUED, SENT
from tocsin.logs import event
from tocsin.notify import tls
from tocsin.notify.trackers import (
    Created,
    IssueDraft,
    Tracker,
    TrackerFailure,
    scrub,
    tracker_secrets,
)
from tocsin.notify.trackers.registry import build_trackers
from tocsin.postmortems import action_rules as rules
from tocsin.postmortems import actions_store as store
from tocsin.postmortems import actions_trackers
from tocsin.postmortems.store import ActionItem

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
RETRY_FIRST = timedelta(seconds=10)
RETRY_CAP = timedelta(minutes=30)
TIMEOUT_SECONDS = 10.0
RECENT_DONE = timedelta(days=14)
SYNC_BATCH = 50
POLLED = ("jira", "github")


@dataclass
class TrackerWork:
    """The engine's tracker step: `run_due` once per pass."""

    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    rng: random.Random
    lease: timedelta
    batch: int = 20
    # The shared TLS context: loading the authorities per pass cost ~30 ms each time.
    make_client: Callable[[], httpx.Client] = field(default=lambda: httpx.Client(
        timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=tls.http_context()))
    _synced_at: datetime | None = field(default=None, init=False)

    def run_due(self) -> int:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            pushes = store.claim_pushes(session, now=now, lease_until=now + self.lease,
                                        limit=self.batch)
        synced = self._claim_sync(now)
        if not pushes and not synced:
            return 0
        config = self.config()
        with self.make_client() as client:
            trackers = build_trackers(config.trackers, client,
                                      lambda: int(self.clock.now().timestamp()))
            for push_id in pushes:
                self._push(config, trackers, push_id)
            for item_id in synced:
                self._sync(config, trackers, item_id)
        return len(pushes) + len(synced)

    def next_due(self, session: Session) -> datetime | None:
        """The next queued reminder, digest or push; the next status read when polled."""
        queued = store.earliest_due(session)
        trackers = self.config().trackers
        if not any(name in trackers.names() for name in POLLED) or self._synced_at is None:
            return queued
        wake = self._synced_at + self._sync_every(trackers.sync_every_minutes)
        return min(queued, wake) if queued is not None else wake

    @staticmethod
    def _sync_every(minutes: float) -> timedelta:
        # Items are claimed one by one as they go stale: look at least once a minute.
        return min(timedelta(minutes=1), timedelta(minutes=minutes))

    # -- pushing --------------------------------------------------------------

    def _push(self, config: Config, trackers: dict[str, Tracker], push_id: int) -> None:
        with self.sessions() as session:
            push = session.get(store.TrackerPush, push_id)
            item = session.get(ActionItem, push.item_id) if push is not None else None
            if push is None or item is None:
                self._finish(push_id, CANCELLED, "the action item no longer exists")
                return
            draft = _draft(config, item, push)
            tracker = trackers.get(push.tracker)
            first = push.attempts <= 1
        secrets = tracker_secrets(config.trackers)
        if tracker is None:
            self._fail(push_id, draft.item_id, f"{push.tracker} is no longer configured",
                       retryable=False)
            return
        event(log, "action_item.pushing", push_id=push_id, item_id=draft.item_id,
              tracker=tracker.name)
        try:
            created = (None if first else tracker.find(draft)) or tracker.create(draft)
        except TrackerFailure as failure:
            # The adapter scrubs what it sent; this also covers credentials it did not send.
            self._fail(push_id, draft.item_id, scrub(failure.message, secrets),
                       retryable=failure.retryable)
            return
        except Exception as exc:
            # An adapter bug costs a retry, not the push.
            log.exception("action_item.tracker_crashed", extra={"push_id": push_id})
            self._fail(push_id, draft.item_id, f"{tracker.name}: {type(exc).__name__}",
                       retryable=True)
            return
        self._pushed(push_id, draft.item_id, tracker.name, created)

    def _pushed(self, push_id: int, item_id: int, tracker: str, created: Created) -> None:
        now = self.clock.now()
        status = (rules.far_status_value(created.status.done, created.status.label)
                  if created.status is not None else None)
        with transaction(self.sessions) as session:
            push = session.get(store.TrackerPush, push_id)
            if push is not None:
                push.status, push.finished_at, push.lease_until = SENT, now, None
                push.detail = f"created {created.key}"
            actions_trackers.record_pushed(session, item_id=item_id, tracker=tracker,
                                           key=created.key, url=created.url, status=status,
                                           now=now)
        event(log, "action_item_push.sent", push_id=push_id, item_id=item_id, key=created.key)

    def _fail(self, push_id: int, item_id: int, detail: str, *, retryable: bool) -> None:
        now = self.clock.now()
        detail = detail[:actions_trackers.MAX_ERROR]
        with transaction(self.sessions) as session:
            push = session.get(store.TrackerPush, push_id)
            if push is None:
                return
            gave_up = not retryable or now >= push.created_at + GIVE_UP_AFTER
            if gave_up:
                push.status, push.finished_at = FAILED, now
            else:
                push.status = QUEUED
                push.due_at = now + retry_delay(push.attempts, self.rng)
            push.detail, push.lease_until = detail, None
            actions_trackers.record_tracker_error(session, item_id=item_id, detail=detail,
                                                  now=now, gave_up=gave_up)
        event(log, f"action_item_push.{FAILED if gave_up else QUEUED}", push_id=push_id,
              item_id=item_id, detail=detail)

    def _finish(self, push_id: int, status: str, detail: str) -> None:
        with transaction(self.sessions) as session:
            push = session.get(store.TrackerPush, push_id)
            if push is not None:
                push.status, push.detail, push.lease_until = status, detail, None
                push.finished_at = self.clock.now()
        event(log, f"action_item_push.{status}", push_id=push_id, detail=detail)

    # -- syncing --------------------------------------------------------------

    def _claim_sync(self, now: datetime) -> list[int]:
        """Claim the pushed items whose status is due to be read, by moving synced_at."""
        config = self.config()
        last = self._synced_at
        every = self._sync_every(config.trackers.sync_every_minutes)
        if last is not None and last <= now < last + every:
            return []
        self._synced_at = now
        polled = [name for name in POLLED if name in config.trackers.names()]
        if not polled:
            return []
        stale = now - timedelta(minutes=config.trackers.sync_every_minutes)
        query = (select(ActionItem)
                 .where(ActionItem.tracker.in_(polled), ActionItem.tracker_key.is_not(None),
                        or_(ActionItem.status != rules.DONE,
                            ActionItem.completed_at >= now - RECENT_DONE),
                        or_(ActionItem.synced_at.is_(None), ActionItem.synced_at <= stale))
                 .order_by(ActionItem.synced_at, ActionItem.id)
                 .limit(SYNC_BATCH).with_for_update(skip_locked=True))
        with transaction(self.sessions) as session:
            items = list(session.scalars(query))
            for item in items:
                item.synced_at = now
            return [item.id for item in items]

    def _sync(self, config: Config, trackers: dict[str, Tracker], item_id: int) -> None:
        with self.sessions() as session:
            item = session.get(ActionItem, item_id)
            if item is None or item.tracker_key is None or item.tracker is None:
                return
            key, name = item.tracker_key, item.tracker
        tracker = trackers.get(name)
        if tracker is None:
            return
        try:
            far = tracker.status(key)
        except TrackerFailure as failure:
            with transaction(self.sessions) as session:
                detail = scrub(failure.message, tracker_secrets(config.trackers))
                actions_trackers.record_tracker_error(session, item_id=item_id,
                                                      detail=detail,
                                                      now=self.clock.now())
            return
        if far is None:
            return
        with transaction(self.sessions) as session:
            actions_trackers.take_far_status(session, config=config, item_id=item_id,
                                             done=far.done, label=far.label,
                                             now=self.clock.now())
        event(log, "action_item.synced", item_id=item_id, tracker=name, done=far.done)


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """The wait after `attempts` failed tries: 10 s doubling, capped at 30 minutes,
    drawn from the upper half of that so tries spread out yet keep their pace."""
    ceiling: timedelta = min(RETRY_CAP, RETRY_FIRST * 2 ** min(max(attempts, 1) - 1, 20))
    return ceiling * rng.uniform(0.5, 1.0)


def _draft(config: Config, item: ActionItem, push: store.TrackerPush) -> IssueDraft:
    user = config.users.get(item.owner)
    owner = f"{user.display} ({item.owner})" if user else item.owner
    url = f"{config.public_url.rstrip('/')}/ui/action-items?id={item.id}"
    due = item.due_date.isoformat() if item.due_date else "none"
    body = (f"Action item #{item.id} from incident INC-{item.incident_id} in Tocsin.\n"
            f"Owner: {owner}\nDue: {due}\nPriority: {item.priority}\n\n{url}")
    return IssueDraft(item_id=item.id, title=item.title, body=body, priority=item.priority,
                      owner=item.owner, due_date=item.due_date,
                      incident=f"INC-{item.incident_id}", url=url, status=item.status,
                      idempotency_key=f"action-item-push-{push.id}")
