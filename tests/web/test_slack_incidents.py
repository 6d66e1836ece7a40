"""The seed workflow run from Slack: declare, channel, commander, page, roles, update, resolve.

Commands and events are signed with slack_sdk's SignatureVerifier and go
through the real app; the Slack worker sends to the fake Slack Web API on
127.0.0.1, whose message timestamps follow the fake clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fake_slack import BOT_USER, FakeChannel, FakeSlack
from tests.web.conftest import close_web
from tests.web.slack_app import CONFIG, SECRET, SlackWeb, make_slack_web
from tocsin.clock import FakeClock
from tocsin.config.loader import load_config
from tocsin.incidents import service
from tocsin.incidents.rules import TimelineEntry
from tocsin.web.slack_pins import Pin, read_pin

ALICE, BOB, DAVE = "U0ALICE", "U0BOB", "U0DAVE"
SCENARIO_CONFIG = CONFIG.replace(
    "  - {id: carol, name: Carol}\n",
    "  - {id: carol, name: Carol}\n  - {id: dave, name: Dave, contacts: {slack: U0DAVE}}\n")
TITLE = "Payment API returning 500 errors"


@pytest.fixture
def sw(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[SlackWeb]:
    assert "U0DAVE" in SCENARIO_CONFIG
    with FakeSlack(clock) as slack, FakeSlack() as trap:
        web = make_slack_web(tmp_path, db_url, clock, slack, SCENARIO_CONFIG)
        try:
            yield SlackWeb(web, slack, trap)
        finally:
            close_web(web)


def slash(sw: SlackWeb, text: str, *, user: str = ALICE, channel: str = "C0OPS",
          command: str = "/incident", timestamp: int | None = None) -> dict[str, Any]:
    body = urlencode({
        "token": "deprecated", "team_id": "T0TOCSIN", "channel_id": channel, "user_id": user,
        "command": command, "text": text, "api_app_id": "A0TOCSIN", "trigger_id": "1.2.3",
        "response_url": sw.trap.base_url + "commands"}).encode()
    response = sw.post("/slack/commands", body, timestamp=timestamp)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def react(sw: SlackWeb, channel: str, ts: str, *, user: str = BOB,
          reaction: str = "pushpin") -> None:
    body = json.dumps({
        "token": "deprecated", "team_id": "T0TOCSIN", "api_app_id": "A0TOCSIN",
        "type": "event_callback", "event_id": "Ev0001", "event_time": 1772420400,
        "event": {"type": "reaction_added", "user": user, "reaction": reaction,
                  "item_user": ALICE, "event_ts": "1772420400.000200",
                  "item": {"type": "message", "channel": channel, "ts": ts}}}).encode()
    response = sw.post("/slack/events", body, content_type={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def run(sw: SlackWeb) -> None:
    sw.web.runtime.engine.run_due()


def entries(sw: SlackWeb, key: str = "INC-1") -> list[TimelineEntry]:
    with sw.web.runtime.sessions() as session:
        return service.timeline(session, key)


def channel_of(sw: SlackWeb, key: str = "INC-1") -> FakeChannel:
    with sw.web.runtime.sessions() as session:
        incident = service.get(session, key, admin=True)
        assert incident.slack_channel_id is not None
        return sw.slack.channels[incident.slack_channel_id]


def declare(sw: SlackWeb) -> FakeChannel:
    reply = slash(sw, f'create "{TITLE}" sev1')
    assert reply["response_type"] == "in_channel", reply
    run(sw)
    return channel_of(sw)


def test_the_seed_workflow_from_slack(sw: SlackWeb):
    clock = sw.web.clock
    reply = slash(sw, f'create "{TITLE}" sev1')

    assert reply == {"response_type": "in_channel", "text": (
        f"<@U0ALICE> declared *INC-1* (SEV1): {TITLE}. Commander: <@U0ALICE>. "
        "Its channel #inc-2026-0001 is being created.")}
    run(sw)
    room = channel_of(sw)
    assert room.name == "inc-2026-0001"
    assert room.topic == f"SEV1 | Investigating | Commander: Alice | INC-1 {TITLE}"
    assert ALICE in room.members

    clock.advance(minutes=2)
    reply = slash(sw, "role commander <@U0BOB|bob>", channel=room.id)
    assert reply["response_type"] == "in_channel"
    assert reply["text"].startswith("<@U0BOB> is now Commander of INC-1: ")
    clock.advance(minutes=1)
    assert slash(sw, "responder primary", channel=room.id)["response_type"] == "in_channel"
    clock.advance(minutes=1)
    slash(sw, "role scribe @dave", channel=room.id, user=BOB)
    run(sw)
    assert {BOB, DAVE} <= set(room.members)
    pages = [p for p in sw.slack.posts if p[2]["channel"] == ALICE]  # primary: alice this week
    assert pages and "INC-1" in pages[-1][2]["text"]

    clock.advance(minutes=3)
    update = slash(sw, "update Card payments fail for EU customers; rollback under way",
                   channel=room.id, user=BOB)
    assert update["response_type"] == "ephemeral"
    for status in ("identified", "monitoring"):
        clock.advance(minutes=5)
        slash(sw, f"status {status}", channel=room.id, user=BOB)
    clock.advance(minutes=10)
    done = slash(sw, "resolve rolled back to 4.2.0", channel=room.id, user=BOB)
    run(sw)

    assert done == {"response_type": "in_channel",
                    "text": "INC-1 is now *resolved* (set by <@U0BOB>)"}
    assert any("Card payments fail for EU customers" in m["text"] for m in room.history)
    steps = [(e.kind, e.actor, f"{e.occurred_at:%H:%M}", e.text) for e in entries(sw)]
    paged = next(e.data["alert_id"] for e in entries(sw) if e.kind == "responder")
    assert steps == [
        ("declared", "alice", "03:00", f"declared SEV1: {TITLE}"),
        ("role", "alice", "03:00", "Commander: alice"),
        ("slack_channel", "tocsin", "03:00", "Slack channel #inc-2026-0001 created"),
        ("role", "alice", "03:02", "Commander: bob (was alice)"),
        ("responder", "alice", "03:03",
         f"paging through schedule primary (alert #{paged}): added as a responder by alice"),
        ("role", "bob", "03:04", "Scribe: dave"),
        ("update", "bob", "03:07", "Card payments fail for EU customers; rollback under way"),
        ("status", "bob", "03:12", "status investigating -> identified"),
        ("status", "bob", "03:17", "status identified -> monitoring"),
        ("status", "bob", "03:27", "status monitoring -> resolved: rolled back to 4.2.0"),
        # Alice never answered her page: the resolve stops it.
        ("pages_resolved", "bob", "03:27", f"resolved the incident's open page (alert #{paged})"),
        # SEV1 requires a post-mortem: the engine drafts it on resolve.
        ("postmortem", "tocsin", "03:27", "post-mortem drafted (due 2026-03-07 03:27 UTC)"),
    ]
    with sw.web.runtime.sessions() as session:
        assert service.get(session, "INC-1", admin=True).resolved_at == clock.now()


def test_commands_outside_the_channel_name_the_incident(sw: SlackWeb):
    declare(sw)

    reply = slash(sw, "note INC-1 customer support has 40 tickets, says <@U0ALICE>", user=BOB)
    nameless = slash(sw, "note customer support has 40 tickets", user=BOB)
    unknown = slash(sw, "status INC-99 identified", user=BOB)

    assert reply["response_type"] == "in_channel"
    assert entries(sw)[-1].text == "customer support has 40 tickets, says @Alice"
    assert nameless == {"response_type": "ephemeral", "text": (
        "This channel is not an incident's. Outside an incident's channel, name the incident "
        "after the command: `/incident note INC-142 TEXT`.")}
    assert unknown["response_type"] == "ephemeral"
    assert unknown["text"].startswith("Nothing was changed: incident INC-99 does not exist")


def test_a_reaction_pins_the_message_to_the_timeline_once(sw: SlackWeb):
    room = declare(sw)
    sw.web.clock.advance(minutes=4)
    said_at = sw.web.clock.now()
    ts = sw.slack.say(room.id, ALICE,
                      "<@U0BOB> rolled back payment-api to 4.2.0 &amp; errors dropping")
    sw.slack.say(room.id, ALICE, "just chatting, not pinned")
    sw.web.clock.advance(minutes=3)

    react(sw, room.id, ts)
    react(sw, room.id, ts, user=ALICE)  # a second pin of the same message
    react(sw, room.id, ts, reaction="eyes")

    pinned = [e for e in entries(sw) if e.slack_ts is not None]
    # Backdated to when it was said: the ts is that second, plus a sequence in microseconds.
    assert [(e.text, e.actor, e.occurred_at.replace(microsecond=0), e.slack_ts)
            for e in pinned] == [
        ("@Bob rolled back payment-api to 4.2.0 & errors dropping", "bob", said_at, ts)]
    assert not any("just chatting" in e.text for e in entries(sw))


def test_a_reaction_outside_incident_channels_stores_nothing(sw: SlackWeb):
    declare(sw)
    elsewhere = sw.slack.add_channel("random")
    ts = sw.slack.say(elsewhere.id, ALICE, "lunch?")
    before = len(entries(sw))

    react(sw, elsewhere.id, ts)

    assert len(entries(sw)) == before
    assert sw.slack.calls_to("conversations.history") == []


def test_page_from_slack_pages_the_on_call_engineer(sw: SlackWeb):
    reply = slash(sw, "primary checkout is failing for everyone", command="/page", user=BOB)
    run(sw)

    assert reply["response_type"] == "in_channel"
    assert reply["text"].startswith("<@U0BOB> paged primary: checkout is failing for everyone")
    assert any(p[2]["channel"] == ALICE and "checkout is failing" in p[2]["text"]
               for p in sw.slack.posts)


@pytest.mark.parametrize(("text", "fix"), [
    ("frobnicate", "`frobnicate` is not an /incident command"),
    ("create Payment API down", "Say how bad it is with a severity (SEV1, SEV2, SEV3, SEV4)"),
    ("role commander", "`/incident role ROLE @person`"),
    ("role pilot @bob", "Nothing was changed: unknown role 'pilot'; role: use one of Commander"),
    ("severity sev7", "Choose one of SEV1, SEV2, SEV3, SEV4"),
])
def test_malformed_commands_get_an_ephemeral_usage(sw: SlackWeb, text: str, fix: str):
    declare(sw)
    room = channel_of(sw)

    reply = slash(sw, text, channel=room.id)

    assert reply["response_type"] == "ephemeral"
    assert fix in reply["text"]


def test_help_lists_the_commands(sw: SlackWeb):
    reply = slash(sw, "help", user="U0NOBODY")

    assert reply["response_type"] == "ephemeral"
    assert "`/incident role ROLE @person`" in reply["text"]
    assert "Severities: SEV1, SEV2, SEV3, SEV4." in reply["text"]
    assert "React with :pushpin: to a message" in reply["text"]


def test_an_unlinked_slack_user_is_told_how_to_link(sw: SlackWeb):
    reply = slash(sw, 'create "db down" sev2', user="U0NOBODY")

    assert reply == {"response_type": "ephemeral", "text": (
        "Your Slack account (U0NOBODY) is not linked to a Tocsin user. Add "
        "`contacts: {slack: U0NOBODY}` to your user in the Tocsin config and reload it, "
        "then try again.")}
    with sw.web.runtime.sessions() as session:
        assert service.listing(session, admin=True) == []


def test_unsigned_and_stale_commands_are_refused(sw: SlackWeb):
    body = urlencode({"command": "/incident", "text": 'create "x" sev1',
                      "user_id": ALICE}).encode()
    unsigned = sw.web.client.post("/slack/commands", content=body,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    stale_at = int((sw.web.clock.now() - timedelta(minutes=6)).timestamp())
    stale = sw.post("/slack/commands", body, timestamp=stale_at)
    wrong = sw.post("/slack/commands", body, secret="not-" + SECRET)

    assert [r.status_code for r in (unsigned, stale, wrong)] == [401, 401, 401]
    with sw.web.runtime.sessions() as session:
        assert service.listing(session, admin=True) == []


def test_a_replayed_declare_declares_once(sw: SlackWeb):
    when = int(sw.web.clock.now().timestamp())
    first = slash(sw, f'create "{TITLE}" sev1', timestamp=when)
    again = slash(sw, f'create "{TITLE}" sev1', timestamp=when)

    assert again["text"] == first["text"]
    with sw.web.runtime.sessions() as session:
        assert [i.key for i in service.listing(session, admin=True)] == ["INC-1"]


def test_a_private_incident_has_a_private_channel_and_hides_from_outsiders(sw: SlackWeb):
    reply = slash(sw, 'create "Leaked API key" sev2 private', user=BOB)
    run(sw)
    room = channel_of(sw)

    outsider = slash(sw, "note INC-1 I saw something", user=DAVE)

    assert reply["text"].startswith("<@U0BOB> declared private *INC-1* (SEV2)")
    assert room.is_private and room.members[0] == BOT_USER
    assert outsider["response_type"] == "ephemeral"
    assert outsider["text"].startswith("Nothing was changed: incident INC-1 does not exist")


def test_every_reply_about_a_private_incident_is_ephemeral(sw: SlackWeb):
    declared = slash(sw, 'create "Leaked API key" sev2 private', user=BOB)
    run(sw)
    room = channel_of(sw)

    replies = [slash(sw, text, channel=channel, user=BOB) for text, channel in (
        ("note INC-1 rotated the key", "C0OPS"), ("status identified", room.id),
        ("severity sev1", room.id), ("mitigated", room.id))]

    assert declared["response_type"] == "ephemeral"
    assert declared["text"].startswith("<@U0BOB> declared private *INC-1* (SEV2)")
    assert [r["response_type"] for r in replies] == ["ephemeral"] * 4
    assert replies[0]["text"].startswith("Noted on the INC-1 timeline")


def test_slack_markup_typed_by_people_is_posted_as_text(sw: SlackWeb):
    reply = slash(sw, 'create "<!channel> <@U0CFO> <https://evil.example|click>" sev1')
    run(sw)
    room = channel_of(sw)
    slash(sw, "update &lt;!here&gt; R&amp;D is down", channel=room.id)
    run(sw)

    title = "@channel @U0CFO click (https://evil.example)"
    assert title in reply["text"] and "<!" not in reply["text"]
    assert room.topic.endswith(f"INC-1 {title}")
    assert room.history[-1]["text"] == (
        "INC-1 update [SEV1, investigating]: &lt;!here&gt; R&amp;D is down")
    assert all("<!" not in m["text"] for m in room.history)


def reaction_body(reaction: str, *, item_type: str = "message") -> bytes:
    return json.dumps({"type": "event_callback", "event": {
        "type": "reaction_added", "user": BOB, "reaction": reaction,
        "item": {"type": item_type, "channel": "C0CHAN0001", "ts": "1772420640.000004"}}}).encode()


def test_the_pin_emoji_comes_from_the_config(tmp_path: Path):
    path = tmp_path / "tocsin.yaml"
    path.write_text("notifications:\n  slack: {token: xoxb-1, pin_emoji: ':white_check_mark:'}\n",
                    encoding="utf-8")
    config, _ = load_config(str(path))
    provider = config.notifications.slack
    assert provider is not None

    assert read_pin(provider, reaction_body("white_check_mark")) == Pin(
        channel="C0CHAN0001", ts="1772420640.000004", slack_user=BOB)
    assert read_pin(provider, reaction_body("pushpin")) is None
    assert read_pin(provider, reaction_body("white_check_mark", item_type="file")) is None
    assert read_pin(provider, b"{not json") is None


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=60), st.lists(st.sampled_from([
    "create ", "role ", "commander ", "note ", "status ", "resolve ", "responder ", "INC-1 ",
    "INC-99 ", "sev1 ", '"', "<@U0BOB|bob> ", "@nobody ", "primary ", "&amp;", "me ", "x"]),
    max_size=6).map("".join)), command=st.sampled_from(["/incident", "/page"]))
def test_any_command_text_gets_an_answer_never_an_error(sw: SlackWeb, text: str, command: str):
    reply = slash(sw, text, command=command, user=BOB)

    assert reply["response_type"] in ("ephemeral", "in_channel")
    assert reply["text"] and "failed while doing this" not in reply["text"]


def test_declaring_for_a_service_pages_its_on_call_engineer(sw: SlackWeb):
    reply = slash(sw, f'create "{TITLE}" sev1 service:payment', user=BOB)
    run(sw)

    assert reply["response_type"] == "in_channel"
    pages = [p[2]["text"] for p in sw.slack.posts if p[2]["channel"] == ALICE]
    assert pages and f"INC-1 [SEV1] {TITLE}" in pages[0]
    assert ALICE in channel_of(sw).members
    paged = [e.text for e in entries(sw) if e.kind == "paged"]
    assert len(paged) == 1 and paged[0].startswith("paging through escalation policy critical"), [
        (e.kind, e.text) for e in entries(sw)]


def test_an_overdue_update_reminds_the_commander_until_one_is_posted(sw: SlackWeb):
    room = declare(sw)  # SEV1: an update every 30 minutes
    clock = sw.web.clock

    clock.advance(minutes=29)
    run(sw)
    assert not any("no update" in m["text"] for m in room.history)
    clock.advance(minutes=1)
    run(sw)
    reminders = [m["text"] for m in room.history if "no update" in m["text"]]
    assert reminders == ["<@U0ALICE>: no update on INC-1 for 30 minutes. Post one with "
                         "`/incident update TEXT`; it goes to this channel and the "
                         "stakeholders."]
    assert any(p[0] == "D0ALICE" and "No update on INC-1" in p[2]["text"]
               for p in sw.slack.posts)

    clock.advance(minutes=10)
    slash(sw, "update Failover finished; watching error rates", channel=room.id)
    clock.advance(minutes=25)  # 35 minutes after the first reminder, 25 after the update
    run(sw)
    assert len([m for m in room.history if "no update" in m["text"]]) == 1
    clock.advance(minutes=5)
    run(sw)
    assert len([m for m in room.history if "no update" in m["text"]]) == 2


def test_page_names_a_target_the_config_knows(sw: SlackWeb):
    reply = slash(sw, "zed the site is down", command="/page", user=BOB)

    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Nothing was changed: nobody is named 'zed'")
