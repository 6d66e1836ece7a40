"""The hard failover time: a page not delivered 2 minutes after it was due brings the next rule."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.harness import Harness
from tocsin.clock import FakeClock

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
        - {channel: sms, after_minutes: 5}
        - {channel: phone, after_minutes: 10}
  - {id: dave, name: Dave, contacts: {sms: "+15550199"}}
notifications:
  slack: {token: xoxb-test, signing_secret: test-signing-secret}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
  fallback: [dave]
  EXTRA
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


@pytest.fixture
def make(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Callable[[str], Harness]]:
    made: list[Harness] = []

    def build(extra: str = "") -> Harness:
        harness = Harness(tmp_path, db_url, clock,
                          textwrap.dedent(CONFIG).replace("EXTRA", extra))
        made.append(harness)
        return harness

    yield build
    for harness in made:
        harness.close()


def pages(harness: Harness, user: str) -> list[tuple[float, str]]:
    """(minute, channel) of every page `user` got on a real channel, by time."""
    return sorted((minute, channel) for channel in ("slack", "sms", "phone")
                  for minute, who, _step in harness.paged(channel) if who == user)


def failovers(harness: Harness, alert_id: int) -> list[str]:
    return [line for line in harness.timeline(alert_id) if line.startswith("failover:")]


def test_slack_failing_for_2_minutes_brings_the_sms_forward_at_2_00(
    make: Callable[[str], Harness],
) -> None:
    harness = make("")
    harness.channels["slack"].fail_next(50)  # retryable, for the whole test
    alert_id = harness.fire("api-500s")
    assert alert_id is not None

    harness.advance(1.99)
    assert pages(harness, "alice") == []
    harness.advance(0.01)

    assert pages(harness, "alice") == [(2.0, "sms")]
    assert failovers(harness, alert_id) == [
        "failover: slack has not delivered to Alice for 2 minutes; sms goes now instead of "
        "in 3 minutes"]


def test_the_failover_happens_once_while_slack_goes_on_failing(
    make: Callable[[str], Harness],
) -> None:
    harness = make("")
    harness.channels["slack"].fail_next(50)
    alert_id = harness.fire("api-500s")
    assert alert_id is not None

    harness.advance(15)

    # Slack used every retry and failed for good: that did not bring the call forward.
    assert pages(harness, "alice") == [(2.0, "sms"), (10.0, "phone")]
    assert len(failovers(harness, alert_id)) == 1
    assert any(line.startswith("notification: could not notify Alice via slack")
               for line in harness.timeline(alert_id))
    # The SMS reached Alice, so the fallback contact was never paged.
    assert harness.paged("sms") == [(2.0, "alice", 1)]


def test_a_delivered_page_never_fails_over(make: Callable[[str], Harness]) -> None:
    harness = make("")
    alert_id = harness.fire("api-500s")
    assert alert_id is not None

    harness.advance(4)
    assert pages(harness, "alice") == [(0, "slack")]
    harness.advance(8)

    assert pages(harness, "alice") == [(0, "slack"), (5.0, "sms"), (10.0, "phone")]
    assert failovers(harness, alert_id) == []


def test_an_acknowledgement_before_the_failover_time_cancels_the_rest(
    make: Callable[[str], Harness],
) -> None:
    harness = make("")
    harness.channels["slack"].fail_next(50)
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    harness.advance(1.5)

    harness.ack(alert_id)
    harness.advance(15)

    assert pages(harness, "alice") == []
    assert failovers(harness, alert_id) == []


def test_the_failover_time_is_configurable(make: Callable[[str], Harness]) -> None:
    harness = make("failover_after_minutes: 3")
    harness.channels["slack"].fail_next(50)
    alert_id = harness.fire("api-500s")
    assert alert_id is not None

    harness.advance(2.99)
    assert pages(harness, "alice") == []
    harness.advance(0.01)

    assert pages(harness, "alice") == [(3.0, "sms")]
    assert failovers(harness, alert_id) == [
        "failover: slack has not delivered to Alice for 3 minutes; sms goes now instead of "
        "in 2 minutes"]
