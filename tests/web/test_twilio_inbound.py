"""Answering a page from the phone: keypad, text replies, and Twilio's delivery reports.

Requests are signed with the `twilio` package's own RequestValidator, so a
mismatch between Tocsin's check and Twilio's scheme fails here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from tests.support.harness import FakeChannel
from tests.web.conftest import PAGING, PUBLIC_URL, Web, close_web
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.engine.runtime import build_runtime
from tocsin.logs import EventFormatter, RedactingFilter
from tocsin.notify import store as outbox
from tocsin.notify.twilio import status_url, voice_ack_url
from tocsin.notify.twilio_signature import signature
from tocsin.web.app import create_app

AUTH_TOKEN = "twilio-auth-token-0f9e8d7c6b"
ALICE_SMS = "+15550100"
CAROL_HOOK = "http://hooks.test/carol"

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {sms: "+1 555 0100"}}
  - id: bob
    name: Bob
    contacts: {sms: "+15550111", phone: "+15550111"}
    notification_rules:
      high: [{channel: sms, after_minutes: 0}, {channel: phone, after_minutes: 3}]
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
services:
  - {name: payment, escalation_policy: critical}
integrations:
  - {name: prometheus, type: alertmanager, key: am-key-7f3a9c2e51, service: payment}
notifications:
  webhook: {secret: web-test-webhook-secret}
  twilio:
    account_sid: AC00000000000000000000000000000001
    auth_token: twilio-auth-token-0f9e8d7c6b
    from: "+15550199"
  fallback: [carol]
api_tokens:
  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}
""" + PAGING


@pytest.fixture
def phone_web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    config_path = tmp_path / "tocsin.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    channels = {name: FakeChannel(name, clock) for name in ("console", "webhook", "sms", "phone")}
    runtime = build_runtime(config_path=config_path, db_url=db_url, clock=clock,
                            notifiers=lambda _config: dict(channels))
    made = Web(TestClient(create_app(runtime, engine_required=False)), runtime, clock, channels,
               config_path)
    yield made
    close_web(made)


def post_signed(web: Web, path: str, form: dict[str, str], *,
                token: str = AUTH_TOKEN) -> httpx.Response:
    """POST as Twilio would: the signature covers the public URL, not the test client's."""
    sig = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    return web.client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def _alices_sms(web: Web) -> Any:
    alert_id = web.fire()
    [page] = web.pages("sms")
    assert (page.user_id, page.alert_id) == ("alice", alert_id)
    return page


def _voice_path(page: Any) -> str:
    url = voice_ack_url(page.ack_url)
    assert url is not None
    return str(url).removeprefix(PUBLIC_URL)


def test_our_signature_is_twilios():
    form = {"From": ALICE_SMS, "Body": "ACK 4", "To": "+15550199", "AccountSid": "AC1"}
    url = "https://tocsin.example.com/twilio/sms"
    theirs = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    assert signature(url, form.items(), AUTH_TOKEN) == theirs


