"""Each policy of an alert stops only its own waiting rules when it moves on (fake clock).

A payment alert runs `payments` (step 1 alice, then bob); a critical one
runs `leadership` beside it through a route's `continue` (step 1 erin, then
dave). Alice's rules: Slack at once, SMS after 2 minutes, a call after 5;
Erin's: Slack at once, SMS after 3. The clock starts at 03:00 UTC.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from tests.support.harness import Harness
from tests.support.migrations import downgraded, schema_differences, upgrade_to_head
from tocsin.alerts import actions
from tocsin.alerts.store import Alert
from tocsin.clock import FakeClock
from tocsin.config.model import Target
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.notify.store import Delivery

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - id: alice
    name: Alice
    contacts: {slack: U0ALICE, sms: "+15550100", phone: "+15550100"}
    notification_rules:
      high:
        - {channel: slack, after_minutes: 0}
        - {channel: sms, after_minutes: 2}
        - {channel: phone, after_minutes: 5}
  - id: erin
    name: Erin
    contacts: {slack: U0ERIN, sms: "+15550101"}
    notification_rules:
      high:
        - {channel: slack, after_minutes: 0}
        - {channel: sms, after_minutes: 3}
  - {id: bob, name: Bob, contacts: {slack: U0BOB}}
  - {id: dave, name: Dave, contacts: {slack: U0DAVE}}
notifications:
  slack: {token: xoxb-test, signing_secret: test-signing-secret}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: payments}
routes:
  - match: {service: payment}
    notify: payments
    continue: true
  - match: {severity: critical}
    notify: leadership
escalation_policies:
  - name: payments
    steps:
      - {targets: [PAYMENTS_FIRST], timeout_minutes: PAYMENTS_MINUTES}
      - {targets: [bob], timeout_minutes: 30}
  - name: leadership
    steps:
      - {targets: [erin], timeout_minutes: LEADERSHIP_MINUTES}
      - {targets: [dave], timeout_minutes: 30}
"""

MakeHarness = Callable[..., Harness]


@pytest.fixture
def make_harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[MakeHarness]:
    made: list[Harness] = []

    def make(*, payments: int, leadership: int, payments_first: str = "alice") -> Harness:
        config = (textwrap.dedent(CONFIG).replace("PAYMENTS_MINUTES", str(payments))
                  .replace("LEADERSHIP_MINUTES", str(leadership))
                  .replace("PAYMENTS_FIRST", payments_first))
        harness = Harness(tmp_path, db_url, clock, config)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


def pages(harness: Harness, user: str) -> list[tuple[float, str, int]]:
    """(minute, channel, step) of every page `user` got on a real channel, by time."""
    return sorted((minute, channel, step) for channel in ("slack", "sms", "phone")
                  for minute, who, step in harness.paged(channel) if who == user)


def stopped_notes(harness: Harness, alert_id: int) -> list[str]:
    return [line for line in harness.timeline(alert_id) if line.startswith("rules_stopped")]


def test_the_own_policy_moving_on_leaves_the_continue_policy_rules(
        make_harness: MakeHarness) -> None:
    harness = make_harness(payments=1, leadership=10)
    alert_id = harness.fire("api-500s", severity="critical")
    assert alert_id is not None

    harness.advance(15)

    # payments moves to bob at minute 1: Alice's SMS and call stop; Erin's SMS still goes.
    assert pages(harness, "alice") == [(0, "slack", 1)]
    assert pages(harness, "bob") == [(1, "slack", 2)]
    assert pages(harness, "erin") == [(0, "slack", 1), (3, "sms", 1)]
    assert pages(harness, "dave") == [(10, "slack", 2)]
    assert stopped_notes(harness, alert_id) == [
        "rules_stopped: payments, step 2 of 2: stopped 2 waiting notifications of the step "
        "before: alice by sms at 03:02 (step 1), alice by phone at 03:05 (step 1)"]


