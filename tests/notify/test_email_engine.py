"""Pages to e-mail contacts through the whole engine and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_channels import LiveHarness
from tests.support.smtp_server import SmtpServer
from tocsin.clock import FakeClock

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {email: alice@example.com}}
  - {id: dave, name: Dave, contacts: {email: dave@example.com}}
schedules:
  - {name: primary, rotation: daily, start_date: 2026-03-02, participants: [alice]}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 30}
routes:
  - {notify: critical}
integrations:
  - {name: prom, type: alertmanager, key: prom-key}
notifications:
  email: {host: 127.0.0.1, port: PORT, security: none, from: "Tocsin <pager@tocsin.test>",
          timeout_seconds: 5}
  fallback: [dave]
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(unknown=("alice@example.com",)) as server:
        yield server


@pytest.fixture
def tocsin(
    smtp: SmtpServer, tmp_path: Path, db_url: str, clock: FakeClock
) -> Iterator[LiveHarness]:
    harness = LiveHarness(tmp_path, db_url, clock, CONFIG.replace("PORT", str(smtp.port)))
    yield harness
    harness.close()


def test_a_451_is_retried_by_the_engine_and_alice_gets_one_message(
    tocsin: LiveHarness, smtp: SmtpServer
) -> None:
    smtp.unknown = ()
    smtp.answer_data_with("451 4.7.1 Greylisted, come back later")
    alert_id = tocsin.fire("api-500s", title="Payment API 500s")
    assert alert_id is not None

    tocsin.advance(2)  # the first retry is due within 10 s

    [mail] = smtp.messages
    assert mail.rcpt_tos == ["alice@example.com"]
    assert mail.message["Subject"] == "[Tocsin] Payment API 500s"
    assert mail.message["X-Tocsin-Alert-Id"] == str(alert_id)
    assert smtp.data_attempts == 2
    lines = tocsin.timeline(alert_id)
    assert any("attempt 1 to notify Alice via email failed" in line
               and "answered 451: 4.7.1 Greylisted" in line and "will retry" in line
               for line in lines)
    assert any(line == "notification: notified Alice via email" for line in lines)
    assert tocsin.deliveries(alert_id) == [("email", "sent", mail.message["Message-ID"])]


def test_an_unknown_address_fails_at_once_and_the_fallback_is_mailed(
    tocsin: LiveHarness, smtp: SmtpServer
) -> None:
    alert_id = tocsin.fire("api-500s", title="Payment API 500s")
    assert alert_id is not None

    tocsin.advance(1)

    assert [mail.rcpt_tos for mail in smtp.messages] == [["dave@example.com"]]
    lines = tocsin.timeline(alert_id)
    assert any("could not notify Alice via email" in line and "answered 550" in line
               for line in lines)
    assert not any("will retry" in line for line in lines)