def test_keypad_1_acknowledges_as_the_person_called(phone_web: Web):
    page = _alices_sms(phone_web)

    response = post_signed(phone_web, _voice_path(page), {"Digits": "1", "CallSid": "CA1"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert (f"<Say>Alert {page.alert_id} acknowledged. Press 5 to undo, or hang up.</Say>"
            in response.text)
    detail = phone_web.alert(page.alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    ack = next(e for e in detail["timeline"] if e["kind"] == "acknowledged")
    assert (ack["actor"], ack["surface"]) == ("alice", "phone")
    [row] = phone_web.audit()
    assert (row.actor, row.surface, row.action) == ("alice", "phone", "alert.acknowledge")


def test_another_key_asks_again_and_changes_nothing(phone_web: Web):
    page = _alices_sms(phone_web)

    response = post_signed(phone_web, _voice_path(page), {"Digits": "8"})

    assert "That key does nothing. Press 1 to acknowledge, 2 to resolve" in response.text
    assert f'action="{voice_ack_url(page.ack_url)}?again=1"' in response.text
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert phone_web.audit() == []


def test_keypad_on_a_resolved_alert_says_who_resolved_it(phone_web: Web):
    page = _alices_sms(phone_web)
    post_signed(phone_web, "/twilio/sms", {"From": "+15550111", "Body": "res " + str(
        page.alert_id)})

    response = post_signed(phone_web, _voice_path(page), {"Digits": "1"})

    assert "already resolved by bob at 2026-03-02T03:00:00Z" in response.text
    assert phone_web.alert(page.alert_id)["acknowledged_by"] is None


def test_a_tampered_request_is_refused(phone_web: Web, caplog: pytest.LogCaptureFixture):
    page = _alices_sms(phone_web)
    path = _voice_path(page)
    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, {"Digits": "2"})
    caplog.set_level(logging.INFO)

    tampered = phone_web.client.post(path, data={"Digits": "1"},
                                     headers={"X-Twilio-Signature": sig})
    unsigned = phone_web.client.post(path, data={"Digits": "1"})
    wrong_key = post_signed(phone_web, path, {"Digits": "1"}, token="not-the-token")
    # Signed for the Host the app sees rather than public_url: refused too.
    local = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver" + path,
                                                           {"Digits": "1"})
    wrong_host = phone_web.client.post(path, data={"Digits": "1"},
                                       headers={"X-Twilio-Signature": local})

    assert [r.status_code for r in (tampered, unsigned, wrong_key, wrong_host)] == [403] * 4
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert "twilio.signature_refused" in caplog.text
    assert AUTH_TOKEN not in caplog.text


def test_the_keypad_token_is_masked_in_the_refusal_warning(
        phone_web: Web, caplog: pytest.LogCaptureFixture):
    # Product bug: the warning's path field printed the link token, which acts as
    # the person paged for a day.
    path = _voice_path(_alices_sms(phone_web))
    token = path.removeprefix("/twilio/voice/")
    caplog.set_level(logging.INFO)

    refused = phone_web.client.post(path, data={"Digits": "1"})

    assert refused.status_code == 403
    [record] = [r for r in caplog.records if r.getMessage() == "twilio.signature_refused"]
    RedactingFilter().filter(record)
    line = EventFormatter("%(message)s").format(record)
    assert token not in line
    assert line == "twilio.signature_refused path=/twilio/voice/*** signed=False"


def test_the_keypad_token_is_masked_in_the_access_log(phone_web: Web):
    path = _voice_path(_alices_sms(phone_web)) + "?turn=2"
    token = path.removeprefix("/twilio/voice/").partition("?")[0]
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "POST", path, "1.1", 200), None)

    RedactingFilter().filter(record)

    assert token not in record.getMessage()
    assert '"POST /twilio/voice/***?turn=2 HTTP/1.1"' in record.getMessage()


