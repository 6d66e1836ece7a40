"""The incident channel adapter against the fake Slack Web API, through slack_sdk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_slack import BOT_USER, FakeSlack
from tocsin.config.model import SlackProvider
from tocsin.notify.slack_incidents import IncidentSlack, suffixed

TOKEN = "xoxb-incident-test-5b6c"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def bot(fake: FakeSlack) -> IncidentSlack:
    return IncidentSlack(SlackProvider(token=TOKEN, api_url=fake.base_url), timeout_seconds=2)


def test_a_channel_is_created_with_the_bot_in_it(fake: FakeSlack, bot: IncidentSlack):
    made = bot.create_channel("inc-2026-0142", private=False)

    assert made.outcome.ok and made.channel is not None
    channel = fake.channels[made.channel.id]
    assert (channel.name, channel.is_private, channel.members) == (
        "inc-2026-0142", False, [BOT_USER])
    assert fake.calls[0].authorization == f"Bearer {TOKEN}"


def test_a_private_incident_gets_a_private_channel(fake: FakeSlack, bot: IncidentSlack):
    made = bot.create_channel("inc-2026-0007", private=True)

    assert made.channel is not None
    assert fake.channels[made.channel.id].is_private


def test_a_taken_name_gets_the_next_free_suffix(fake: FakeSlack, bot: IncidentSlack):
    fake.add_channel("inc-2026-0142")
    fake.add_channel("inc-2026-0142-2")

    made = bot.create_channel("inc-2026-0142", private=False)

    assert made.channel is not None and made.channel.name == "inc-2026-0142-3"
    assert [c.params["name"] for c in fake.calls_to("conversations.create")] == [
        "inc-2026-0142", "inc-2026-0142-2", "inc-2026-0142-3"]


def test_every_name_taken_gives_up_without_retrying(fake: FakeSlack, bot: IncidentSlack):
    for n in range(1, 11):
        fake.add_channel(suffixed("inc-9", n))

    made = bot.create_channel("inc-9", private=False)

    assert not made.outcome.ok and not made.outcome.retryable
    assert "inc-9 to inc-9-10 are all taken" in made.outcome.detail


def test_suffixes_keep_the_name_within_slacks_80_characters():
    long = "i" * 80

    assert suffixed(long, 1) == long
    assert suffixed(long, 12) == "i" * 77 + "-12"


@pytest.mark.parametrize(("script", "retryable"), [
    (lambda f: f.fail_next("invalid_auth"), False),
    (lambda f: f.rate_limit_next(5), True),
    (lambda f: f.server_error_next(502), True),
])
def test_slack_failures_say_whether_to_retry(fake: FakeSlack, bot: IncidentSlack, script,
                                             retryable: bool):
    script(fake)

    made = bot.create_channel("inc-2026-0001", private=False)

    assert made.channel is None
    assert not made.outcome.ok and made.outcome.retryable is retryable
    assert TOKEN not in made.outcome.detail


def test_topic_is_set_and_clipped_to_slacks_limit(fake: FakeSlack, bot: IncidentSlack):
    channel = fake.add_channel("inc-1")

    assert bot.set_topic(channel.id, "SEV1 | " + "x" * 300).ok

    assert len(channel.topic) == 250 and channel.topic.startswith("SEV1 | x")


def test_invite_adds_each_person_and_skips_those_slack_refuses(fake: FakeSlack,
                                                               bot: IncidentSlack):
    channel = fake.add_channel("inc-1")
    channel.members.append("U0ALICE")

    invited = bot.invite(channel.id, ["U0ALICE", "U0BOB", "U0BOB", "U0CAROL"])

    assert invited.outcome.ok
    assert channel.members == [BOT_USER, "U0ALICE", "U0BOB", "U0CAROL"]
    assert len(fake.calls_to("conversations.invite")) == 3  # once per person


def test_invite_of_a_deactivated_user_is_skipped_not_retried(fake: FakeSlack,
                                                             bot: IncidentSlack):
    channel = fake.add_channel("inc-1")
    fake.fail_next("user_disabled")

    invited = bot.invite(channel.id, ["U0GONE", "U0BOB"])

    assert invited.outcome.ok and invited.skipped == ("U0GONE (user_disabled)",)
    assert channel.members == [BOT_USER, "U0BOB"]


def test_invite_stops_at_a_retryable_failure(fake: FakeSlack, bot: IncidentSlack):
    channel = fake.add_channel("inc-1")
    fake.rate_limit_next(3)

    invited = bot.invite(channel.id, ["U0ALICE", "U0BOB"])

    assert not invited.outcome.ok and invited.outcome.retryable
    assert channel.members == [BOT_USER]


def test_a_message_posted_or_typed_is_read_back_by_its_ts(fake: FakeSlack, bot: IncidentSlack):
    channel = fake.add_channel("inc-1")
    posted = bot.post(channel.id, "Status: *identified*")
    typed = fake.say(channel.id, "U0BOB", "rolled back to 4.2.0 &amp; watching")
    fake.say(channel.id, "U0ALICE", "later message")

    assert posted.ok and posted.provider_id is not None
    assert bot.message_text(channel.id, posted.provider_id)[1] == "Status: *identified*"
    assert bot.message_text(channel.id, typed)[1] == "rolled back to 4.2.0 &amp; watching"
    assert bot.message_text(channel.id, "1700000000.999999")[1] is None
    assert fake.calls_to("conversations.history")[0].params["inclusive"] == "1"
