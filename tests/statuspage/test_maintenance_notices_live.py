"""Maintenance notices through the engine, a real SMTP server and a webhook."""

from __future__ import annotations

from datetime import timedelta

from tests.support.live_channels import LiveHarness
from tests.support.smtp_server import SmtpServer
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.alerts import maintenance
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.statuspage import subscribers
from tocsin.statuspage.subscribers_store import StatusSubscriber

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
status_page: {title: Example Status}
users:
  - {id: alice, name: Alice, contacts: {email: alice@example.com}}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 30}
services:
  - {name: payment, escalation_policy: critical}
  - {name: search, escalation_policy: critical}
components:
  - {name: API, service: payment}
  - {name: Search, service: search}
notifications:
  email: {host: 127.0.0.1, port: PORT, security: none, from: "Status <status@tocsin.test>",
          timeout_seconds: 5}
"""


def subscriber(tocsin: LiveHarness, **fields: object) -> int:
    now = tocsin.clock.now()
    with transaction(tocsin.runtime.sessions) as session:
        row = subscribers.subscribe(session, config=tocsin.config, now=now, **fields)
        subscribers.confirm(session, row.id, now=now)
        return row.id


def schedule(tocsin: LiveHarness, service: str, start: timedelta, end: timedelta) -> None:
    now = tocsin.clock.now()
    with transaction(tocsin.runtime.sessions) as session:
        maintenance.create_window(session, services=[service], match={}, match_re={},
                                  start=now + start, end=now + end, reason="Database upgrade",
                                  actor="ann", surface="api", now=now)


def test_mail_and_webhook_subscribers_hear_each_step_once_from_an_idle_engine(
    tocsin: LiveHarness, smtp: SmtpServer, clock: FakeClock
) -> None:
    engine = tocsin.runtime.engine
    with WebhookReceiver("unknown yet", now=lambda: int(clock.now().timestamp()),
                         reject_bad_signatures=True) as receiver:
        subscriber(tocsin, email="carol@example.com")
        hook = subscriber(tocsin, endpoint=receiver.url("/hook"), components=["API"])
        with tocsin.runtime.sessions() as session:
            receiver.secret = session.get(StatusSubscriber, hook).secret or ""
        subscriber(tocsin, email="sam@example.com", components=["Search"])
        engine.run_due()  # a full pass (their confirmations): the next ones may be quiet
        confirmations = len(smtp.messages)

        schedule(tocsin, "payment", timedelta(hours=1), timedelta(hours=2))
        engine.run_due()  # within the quiet time, yet the new window is seen at once

        [mail] = smtp.messages[confirmations:]
        assert mail.rcpt_tos == ["carol@example.com"]
        # Named by its components: the window's reason ("Database upgrade") is internal.
        assert mail.message["Subject"] == "[Example Status] Scheduled maintenance: API"
        assert b"Database upgrade" not in mail.raw
        text = mail.message.get_body(("plain",)).get_content().replace(  # type: ignore[union-attr]
            "\r\n", "\n")
        # A line starting "From " arrives as written, not mangled into ">From ".
        assert "\nFrom 2026-03-02T04:00:00Z to 2026-03-02T05:00:00Z (UTC)\n" in text
        assert b">From" not in mail.raw
        assert "Components: API" in text
        assert mail.message["List-Unsubscribe"].startswith("<http://tocsin.test/status/")
        [post] = receiver.requests
        assert post.signature_valid
        assert post.json["event"] == "status.maintenance"
        assert post.json["maintenance"]["status"] == "scheduled"
        assert post.json["maintenance"]["name"] == "Scheduled maintenance: API"
        assert post.json["maintenance"]["components"] == ["API"]
        assert post.json["maintenance"]["scheduled_for"] == "2026-03-02T04:00:00Z"

        engine.run_due()
        assert engine.next_due() == clock.now() + timedelta(hours=1)

        clock.advance(minutes=60)
        engine.run_due()
        clock.advance(minutes=30)
        engine.run_due()
        clock.advance(minutes=30)
        engine.run_due()
        engine.run_due()

        subjects = [m.message["Subject"] for m in smtp.messages[confirmations:]]
        assert subjects == [
            "[Example Status] Scheduled maintenance: API",
            "[Example Status] Maintenance started: API",
            "[Example Status] Maintenance completed: API"]
        assert [r.json["maintenance"]["status"] for r in receiver.requests] == [
            "scheduled", "in_progress", "completed"]
        assert len({r.idempotency_key for r in receiver.requests}) == 3
