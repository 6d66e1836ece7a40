"""When the escalation moves on, the step before stops notifying (fake clock).

Alice's rules: Slack at once, SMS after 2 minutes, a call after 5. Step 1
(alice) times out after 1 minute, so her SMS and call are still waiting when
step 2 (bob) starts: they are cancelled, with a timeline note. A repeat pass
that pages her again starts her rules afresh without the old ones beside.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tocsin.alerts import actions
from tocsin.clock import FakeClock
from tocsin.config.model import Target
from tocsin.db import transaction
from tocsin.notify import store as outbox

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
  - {id: bob, name: Bob, contacts: {slack: U0BOB}}
  - {id: carol, name: Carol, contacts: {slack: U0CAROL}}
notifications:
  slack: {token: xoxb-test, signing_secret: test-signing-secret}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
routes:
  - {notify: critical}
escalation_policies:
  - name: critical
    STEPS
"""

TWO_STEPS = """steps:
      - {targets: [alice], timeout_minutes: 1}
      - {targets: [bob], timeout_minutes: 30}"""
REPEATED = """repeat: 1
    steps:
      - {targets: [alice], timeout_minutes: 1}"""


def _harness(tmp_path: Path, db_url: str, clock: FakeClock, steps: str) -> Harness:
    return Harness(tmp_path, db_url, clock, textwrap.dedent(CONFIG).replace("STEPS", steps))


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = _harness(tmp_path, db_url, clock, TWO_STEPS)
    yield made
    made.close()


def pages(harness: Harness, user: str) -> list[tuple[float, str, int]]:
    """(minute, channel, step) of every page `user` got on a real channel, by time."""
    return sorted((minute, channel, step) for channel in ("slack", "sms", "phone")
                  for minute, who, step in harness.paged(channel) if who == user)


def test_the_next_step_stops_the_waiting_rules_of_the_step_before(harness: Harness) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None

    harness.advance(10)

    assert pages(harness, "alice") == [(0, "slack", 1)]
    assert pages(harness, "bob") == [(1, "slack", 2)]
    [note] = [line for line in harness.timeline(alert_id) if line.startswith("rules_stopped")]
    assert note == ("rules_stopped: critical, step 2 of 2: stopped 2 waiting notifications "
                    "of the step before: alice by sms at 03:02 (step 1), alice by phone at "
                    "03:05 (step 1)")
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(outbox.Delivery).where(
            outbox.Delivery.alert_id == alert_id, outbox.Delivery.user_id == "alice",
            outbox.Delivery.channel.in_(("sms", "phone"))))
        assert {(r.status, r.detail) for r in rows} == {
            ("cancelled", "escalation moved on to critical, step 2 of 2")}


def test_rules_already_sent_are_not_touched_and_no_note_is_written(
        tmp_path: Path, db_url: str, clock: FakeClock) -> None:
    slow = TWO_STEPS.replace("timeout_minutes: 1}", "timeout_minutes: 6}")
    made = _harness(tmp_path, db_url, clock, slow)
    try:
        alert_id = made.fire("api-500s")
        assert alert_id is not None
        made.advance(10)

        assert pages(made, "alice") == [(0, "slack", 1), (2, "sms", 1), (5, "phone", 1)]
        assert pages(made, "bob") == [(6, "slack", 2)]
        assert not any(line.startswith("rules_stopped") for line in made.timeline(alert_id))
    finally:
        made.close()


def test_escalate_now_stops_them_too(harness: Harness) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None

    with transaction(harness.runtime.sessions) as session:
        actions.escalate_now(session, config=harness.config, alert_id=alert_id, actor="bob",
                             surface="api", now=harness.clock.now())
    harness.advance(10)

    assert pages(harness, "alice") == [(0, "slack", 1)]
    assert pages(harness, "bob") == [(1, "slack", 2)]  # sent at the next engine pass


def test_a_repeat_pass_starts_the_rules_over_without_the_old_ones(
        tmp_path: Path, db_url: str, clock: FakeClock) -> None:
    made = _harness(tmp_path, db_url, clock, REPEATED)
    try:
        alert_id = made.fire("api-500s")
        assert alert_id is not None

        made.advance(10)

        # Pass 2 at minute 1: Slack again, then her SMS and call from there, once each.
        assert pages(made, "alice") == [(0, "slack", 1), (1, "slack", 1), (3, "sms", 1),
                                        (6, "phone", 1)]
    finally:
        made.close()


def test_with_a_responder_added_the_step_before_still_stops(harness: Harness) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    with transaction(harness.runtime.sessions) as session:
        actions.add_responder(session, config=harness.config, alert_id=alert_id,
                              target=Target("user", "carol"), actor="bob", surface="api",
                              now=harness.clock.now())

    harness.advance(10)

    # The responder's policy runs beside; the alert's own still stops its step 1's rules.
    assert pages(harness, "alice") == [(0, "slack", 1)]
    assert pages(harness, "bob") == [(1, "slack", 2)]
    assert pages(harness, "carol") == [(1, "slack", 1)]