def test_the_continue_policy_moving_on_stops_only_its_own_rules(
        make_harness: MakeHarness) -> None:
    harness = make_harness(payments=10, leadership=1)
    alert_id = harness.fire("api-500s", severity="critical")
    assert alert_id is not None

    harness.advance(15)

    # leadership moves to dave at minute 1: Erin's SMS stops; Alice's SMS and call go.
    assert pages(harness, "erin") == [(0, "slack", 1)]
    assert pages(harness, "dave") == [(1, "slack", 2)]
    assert pages(harness, "alice") == [(0, "slack", 1), (2, "sms", 1), (5, "phone", 1)]
    assert pages(harness, "bob") == [(10, "slack", 2)]
    assert stopped_notes(harness, alert_id) == [
        "rules_stopped: leadership, step 2 of 2: stopped 1 waiting notification of the step "
        "before: erin by sms at 03:03 (step 1)"]
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(Delivery).where(
            Delivery.alert_id == alert_id, Delivery.status == "cancelled"))
        assert [(r.user_id, r.channel, r.chain, r.detail) for r in rows] == [
            ("erin", "sms", "leadership", "escalation moved on to leadership, step 2 of 2")]


def test_a_person_in_both_policies_keeps_the_rules_of_the_one_still_on_her(
        make_harness: MakeHarness) -> None:
    harness = make_harness(payments=1, leadership=10, payments_first="erin")
    alert_id = harness.fire("api-500s", severity="critical")
    assert alert_id is not None

    harness.advance(15)

    # A page from each policy at once; payments' SMS stops at minute 1, leadership's goes.
    assert pages(harness, "erin") == [(0, "slack", 1), (0, "slack", 1), (3, "sms", 1)]
    assert pages(harness, "bob") == [(1, "slack", 2)]
    assert stopped_notes(harness, alert_id) == [
        "rules_stopped: payments, step 2 of 2: stopped 1 waiting notification of the step "
        "before: erin by sms at 03:03 (step 1)"]


def test_an_added_responder_policy_stops_its_own_rules_and_the_alerts_policy_its_own(
        make_harness: MakeHarness) -> None:
    harness = make_harness(payments=4, leadership=1)
    alert_id = harness.fire("slow-checkout", severity="warning")  # payments only
    assert alert_id is not None
    with transaction(harness.runtime.sessions) as session:
        actions.add_responder(session, config=harness.config, alert_id=alert_id,
                              target=Target("escalation_policy", "leadership"), actor="bob",
                              surface="api", now=harness.clock.now())

    harness.advance(15)

    # leadership (the responder) moves on at minute 1, stopping Erin's SMS due at 3;
    # payments moves on at minute 4, stopping Alice's call due at 5 (her SMS went at 2).
    assert pages(harness, "erin") == [(1, "slack", 1)]
    assert pages(harness, "dave") == [(1, "slack", 2)]
    assert pages(harness, "alice") == [(0, "slack", 1), (2, "sms", 1)]
    assert pages(harness, "bob") == [(4, "slack", 2)]
    assert stopped_notes(harness, alert_id) == [
        "rules_stopped: leadership, step 2 of 2: stopped 1 waiting notification of the step "
        "before: erin by sms at 03:03 (step 1)",
        "rules_stopped: payments, step 2 of 2: stopped 1 waiting notification of the step "
        "before: alice by phone at 03:05 (step 1)"]


def test_migration_0028_adds_the_chain_and_goes_down_and_up(db_url: str) -> None:
    mine = [d for d in schema_differences(db_url) if "chain" in repr(d)]
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        at = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
        alert = Alert(integration="prom", dedup_key="old", title="Old", status="triggered",
                      triggered_at=at, last_event_at=at, step=0, pass_number=0)
        session.add(alert)
        session.flush()
        alert_id = alert.id
    engine.dispose()

    with downgraded(db_url, "0027") as connection:
        down = {c["name"] for c in inspect(connection).get_columns("deliveries")}
        connection.execute(text(
            "INSERT INTO deliveries (alert_id, user_id, channel, address, step, status, "
            "attempts, due_at, idempotency_key, created_at, detail) VALUES (:alert, 'alice', "
            "'sms', '+15550100', 1, 'queued', 0, '2026-03-02 03:02:00', 'tocsin-old', "
            "'2026-03-02 03:00:00', '')"), {"alert": alert_id})
        upgrade_to_head(connection)
        up = {c["name"] for c in inspect(connection).get_columns("deliveries")}
        old = connection.execute(text(
            "SELECT chain FROM deliveries WHERE idempotency_key = 'tocsin-old'")).one()

    assert mine == []
    assert ("chain" in down, "chain" in up) == (False, True)
    assert old == (None,)  # a page from before is the alert's own policy's