def test_sms_ack_from_the_paged_persons_number_acknowledges(phone_web: Web):
    page = _alices_sms(phone_web)

    response = post_signed(phone_web, "/twilio/sms",
                           {"From": ALICE_SMS, "To": "+15550199", "Body": f" Ack {page.alert_id}"})

    assert response.status_code == 200
    assert f"<Message>Tocsin: Alert {page.alert_id} acknowledged.</Message>" in response.text
    detail = phone_web.alert(page.alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    [row] = phone_web.audit()
    assert (row.actor, row.surface) == ("alice", "sms")
    assert "acknowledged" in phone_web.kinds(page.alert_id)


def test_sms_res_resolves_and_a_later_ack_is_told_who_resolved(phone_web: Web):
    page = _alices_sms(phone_web)

    post_signed(phone_web, "/twilio/sms", {"From": ALICE_SMS, "Body": f"RES {page.alert_id}"})
    again = post_signed(phone_web, "/twilio/sms",
                        {"From": "+15550111", "Body": f"ACK {page.alert_id}"})

    assert phone_web.alert(page.alert_id)["resolved_by"] == "alice"
    assert (f"Alert {page.alert_id} is already resolved by alice at 2026-03-02T03:00:00Z"
            in again.text)


def test_sms_from_an_unknown_number_is_refused_politely(phone_web: Web):
    page = _alices_sms(phone_web)

    response = post_signed(phone_web, "/twilio/sms",
                           {"From": "+15550777", "Body": f"ACK {page.alert_id}"})

    assert response.status_code == 200
    assert "not on any Tocsin user" in response.text
    assert phone_web.alert(page.alert_id)["status"] == "triggered"
    assert phone_web.audit() == []


def test_an_sms_tocsin_cannot_read_gets_the_help_text(phone_web: Web):
    page = _alices_sms(phone_web)

    response = post_signed(phone_web, "/twilio/sms", {"From": ALICE_SMS, "Body": "on it"})

    assert "reply ACK 42" in response.text
    assert phone_web.alert(page.alert_id)["status"] == "triggered"


def test_undelivered_sms_pages_the_fallback_when_nothing_else_reaches(phone_web: Web):
    page = _alices_sms(phone_web)
    callback = status_url(page)
    assert callback == f"{PUBLIC_URL}/twilio/status/{page.delivery_id}"

    response = post_signed(phone_web, callback.removeprefix(PUBLIC_URL),
                           {"MessageSid": "SM1", "MessageStatus": "undelivered",
                            "ErrorCode": "30003"})
    phone_web.runtime.engine.run_due()

    assert response.status_code == 204
    assert [(p.user_id, p.address) for p in phone_web.pages("webhook")] == [("carol", CAROL_HOOK)]
    timeline = phone_web.alert(page.alert_id)["timeline"]
    assert any("undelivered (error 30003)" in e["message"] for e in timeline)
    assert any(e["kind"] == "fallback" for e in timeline)


def test_a_report_of_delivery_or_a_repeat_changes_nothing(phone_web: Web):
    page = _alices_sms(phone_web)
    path = f"/twilio/status/{page.delivery_id}"

    post_signed(phone_web, path, {"MessageStatus": "delivered"})
    phone_web.runtime.engine.run_due()
    assert phone_web.pages("webhook") == []
    post_signed(phone_web, path, {"MessageStatus": "failed"})
    post_signed(phone_web, path, {"MessageStatus": "failed"})
    phone_web.runtime.engine.run_due()

    assert [p.user_id for p in phone_web.pages("webhook")] == ["carol"]


def test_an_undelivered_text_calls_at_once_and_an_unanswered_call_falls_back(
        phone_web: Web):
    alert_id = phone_web.fire()
    phone_web.clock.advance(minutes=5)
    phone_web.runtime.engine.run_due()
    [bobs_text] = [p for p in phone_web.pages("sms") if p.user_id == "bob"]
    assert phone_web.pages("phone") == []

    post_signed(phone_web, f"/twilio/status/{bobs_text.delivery_id}",
                {"MessageStatus": "undelivered"})
    phone_web.runtime.engine.run_due()

    # Bob's next rule (a call, 3 minutes later) goes now; the fallback is not needed yet.
    [call] = phone_web.pages("phone")
    assert call.user_id == "bob"
    assert phone_web.pages("webhook") == []

    post_signed(phone_web, f"/twilio/status/{call.delivery_id}", {"CallStatus": "no-answer"})
    phone_web.runtime.engine.run_due()

    assert [p.user_id for p in phone_web.pages("webhook")] == ["carol"]
    assert any("no-answer" in e["message"] for e in phone_web.alert(alert_id)["timeline"])


def test_a_report_to_the_shared_status_url_finds_the_page_by_its_sid(phone_web: Web):
    page = _alices_sms(phone_web)
    with transaction(phone_web.runtime.sessions) as session:
        row = session.get(outbox.Delivery, page.delivery_id)
        assert row is not None
        row.provider_id = "SM0123456789"

    response = post_signed(phone_web, "/twilio/status",
                           {"MessageSid": "SM0123456789", "MessageStatus": "failed"})
    phone_web.runtime.engine.run_due()

    assert response.status_code == 204
    assert [p.user_id for p in phone_web.pages("webhook")] == ["carol"]


def test_voicemail_counts_as_unanswered(phone_web: Web):
    page = _alices_sms(phone_web)

    post_signed(phone_web, f"/twilio/status/{page.delivery_id}",
                {"CallStatus": "completed", "AnsweredBy": "machine_end_beep"})
    phone_web.runtime.engine.run_due()

    assert [p.user_id for p in phone_web.pages("webhook")] == ["carol"]
