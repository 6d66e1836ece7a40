"""Notices (handoff notices) through each adapter: no alert, no ack link, no buttons."""

import io

from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_TOKEN, WEBHOOK_SECRET
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock
from tocsin.config.model import SlackProvider, WebhookProvider
from tocsin.notify.base import Notice, NoticeNotifier
from tocsin.notify.console import ConsoleNotifier
from tocsin.notify.slack import SlackNotifier
from tocsin.notify.webhook import WebhookNotifier

TEXT = "Your on-call shift for primary starts in 1 hour (Mon 02 Mar 19:00 America/New_York)"


def make_notice(address: str = "U012ABC", text: str = TEXT) -> Notice:
    return Notice(notice_id=3, idempotency_key="handoff-3", kind="handoff.upcoming",
                  user_id="alice", user_name="Alice", address=address, text=text)


def test_every_built_in_adapter_can_send_notices(fake_clock: FakeClock) -> None:
    adapters = [
        ConsoleNotifier(io.StringIO()),
        SlackNotifier(SlackProvider(token=SLACK_TOKEN)),
        WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock),
    ]
    assert all(isinstance(adapter, NoticeNotifier) for adapter in adapters)


def test_console_writes_one_line_with_control_characters_escaped() -> None:
    stream = io.StringIO()
    outcome = ConsoleNotifier(stream).send_notice(make_notice(text="shift\n\x1b[2Jfor you"))
    assert outcome.ok
    assert stream.getvalue() == "NOTICE -> Alice: shift\\x0a\\x1b[2Jfor you\n"


def test_webhook_posts_a_signed_notice_with_the_idempotency_key(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver
) -> None:
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)
    outcome = notifier.send_notice(make_notice(address=webhook_receiver.url("/n/alice")))
    assert outcome.ok
    [request] = webhook_receiver.requests
    assert request.signature_valid
    assert request.idempotency_key == "handoff-3"
    assert request.json == {
        "event": "notice",
        "notice_id": 3,
        "kind": "handoff.upcoming",
        "text": TEXT,
        "user": {"id": "alice", "name": "Alice"},
    }


def test_webhook_server_error_is_worth_retrying(
    fake_clock: FakeClock, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.fail_next(status=503)
    notifier = WebhookNotifier(WebhookProvider(secret=WEBHOOK_SECRET), fake_clock)
    outcome = notifier.send_notice(make_notice(address=webhook_receiver.url()))
    assert not outcome.ok and outcome.retryable


def test_slack_sends_a_plain_direct_message(fake_slack: FakeSlack) -> None:
    notifier = SlackNotifier(SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url))
    outcome = notifier.send_notice(make_notice(text="a <b> & c"))
    assert outcome.ok
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.params["channel"] == "U012ABC"
    assert call.params["text"] == "a &lt;b&gt; &amp; c"
    assert "blocks" not in call.params


def test_slack_rate_limit_is_worth_retrying(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("ratelimited")
    notifier = SlackNotifier(SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url))
    outcome = notifier.send_notice(make_notice())
    assert not outcome.ok and outcome.retryable
