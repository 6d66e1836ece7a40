"""Subscribing to the status page: e-mail (confirmed first) and webhooks.

Anyone may subscribe from the public page, so nothing here trusts the
caller: an e-mail address is sent only its confirmation until its owner
follows the signed link in it, and every message carries a signed link
that unsubscribes in one click. A webhook endpoint is active at once and
gets a secret of its own, shown once, that signs every post.

Public updates reach subscribers through `status_notices`: `fan_out`
queues one row per subscriber whose components the update's incident
touched (or who chose none: the whole page) for each update not yet
fanned out; the engine sends them. Functions run in the caller's session
and never commit.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.logs import event
from tocsin.statuspage import store as page_store
from tocsin.statuspage import subscribers_store as db
from tocsin.statuspage.subscribers_store import StatusSubscriber

log = logging.getLogger(__name__)

CONFIRM_MAX_AGE = timedelta(days=7)
# One confirmation mail per address in this time, however often the form is sent.
RESEND_AFTER = timedelta(hours=1)
_EMAIL = re.compile(r"[^@\s<>,\"()\[\];:\\]+@[^@\s<>,\"()\[\];:\\]+\.[^@\s<>,\"()\[\];:\\]+")
SURFACE = "status_page"
KEY_NAME = "status_subscriptions"  # in app_secrets (`keys`)
ACTOR = "subscriber"


class TokenError(ValueError):
    """A confirmation or unsubscribe link that is not ours, or too old."""


class Tokens:
    """Signed links for one subscriber: confirm (a week) and unsubscribe (no expiry)."""

    def __init__(self, secret: str, public_url: str, clock: Clock) -> None:
        def stamp(_signer: TimestampSigner) -> int:
            return int(clock.now().timestamp())

        signer = type("ClockSigner", (TimestampSigner,), {"get_timestamp": stamp})
        self._confirm = URLSafeTimedSerializer(secret, salt="tocsin.status-confirm",
                                               signer=signer)
        self._unsubscribe = URLSafeSerializer(secret, salt="tocsin.status-unsubscribe")
        self.public_url = public_url.rstrip("/")

    def confirm_url(self, subscriber_id: int) -> str:
        token = str(self._confirm.dumps({"s": subscriber_id}))
        return f"{self.public_url}/status/subscriptions/confirm/{token}"

    def unsubscribe_url(self, subscriber_id: int) -> str:
        token = str(self._unsubscribe.dumps({"s": subscriber_id}))
        return f"{self.public_url}/status/subscriptions/unsubscribe/{token}"

    def check_confirm(self, token: str) -> int:
        try:
            data = self._confirm.loads(token, max_age=int(CONFIRM_MAX_AGE.total_seconds()))
        except SignatureExpired as exc:
            raise TokenError("this confirmation link has expired; subscribe again") from exc
        except BadSignature as exc:
            raise TokenError("this confirmation link is not valid") from exc
        return _subscriber_of(data)

    def check_unsubscribe(self, token: str) -> int:
        try:
            data = self._unsubscribe.loads(token)
        except BadSignature as exc:
            raise TokenError("this unsubscribe link is not valid") from exc
        return _subscriber_of(data)


def _subscriber_of(data: Any) -> int:
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise TokenError("this link is not valid")
    return int(data["s"])


def subscribe(
    session: Session, *, config: Config, email: Any = None, endpoint: Any = None,
    components: Any = None, now: datetime,
) -> StatusSubscriber:
    """A new subscriber; InvalidInput names every bad field."""
    problems: list[FieldProblem] = []
    if (email is None) == (endpoint is None):
        problems.append(FieldProblem("email", "give either email or endpoint (a webhook URL)"))
    elif email is not None and not (isinstance(email, str) and len(email) <= db.MAX_ADDRESS
                                    and _EMAIL.fullmatch(email.strip())):
        problems.append(FieldProblem("email", "must be an e-mail address, such as "
                                              "ann@example.com"))
    elif endpoint is not None and not _web_url(endpoint):
        problems.append(FieldProblem("endpoint", "must be an http or https URL, such as "
                                                 "https://hooks.example.com/status"))
    chosen = _components(config, components, problems)
    if problems:
        raise InvalidInput("the subscription is invalid", problems)
    if email is not None:
        waiting = _waiting(session, email.strip(), now)
        if waiting is not None:
            # Asked again before confirming: no second mail, so the form cannot flood an inbox.
            return waiting
        row = StatusSubscriber(kind=db.EMAIL, address=email.strip(), components=chosen,
                         created_at=now)
    else:
        row = StatusSubscriber(kind=db.WEBHOOK, address=endpoint.strip(), components=chosen,
                         secret=secrets.token_urlsafe(32), created_at=now, confirmed_at=now)
    session.add(row)
    session.flush()
    if row.kind == db.EMAIL:
        session.add(db.StatusNotice(subscriber_id=row.id, kind=db.CONFIRM, state=db.PENDING,
                                    attempts=0, due_at=now, created_at=now))
    audit.record(session, now=now, actor=ACTOR, surface=SURFACE,
                 action="status_subscriber.create", object_type="status_subscriber",
                 object_id=row.id, after={"kind": row.kind, "components": chosen})
    event(log, "status_subscriber.created", subscriber_id=row.id, kind=row.kind,
          components=len(chosen))
    return row


def confirm(session: Session, subscriber_id: int, *, now: datetime) -> StatusSubscriber:
    row = _get(session, subscriber_id)
    if row.confirmed_at is None and row.unsubscribed_at is None:
        row.confirmed_at = now
        audit.record(session, now=now, actor=ACTOR, surface=SURFACE,
                     action="status_subscriber.confirm", object_type="status_subscriber",
                     object_id=row.id)
        event(log, "status_subscriber.confirmed", subscriber_id=row.id)
    return row


def unsubscribe(session: Session, subscriber_id: int, *, now: datetime) -> StatusSubscriber:
    row = _get(session, subscriber_id)
    if row.unsubscribed_at is None:
        row.unsubscribed_at = now
        # Anything still queued for them is dropped, not sent.
        for notice in session.scalars(select(db.StatusNotice).where(
                db.StatusNotice.subscriber_id == row.id, db.StatusNotice.state == db.PENDING)):
            notice.state, notice.last_error = db.FAILED, "unsubscribed"
        audit.record(session, now=now, actor=ACTOR, surface=SURFACE,
                     action="status_subscriber.unsubscribe", object_type="status_subscriber",
                     object_id=row.id)
        event(log, "status_subscriber.unsubscribed", subscriber_id=row.id)
    return row


def fan_out(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Queue a notice per active subscriber for each update not yet fanned out.

    An update dated ahead waits for its display time: subscribers hear it when
    the page shows it, not before.
    """
    done = select(db.StatusFanout.update_id)
    updates = list(session.scalars(
        select(page_store.StatusUpdate).where(page_store.StatusUpdate.id.not_in(done),
                                              page_store.StatusUpdate.display_at <= now)
        .order_by(page_store.StatusUpdate.id).limit(limit)))
    if not updates:
        return 0
    active = list(session.scalars(select(StatusSubscriber).where(
        StatusSubscriber.confirmed_at.is_not(None), StatusSubscriber.unsubscribed_at.is_(None))))
    touched = _touched(session, {update.status_incident_id for update in updates})
    queued = 0
    for update in updates:
        names = touched.get(update.status_incident_id, set())
        for subscriber in active:
            if subscriber.components and not names & set(subscriber.components):
                continue
            session.add(db.StatusNotice(subscriber_id=subscriber.id, kind=db.UPDATE,
                                        update_id=update.id, state=db.PENDING, attempts=0,
                                        due_at=now, created_at=now))
            queued += 1
        session.add(db.StatusFanout(update_id=update.id, at=now))
    session.flush()
    event(log, "status_subscriber.fanned_out", updates=len(updates), notices=queued)
    return len(updates)


