"""Pages to SMS and phone contacts through the whole engine and the fake Twilio API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.live_channels import LiveHarness
from tocsin.clock import FakeClock

CONFIG = f"""
timezone: UTC
public_url: https://tocsin.example.com
users:
  - {{id: alice, name: Alice, contacts: {{sms: "+1 555 010 0100", phone: "+15550100100"}}}}
  - {{id: dave, name: Dave, contacts: {{sms: "+15550100400"}}}}
schedules:
  - {{name: primary, rotation: daily, start_date: 2026-03-02, participants: [alice]}}
escalation_policies:
  - name: critical
    steps:
      - {{targets: [primary], timeout_minutes: 30}}
routes:
  - {{notify: critical}}
integrations:
  - {{name: prom, type: alertmanager, key: prom-key}}
notifications:
  twilio: {{account_sid: {ACCOUNT_SID}, auth_token: "${{TWILIO_TOKEN}}", from: "{FROM_NUMBER}",
           api_url: "API_URL", timeout_seconds: 2}}
  fallback: [dave]
"""


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def make_tocsin(
    twilio: FakeTwilio, tmp_path: Path, db_url: str, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[str], LiveHarness]]:
    monkeypatch.setenv("TWILIO_TOKEN", AUTH_TOKEN)
    made: list[LiveHarness] = []

    def make(config: str = CONFIG) -> LiveHarness:
        made.append(LiveHarness(tmp_path, db_url, clock, config.replace("API_URL", twilio.api_url)))
        return made[-1]

    yield make
    for harness in made:
        harness.close()


def test_a_page_texts_and_calls_and_a_rate_limit_is_retried(
    make_tocsin: Callable[[str], LiveHarness], twilio: FakeTwilio
) -> None:
    tocsin = make_tocsin(CONFIG)
    twilio.rate_limit_next()
    alert_id = tocsin.fire("api-500s", title="Payment API 500s")
    assert alert_id is not None

    tocsin.advance(2)

    [text] = twilio.accepted("Messages")
    [call] = twilio.accepted("Calls")
    assert text.form["To"] == call.form["To"] == "+15550100100"
    assert text.form["Body"].startswith(f"Tocsin #{alert_id}: Payment API 500s Ack: "
                                        "https://tocsin.example.com/a/")
    assert ("Press 1 to acknowledge, 2 to resolve, 3 to escalate now, 4 to snooze for 30 "
            "minutes.") in call.form["Twiml"]
    assert sorted(tocsin.deliveries(alert_id)) == sorted(
        [("sms", "sent", text.sid), ("phone", "sent", call.sid)])
    lines = tocsin.timeline(alert_id)
    assert sum("error 20429: Too Many Requests); will retry" in line for line in lines) == 1


def test_a_number_twilio_refuses_is_not_retried_and_the_fallback_is_texted(
    make_tocsin: Callable[[str], LiveHarness], twilio: FakeTwilio
) -> None:
    tocsin = make_tocsin(CONFIG.replace(', phone: "+15550100100"', ""))
    twilio.numbers = ()  # the account lost its number: every request is refused (21606)
    alert_id = tocsin.fire("api-500s", title="Payment API 500s")
    assert alert_id is not None

    tocsin.advance(1)

    lines = tocsin.timeline(alert_id)
    assert any("could not notify Alice via sms: Twilio answered HTTP 400, error 21606" in line
               for line in lines)
    assert not any("will retry" in line for line in lines)
    assert "+15550100400" in [r.form["To"] for r in twilio.requests]  # Dave, the fallback


def test_when_every_channel_of_a_person_is_refused_at_once_the_fallback_is_paged(
    make_tocsin: Callable[[str], LiveHarness], twilio: FakeTwilio
) -> None:
    # SMS and call fail in the same moment; each failure must see the other's,
    # or neither pages the fallback (the alert row orders the two decisions).
    tocsin = make_tocsin(CONFIG)
    twilio.numbers = ()
    alert_id = tocsin.fire("api-500s", title="Payment API 500s")
    assert alert_id is not None

    tocsin.advance(1)

    refused = [r.form["To"] for r in twilio.requests]
    assert refused.count("+15550100100") == 2  # Alice's text and call, both refused
    assert "+15550100400" in refused  # Dave, the fallback
    assert any("paged the fallback contact" in line for line in tocsin.timeline(alert_id))
