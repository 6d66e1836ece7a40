"""Pages a rate limit held, sent as one bundle: every channel says they were held, not a storm."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator

import pytest

from tests.notify.test_email import plain, provider
from tests.notify.test_twilio import settings
from tests.support.fake_slack import FakeSlack
from tests.support.fake_twilio import FakeTwilio
from tests.support.fixtures import SLACK_TOKEN, WEBHOOK_SECRET
from tests.support.smtp_server import SmtpServer
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock
from tocsin.config.model import SlackProvider, WebhookProvider
from tocsin.notify.bundles import (
    RATE_LIMIT,
    BundledAlert,
    BundlePage,
    held_count,
    limit_words,
    summary,
)
from tocsin.notify.console import ConsoleNotifier
from tocsin.notify.email import EmailNotifier
from tocsin.notify.slack import SlackNotifier
from tocsin.notify.sms_text import bundle_sms, fits_one_segment
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier
from tocsin.notify.webhook import WebhookNotifier

ACK_ALL = "http://127.0.0.1:8080/b/sig-bundle-7"


def held(address: str, kinds: tuple[str, ...] = ("DiskFull", "ApiErrors", "DiskFull"),
         limit: str = "one SMS a minute") -> BundlePage:
    alerts = tuple(
        BundledAlert(alert_id=20 + n, title=f"{kind} on host-{n}", kind=kind,
                     status="triggered", route="routes[0]", severity="critical",
                     service="payment")
        for n, kind in enumerate(kinds))
    return BundlePage(bundle_id=7, idempotency_key="tocsin-bundle-7", user_id="alice",
                      user_name="Alice", address=address, alerts=alerts, ack_url=ACK_ALL,
                      reason=RATE_LIMIT, limit=limit)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def test_a_limit_reads_as_a_person_would_say_it() -> None:
    assert limit_words("sms", 1, 1) == "one SMS a minute"
    assert limit_words("phone", 3, 10) == "3 calls in 10 minutes"
    assert limit_words("webhook", 2, 0.5) == "2 webhook pages in 0.5 minutes"


def test_the_summary_says_the_limit_held_them_and_counts_kinds() -> None:
    assert summary(held("x")) == (
        "3 alerts held by your limit of one SMS a minute: DiskFull x2, ApiErrors x1 (payment)")
    # The limit was removed by a reload before the bundle went: still not a storm.
    assert summary(held("x", limit="")).startswith("3 alerts held by the rate limit: DiskFull x2")
    assert held_count(held("x")) == "3 alerts (held by the rate limit)"


def test_the_sms_says_held_by_the_limit_in_one_segment(twilio: FakeTwilio) -> None:
    notifier = TwilioSmsNotifier(TwilioApi(settings(twilio)))

    outcome = notifier.send_bundle(held("+15550100100"))

    assert outcome.ok
    [request] = twilio.requests
    body = request.form["Body"]
    assert body == ("Tocsin: 3 alerts held by your limit of one SMS a minute: "
                    f"DiskFull x2, ApiErrors x1 (payment) Ack all: {ACK_ALL}")
    assert fits_one_segment(body)
    assert "storm" not in body


def test_a_long_held_sms_still_fits_one_segment() -> None:
    page = held("+15550100100", kinds=tuple(f"VeryLongAlertName{n}" for n in range(9)))

    text = bundle_sms(page)

    assert fits_one_segment(text)
    assert text.startswith("Tocsin: 9 alerts held by your limit of one SMS a minute")


def test_slack_heads_the_message_with_the_count_held(fake_slack: FakeSlack) -> None:
    notifier = SlackNotifier(SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url))

    notifier.send_bundle(held("U012ABC", limit="one Slack message a minute"))

    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.params["text"] == (
        "Held: 3 alerts held by your limit of one Slack message a minute: "
        "DiskFull x2, ApiErrors x1 (payment) (alerts #20-#22)")
    header = call.params["blocks"][0]
    assert header["text"]["text"] == "3 alerts (held by the rate limit)"


def test_the_email_subject_and_footer_say_held_by_the_limit(fake_clock: FakeClock) -> None:
    with SmtpServer() as smtp:
        notifier = EmailNotifier(provider(smtp.port), fake_clock)
        notifier.send_bundle(held("alice@example.com", limit="one e-mail a minute"))
        [mail] = smtp.messages

    assert mail.message["Subject"] == (
        "[Tocsin] 3 alerts held by your limit of one e-mail a minute: "
        "DiskFull x2, ApiErrors x1 (payment)")
    text = plain(mail.message)
    assert "Sent by Tocsin: pages held by your rate limit" in text
    assert "storm" not in text


def test_the_webhook_body_carries_the_reason(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver,
) -> None:
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)

    notifier.send_bundle(held(webhook_receiver.url("/pages/alice")))

    [request] = webhook_receiver.requests
    assert request.signature_valid
    assert request.json["reason"] == "rate limit"
    assert request.json["summary"].startswith("3 alerts held by your limit")
    assert request.json["alert_count"] == 3


def test_a_storm_bundle_s_webhook_body_says_storm(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver,
) -> None:
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)
    page = held(webhook_receiver.url("/pages/alice"))

    notifier.send_bundle(BundlePage(**{**page.__dict__, "reason": "storm", "limit": ""}))

    [request] = webhook_receiver.requests
    assert request.json["reason"] == "storm"
    assert request.json["summary"].startswith("3 alerts on route routes[0] (payment)")


def test_the_call_says_the_limit_held_them(twilio: FakeTwilio) -> None:
    notifier = TwilioVoiceNotifier(TwilioApi(settings(twilio)))

    notifier.send_bundle(held("+15550100100", limit="one call a minute"))

    [request] = twilio.requests
    said = ElementTree.fromstring(request.form["Twiml"]).findtext("Say")  # noqa: S314
    assert said is not None
    assert said.startswith("Tocsin: 3 alerts are firing and were held by your rate limit.")


def test_the_console_line_says_held() -> None:
    stream = io.StringIO()

    ConsoleNotifier(stream).send_bundle(held("alice"))

    assert stream.getvalue().startswith(
        "BUNDLE #7 -> Alice: 3 alerts held by your limit of one SMS a minute: DiskFull x2")
