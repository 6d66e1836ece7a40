"""The page message rewritten after a click, and the notes only the clicker sees."""

from __future__ import annotations

import logging

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_TOKEN
from tests.support.pages import make_page
from tests.support.slack_clicks import action_ids
from tocsin.config.model import SlackProvider
from tocsin.notify.slack import (
    ACK_ACTION_ID,
    ESCALATE_ACTION_ID,
    RESOLVE_ACTION_ID,
    SNOOZE_ACTION_ID,
    UNACK_ACTION_ID,
    SlackNotifier,
)
from tocsin.notify.slack_replies import SlackReplies, answered_blocks

NOTE = "Acknowledged by Alice & Bob at 14:02 UTC"


@pytest.mark.parametrize(("status", "controls"), [
    ("triggered", [ACK_ACTION_ID, RESOLVE_ACTION_ID, SNOOZE_ACTION_ID, ESCALATE_ACTION_ID]),
    ("acknowledged", [RESOLVE_ACTION_ID, SNOOZE_ACTION_ID, ESCALATE_ACTION_ID,
                      UNACK_ACTION_ID]),
    ("resolved", []),
])
def test_only_the_controls_that_apply_to_the_status_remain(status: str, controls: list[str]):
    blocks = answered_blocks(make_page(status=status), NOTE)

    assert action_ids({"blocks": blocks}) == controls
    assert [b["type"] for b in blocks].count("actions") == (1 if controls else 0)
    assert blocks[1]["text"]["text"] == "*Acknowledged by Alice &amp; Bob at 14:02 UTC*"
    assert f"#12 ({status})" in str(blocks[2]["fields"])


def test_the_update_replaces_the_message_that_was_clicked(fake_slack: FakeSlack):
    provider = SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url)
    assert SlackNotifier(provider).send(make_page()).ok
    [(channel, ts, _posted)] = fake_slack.posts

    done = SlackReplies(provider).update_page(
        channel=channel, ts=ts, page=make_page(status="acknowledged"), note=NOTE)

    assert done
    [update] = fake_slack.calls_to("chat.update")
    assert update.authorization == f"Bearer {SLACK_TOKEN}"
    assert fake_slack.messages[(channel, ts)]["text"].startswith(
        "Acknowledged by Alice &amp; Bob at 14:02 UTC. Page: Payment API 500s")


def test_a_failed_update_is_logged_and_reported(fake_slack: FakeSlack,
                                                caplog: pytest.LogCaptureFixture):
    provider = SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url)
    caplog.set_level(logging.INFO)

    done = SlackReplies(provider).update_page(channel="D0NOPE", ts="1.2",
                                              page=make_page(), note=NOTE)

    assert not done
    [failed] = [r for r in caplog.records if r.getMessage() == "slack.reply_failed"]
    assert getattr(failed, "tocsin_fields", {}) == {
        "method": "chat.update", "alert_id": 12, "status": 200, "error": "message_not_found"}
    assert SLACK_TOKEN not in caplog.text


def test_a_note_to_the_clicker_is_ephemeral_and_escaped(fake_slack: FakeSlack):
    provider = SlackProvider(token=SLACK_TOKEN, api_url=fake_slack.base_url)

    assert SlackReplies(provider).tell(channel="D0ALICE", user="U0ALICE",
                                       text="Alert <12> & co")

    [call] = fake_slack.calls_to("chat.postEphemeral")
    assert (call.params["channel"], call.params["user"], call.params["text"]) == (
        "D0ALICE", "U0ALICE", "Alert &lt;12&gt; &amp; co")


def test_slack_unreachable_is_a_false_not_an_exception(caplog: pytest.LogCaptureFixture):
    with FakeSlack() as gone:
        url = gone.base_url
    provider = SlackProvider(token=SLACK_TOKEN, api_url=url)
    caplog.set_level(logging.WARNING)

    assert not SlackReplies(provider).tell(channel="D1", user="U1", text="hi")

    [failed] = [r for r in caplog.records if r.getMessage() == "slack.reply_failed"]
    assert getattr(failed, "tocsin_fields", {})["method"] == "chat.postEphemeral"