def fan_out_due(session: Session) -> datetime | None:
    """When the first update not yet fanned out is due: written, and its display time come."""
    done = select(db.StatusFanout.update_id)
    waiting = session.execute(
        select(page_store.StatusUpdate.created_at, page_store.StatusUpdate.display_at)
        .where(page_store.StatusUpdate.id.not_in(done))
        .order_by(page_store.StatusUpdate.id).limit(1000)).all()
    return min((max(written, shown) for written, shown in waiting), default=None)


def _touched(session: Session, incident_ids: Iterable[int]) -> dict[int, set[str]]:
    """Every component each incident's updates named: its subscribers hear all of them."""
    return {incident: {name for update in updates for name in update.components}
            for incident, updates in page_store.updates_of(session, incident_ids).items()}


def _waiting(session: Session, address: str, now: datetime) -> StatusSubscriber | None:
    return session.scalars(select(StatusSubscriber).where(
        StatusSubscriber.kind == db.EMAIL, StatusSubscriber.address == address,
        StatusSubscriber.confirmed_at.is_(None), StatusSubscriber.unsubscribed_at.is_(None),
        StatusSubscriber.created_at > now - RESEND_AFTER)
        .order_by(StatusSubscriber.id.desc()).limit(1)).first()


def _get(session: Session, subscriber_id: int) -> StatusSubscriber:
    row = session.get(StatusSubscriber, subscriber_id)
    if row is None:
        raise NotFound("this subscription no longer exists")
    return row


def _web_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > db.MAX_ADDRESS:
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _components(config: Config, value: Any, problems: list[FieldProblem]) -> list[str]:
    if value is None or value == []:
        return []
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        problems.append(FieldProblem("components", 'must list component names, such as '
                                                   '["API"]; leave it out for the whole page'))
        return []
    public = {c.name.casefold(): c.name for c in config.components if c.public}
    chosen: list[str] = []
    for name in value:
        found = public.get(name.strip().casefold())
        if found is None:
            problems.append(FieldProblem(f"components.{name}", "is not a component; use one "
                                         "of: " + (", ".join(public.values()) or "none")))
        elif found not in chosen:
            chosen.append(found)
    return chosen
