import json
import logging
import socket
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.support.fixtures import WEBHOOK_SECRET
from tests.support.pages import make_page
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock
from tocsin.config.model import WebhookProvider
from tocsin.notify.webhook import WebhookNotifier, safe_url, verify

QUERY_TOKEN = "q-token-9f8e7d"


@pytest.fixture
def notifier(fake_clock: FakeClock) -> WebhookNotifier:
    provider = WebhookProvider(secret=WEBHOOK_SECRET, timeout_seconds=2)
    return WebhookNotifier(provider, fake_clock)


def test_posts_the_documented_body(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver
) -> None:
    outcome = notifier.send(make_page(address=webhook_receiver.url("/pages/alice")))
    assert outcome.ok and not outcome.retryable
    [request] = webhook_receiver.requests
    assert request.path == "/pages/alice"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "event": "page",
        "delivery_id": 7,
        "alert": {
            "id": 12,
            "title": "Payment API 500s",
            "status": "triggered",
            "severity": "critical",
            "service": "payment",
            "description": "Error rate above 5% for 5 minutes",
            "labels": {"env": "prod", "region": "eu-west-1"},
            "source_url": "https://grafana.example.com/d/payments?orgId=1",
            "runbook_url": "https://wiki.example.com/runbooks/payment-500s",
            "triggered_at": "2026-03-02T09:30:00Z",
        },
        "user": {"id": "alice", "name": "Alice"},
        "step": 1,
        "ack_url": "http://127.0.0.1:8080/a/12/sig-abc123",
    }


def test_signs_with_the_clock_time_and_the_receiver_verifies(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver, fake_clock: FakeClock
) -> None:
    notifier.send(make_page(address=webhook_receiver.url()))
    [request] = webhook_receiver.requests
    assert request.signature_valid
    signature = request.headers["tocsin-signature"]
    assert signature.startswith(f"t={int(fake_clock.now().timestamp())},v1=")
    tampered = request.body.replace(b"Payment", b"Pavment")
    now = int(fake_clock.now().timestamp())
    assert not verify(WEBHOOK_SECRET, signature, tampered, now)


def test_a_receiver_with_another_secret_rejects_it_for_good(
    fake_clock: FakeClock, notifier: WebhookNotifier
) -> None:
    now = int(fake_clock.now().timestamp())
    with WebhookReceiver("not-ours", now=lambda: now, reject_bad_signatures=True) as receiver:
        outcome = notifier.send(make_page(address=receiver.url()))
    assert receiver.requests[0].signature_valid is False
    assert not outcome.ok and not outcome.retryable
    assert "HTTP 401" in outcome.detail


def test_server_errors_are_retryable_and_retries_keep_the_idempotency_key(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver, fake_clock: FakeClock
) -> None:
    webhook_receiver.fail_next(2)
    page = make_page(address=webhook_receiver.url())
    outcomes = []
    for _ in range(3):
        outcomes.append(notifier.send(page))
        fake_clock.advance(seconds=20)  # the engine's backoff, in fake time
    assert [(o.ok, o.retryable) for o in outcomes] == [(False, True), (False, True), (True, False)]
    assert [r.status for r in webhook_receiver.requests] == [500, 500, 200]
    assert {r.idempotency_key for r in webhook_receiver.requests} == {"delivery-7-0c5d"}
    assert all(r.signature_valid for r in webhook_receiver.requests)
    assert "HTTP 500" in outcomes[0].detail


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (408, True),
        (429, True),
        (502, True),
        (503, True),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (422, False),
        (302, False),
    ],
)
def test_status_codes_split_into_retryable_and_permanent(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver, status: int, retryable: bool
) -> None:
    webhook_receiver.respond_next(status)
    outcome = notifier.send(make_page(address=webhook_receiver.url()))
    assert not outcome.ok
    assert outcome.retryable is retryable
    assert f"HTTP {status}" in outcome.detail


