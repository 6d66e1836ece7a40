"""Storm bundles over e-mail (a real aiosmtpd server) and SMS and calls (the fake Twilio).

Every channel that can carry a page must carry a bundle too: a storm bundle
to a channel that could not would fail and page only the fallback contact.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator

import pytest

from tests.notify.test_email import plain, provider
from tests.notify.test_twilio import settings
from tests.support.fake_twilio import FakeTwilio
from tests.support.smtp_server import SmtpServer
from tocsin.clock import FakeClock
from tocsin.notify.bundles import BundledAlert, BundleNotifier, BundlePage
from tocsin.notify.email import EmailNotifier
from tocsin.notify.sms_text import fits_one_segment
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier

ACK_ALL = "https://tocsin.example.com/b/eyJiIjo1fQ.sig"


def bundle(address: str, count: int = 37) -> BundlePage:
    alerts = tuple(
        BundledAlert(alert_id=100 + n, title=f"Error rate high on pod-{n}",
                     kind="HighErrorRate" if n % 5 else "DiskFull", status="triggered",
                     route="routes[0]", severity="critical", service="payment")
        for n in range(count))
    return BundlePage(bundle_id=5, idempotency_key="bundle-5-a1", user_id="alice",
                      user_name="Alice", address=address, alerts=alerts, ack_url=ACK_ALL)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def test_an_email_bundle_lists_every_alert_and_the_ack_all_link(fake_clock: FakeClock) -> None:
    with SmtpServer() as smtp:
        notifier = EmailNotifier(provider(smtp.port), fake_clock)
        assert isinstance(notifier, BundleNotifier)

        outcome = notifier.send_bundle(bundle("alice@example.com"))

        assert outcome.ok
        [mail] = smtp.messages
    assert mail.message["Subject"].startswith("[Tocsin] storm: 37 alerts on route routes[0]")
    text = plain(mail.message)
    assert all(f"#{100 + n} [critical] Error rate high on pod-{n}" in text for n in range(37))
    assert f"Acknowledge all 37: {ACK_ALL}" in text


def test_an_sms_bundle_fits_one_segment_with_the_ack_all_link(twilio: FakeTwilio) -> None:
    notifier = TwilioSmsNotifier(TwilioApi(settings(twilio)))
    assert isinstance(notifier, BundleNotifier)

    outcome = notifier.send_bundle(bundle("+15550100100"))

    assert outcome.ok
    [request] = twilio.requests
    body = request.form["Body"]
    assert body.startswith("Tocsin storm: 37 alerts on route routes[0]")
    assert body.endswith(f" Ack all: {ACK_ALL}")
    assert fits_one_segment(body)


def test_a_call_for_a_bundle_says_how_many_alerts_fire(twilio: FakeTwilio) -> None:
    notifier = TwilioVoiceNotifier(TwilioApi(settings(twilio)))
    assert isinstance(notifier, BundleNotifier)

    outcome = notifier.send_bundle(bundle("+15550100100", count=3))

    assert outcome.ok
    [request] = twilio.requests
    said = ElementTree.fromstring(request.form["Twiml"]).findtext("Say")  # noqa: S314
    assert said is not None
    assert said.startswith("Tocsin: 3 alerts are firing.")
    assert "link sent by text or e-mail" in said
