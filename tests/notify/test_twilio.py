"""SMS and voice pages against the fake Twilio API on 127.0.0.1."""

from __future__ import annotations

import base64
import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.support.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    FakeTwilio,
    TwilioRequest,
    segments,
)
from tests.support.pages import make_page
from tests.support.smtp_server import refusing_port
from tocsin.clock import FakeClock
from tocsin.config.model import Notifications, TwilioProvider
from tocsin.notify.base import Notice, NoticeNotifier, Page
from tocsin.notify.registry import build_notifiers
from tocsin.notify.sms_text import fits_one_segment
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier

ALICE = "+15550100100"
TOKEN = "eyJhIjoxMiwidSI6ImFsaWNlIn0.aBcDeF.Zx9-Yw8_Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg"
ACK_URL = f"https://tocsin.example.com/a/{TOKEN}"


def sms_page(**changes: object) -> Page:
    return make_page(**{"address": ALICE, "ack_url": ACK_URL, **changes})


def settings(twilio: FakeTwilio, **changes: object) -> TwilioProvider:
    base = TwilioProvider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=FROM_NUMBER,
                          api_url=twilio.api_url, timeout_seconds=2)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def sms(twilio: FakeTwilio) -> TwilioSmsNotifier:
    return TwilioSmsNotifier(TwilioApi(settings(twilio)))


@pytest.fixture
def voice(twilio: FakeTwilio) -> TwilioVoiceNotifier:
    return TwilioVoiceNotifier(TwilioApi(settings(twilio)))


def only(twilio: FakeTwilio) -> TwilioRequest:
    [request] = twilio.requests
    return request


def twiml(request: TwilioRequest) -> ElementTree.Element:
    return ElementTree.fromstring(request.form["Twiml"])  # noqa: S314 - what our code wrote


def test_an_sms_page_is_one_message_with_the_alert_and_the_ack_link(
    twilio: FakeTwilio, sms: TwilioSmsNotifier
) -> None:
    outcome = sms.send(sms_page())

    request = only(twilio)
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.authorization == f"Basic {expected_auth}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "To": ALICE, "From": FROM_NUMBER,
        "Body": f"Tocsin #12 critical: Payment API 500s Ack: {ACK_URL}",
        # Twilio reports on the page at its own URL under public_url.
        "StatusCallback": "https://tocsin.example.com/twilio/status/7",
    }
    assert request.status == 201
    assert outcome.ok and outcome.provider_id == request.sid
    assert outcome.provider_id is not None and outcome.provider_id.startswith("SM")


def test_a_long_title_is_shortened_so_the_page_stays_one_segment(
    twilio: FakeTwilio, sms: TwilioSmsNotifier
) -> None:
    title = "Payment API returning 500 errors for card checkouts in eu-west-1 " * 4
    sms.send(sms_page(title=title))

    body = only(twilio).form["Body"]
    assert len(body) == 160 and segments(body) == 1
    assert body.startswith("Tocsin #12 critical: Payment API returning 500 errors")
    assert body.endswith(f"... Ack: {ACK_URL}")


def test_a_title_outside_gsm7_gets_70_characters_and_a_short_hint(
    twilio: FakeTwilio, sms: TwilioSmsNotifier
) -> None:
    sms.send(sms_page(title="ระบบชำระเงินล่ม 🔥 ลูกค้าจ่ายเงินไม่ได้ทั้งหมดในภูมิภาคนี้"))

    body = only(twilio).form["Body"]
    assert segments(body) == 1 and fits_one_segment(body)
    assert body.startswith("Tocsin #12 critical: ระบบชำระเงินล่ม 🔥")
    assert body.endswith("… Reply ACK 12")
    assert len(body.encode("utf-16-le")) // 2 <= 70


def test_a_short_non_gsm7_title_is_sent_whole(twilio: FakeTwilio, sms: TwilioSmsNotifier) -> None:
    sms.send(sms_page(title="DB “orders” down"))
    body = only(twilio).form["Body"]
    assert body == "Tocsin #12 critical: DB “orders” down Reply ACK 12"


def test_gsm7_extension_characters_count_twice(twilio: FakeTwilio, sms: TwilioSmsNotifier) -> None:
    sms.send(sms_page(title="{[|]}" * 30, severity=None))
    body = only(twilio).form["Body"]
    assert segments(body) == 1
    assert body.startswith("Tocsin #12: {[|]}")


def test_numbers_written_with_separators_are_dialled_in_e164(
    twilio: FakeTwilio, sms: TwilioSmsNotifier
) -> None:
    outcome = sms.send(sms_page(address="+1 (555) 010-0100"))
    assert outcome.ok
    assert only(twilio).form["To"] == "+15550100100"


def test_a_contact_that_is_not_e164_is_not_sent(twilio: FakeTwilio, sms: TwilioSmsNotifier) -> None:
    outcome = sms.send(sms_page(address="0812345678"))
    assert not outcome.ok and not outcome.retryable
    assert "not a phone number in E.164 form" in outcome.detail
    assert twilio.requests == []


def test_an_invalid_number_21211_is_not_retried(twilio: FakeTwilio, sms: TwilioSmsNotifier) -> None:
    outcome = sms.send(sms_page(address="+15005550001"))  # Twilio's own "invalid number"
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail == ("Twilio answered HTTP 400, error 21211: "
                              "Invalid 'To' Phone Number: +15005550001")