def test_any_2xx_is_delivered(notifier: WebhookNotifier, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond_next(202)
    assert notifier.send(make_page(address=webhook_receiver.url())).ok


def test_a_slow_receiver_is_a_retryable_timeout(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver
) -> None:
    notifier = WebhookNotifier(WebhookProvider(secret="s", timeout_seconds=0.2), fake_clock)
    webhook_receiver.delay_next(3)
    outcome = notifier.send(make_page(address=webhook_receiver.url()))
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert "timed out" in outcome.detail


def test_nobody_listening_is_retryable(notifier: WebhookNotifier) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = notifier.send(make_page(address=f"http://127.0.0.1:{port}/hook"))
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert "unreachable (ConnectError)" in outcome.detail


@pytest.mark.parametrize("address", ["ftp://127.0.0.1/hook", "not a url", "http://[::1"])
def test_an_unusable_url_is_permanent(notifier: WebhookNotifier, address: str) -> None:
    outcome = notifier.send(make_page(address=address))
    assert (outcome.ok, outcome.retryable) == (False, False)


def test_secrets_and_url_tokens_stay_out_of_details_and_our_logs(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = webhook_receiver.base_url.replace("http://", f"http://user:{QUERY_TOKEN}@")
    address = f"{base}/hook?token={QUERY_TOKEN}#frag"
    webhook_receiver.fail_next(1)
    outcomes = [notifier.send(make_page(address=address)) for _ in range(2)]
    assert [o.ok for o in outcomes] == [False, True]
    for outcome in outcomes:
        assert QUERY_TOKEN not in outcome.detail
        assert WEBHOOK_SECRET not in outcome.detail
        assert outcome.detail.startswith(f"{webhook_receiver.base_url}/hook answered HTTP")
    assert WEBHOOK_SECRET not in caplog.text
    ours = [r for r in caplog.records if r.name.startswith("tocsin.")]
    assert [r.msg for r in ours] == ["notify.webhook.failed", "notify.webhook.delivered"]
    for record in ours:
        assert QUERY_TOKEN not in record.getMessage()
        assert QUERY_TOKEN not in json.dumps(record.__dict__, default=str)


def test_non_latin_text_and_emoji_travel_as_utf8(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver
) -> None:
    title = "Платёжный API: ошибки 500 🔥 支払い 👩‍💻"
    labels = {"команда": "платежи", "emoji": "🚨"}
    notifier.send(make_page(address=webhook_receiver.url(), title=title, labels=labels))
    [request] = webhook_receiver.requests
    assert title.encode("utf-8") in request.body  # raw UTF-8, not \\u escapes
    assert request.json["alert"]["title"] == title
    assert request.json["alert"]["labels"] == labels
    assert request.signature_valid


def test_a_lone_surrogate_still_sends_valid_json(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver
) -> None:
    outcome = notifier.send(make_page(address=webhook_receiver.url(), title="bad \ud800 half"))
    assert outcome.ok
    assert webhook_receiver.requests[0].json["alert"]["title"] == "bad \ud800 half"


def test_triggered_at_is_sent_in_utc(
    notifier: WebhookNotifier, webhook_receiver: WebhookReceiver
) -> None:
    bangkok = timezone(timedelta(hours=7))
    page = make_page(
        address=webhook_receiver.url(), triggered_at=datetime(2026, 3, 2, 16, 30, tzinfo=bangkok)
    )
    notifier.send(page)
    assert webhook_receiver.requests[0].json["alert"]["triggered_at"] == "2026-03-02T09:30:00Z"


def test_a_client_passed_in_is_used_and_left_open(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver
) -> None:
    with httpx.Client() as client:
        notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock, client)
        assert notifier.send(make_page(address=webhook_receiver.url())).ok
        notifier.close()
        assert not client.is_closed


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://hooks.example.com/pages/alice?token=abc#x",
            "https://hooks.example.com/pages/alice",
        ),
        ("http://user:pw@127.0.0.1:8080/h", "http://127.0.0.1:8080/h"),
        ("http://[::1", "<invalid url>"),
    ],
)
def test_safe_url_keeps_scheme_host_and_path_only(url: str, shown: str) -> None:
    assert safe_url(url) == shown
