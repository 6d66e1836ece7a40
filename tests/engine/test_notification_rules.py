"""Per-user notification rules: which channel pages when, per urgency."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
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
    contacts: {slack: U0ALICE, sms: "+15550100", phone: "+15550100", email: alice@example.com}
    notification_rules:
      high:
        - {channel: slack, after_minutes: 0}
        - {channel: phone, after_minutes: 5}
        - {channel: sms, after_minutes: 2}
      low:
        - {channel: email}
  - {id: bob, name: Bob, contacts: {slack: U0BOB, sms: "+15550101"}}
  - {id: dave, name: Dave, contacts: {email: dave@example.com}}
notifications:
  slack: {token: xoxb-test, signing_secret: test-signing-secret}
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
  email: {host: smtp.test, from: pager@example.com}
  fallback: [dave]
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice, bob], timeout_minutes: 60}
"""

ROUTES = """
routes:
  - {match: {severity: warning}, notify: critical, urgency: low}
  - {match: {severity: texts}, notify: critical, urgency: high, channels: [sms, email]}
  - {match: {severity: calls}, notify: critical, urgency: high, channels: [email]}
  - {notify: critical, urgency: high}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, textwrap.dedent(CONFIG) + textwrap.dedent(ROUTES))
    yield made
    made.close()


def pages(harness: Harness, user: str) -> list[tuple[float, str]]:
    """(minute, channel) of every page `user` got on a real channel, by time."""
    found = [(minute, channel)
             for channel in ("slack", "sms", "phone", "email", "webhook")
             for minute, who, _step in harness.paged(channel) if who == user]
    return sorted(found)


def test_each_rule_pages_after_its_own_delay(harness: Harness) -> None:
    harness.fire("api-500s")

    harness.advance(1)
    assert pages(harness, "alice") == [(0, "slack")]
    harness.advance(9)

    assert pages(harness, "alice") == [(0, "slack"), (2, "sms"), (5, "phone")]
    # Bob has no rules: every contact at once, as before.
    assert pages(harness, "bob") == [(0, "slack"), (0, "sms")]
    # The console copy goes at once for everyone.
    assert sorted(who for _, who, _ in harness.paged("console")) == ["alice", "bob"]


def test_acknowledging_during_a_delay_cancels_the_later_rules(harness: Harness) -> None:
    alert_id = harness.fire("api-500s")
    harness.advance(1)

    assert alert_id is not None
    harness.ack(alert_id)
    harness.advance(30)

    assert pages(harness, "alice") == [(0, "slack")]


def test_a_failed_sms_makes_the_phone_call_go_at_once(harness: Harness) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    harness.advance(1)
    harness.channels["sms"].fail_next(1, retryable=False)

    harness.advance(1)

    assert pages(harness, "alice") == [(0, "slack"), (2, "phone")]
    assert any("sms failed for Alice; phone goes now instead of in 3 minutes" in line
               for line in harness.timeline(alert_id))
    harness.advance(10)
    # Something else reached Alice, so the fallback contact was not paged.
    assert pages(harness, "dave") == []
    assert pages(harness, "alice") == [(0, "slack"), (2, "phone")]


def test_the_fallback_is_paged_only_when_the_last_rule_fails(harness: Harness) -> None:
    harness.fire("api-500s", severity="texts")  # sms and email only: Alice has sms at 2
    harness.advance(1)
    harness.channels["sms"].fail_next(1, retryable=False)

    harness.advance(2)

    assert pages(harness, "alice") == []
    assert pages(harness, "dave") == [(2, "email")]


def test_low_urgency_uses_the_low_list(harness: Harness) -> None:
    harness.fire("slow-disk", severity="warning")

    harness.advance(10)

    assert pages(harness, "alice") == [(0, "email")]
    assert pages(harness, "bob") == [(0, "slack"), (0, "sms")]


def test_a_rule_the_route_forbids_is_skipped(harness: Harness) -> None:
    harness.fire("api-500s", severity="texts")

    harness.advance(10)

    assert pages(harness, "alice") == [(2, "sms")]
    assert pages(harness, "bob") == [(0, "sms")]


def test_rules_the_route_forbids_entirely_fall_back_to_allowed_contacts(
    harness: Harness,
) -> None:
    alert_id = harness.fire("api-500s", severity="calls")
    assert alert_id is not None

    harness.advance(10)

    assert pages(harness, "alice") == [(0, "email")]
    assert any("none of Alice's high urgency notification rules can be used on this route; "
               "paging every allowed contact at once (email)" in line
               for line in harness.timeline(alert_id))
