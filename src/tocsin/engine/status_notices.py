"""Send status page subscribers their notices (`status_notices`).

Each pass first queues a notice per subscriber for every public update not
fanned out yet (`statuspage.subscribers.fan_out`) and every maintenance
notice owed (`statuspage.maintenance_notices.fan_out`), then sends the due
ones: a confirmation, update or maintenance e-mail through the configured e-mail channel (with
a one-click `List-Unsubscribe`), or a signed JSON post to a webhook. A
notice is leased by moving its due time ahead while it is sent, so a dead
engine's notices go again after the lease: at least once; webhook receivers
drop repeats by `Tocsin-Idempotency-Key`. A refused notice fails at once; an
unreachable peer is tried again after a backoff, up to `MAX_ATTEMPTS`.

The webhook body (version 1, stable; new keys may be added, none removed):

    {"event": "status.update", "notice_id": 7,
     "page": {"title", "url"},
     "incident": {"id", "name", "status", "impact", "url"},
     "update": {"id", "status", "body", "display_at", "components": {name: status}},
     "unsubscribe_url": "..."}

A maintenance notice has "event": "status.maintenance" and, instead of
"incident" and "update":

     "maintenance": {"id", "name", "status": "scheduled" | "in_progress" | "completed",
                     "scheduled_for", "scheduled_until", "components": [name], "url"}
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tocsin import keys
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.logs import event
from tocsin.notify.base import DeliveryOutcome, Notifier
from tocsin.notify.email import EmailNotifier
from tocsin.notify.retry import backoff_seconds
from tocsin.notify.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from tocsin.oncall.rules import format_utc
from tocsin.statuspage import maintenance_notices, subscribers
from tocsin.statuspage import store as page_store
from tocsin.statuspage import subscribers_store as db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
WEBHOOK_TIMEOUT_SECONDS = 10.0
_RETRYABLE = frozenset({408, 429})
_EVENTS = {db.CONFIRM: "status.confirm", db.UPDATE: "status.update",
           db.MAINTENANCE: "status.maintenance"}


@dataclass(frozen=True)
class _Ready:
    notice_id: int
    kind: str
    channel: str
    address: str
    secret: str | None
    subscriber_id: int
    payload: dict[str, Any]


class _Skip(Exception):
    """Nothing to send any more: the subscriber or the update is gone."""


@dataclass
class StatusNotices:
    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    notifiers: Callable[[], dict[str, Notifier]]
    lease: timedelta
    rng: random.Random
    batch: int = 50
    transport: httpx.BaseTransport | None = None
    _tokens: subscribers.Tokens | None = field(default=None, init=False)

    def run_due(self) -> int:
        """Fan out new public updates, then send every due notice; how many were handled."""
        with transaction(self.sessions) as session:
            total = subscribers.fan_out(session, now=self.clock.now())
        total += self._fan_out_maintenance()
        while True:
            now = self.clock.now()
            with transaction(self.sessions) as session:
                claimed = _claim(session, now=now, until=now + self.lease, limit=self.batch)
            if not claimed:
                return total
            for notice_id in claimed:
                self._send_one(notice_id)
            total += len(claimed)

    def next_due(self, session: Session) -> datetime | None:
        maintenance = maintenance_notices.next_due(session, config=self.config(),
                                                   now=self.clock.now())
        found = [t for t in (db.earliest_due(session), subscribers.fan_out_due(session),
                             maintenance) if t is not None]
        return min(found) if found else None

    def _fan_out_maintenance(self) -> int:
        try:
            with transaction(self.sessions) as session:
                return maintenance_notices.fan_out(session, config=self.config(),
                                                   now=self.clock.now())
        except IntegrityError:
            # Another engine queued the same notice first: theirs goes, once.
            event(log, "status_maintenance.fanned_out_elsewhere")
            return 0

    def tokens(self) -> subscribers.Tokens:
        public_url = self.config().public_url
        if self._tokens is None or self._tokens.public_url != public_url.rstrip("/"):
            secret = keys.get_or_create(self.sessions, subscribers.KEY_NAME)
            self._tokens = subscribers.Tokens(secret, public_url, self.clock)
        return self._tokens

    def _send_one(self, notice_id: int) -> None:
        try:
            ready = self._prepare(notice_id)
        except _Skip as skip:
            self._record(notice_id, DeliveryOutcome(ok=False, detail=str(skip)))
            return
        outcome = self._post(ready) if ready.channel == db.WEBHOOK else self._mail(ready)
        self._record(notice_id, outcome)

    def _prepare(self, notice_id: int) -> _Ready:
        config, tokens = self.config(), self.tokens()
        with self.sessions() as session:
            notice = session.get(db.StatusNotice, notice_id)
            subscriber = session.get(db.StatusSubscriber, notice.subscriber_id) if notice else None
            if notice is None or subscriber is None or subscriber.unsubscribed_at is not None:
                raise _Skip("unsubscribed")
            page_url = config.public_url.rstrip("/") + "/status/"
            payload: dict[str, Any] = {
                "event": _EVENTS[notice.kind], "notice_id": notice.id,
                "page": {"title": config.status_page.title, "url": page_url},
                "unsubscribe_url": tokens.unsubscribe_url(subscriber.id)}
            if notice.kind == db.CONFIRM:
                payload["confirm_url"] = tokens.confirm_url(subscriber.id)
            elif notice.kind == db.MAINTENANCE:
                payload["maintenance"] = _maintenance(session, config, notice,
                                                      self.clock.now(), page_url)
            else:
                update = session.get(page_store.StatusUpdate, notice.update_id)
                incident = (session.get(page_store.StatusIncident, update.status_incident_id)
                            if update is not None else None)
                if update is None or incident is None:
                    raise _Skip("the public update no longer exists")
                payload["incident"] = {
                    "id": str(incident.id), "name": incident.name, "status": incident.status,
                    "impact": incident.impact, "url": f"{page_url}incidents/{incident.id}"}
                payload["update"] = {
                    "id": str(update.id), "status": update.status, "body": update.body,
                    "display_at": format_utc(update.display_at),
                    "components": dict(update.components)}
            return _Ready(notice_id=notice.id, kind=notice.kind, channel=subscriber.kind,
                          address=subscriber.address, secret=subscriber.secret,
                          subscriber_id=subscriber.id, payload=payload)

    def _mail(self, ready: _Ready) -> DeliveryOutcome:
        notifier = self.notifiers().get("email")
        if not isinstance(notifier, EmailNotifier):
            return DeliveryOutcome(ok=False, detail="no e-mail channel is configured "
                                                    "(notifications.email)")
        return notifier.send_message(ready.address, lambda: _message(notifier, ready))

    def _post(self, ready: _Ready) -> DeliveryOutcome:
        body = json.dumps(ready.payload, ensure_ascii=False).encode()
        stamp = int(self.clock.now().timestamp())
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(ready.secret or "", stamp, body),
                   IDEMPOTENCY_HEADER: f"status-notice-{ready.notice_id}"}
        try:
            with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, transport=self.transport,
                              follow_redirects=False) as client:
                answer = client.post(ready.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryOutcome(ok=False, retryable=True,
                                   detail=f"the endpoint did not answer ({type(exc).__name__})")
        if answer.is_success:
            return DeliveryOutcome(ok=True, detail=f"accepted ({answer.status_code})")
        retry = answer.status_code >= 500 or answer.status_code in _RETRYABLE
        return DeliveryOutcome(ok=False, retryable=retry,
                               detail=f"the endpoint answered {answer.status_code}")

    def _record(self, notice_id: int, outcome: DeliveryOutcome) -> None:
        now = self.clock.now()
        with transaction(self.sessions) as session:
            notice = session.get(db.StatusNotice, notice_id)
            if notice is None:
                return
            notice.attempts += 1
            if outcome.ok:
                notice.state, notice.sent_at, notice.last_error = db.SENT, now, None
            elif outcome.retryable and notice.attempts < MAX_ATTEMPTS:
                notice.due_at = now + timedelta(
                    seconds=backoff_seconds(notice.attempts, self.rng))
                notice.last_error = outcome.detail
            else:
                notice.state, notice.last_error = db.FAILED, outcome.detail
            state, attempts = notice.state, notice.attempts
        level = logging.INFO if outcome.ok else logging.WARNING
        event(log, "status_notice." + ("sent" if outcome.ok else "failed"), level,
              notice_id=notice_id, state=state, attempts=attempts, detail=outcome.detail)


def _claim(session: Session, *, now: datetime, until: datetime, limit: int) -> list[int]:
    rows = list(session.scalars(
        select(db.StatusNotice).where(db.StatusNotice.state == db.PENDING,
                                      db.StatusNotice.due_at <= now)
        .order_by(db.StatusNotice.due_at, db.StatusNotice.id).limit(limit)
        .with_for_update(skip_locked=True)))
    for row in rows:
        row.due_at = until
    return [row.id for row in rows]


def _maintenance(session: Session, config: Config, notice: db.StatusNotice, now: datetime,
                 page_url: str) -> dict[str, Any]:
    number = notice.update_id if notice.update_id is not None else 0
    shown = maintenance_notices.find(session, config=config, number=number, now=now)
    if shown is None:
        raise _Skip("the maintenance window no longer shows on the page")
    return {"id": shown.public_id, "name": shown.name,
            "status": maintenance_notices.notice_of(number),
            "scheduled_for": format_utc(shown.window.start),
            "scheduled_until": format_utc(shown.window.end),
            "components": [c.name for c in shown.components], "url": page_url}


_MAINTENANCE_SUBJECTS = {"scheduled": "Scheduled maintenance", "in_progress": "Maintenance started",
                         "completed": "Maintenance completed"}


def _message(notifier: EmailNotifier, ready: _Ready) -> EmailMessage:
    payload = ready.payload
    title = payload["page"]["title"]
    message = notifier.compose(ready.address, f"tocsin-status-notice-{ready.notice_id}")
    unsubscribe = payload["unsubscribe_url"]
    # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe.
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if ready.kind == db.CONFIRM:
        message["Subject"] = f"Confirm your subscription to {title}"
        lines = [f"Someone asked to be told by e-mail of incidents on {title}.",
                 "", f"To confirm, open: {payload['confirm_url']}", "",
                 "If it was not you, ignore this message: nothing more will be sent."]
    elif ready.kind == db.MAINTENANCE:
        window = payload["maintenance"]
        # Named by its components: the window's reason is for colleagues only.
        what = f"{_MAINTENANCE_SUBJECTS[window['status']]}: {', '.join(window['components'])}"
        message["Subject"] = f"[{title}] {what}"
        lines = [what, "",
                 f"From {window['scheduled_for']} to {window['scheduled_until']} (UTC)", "",
                 "Components: " + ", ".join(window["components"]), "",
                 f"Details: {window['url']}"]
    else:
        incident, update = payload["incident"], payload["update"]
        message["Subject"] = f"[{title}] {incident['name']}: {update['status']}"
        lines = [f"{incident['name']} - {update['status']} ({update['display_at']})", "",
                 update["body"], ""]
        lines += [f"{name}: {status.replace('_', ' ')}"
                  for name, status in update["components"].items()]
        lines += ["", f"Details: {incident['url']}"]
    lines += ["", "-- ", f"Unsubscribe: {unsubscribe}"]
    message.set_content("\n".join(lines))
    return message