def test_a_sender_the_account_does_not_own_is_not_retried(twilio: FakeTwilio) -> None:
    notifier = TwilioSmsNotifier(TwilioApi(settings(twilio, sender="+15550109999")))
    outcome = notifier.send(sms_page())
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail.startswith("Twilio answered HTTP 400, error 21606")


def test_a_wrong_token_is_not_retried_and_never_shown(
    twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-1f2e3d4c5b"
    outcome = TwilioSmsNotifier(TwilioApi(settings(twilio, auth_token=wrong))).send(sms_page())

    assert not outcome.ok and not outcome.retryable
    assert outcome.detail == "Twilio answered HTTP 401, error 20003: Authenticate"
    assert wrong not in caplog.text and AUTH_TOKEN not in caplog.text


@pytest.mark.parametrize("script", ["rate_limit", "server_error"])
def test_rate_limits_and_server_errors_are_retried(
    twilio: FakeTwilio, sms: TwilioSmsNotifier, script: str
) -> None:
    if script == "rate_limit":
        twilio.rate_limit_next()
    else:
        twilio.server_error_next(502)

    first, second = sms.send(sms_page()), sms.send(sms_page())

    assert not first.ok and first.retryable
    expected = ("Twilio answered HTTP 429, error 20429: Too Many Requests"
                if script == "rate_limit" else "Twilio answered HTTP 502")
    assert first.detail == expected
    assert second.ok and len(twilio.accepted("Messages")) == 1


def test_a_timeout_is_retried(twilio: FakeTwilio) -> None:
    twilio.stall_next(3)
    notifier = TwilioSmsNotifier(TwilioApi(settings(twilio, timeout_seconds=0.3)))
    outcome = notifier.send(sms_page())
    assert not outcome.ok and outcome.retryable
    assert outcome.detail == "Twilio timed out creating the message"


def test_an_unreachable_api_is_retried() -> None:
    with refusing_port() as port:
        notifier = TwilioSmsNotifier(TwilioApi(TwilioProvider(
            account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=FROM_NUMBER,
            api_url=f"http://127.0.0.1:{port}")))
        outcome = notifier.send(sms_page())
    assert not outcome.ok and outcome.retryable
    assert outcome.detail == "Twilio unreachable (ConnectError)"


def test_the_status_callback_is_sent_when_configured(twilio: FakeTwilio) -> None:
    callback = "https://tocsin.example.com/twilio/status"
    api = TwilioApi(settings(twilio, status_callback_url=callback))
    TwilioSmsNotifier(api).send(sms_page())
    TwilioVoiceNotifier(api).send(sms_page())
    assert [r.form["StatusCallback"] for r in twilio.requests] == [callback, callback]


def test_a_call_says_the_alert_and_gathers_one_key_for_tocsin(
    twilio: FakeTwilio, voice: TwilioVoiceNotifier
) -> None:
    outcome = voice.send(sms_page())

    request = only(twilio)
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert (request.form["To"], request.form["From"]) == (ALICE, FROM_NUMBER)
    assert outcome.ok and outcome.provider_id == request.sid
    assert outcome.provider_id is not None and outcome.provider_id.startswith("CA")
    response = twiml(request)
    gather = response.find("Gather")
    assert gather is not None
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == f"https://tocsin.example.com/twilio/voice/{TOKEN}"
    assert gather.findtext("Say") == ("Tocsin alert: Payment API 500s, severity critical. "
                                      "Press 1 to acknowledge, 2 to resolve, 3 to escalate "
                                      "now, 4 to snooze for 30 minutes. Press 5 to "
                                      "unacknowledge, 6 to reassign, 7 to add a responder.")


def test_a_spoken_title_with_markup_characters_stays_well_formed(
    twilio: FakeTwilio, voice: TwilioVoiceNotifier
) -> None:
    outcome = voice.send(sms_page(title='<Hangup/> "db" & \'cache\'\ndown', severity=None))

    assert outcome.ok, outcome.detail  # the fake parses the TwiML as Twilio would
    response = twiml(only(twilio))
    assert response.find("Hangup") is None
    said = response.findtext("Gather/Say")
    assert said == ("Tocsin alert: <Hangup/> \"db\" & 'cache' down. Press 1 to acknowledge, "
                    "2 to resolve, 3 to escalate now, 4 to snooze for 30 minutes. Press 5 to "
                    "unacknowledge, 6 to reassign, 7 to add a responder.")


def test_notices_go_by_text_and_are_never_phoned(
    twilio: FakeTwilio, sms: TwilioSmsNotifier, voice: TwilioVoiceNotifier
) -> None:
    text = "Your on-call shift for primary starts in 1 hour (Mon 02 Mar 19:00 Asia/Bangkok)"
    notice = Notice(notice_id=3, idempotency_key="handoff-3", kind="handoff.upcoming",
                    user_id="alice", user_name="Alice", address=ALICE, text=text)

    assert isinstance(sms, NoticeNotifier) and not isinstance(voice, NoticeNotifier)
    assert sms.send_notice(notice).ok
    assert only(twilio).form["Body"] == f"Tocsin: {text}"


def test_the_registry_sends_sms_and_phone_contacts_through_one_account(
    twilio: FakeTwilio, fake_clock: FakeClock
) -> None:
    notifications = Notifications(twilio=settings(twilio))
    notifiers = build_notifiers(notifications, fake_clock)

    assert isinstance(notifiers["sms"], TwilioSmsNotifier)
    assert isinstance(notifiers["phone"], TwilioVoiceNotifier)
    assert notifications.real_channels == ("sms", "phone")
