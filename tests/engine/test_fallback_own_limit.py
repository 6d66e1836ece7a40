"""A fallback contact who is the person whose page failed keeps their own rate limit.

Alice is texted (one SMS per 5 minutes at most) and is also a fallback
contact beside Dave. When her text fails, the fallback pages go: Dave is
called at once, but Alice is not texted again until her window frees,
whether the send failed outright or Twilio reported the text undelivered.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.harness import FakeChannel, Harness
from tests.support.held_texts import fire, texts
from tests.web.conftest import Web, close_web
from tests.web.test_twilio_inbound import CONFIG as PHONE_CONFIG
from tests.web.test_twilio_inbound import post_signed
from tocsin.clock import FakeClock
from tocsin.engine.runtime import build_runtime
from tocsin.web.app import create_app

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {sms: "+15550100"}}
  - {id: dave, name: Dave, contacts: {phone: "+15550199"}}
notifications:
  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: tok, from: "+15005550006"}
  fallback: [alice, dave]
  rate_limits:
    sms: {messages: 1, per_minutes: 5}
integrations:
  - {name: prom, type: alertmanager, key: prom-key, service: payment}
services:
  - {name: payment, escalation_policy: critical}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 60}
routes:
  - {notify: critical}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, textwrap.dedent(CONFIG))
    yield made
    made.close()


def test_a_failed_text_holds_the_fallback_text_to_the_same_person(harness: Harness) -> None:
    harness.channels["sms"].fail_next(1, retryable=False)
    alert_id = fire(harness, "disk-full")

    harness.advance(4.99)

    assert harness.paged("phone") == [(0, "dave", 0)]
    assert texts(harness) == []  # the failed one was not sent; the fallback one is held
    assert any("held the sms page to Alice" in line for line in harness.timeline(alert_id))
    harness.advance(0.01)
    assert texts(harness) == [(5.0, alert_id)]


def test_the_held_fallback_text_drops_out_once_resolved(harness: Harness) -> None:
    harness.channels["sms"].fail_next(1, retryable=False)
    alert_id = fire(harness, "disk-full")
    harness.advance(2)

    harness.resolve(alert_id, actor="dave")  # a fallback page goes until resolved
    harness.advance(10)

    assert texts(harness) == []


# --- Twilio reports the text undelivered ----------------------------------------------


@pytest.fixture
def phone_web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    config = PHONE_CONFIG.replace(
        "  fallback: [carol]",
        "  fallback: [alice, carol]\n  rate_limits:\n    sms: {messages: 1, per_minutes: 5}")
    assert config != PHONE_CONFIG
    config_path = tmp_path / "tocsin.yaml"
    config_path.write_text(config, encoding="utf-8")
    channels = {name: FakeChannel(name, clock) for name in ("console", "webhook", "sms", "phone")}
    runtime = build_runtime(config_path=config_path, db_url=db_url, clock=clock,
                            notifiers=lambda _config: dict(channels))
    made = Web(TestClient(create_app(runtime, engine_required=False)), runtime, clock, channels,
               config_path)
    yield made
    close_web(made)


def test_an_undelivered_report_does_not_text_the_same_person_again_at_once(phone_web: Web):
    alert_id = phone_web.fire()
    [text] = phone_web.pages("sms")
    phone_web.clock.advance(minutes=1)

    response = post_signed(phone_web, f"/twilio/status/{text.delivery_id}",
                           {"MessageSid": "SM1", "MessageStatus": "undelivered"})
    phone_web.runtime.engine.run_due()

    assert response.status_code == 204
    assert [p.user_id for p in phone_web.pages("webhook")] == ["carol"]
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice"]
    phone_web.clock.advance(minutes=4.99)
    phone_web.runtime.engine.run_due()
    assert [p.user_id for p in phone_web.pages("sms")] == ["alice", "bob"]  # bob: step 2
    # The window counts from the report (03:01), so the held text goes at 03:06.
    phone_web.clock.advance(minutes=0.01)
    phone_web.runtime.engine.run_due()
    assert [(p.user_id, p.alert_id, p.step) for p in phone_web.pages("sms")
            if p.user_id == "alice"] == [("alice", alert_id, 1), ("alice", alert_id, 0)]
