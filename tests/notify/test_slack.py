import json
import logging
import socket
from typing import Any

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_TOKEN
from tests.support.pages import make_page
from tocsin.config.model import SlackProvider
from tocsin.notify.base import DeliveryOutcome, Page
from tocsin.notify.slack import (
    ACK_ACTION_ID,
    ESCALATE_ACTION_ID,
    RESOLVE_ACTION_ID,
    SNOOZE_ACTION_ID,
    SlackNotifier,
)


def notifier_for(slack: FakeSlack, timeout_seconds: int = 5) -> SlackNotifier:
    provider = SlackProvider(token=SLACK_TOKEN, api_url=slack.base_url)
    return SlackNotifier(provider, timeout_seconds=timeout_seconds)


def send(slack: FakeSlack, page: Page | None = None) -> DeliveryOutcome:
    return notifier_for(slack).send(page or make_page())


def posted(slack: FakeSlack) -> dict[str, Any]:
    [call] = slack.calls_to("chat.postMessage")
    return call.params


def blocks_of(params: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in params["blocks"] if block["type"] == kind]


def test_posts_a_dm_to_the_user_and_returns_the_message_ts(fake_slack: FakeSlack) -> None:
    outcome = send(fake_slack)
    assert outcome.ok
    assert outcome.provider_id == "1700000000.000001"
    [call] = fake_slack.calls
    assert call.method == "chat.postMessage"
    assert call.authorization == f"Bearer {SLACK_TOKEN}"
    assert call.params["channel"] == "U012ABC"
    assert call.params["text"] == ("Page: Payment API 500s [critical] payment (alert #12, step 1)")


def test_blocks_show_the_alert_its_links_and_buttons(fake_slack: FakeSlack) -> None:
    send(fake_slack)
    params = posted(fake_slack)
    [header] = blocks_of(params, "header")
    assert header["text"]["text"] == "Payment API 500s"
    facts = " ".join(field["text"] for field in blocks_of(params, "section")[0]["fields"])
    for fact in ("critical", "payment", "*Escalation step*\n1", "#12 (triggered)"):
        assert fact in facts
    [context] = blocks_of(params, "context")
    links = context["elements"][0]["text"]
    assert "<https://grafana.example.com/d/payments?orgId=1|Source>" in links
    assert "<https://wiki.example.com/runbooks/payment-500s|Runbook>" in links
    assert "<http://127.0.0.1:8080/a/12/sig-abc123|Acknowledge in the browser>" in links
    [actions] = blocks_of(params, "actions")
    buttons = {b["action_id"]: b["value"] for b in actions["elements"] if b["type"] == "button"}
    assert buttons == {ACK_ACTION_ID: "12", RESOLVE_ACTION_ID: "12", ESCALATE_ACTION_ID: "12:1"}
    [menu] = [e for e in actions["elements"] if e["type"] == "static_select"]
    assert menu["action_id"] == SNOOZE_ACTION_ID
    assert [o["value"] for o in menu["options"]] == ["12:15", "12:30", "12:60", "12:240"]
    assert params["unfurl_links"] is False


def test_mrkdwn_control_characters_are_escaped(fake_slack: FakeSlack) -> None:
    page = make_page(
        description="p99 > 2s & <!channel> ping",
        runbook_url="https://wiki.example.com/r?a=1&b=2",
    )
    send(fake_slack, page)
    params = posted(fake_slack)
    texts = json.dumps(params["blocks"], ensure_ascii=False)
    assert "p99 &gt; 2s &amp; &lt;!channel&gt; ping" in texts
    assert "<!channel>" not in texts
    assert "https://wiki.example.com/r?a=1&amp;b=2|Runbook" in texts


def test_long_titles_and_descriptions_are_clipped_to_slack_limits(fake_slack: FakeSlack) -> None:
    send(fake_slack, make_page(title="x" * 400, description="&" * 4000))
    params = posted(fake_slack)
    assert len(blocks_of(params, "header")[0]["text"]["text"]) == 150
    description = blocks_of(params, "section")[1]["text"]["text"]
    assert len(description) <= 3000
    assert description.endswith("&amp;…")


def test_a_minimal_page_still_has_buttons(fake_slack: FakeSlack) -> None:
    page = make_page(
        severity=None,
        service=None,
        description=None,
        source_url=None,
        runbook_url=None,
        ack_url=None,
    )
    assert send(fake_slack, page).ok
    params = posted(fake_slack)
    assert blocks_of(params, "context") == []
    assert len(blocks_of(params, "actions")[0]["elements"]) == 4
    assert params["text"] == "Page: Payment API 500s (alert #12, step 1)"


def test_non_latin_text_and_emoji_arrive_intact(fake_slack: FakeSlack) -> None:
    title = "Платёжный API: ошибки 500 🔥 支払い 👩‍💻"
    send(fake_slack, make_page(title=title, service="платежи"))
    params = posted(fake_slack)
    assert blocks_of(params, "header")[0]["text"]["text"] == title
    assert params["text"].startswith(f"Page: {title} [critical] платежи")


@pytest.mark.parametrize(
    "error",
    [
        "invalid_auth",
        "channel_not_found",
        "not_authed",
        "account_inactive",
        "user_not_found",
        "is_archived",
    ],
)
def test_slack_refusals_are_permanent(fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail_next(error)
    outcome = send(fake_slack)
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.detail == f"Slack answered HTTP 200: {error}"


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable"])
def test_slack_side_trouble_is_retryable(fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail_next(error)
    assert send(fake_slack).retryable


def test_rate_limiting_is_retryable_and_says_when(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_next(retry_after=42)
    outcome = send(fake_slack)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.detail == "Slack answered HTTP 429: ratelimited (retry after 42 s)"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(fake_slack: FakeSlack, status: int) -> None:
    fake_slack.server_error_next(status)
    outcome = send(fake_slack)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.detail == f"Slack answered HTTP {status}: no Slack error code"


def test_no_built_in_retries_the_engine_owns_them(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_next(retry_after=1)
    send(fake_slack)
    assert len(fake_slack.calls) == 1


def test_nobody_listening_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = SlackProvider(token=SLACK_TOKEN, api_url=f"http://127.0.0.1:{port}/api/")
    outcome = SlackNotifier(provider).send(make_page())
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.detail.startswith("Slack unreachable")


def test_a_stalled_slack_is_a_retryable_timeout(fake_slack: FakeSlack) -> None:
    fake_slack.stall_next(5)
    outcome = notifier_for(fake_slack, timeout_seconds=1).send(make_page())
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.detail.startswith("Slack unreachable")


def test_an_unusable_api_url_is_permanent() -> None:
    provider = SlackProvider(token=SLACK_TOKEN, api_url="file:///etc/")
    outcome = SlackNotifier(provider).send(make_page())
    assert (outcome.ok, outcome.retryable) == (False, False)


def test_the_token_never_reaches_details_or_logs(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # slack_sdk's own debug records included
    fake_slack.fail_next("invalid_auth")
    fake_slack.rate_limit_next()
    fake_slack.server_error_next()
    outcomes = [send(fake_slack) for _ in range(4)]
    assert [o.ok for o in outcomes] == [False, False, False, True]
    for outcome in outcomes:
        assert SLACK_TOKEN not in outcome.detail
    assert len(fake_slack.calls) == 4
    assert SLACK_TOKEN not in caplog.text
    for record in caplog.records:
        assert SLACK_TOKEN not in json.dumps(record.__dict__, default=str)
    ours = [r.msg for r in caplog.records if r.name == "tocsin.notify.slack"]
    assert ours == ["notify.slack.failed"] * 3 + ["notify.slack.delivered"]
