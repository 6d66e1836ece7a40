"""The columns and indexes pacing needs, on SQLite and PostgreSQL, and the window maths."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests.support.harness import Harness
from tests.support.migrations import downgraded, schema_differences, upgrade_to_head
from tocsin.clock import FakeClock
from tocsin.config.model import RateLimit
from tocsin.db import transaction
from tocsin.engine.pacing import window_frees
from tocsin.notify.store import SENDING, Delivery

MINE = ("first_due_at", "failed_over_at", "ix_deliveries_failover", "ix_deliveries_contact",
        "ix_storm_bundles_contact")

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - id: alice
    name: Alice
    contacts: {slack: U0ALICE, sms: "+15550100"}
    notification_rules:
      high:
        - {channel: slack, after_minutes: 0}
        - {channel: sms, after_minutes: 5}
notifications:
  slack: {token: xoxb-test, signing_secret: test-signing-secret}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 60}
routes:
  - {notify: critical, urgency: high}
"""

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, textwrap.dedent(CONFIG))
    yield made
    made.close()


def rows(harness: Harness) -> dict[str, Delivery]:
    with harness.runtime.sessions() as session:
        return {row.channel: row for row in session.scalars(select(Delivery))}


def test_the_migrated_columns_and_indexes_match_the_models(db_url: str) -> None:
    found = schema_differences(db_url)

    assert [diff for diff in found if any(name in repr(diff) for name in MINE)] == []


def test_pages_stored_before_the_migration_first_became_due_at_their_first_try(
    db_url: str,
) -> None:
    with downgraded(db_url, "0015") as connection:
        connection.execute(text(
            "INSERT INTO alerts (id, integration, dedup_key, status, title, labels, details, "
            "urgency, step, pass_number, event_count, triggered_at, last_event_at, flapping) "
            "VALUES (1, 'prom', 'old', 'triggered', 'Old', '{}', '{}', 'high', 1, 0, 1, "
            "'2026-03-02 03:00:00', '2026-03-02 03:00:00', false)"))
        connection.execute(text(
            "INSERT INTO deliveries (id, alert_id, user_id, channel, address, step, "
            "status, attempts, due_at, idempotency_key, created_at, detail) VALUES "
            "(:id, 1, 'alice', 'sms', '+15550100', 1, 'queued', :attempts, :due, :key, "
            "'2026-03-02 03:00:00', '')"),
            [{"id": 1, "attempts": 2, "due": "2026-03-02 03:04:00", "key": "key-1"},
             {"id": 2, "attempts": 0, "due": "2026-03-02 03:05:00", "key": "key-2"}])
        connection.execute(text(
            "INSERT INTO delivery_attempts (delivery_id, at, ok, detail) VALUES "
            "(1, '2026-03-02 03:01:00', false, 'x'), (1, '2026-03-02 03:02:00', false, 'x')"))
        upgrade_to_head(connection)
        found = connection.execute(text(
            "SELECT id, first_due_at FROM deliveries ORDER BY id")).all()
        connection.execute(text("DELETE FROM alerts"))
        connection.commit()

    # Tried before: from its first attempt. Never tried: its due time.
    assert [str(at)[:19] for _, at in found] == ["2026-03-02 03:01:00", "2026-03-02 03:05:00"]


def test_a_page_remembers_when_it_first_became_due_across_retries(harness: Harness) -> None:
    harness.channels["slack"].fail_next(2)
    harness.fire("api-500s")
    harness.advance(1)

    found = rows(harness)
    # Retried with backoff: due again later, first due at the start all the same.
    assert found["slack"].attempts >= 2
    assert found["slack"].first_due_at == T0
    # A rule waiting its delay first becomes due at its time.
    assert found["sms"].first_due_at == T0 + timedelta(minutes=5)
    assert found["sms"].failed_over_at is None


def test_the_engine_wakes_at_the_failover_time(harness: Harness) -> None:
    harness.fire("api-500s")
    # A send that hangs: leased for an hour, so only the failover wakes the engine sooner.
    with transaction(harness.runtime.sessions) as session:
        session.execute(update(Delivery).where(Delivery.channel == "slack").values(
            status=SENDING, lease_until=T0 + timedelta(hours=1), finished_at=None))

    assert harness.runtime.engine.next_due() == T0 + timedelta(minutes=2)
    harness.advance(2)

    found = rows(harness)
    assert found["slack"].failed_over_at == T0 + timedelta(minutes=2)
    assert harness.paged("sms") == [(2.0, "alice", 1)]


def test_finding_overdue_pages_reads_no_delivered_page(harness: Harness, db_url: str) -> None:
    query = ("SELECT id FROM deliveries WHERE failed_over_at IS NULL AND status IN "
             "('queued', 'sending', 'held', 'bundled') AND first_due_at <= '2026-03-02'")
    with harness.runtime.sessions() as session:
        if db_url.startswith("sqlite"):
            plan = " ".join(str(row) for row in session.execute(text("EXPLAIN QUERY PLAN "
                                                                      + query)))
            # Without statistics SQLite reads by status: the undelivered pages only.
            assert "SEARCH deliveries USING INDEX" in plan
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(row) for row in session.execute(text("EXPLAIN " + query)))
            assert "ix_deliveries_failover" in plan


LIMIT = RateLimit("sms", messages=2, per_minutes=1)


def test_a_contact_under_its_limit_may_get_a_page_now() -> None:
    assert window_frees([], LIMIT, T0) is None
    assert window_frees([T0 - timedelta(seconds=30)], LIMIT, T0) is None


def test_a_contact_at_its_limit_waits_until_the_oldest_page_counted_ages_out() -> None:
    sent = [T0 - timedelta(seconds=10), T0 - timedelta(seconds=40)]

    assert window_frees(sent, LIMIT, T0) == T0 + timedelta(seconds=20)
    assert window_frees([*sent, T0], LIMIT, T0) == T0 + timedelta(seconds=50)
