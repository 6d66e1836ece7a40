"""Answering a page from Slack: the clicks on the page message, signed as Slack signs them.

End to end: an alert comes in, the engine sends the Slack page to the fake
Slack Web API, the test takes the blocks the fake received, builds the
payload a Slack client sends for a click on one control and posts it signed
with slack_sdk's own SignatureVerifier; then it checks the alert, its audit
row and timeline entry, and the `chat.update` the fake received.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.slack_clicks import action_ids, block_actions, form_body, signed
from tests.web.conftest import WRITE_TOKEN
from tests.web.slack_app import (
    ALICE,
    BOB,
    CONFIG,
    FORM,
    SECRET,
    STRANGER,
    SlackWeb,
    open_slack_web,
)
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


@pytest.fixture
def sw(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[SlackWeb]:
    with open_slack_web(tmp_path, db_url, clock) as made:
        yield made


def status_line(update: dict[str, Any]) -> str:
    text: str = update["blocks"][1]["text"]["text"]
    return text


def entry(sw: SlackWeb, alert_id: int, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e for e in sw.web.alert(alert_id)["timeline"] if e["kind"] == kind)
    return found


# --- The controls, end to end ----------------------------------------------------------


def test_the_page_message_carries_every_control_of_a_triggered_alert(sw: SlackWeb):
    alert_id = sw.fire()

    _channel, _ts, message = sw.page_to(ALICE)

    assert action_ids(message) == [ACK_ACTION_ID, RESOLVE_ACTION_ID, SNOOZE_ACTION_ID,
                                   ESCALATE_ACTION_ID, REASSIGN_ACTION_ID,
                                   RESPONDER_ACTION_ID]
    assert message["text"].endswith(f"(alert #{alert_id}, step 1)")


def test_acknowledge_acts_as_the_linked_user_and_updates_the_message(sw: SlackWeb):
    alert_id = sw.fire()
    channel, ts, _message = sw.page_to(ALICE)

    sw.click(ACK_ACTION_ID)

    detail = sw.web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    ack = entry(sw, alert_id, "acknowledged")
    assert (ack["actor"], ack["surface"]) == ("alice", "slack")
    [row] = sw.web.audit()
    assert (row.actor, row.surface, row.action, row.object_id) == (
        "alice", "slack", "alert.acknowledge", str(alert_id))
    [update] = sw.updates()
    assert (update["channel"], update["ts"]) == (channel, ts)
    assert status_line(update) == "*Acknowledged by Alice at 03:00 UTC*"
    assert action_ids(update) == [RESOLVE_ACTION_ID, SNOOZE_ACTION_ID, ESCALATE_ACTION_ID,
                                  UNACK_ACTION_ID, REASSIGN_ACTION_ID]
    assert f"#{alert_id} (acknowledged)" in str(update["blocks"])
    assert sw.slack.messages[(channel, ts)] == update
    assert sw.whispers() == [] and sw.trap.calls == []


def test_resolve_closes_the_alert_and_removes_every_control(sw: SlackWeb):
    alert_id = sw.fire()
    sw.web.clock.advance(minutes=2)

    sw.click(RESOLVE_ACTION_ID)

    detail = sw.web.alert(alert_id)
    assert (detail["status"], detail["resolved_by"]) == ("resolved", "alice")
    assert entry(sw, alert_id, "resolved")["surface"] == "slack"
    assert [(r.actor, r.surface, r.action) for r in sw.web.audit()] == [
        ("alice", "slack", "alert.resolve")]
    [update] = sw.updates()
    assert status_line(update) == "*Resolved by Alice at 03:02 UTC*"
    assert action_ids(update) == []
    assert "Acknowledge in the browser" not in str(update["blocks"])
    assert update["text"].startswith("Resolved by Alice at 03:02 UTC.")


def test_snooze_acknowledges_then_the_alert_pages_again_when_it_ends(sw: SlackWeb):
    alert_id = sw.fire()

    sw.click(SNOOZE_ACTION_ID, option=1)  # 30 minutes

    detail = sw.web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "alice")
    snoozed = entry(sw, alert_id, "snoozed")
    assert (snoozed["actor"], snoozed["surface"]) == ("alice", "slack")
    assert "until 2026-03-02T03:30:00Z" in snoozed["message"]
    assert [r.action for r in sw.web.audit()] == ["alert.acknowledge", "alert.snoozed"]
    [update] = sw.updates()
    assert status_line(update) == "*Snoozed for 30 minutes by Alice, until 03:30 UTC*"
    assert ACK_ACTION_ID not in action_ids(update)

    sw.web.clock.advance(minutes=29)
    sw.web.runtime.engine.run_due()
    assert sw.web.alert(alert_id)["status"] == "acknowledged"
    assert len(sw.slack.posts) == 1

    sw.web.clock.advance(minutes=1)
    sw.web.runtime.engine.run_due()
    assert sw.web.alert(alert_id)["status"] == "triggered"
    _channel, ts, again = sw.page_to(ALICE)
    assert ts != sw.page_to(ALICE, 0)[1]
    assert ACK_ACTION_ID in action_ids(again)


def test_escalate_now_pages_step_two(sw: SlackWeb):
    alert_id = sw.fire()
    assert [p[2]["channel"] for p in sw.slack.posts] == [ALICE]

    sw.click(ESCALATE_ACTION_ID)
    sw.web.runtime.engine.run_due()

    escalated = entry(sw, alert_id, "escalated_now")
    assert (escalated["actor"], escalated["surface"]) == ("alice", "slack")
    assert [(r.action, r.surface) for r in sw.web.audit()] == [("alert.escalated_now", "slack")]
    _channel, _ts, to_bob = sw.page_to(BOB)
    assert to_bob["text"].endswith(f"(alert #{alert_id}, step 2)")
    [update] = sw.updates()
    assert status_line(update) == "*Escalated to step 2 by Alice at 03:00 UTC*"
    assert "*Escalation step*\\n2" in str(update["blocks"])


def test_escalate_past_the_last_step_is_told_privately(sw: SlackWeb):
    alert_id = sw.fire()
    sw.click(ESCALATE_ACTION_ID)
    sw.web.runtime.engine.run_due()

    sw.click(ESCALATE_ACTION_ID, slack_user=BOB, page_of=BOB)

    [whisper] = sw.whispers()
    assert whisper["user"] == BOB
    assert "at the last step of critical" in whisper["text"]
    assert len(sw.updates()) == 1  # only the first escalation's
    assert sw.web.alert(alert_id)["step"] == 2


# --- Who may click, and on what --------------------------------------------------------


def test_an_unlinked_slack_user_is_told_how_to_link(sw: SlackWeb):
    alert_id = sw.fire()
    channel, _ts, _message = sw.page_to(ALICE)

    sw.click(ACK_ACTION_ID, slack_user=STRANGER)

    [whisper] = sw.whispers()
    assert (whisper["channel"], whisper["user"]) == (channel, STRANGER)
    assert "not linked to a Tocsin user" in whisper["text"]
    assert "add contacts.slack: U0STRANGER to your user in tocsin.yaml" in whisper["text"]
    assert sw.web.alert(alert_id)["status"] == "triggered"
    assert sw.web.audit() == [] and sw.updates() == []


def test_another_linked_user_may_answer_a_page(sw: SlackWeb):
    alert_id = sw.fire()

    sw.click(ACK_ACTION_ID, slack_user=BOB)

    assert sw.web.alert(alert_id)["acknowledged_by"] == "bob"
    assert status_line(sw.updates()[0]) == "*Acknowledged by Bob at 03:00 UTC*"


def test_a_click_on_a_resolved_alert_says_by_whom_and_when(sw: SlackWeb):
    alert_id = sw.fire()
    sw.web.clock.advance(minutes=4)
    resolved = sw.web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)
    assert resolved.status_code == 200, resolved.text
    sw.web.clock.advance(minutes=1)

    for action_id in (ACK_ACTION_ID, SNOOZE_ACTION_ID):
        sw.click(action_id)

    assert [w["text"] for w in sw.whispers()] == [
        f"Alert {alert_id} is already resolved by Bob at 03:04 UTC. Nothing was changed."] * 2
    assert status_line(sw.updates()[0]) == "*Resolved by Bob at 03:04 UTC*"
    assert action_ids(sw.updates()[0]) == []
    assert [(r.actor, r.action) for r in sw.web.audit()] == [("bob", "alert.resolve")]


def test_acknowledging_twice_names_the_first(sw: SlackWeb):
    alert_id = sw.fire()
    sw.click(ACK_ACTION_ID, slack_user=BOB)
    sw.web.clock.advance(minutes=1)

    sw.click(ACK_ACTION_ID)

    assert sw.web.alert(alert_id)["acknowledged_by"] == "bob"
    [whisper] = sw.whispers()
    assert whisper["text"] == f"Alert {alert_id} was already acknowledged by Bob at 03:00 UTC."
    assert len(sw.web.audit()) == 1


def test_an_unknown_alert_is_told_privately(sw: SlackWeb):
    sw.fire()
    channel, ts, message = sw.page_to(ALICE)
    payload = block_actions(message, channel=channel, ts=ts, action_id=RESOLVE_ACTION_ID,
                            slack_user=ALICE)
    payload["actions"][0]["value"] = "99999"

    response = sw.post("/slack/interactions", form_body(payload))

    assert response.status_code == 200
    [whisper] = sw.whispers()
    assert whisper["text"] == "Alert 99999 does not exist in Tocsin."
    assert sw.updates() == [] and sw.web.audit() == []


@pytest.mark.parametrize("change", [
    {"actions": []},
    {"actions": [{"action_id": ACK_ACTION_ID, "type": "button", "value": "twelve"}]},
    {"actions": [{"action_id": SNOOZE_ACTION_ID, "type": "static_select",
                  "selected_option": {"value": "1:7"}}]},
])
def test_a_malformed_click_is_told_privately_and_changes_nothing(sw: SlackWeb,
                                                                 change: dict[str, Any]):
    alert_id = sw.fire()

    sw.click(ACK_ACTION_ID, **change)

    [whisper] = sw.whispers()
    assert whisper["user"] == ALICE
    assert "could not read this click" in whisper["text"]
    assert sw.web.alert(alert_id)["status"] == "triggered"
    assert sw.web.audit() == []


@pytest.mark.parametrize("payload", ["{not json", "[]", '{"type": "block_actions"}'])
def test_an_unreadable_payload_gets_200_and_nothing_else(sw: SlackWeb, payload: str):
    sw.fire()

    response = sw.post("/slack/interactions", form_body(payload))

    assert response.status_code == 200
    assert sw.whispers() == [] and sw.updates() == [] and sw.web.audit() == []


def test_a_storm_bundle_link_click_is_not_acted_on(sw: SlackWeb):
    alert_id = sw.fire()
    channel, ts, message = sw.page_to(ALICE)
    payload = block_actions(message, channel=channel, ts=ts, action_id=ACK_ACTION_ID,
                            slack_user=ALICE)
    payload["actions"] = [{"action_id": "tocsin_bundle_ack_link", "type": "button",
                           "block_id": "tocsin_bundle_3", "action_ts": "1.2"}]

    response = sw.post("/slack/interactions", form_body(payload))

    assert response.status_code == 200
    assert sw.web.alert(alert_id)["status"] == "triggered"
    assert sw.whispers() == [] and sw.updates() == []


def test_a_slack_outage_on_the_update_still_keeps_the_action(sw: SlackWeb,
                                                             caplog: pytest.LogCaptureFixture):
    alert_id = sw.fire()
    sw.slack.server_error_next(503)
    caplog.set_level(logging.INFO)

    sw.click(ACK_ACTION_ID)

    assert sw.web.alert(alert_id)["status"] == "acknowledged"
    failed = [r for r in caplog.records if r.getMessage() == "slack.reply_failed"]
    assert [getattr(r, "tocsin_fields", {}).get("status") for r in failed] == [503]


# --- Signatures --------------------------------------------------------------------------


def _ack_body(sw: SlackWeb) -> tuple[int, bytes]:
    alert_id = sw.fire()
    channel, ts, message = sw.page_to(ALICE)
    return alert_id, form_body(block_actions(message, channel=channel, ts=ts,
                                             action_id=ACK_ACTION_ID, slack_user=ALICE))


def _refused(sw: SlackWeb, alert_id: int, response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert sw.web.alert(alert_id)["status"] == "triggered"
    assert sw.web.audit() == [] and sw.updates() == [] and sw.whispers() == []


def test_a_wrong_signature_is_refused_and_the_log_keeps_the_secret(
        sw: SlackWeb, caplog: pytest.LogCaptureFixture):
    alert_id, body = _ack_body(sw)
    caplog.set_level(logging.DEBUG)
    forged = signed("not-the-secret", body, int(sw.web.clock.now().timestamp()))

    wrong = sw.post("/slack/interactions", body, secret="not-the-secret")
    tampered_headers = {**FORM, **signed(SECRET, body, int(sw.web.clock.now().timestamp()))}
    tampered = sw.web.client.post("/slack/interactions", headers=tampered_headers,
                                  content=body.replace(b"tocsin_ack", b"tocsin_resolve"))

    for response in (wrong, tampered):
        _refused(sw, alert_id, response)
    logged = "\n".join(r.getMessage() + str(getattr(r, "tocsin_fields", "")) for r in
                       caplog.records)
    assert "slack.signature_refused" in logged and "signature does not match" in logged
    assert SECRET not in logged and forged["X-Slack-Signature"] not in logged
    assert tampered_headers["X-Slack-Signature"] not in logged


@pytest.mark.parametrize("minutes", [6, -6])
def test_a_timestamp_five_minutes_off_the_engine_clock_is_refused(sw: SlackWeb, minutes: int):
    alert_id, body = _ack_body(sw)
    signed_at = int(sw.web.clock.now().timestamp())
    sw.web.clock.advance(minutes=minutes)

    response = sw.post("/slack/interactions", body, timestamp=signed_at)

    _refused(sw, alert_id, response)
    assert "more than 5 minutes" in response.json()["error"]["message"]


def test_a_timestamp_within_five_minutes_is_accepted(sw: SlackWeb):
    alert_id, body = _ack_body(sw)
    signed_at = int(sw.web.clock.now().timestamp())
    sw.web.clock.advance(minutes=4, seconds=59)

    response = sw.post("/slack/interactions", body, timestamp=signed_at)

    assert response.status_code == 200
    assert sw.web.alert(alert_id)["status"] == "acknowledged"


@pytest.mark.parametrize("dropped", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
@pytest.mark.parametrize("path", ["/slack/interactions", "/slack/events", "/slack/commands"])
def test_missing_signature_headers_are_refused(sw: SlackWeb, dropped: str, path: str):
    alert_id, body = _ack_body(sw)
    headers = {**FORM, **signed(SECRET, body, int(sw.web.clock.now().timestamp()))}
    del headers[dropped]

    response = sw.web.client.post(path, content=body, headers=headers)

    _refused(sw, alert_id, response)


def test_a_timestamp_that_is_not_a_number_is_refused(sw: SlackWeb):
    alert_id, body = _ack_body(sw)
    headers = {**FORM, **signed(SECRET, body, int(sw.web.clock.now().timestamp()))}
    headers["X-Slack-Request-Timestamp"] = "soon"

    _refused(sw, alert_id, sw.web.client.post("/slack/interactions", content=body,
                                              headers=headers))


def test_without_a_signing_secret_the_slack_routes_are_404(tmp_path: Path, db_url: str,
                                                           clock: FakeClock):
    config = CONFIG.replace(" signing_secret: slack-signing-secret-3c4d5e6f7a,", "")
    assert config != CONFIG
    with open_slack_web(tmp_path, db_url, clock, config) as without:
        for path in ("/slack/interactions", "/slack/events", "/slack/commands"):
            body = b"payload=%7B%7D"
            response = without.post(path, body)
            assert response.status_code == 404, path
        # Pages still go out with their controls; only the inbound side is off.
        without.fire()
        assert action_ids(without.page_to(ALICE)[2])[0] == ACK_ACTION_ID


def test_a_grouped_alert_answers_for_its_whole_group(tmp_path: Path, db_url: str,
                                                    clock: FakeClock):
    grouped = CONFIG.replace("  - {notify: critical}\n",
                             "  - notify: critical\n    group_by: [alertname]\n")
    assert grouped != CONFIG
    with open_slack_web(tmp_path, db_url, clock, grouped) as gw:
        ids = [gw.web.fire(fingerprint) for fingerprint in ("db-1", "db-2", "db-3")]
        assert len(gw.slack.posts) == 1  # the group pages once, for its lead

        gw.click(ACK_ACTION_ID)
        acked = [gw.web.alert(a)["status"] for a in ids]
        gw.click(RESOLVE_ACTION_ID)

        assert acked == ["acknowledged"] * 3
        assert [gw.web.alert(a)["resolved_by"] for a in ids] == ["alice"] * 3
        assert sorted((r.action, r.object_id) for r in gw.web.audit()) == sorted(
            (action, str(a)) for a in ids for action in ("alert.acknowledge", "alert.resolve"))
        assert [status_line(u) for u in gw.updates()] == [
            "*Acknowledged by Alice at 03:00 UTC*", "*Resolved by Alice at 03:00 UTC*"]
