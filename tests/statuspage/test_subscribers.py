"""Subscribers in the database: who is queued a notice, links, and the migration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from tests.statuspage.conftest import CONFIG, NOW, declare, update
from tests.support.migrations import downgraded, schema_differences
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.db import make_engine, transaction
from tocsin.errors import InvalidInput
from tocsin.statuspage import subscribers
from tocsin.statuspage import subscribers_store as db

MINE = ("status_subscribers", "status_notices", "status_fanout")


def subscribe(sessions: sessionmaker[Session], *, confirm: bool = True, at: datetime = NOW,
              **fields: Any) -> int:
    with transaction(sessions) as session:
        row = subscribers.subscribe(session, config=CONFIG, now=at, **fields)
        if confirm:
            subscribers.confirm(session, row.id, now=at)
        return row.id


def queued(sessions: sessionmaker[Session]) -> list[tuple[int, str, int | None]]:
    with transaction(sessions) as session:
        # The engine's pass after every write here (an update is told once it shows).
        subscribers.fan_out(session, now=NOW + timedelta(hours=1))
        rows = session.scalars(select(db.StatusNotice).where(db.StatusNotice.state == db.PENDING)
                               .order_by(db.StatusNotice.id))
        return [(row.subscriber_id, row.kind, row.update_id) for row in rows]


def test_only_confirmed_subscribers_of_touched_components_are_queued_each_update(
    sessions: sessionmaker[Session]
) -> None:
    everything = subscribe(sessions, email="a@example.com")
    api = subscribe(sessions, email="b@example.com", components=["api"])
    web = subscribe(sessions, email="c@example.com", components=["Web"])
    waiting = subscribe(sessions, email="d@example.com", confirm=False)
    incident = declare(sessions, components={"API": "major_outage"})
    # The resolve names no component, but its subscribers of API still hear of it.
    resolved = update(sessions, incident, at=NOW + timedelta(minutes=5), status="resolved")

    found = queued(sessions)

    updates = {(who, update_id) for who, kind, update_id in found if kind == db.UPDATE}
    assert {who for who, _ in updates} == {everything, api}
    assert (api, resolved) in updates
    assert web not in {who for who, _ in updates}
    assert (waiting, db.CONFIRM, None) in found
    assert queued(sessions) == found  # fanned out once


def test_asking_again_before_confirming_sends_no_second_mail_within_the_hour(
    sessions: sessionmaker[Session]
) -> None:
    first = subscribe(sessions, email="a@example.com", confirm=False)
    again = subscribe(sessions, email="a@example.com", confirm=False,
                      at=NOW + timedelta(minutes=5))
    later = subscribe(sessions, email="a@example.com", confirm=False, at=NOW + timedelta(hours=2))

    assert again == first
    assert later != first
    assert [kind for _, kind, _ in queued(sessions)] == [db.CONFIRM, db.CONFIRM]


def test_unsubscribing_drops_what_is_queued_and_is_audited(
    sessions: sessionmaker[Session]
) -> None:
    who = subscribe(sessions, email="a@example.com")
    declare(sessions)
    assert [kind for _, kind, _ in queued(sessions)] == [db.CONFIRM, db.UPDATE]
    with transaction(sessions) as session:
        subscribers.unsubscribe(session, who, now=NOW)
    assert queued(sessions) == []
    with sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "status_subscriber").order_by(AuditEntry.id)))
    assert actions == ["status_subscriber.create", "status_subscriber.confirm",
                       "status_subscriber.unsubscribe"]


def test_every_bad_field_is_named(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput) as caught:
        subscribers.subscribe(session, config=CONFIG, email="nobody", components=[
            "API", "Billing worker"], now=NOW)
    # An internal component cannot be chosen from the public page.
    assert [p.path for p in caught.value.fields] == ["email", "components.Billing worker"]


def test_a_confirmation_link_expires_after_a_week_and_unsubscribe_links_do_not() -> None:
    clock = FakeClock(NOW)
    tokens = subscribers.Tokens("secret", "http://tocsin.test/", clock)
    confirm = tokens.confirm_url(7).rsplit("/", 1)[1]
    leave = tokens.unsubscribe_url(7).rsplit("/", 1)[1]
    assert tokens.check_confirm(confirm) == 7
    with pytest.raises(subscribers.TokenError, match="confirmation link is not valid"):
        tokens.check_confirm(leave)
    with pytest.raises(subscribers.TokenError, match="unsubscribe link is not valid"):
        tokens.check_unsubscribe(confirm)
    clock.advance(minutes=8 * 24 * 60)
    with pytest.raises(subscribers.TokenError, match="expired"):
        tokens.check_confirm(confirm)
    assert tokens.check_unsubscribe(leave) == 7
    other = subscribers.Tokens("another secret", "http://tocsin.test/", clock)
    with pytest.raises(subscribers.TokenError):
        other.check_unsubscribe(leave)


def test_the_migrated_tables_match_the_models_and_step_down(db_url: str) -> None:
    assert [d for d in schema_differences(db_url) if any(n in repr(d) for n in MINE)] == []
    with downgraded(db_url, "0020") as connection:
        below = set(inspect(connection).get_table_names())
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            above = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert not set(MINE) & below
    assert set(MINE) <= above


def test_an_update_dated_ahead_is_told_when_the_page_shows_it(
    sessions: sessionmaker[Session]
) -> None:
    everyone = subscribe(sessions, email="a@example.com")
    incident = declare(sessions, components={"API": "major_outage"})
    ahead = NOW + timedelta(minutes=3)
    later = update(sessions, incident, at=NOW, status="monitoring", display_at=ahead)

    def fan_out_at(at: datetime) -> tuple[list[int | None], datetime | None]:
        with transaction(sessions) as session:
            subscribers.fan_out(session, now=at)
            rows = session.scalars(select(db.StatusNotice).where(
                db.StatusNotice.subscriber_id == everyone).order_by(db.StatusNotice.id))
            return [row.update_id for row in rows], subscribers.fan_out_due(session)

    now_told, now_due = fan_out_at(NOW)
    then_told, then_due = fan_out_at(ahead)

    assert (later not in now_told, now_due) == (True, ahead)
    assert (then_told[-1], then_due) == (later, None)
