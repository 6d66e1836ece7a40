"""Reassign, add responder and un-acknowledge from a Slack page message.

End to end as in test_slack_inbound: the engine posts the page to the fake
Slack Web API, the test clicks a control of the message the fake holds
(signed with slack_sdk's SignatureVerifier) and checks the alert, its audit
row and timeline entry, and the `chat.update`. In the Reassign menu the
options are Alice, Bob, Carol (people) then primary (schedule); Add
responder has the policy critical after them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.slack_clicks import action_ids, block_actions, control, form_body
from tests.web.slack_app import ALICE, BOB, SlackWeb, open_slack_web
from tocsin.clock import FakeClock
from tocsin.notify.slack import (
    ACK_ACTION_ID,
    ESCALATE_ACTION_ID,
    REASSIGN_ACTION_ID,
    RESOLVE_ACTION_ID,
    RESPONDER_ACTION_ID,
    SNOOZE_ACTION_ID,
    UNACK_ACTION_ID,
)

BOB_OPTION, PRIMARY_OPTION, CRITICAL_OPTION = 1, 3, 4


@pytest.fixture
def sw(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[SlackWeb]:
    with open_slack_web(tmp_path, db_url, clock) as made:
        yield made


def _status_line(update: dict[str, Any]) -> str:
    text: str = update["blocks"][1]["text"]["text"]
    return text


def _entry(sw: SlackWeb, alert_id: int, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e for e in sw.web.alert(alert_id)["timeline"] if e["kind"] == kind)
    return found


def _labels(menu: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(g["label"]["text"], [o["text"]["text"] for o in g["options"]])
            for g in menu["option_groups"]]


def _click_current(sw: SlackWeb, action_id: str) -> None:
    """Click `action_id` on the page message as the last chat.update left it."""
    channel, ts, _message = sw.page_to(ALICE)
    payload = block_actions(sw.slack.messages[(channel, ts)], channel=channel, ts=ts,
                            action_id=action_id, slack_user=ALICE)
    assert sw.post("/slack/interactions", form_body(payload)).status_code == 200


def test_the_menus_list_the_people_schedules_and_policies_of_the_config(sw: SlackWeb):
    alert_id = sw.fire()
    _channel, _ts, message = sw.page_to(ALICE)

    reassign = control(message, REASSIGN_ACTION_ID)
    responder = control(message, RESPONDER_ACTION_ID)

    assert reassign["placeholder"]["text"] == "Reassign"
    assert _labels(reassign) == [("People", ["Alice", "Bob", "Carol"]),
                                 ("Schedules", ["primary"])]
    assert _labels(responder) == [("People", ["Alice", "Bob", "Carol"]),
                                  ("Schedules", ["primary"]), ("Policies", ["critical"])]
    assert reassign["option_groups"][0]["options"][1]["value"] == f"{alert_id}:u:bob"


def test_reassign_from_slack_pages_the_chosen_person_from_step_one(sw: SlackWeb):
    alert_id = sw.fire()

    sw.click(REASSIGN_ACTION_ID, option=BOB_OPTION)
    sw.web.runtime.engine.run_due()

    detail = sw.web.alert(alert_id)
    assert (detail["status"], detail["policy"]) == ("triggered", "responders: user bob")
    _channel, _ts, to_bob = sw.page_to(BOB)
    assert to_bob["text"].endswith(f"(alert #{alert_id}, step 1)")
    entry = _entry(sw, alert_id, "reassigned")
    assert (entry["actor"], entry["surface"]) == ("alice", "slack")
    assert [(r.actor, r.surface, r.action) for r in sw.web.audit()] == [
        ("alice", "slack", "alert.reassigned")]
    [update] = sw.updates()
    assert _status_line(update) == "*Reassigned to person Bob by Alice at 03:00 UTC*"
    assert sw.whispers() == []


def test_reassign_to_a_schedule_from_slack(sw: SlackWeb):
    alert_id = sw.fire()

    sw.click(REASSIGN_ACTION_ID, option=PRIMARY_OPTION)
    sw.web.runtime.engine.run_due()

    assert sw.web.alert(alert_id)["policy"] == "responders: schedule primary"
    assert [p[2]["channel"] for p in sw.slack.posts] == [ALICE, ALICE]
    assert _status_line(sw.updates()[0]) == (
        "*Reassigned to schedule primary by Alice at 03:00 UTC*")


@pytest.mark.parametrize(("option", "noun", "target"), [
    (BOB_OPTION, "person Bob", {"user": "bob"}),
    (CRITICAL_OPTION, "escalation policy critical", {"escalation_policy": "critical"}),
])
def test_add_responder_from_slack_pages_them_beside_the_escalation(
        sw: SlackWeb, option: int, noun: str, target: dict[str, str]):
    alert_id = sw.fire()

    sw.click(RESPONDER_ACTION_ID, option=option)
    sw.web.runtime.engine.run_due()

    entry = _entry(sw, alert_id, "responder_added")
    assert (entry["actor"], entry["surface"], entry["data"]["target"]) == (
        "alice", "slack", target)
    assert [r.action for r in sw.web.audit()] == ["alert.responder_added"]
    assert sw.web.alert(alert_id)["policy"] == "critical"
    assert _status_line(sw.updates()[0]) == (
        f"*Added {noun} as a responder, by Alice at 03:00 UTC*")


def test_add_responder_to_an_acknowledged_alert_is_told_privately(sw: SlackWeb):
    alert_id = sw.fire()
    sw.click(ACK_ACTION_ID)

    sw.click(RESPONDER_ACTION_ID, option=BOB_OPTION)  # on the message as first sent

    [whisper] = sw.whispers()
    assert "is acknowledged, so a page would not be sent" in whisper["text"]
    assert whisper["text"].endswith("Nothing was changed.")
    assert [r.action for r in sw.web.audit()] == ["alert.acknowledge"]
    assert sw.web.alert(alert_id)["status"] == "acknowledged"


def test_a_target_no_longer_in_the_config_is_told_privately(sw: SlackWeb):
    alert_id = sw.fire()

    sw.click(REASSIGN_ACTION_ID, actions=[{
        "action_id": REASSIGN_ACTION_ID, "type": "static_select",
        "selected_option": {"value": f"{alert_id}:u:dave"}}])

    [whisper] = sw.whispers()
    assert whisper["text"].startswith("u:dave is not a person or schedule in Tocsin's config")
    assert sw.web.alert(alert_id)["policy"] == "critical"
    assert sw.web.audit() == [] and sw.updates() == []


def test_unacknowledge_appears_after_an_ack_and_resumes_the_escalation(sw: SlackWeb):
    alert_id = sw.fire()
    sw.click(ACK_ACTION_ID)
    [acked] = sw.updates()
    assert UNACK_ACTION_ID in action_ids(acked)
    assert RESPONDER_ACTION_ID not in action_ids(acked)
    sw.web.clock.advance(minutes=2)

    _click_current(sw, UNACK_ACTION_ID)
    sw.web.runtime.engine.run_due()

    assert sw.web.alert(alert_id)["status"] == "triggered"
    entry = _entry(sw, alert_id, "unacknowledged")
    assert (entry["actor"], entry["surface"]) == ("alice", "slack")
    assert [r.action for r in sw.web.audit()] == ["alert.acknowledge", "alert.unacknowledged"]
    unacked = sw.updates()[-1]
    assert _status_line(unacked) == (
        "*Un-acknowledged by Alice at 03:02 UTC; escalation resumes at step 1*")
    assert action_ids(unacked) == [ACK_ACTION_ID, RESOLVE_ACTION_ID, SNOOZE_ACTION_ID,
                                   ESCALATE_ACTION_ID, REASSIGN_ACTION_ID,
                                   RESPONDER_ACTION_ID]
    assert len(sw.slack.posts) == 2  # alice is paged again at step 1


def test_unacknowledge_of_a_triggered_alert_changes_nothing(sw: SlackWeb):
    alert_id = sw.fire()
    sw.click(ACK_ACTION_ID)
    channel, ts, _message = sw.page_to(ALICE)
    acked = dict(sw.slack.messages[(channel, ts)])
    _click_current(sw, UNACK_ACTION_ID)
    sw.web.runtime.engine.run_due()

    sw.web.clock.advance(minutes=1)  # a later click, not a replay of the first
    # A second copy of the acknowledged message (another device) is stale now.
    payload = block_actions(acked, channel=channel, ts=ts, action_id=UNACK_ACTION_ID,
                            slack_user=ALICE)
    assert sw.post("/slack/interactions", form_body(payload)).status_code == 200

    assert sw.whispers()[-1]["text"] == (
        f"Alert {alert_id} is not acknowledged. Nothing was changed.")
    assert [r.action for r in sw.web.audit()] == ["alert.acknowledge", "alert.unacknowledged"]
