"""The fake Twilio API against the real `twilio` client, and our requests against the client's.

If the fake only accepted what our notifier sends, it would prove nothing.
Here Twilio's own Python library (9.13) is pointed at the fake on 127.0.0.1
(its domain's base URL replaced, and an HTTP client that refuses any other
host): the fake must accept what the library sends, answer what the library
parses, and refuse in the shapes the library turns into `TwilioRestException`.
Then the same message sent by our notifier and by the library must reach the
fake as the same request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from tests.support.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    INVALID_NUMBER,
    FakeTwilio,
    TwilioRequest,
)
from tests.support.pages import make_page
from tocsin.config.model import TwilioProvider
from tocsin.notify.twilio import TwilioApi, TwilioSmsNotifier, TwilioVoiceNotifier

ALICE = "+15550100100"
ACK_URL = "https://tocsin.example.com/a/eyJhIjoxMn0.aBcDeF.Zx9-Yw8_Vu7Ts6Rq5Po"


class LoopbackOnly(TwilioHttpClient):
    """Twilio's own HTTP client, refusing every URL outside the fake."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=5)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if not url.startswith(self.base_url + "/"):
            raise AssertionError(f"the twilio client tried to reach {url}")
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def real_client(twilio: FakeTwilio, token: str = AUTH_TOKEN) -> Client:
    client = Client(ACCOUNT_SID, token, http_client=LoopbackOnly(twilio.api_url))
    client.api.base_url = twilio.api_url
    return client


def only(twilio: FakeTwilio) -> TwilioRequest:
    [request] = twilio.requests
    return request


def test_the_real_client_sends_an_sms_the_fake_accepts_and_parses_its_answer(
    twilio: FakeTwilio,
) -> None:
    message = real_client(twilio).messages.create(to=ALICE, from_=FROM_NUMBER,
                                                  body="Tocsin #12: disk full")
    request = only(twilio)
    assert request.status == 201
    assert request.form == {"To": ALICE, "From": FROM_NUMBER, "Body": "Tocsin #12: disk full"}
    assert message.sid == request.sid and message.sid is not None
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.status, message.num_segments, message.to) == ("queued", "1", ALICE)
    assert message.account_sid == ACCOUNT_SID


def test_the_real_client_places_a_call_the_fake_accepts(twilio: FakeTwilio) -> None:
    twiml = "<Response><Say>Tocsin alert: disk full.</Say></Response>"
    call = real_client(twilio).calls.create(to=ALICE, from_=FROM_NUMBER, twiml=twiml)
    request = only(twilio)
    assert request.form == {"To": ALICE, "From": FROM_NUMBER, "Twiml": twiml}
    assert call.sid == request.sid and call.sid is not None and call.sid.startswith("CA")
    assert call.status == "queued"


@pytest.mark.parametrize(
    ("send", "status", "code"),
    [
        (lambda c: c.messages.create(to=INVALID_NUMBER, from_=FROM_NUMBER, body="x"), 400, 21211),
        (lambda c: c.messages.create(to=ALICE, from_=FROM_NUMBER, body="x" * 1601), 400, 21617),
        (lambda c: c.messages.create(to=ALICE, from_="+15550109999", body="x"), 400, 21606),
        (lambda c: c.messages.create(to=ALICE, from_=FROM_NUMBER), 400, 21602),
        (lambda c: c.calls.create(to=ALICE, from_=FROM_NUMBER, twiml="<Say>hi"), 400, 12100),
        (lambda c: c.calls.create(to=ALICE, from_=FROM_NUMBER, twiml="<Response>" + " " * 4000
                                  + "</Response>"), 400, 32018),
        (lambda c: c.calls.create(to=ALICE, from_=FROM_NUMBER), 400, 21205),
    ],
)
def test_the_fakes_refusals_reach_the_real_client_as_twilio_errors(
    twilio: FakeTwilio, send: Any, status: int, code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        send(real_client(twilio))
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.msg  # the client found the message in the fake's JSON


def test_a_wrong_token_reaches_the_real_client_as_20003(twilio: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as caught:
        real_client(twilio, token="not-the-token").messages.create(
            to=ALICE, from_=FROM_NUMBER, body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)


def test_a_rate_limit_reaches_the_real_client_as_a_429(twilio: FakeTwilio) -> None:
    twilio.rate_limit_next()
    with pytest.raises(TwilioRestException) as caught:
        real_client(twilio).messages.create(to=ALICE, from_=FROM_NUMBER, body="x")
    assert (caught.value.status, caught.value.code) == (429, 20429)


def _same_request(ours: TwilioRequest, theirs: TwilioRequest) -> None:
    assert (ours.method, ours.path, ours.status) == (theirs.method, theirs.path, theirs.status)
    assert ours.authorization == theirs.authorization
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    assert ours.headers["accept"] == theirs.headers["accept"] == "application/json"
    assert sorted(ours.pairs) == sorted(theirs.pairs)


def test_our_sms_is_the_request_the_real_client_makes(twilio: FakeTwilio) -> None:
    provider = TwilioProvider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=FROM_NUMBER,
                              api_url=twilio.api_url,
                              status_callback_url="https://tocsin.example.com/twilio/status")
    title = "Zahlung fehlgeschlagen \u2013 支付 & co"
    page = make_page(address=ALICE, ack_url=ACK_URL, title=title)
    assert TwilioSmsNotifier(TwilioApi(provider)).send(page).ok
    ours = twilio.requests[-1]

    real_client(twilio).messages.create(to=ALICE, from_=FROM_NUMBER, body=ours.form["Body"],
                                        status_callback=provider.status_callback_url)
    _same_request(ours, twilio.requests[-1])


def test_our_call_is_the_request_the_real_client_makes(twilio: FakeTwilio) -> None:
    provider = TwilioProvider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=FROM_NUMBER,
                              api_url=twilio.api_url)
    page = make_page(address=ALICE, ack_url=ACK_URL, title="<db> & 'cache' down")
    assert TwilioVoiceNotifier(TwilioApi(provider)).send(page).ok
    ours = twilio.requests[-1]

    real_client(twilio).calls.create(to=ALICE, from_=FROM_NUMBER, twiml=ours.form["Twiml"],
                                     status_callback=ours.form["StatusCallback"])
    _same_request(ours, twilio.requests[-1])
