"""The follow-up table, as the migration makes it, and what `queue` writes, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import build_alert
from tocsin.config.model import Integration, Notifications, PagerDutyProvider
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.leases import CANCELLED, FAILED, QUEUED, SENDING, SENT
from tocsin.models import Base
from tocsin.notify import pagerduty_store as store
from tocsin.notify.store import Delivery

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
FORWARDING = Notifications(pagerduty=PagerDutyProvider())


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as opened:
            yield opened
    finally:
        engine.dispose()


def _alert(session: Session) -> int:
    alert = build_alert(integration=Integration(name="prom", type="alertmanager", key="k"),
                        incoming=IncomingEvent(action="trigger", dedup_key="api-500s"),
                        now=NOW, resolved=False)
    session.add(alert)
    session.flush()
    return alert.id


def _trigger(session: Session, alert_id: int, user: str, key: str, status: str,
             channel: str = "pagerduty") -> None:
    session.add(Delivery(alert_id=alert_id, user_id=user, channel=channel, address=key, step=1,
                         status=status, attempts=1, due_at=NOW, created_at=NOW,
                         idempotency_key=uuid.uuid4().hex, detail=""))
    session.flush()


def _rows(session: Session, alert_id: int) -> list[tuple[str, str, str, str]]:
    query = (select(store.PagerDutyFollowUp).where(store.PagerDutyFollowUp.alert_id == alert_id)
             .order_by(store.PagerDutyFollowUp.id))
    return [(r.user_id, r.routing_key, r.action, r.status) for r in session.scalars(query)]


def test_the_migrated_table_matches_the_model(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    assert [diff for diff in found if "pagerduty_followups" in repr(diff)] == []


def test_one_followup_per_key_that_received_or_is_receiving_the_trigger(session: Session) -> None:
    alert_id = _alert(session)
    _trigger(session, alert_id, "downstream", "key-a", SENT)
    _trigger(session, alert_id, "downstream", "key-a", SENT)  # a second step paged it again
    _trigger(session, alert_id, "other", "key-b", SENDING)
    _trigger(session, alert_id, "third", "key-c", FAILED)  # never reached the far side
    _trigger(session, alert_id, "fourth", "key-d", QUEUED)  # not sent yet
    _trigger(session, alert_id, "downstream", "hooks", SENT, channel="webhook")

    queued = store.queue(session, notifications=FORWARDING, alert_id=alert_id,
                         action=store.ACKNOWLEDGE, now=NOW)

    assert queued == 2
    assert _rows(session, alert_id) == [("downstream", "key-a", "acknowledge", QUEUED),
                                        ("other", "key-b", "acknowledge", QUEUED)]


def test_without_the_provider_nothing_is_queued(session: Session) -> None:
    alert_id = _alert(session)
    _trigger(session, alert_id, "downstream", "key-a", SENT)

    queued = store.queue(session, notifications=Notifications(), alert_id=alert_id,
                         action=store.RESOLVE, now=NOW)

    assert queued == 0
    assert _rows(session, alert_id) == []


def test_a_resolve_cancels_acks_still_queued(session: Session) -> None:
    alert_id = _alert(session)
    _trigger(session, alert_id, "downstream", "key-a", SENT)
    store.queue(session, notifications=FORWARDING, alert_id=alert_id,
                action=store.ACKNOWLEDGE, now=NOW)

    store.queue(session, notifications=FORWARDING, alert_id=alert_id, action=store.RESOLVE,
                now=NOW)

    assert _rows(session, alert_id) == [("downstream", "key-a", "acknowledge", CANCELLED),
                                        ("downstream", "key-a", "resolve", QUEUED)]


def test_followups_are_claimed_like_deliveries(session: Session) -> None:
    alert_id = _alert(session)
    _trigger(session, alert_id, "downstream", "key-a", SENT)
    store.queue(session, notifications=FORWARDING, alert_id=alert_id,
                action=store.ACKNOWLEDGE, now=NOW)
    session.flush()

    claimed = store.claim_due(session, now=NOW, lease_until=NOW.replace(minute=32), limit=10)

    assert len(claimed) == 1
    row = session.get(store.PagerDutyFollowUp, claimed[0])
    assert row is not None and (row.status, row.attempts) == (SENDING, 1)
    assert store.earliest_due(session) == NOW.replace(minute=32)  # when the lease runs out
