"""Slack's slash commands and Events API requests, signed as Slack signs them.

`primary` (UTC) is alice's this week, the fake clock being Monday
2026-03-02 03:00 UTC; `office` (Berlin time) has nobody on call at night.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.web.conftest import WRITE_TOKEN
from tests.web.slack_app import BOB, CONFIG, SECRET, SlackWeb, open_slack_web
from tocsin.clock import FakeClock
from tocsin.notify.slack_signature import problem, signature

OFFICE = """  - name: office
    rotation: daily
    timezone: Europe/Berlin
    start_time: "09:00"
    participants: [carol]
    restrictions:
      - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
"""
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sw(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[SlackWeb]:
    config = CONFIG.replace("escalation_policies:\n", OFFICE + "escalation_policies:\n", 1)
    assert "name: office" in config
    with open_slack_web(tmp_path, db_url, clock, config) as made:
        yield made


def command(sw: SlackWeb, name: str, text: str = "") -> dict[str, Any]:
    """POST a slash command as Slack does; the reply it shows the person."""
    body = urlencode({
        "token": "deprecated", "team_id": "T0TOCSIN", "channel_id": "C0OPS", "user_id": BOB,
        "command": name, "text": text, "api_app_id": "A0TOCSIN", "trigger_id": "1.2.3",
        "response_url": sw.trap.base_url + "commands"}).encode()
    response = sw.post("/slack/commands", body)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    assert reply["response_type"] == "ephemeral"
    return reply


def test_oncall_names_who_holds_every_schedule_now(sw: SlackWeb):
    reply = command(sw, "/oncall")

    assert reply["text"].splitlines() == [
        "On call now (2026-03-02 03:00 UTC):",
        "*office*: nobody is on call",
        "*primary*: Alice (<@U0ALICE>) until Mon 2026-03-09 00:00 UTC",
    ]
    assert sw.trap.calls == []


def test_oncall_for_one_schedule_in_its_own_time_zone(sw: SlackWeb):
    sw.web.clock.advance(minutes=8 * 60)  # 11:00 UTC, 12:00 in Berlin

    reply = command(sw, "/oncall", " office ")

    assert reply["text"].splitlines()[1:] == [
        "*office*: Carol until Mon 2026-03-02 17:00 Europe/Berlin"]


def test_oncall_follows_overrides_made_in_the_api(sw: SlackWeb):
    made = sw.web.call("POST", "/api/v1/schedules/primary/overrides", WRITE_TOKEN, json={
        "user": "bob", "start": "2026-03-02T03:00:00Z", "end": "2026-03-02T06:00:00Z"})
    assert made.status_code == 201, made.text

    reply = command(sw, "/oncall", "primary")

    assert reply["text"].splitlines()[1] == (
        "*primary*: Bob (<@U0BOB>) until Mon 2026-03-02 06:00 UTC")


def test_oncall_for_an_unknown_schedule_lists_the_known_ones(sw: SlackWeb):
    reply = command(sw, "/oncall", "<nightly>")

    assert reply["text"].splitlines() == [
        "There is no schedule named &lt;nightly&gt;. Schedules: office, primary.",
        "Use `/oncall SCHEDULE`, or `/oncall` for all of them."]


@pytest.mark.parametrize("name", ["/tocsin", "/pager", ""])
def test_any_other_command_gets_the_help(sw: SlackWeb, name: str):
    reply = command(sw, name, "help")

    assert "`/oncall SCHEDULE` who is on call now in one schedule" in reply["text"]
    assert "Acknowledge, Resolve, Snooze and Escalate now" in reply["text"]


def test_url_verification_echoes_the_challenge(sw: SlackWeb):
    body = json.dumps({"token": "deprecated", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm",
                       "type": "url_verification"}).encode()

    response = sw.post("/slack/events", body, content_type=JSON)

    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm"}


def test_other_events_are_acknowledged_and_ignored(sw: SlackWeb,
                                                   caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    body = json.dumps({"type": "event_callback", "team_id": "T0TOCSIN", "event": {
        "type": "app_mention", "user": BOB, "text": "<@U0BOT> hi", "channel": "C0OPS"}}).encode()

    response = sw.post("/slack/events", body, content_type=JSON)

    assert response.status_code == 200
    assert sw.slack.calls == [] and sw.web.audit() == []
    [ignored] = [r for r in caplog.records if r.getMessage() == "slack.event_ignored"]
    assert getattr(ignored, "tocsin_fields", {}) == {"type": "app_mention"}


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"type": "url_verification"}'])
def test_an_events_body_slack_would_not_send_is_400(sw: SlackWeb, body: bytes):
    response = sw.post("/slack/events", body, content_type=JSON)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_an_unsigned_url_verification_is_refused(sw: SlackWeb):
    body = b'{"type": "url_verification", "challenge": "c"}'

    response = sw.web.client.post("/slack/events", content=body, headers=JSON)

    assert response.status_code == 401
    assert "challenge" not in response.text


def test_a_body_over_the_limit_is_refused_before_anything_else(sw: SlackWeb):
    body = b"command=%2Foncall&text=" + b"x" * (17 * 1024)

    response = sw.post("/slack/commands", body)

    assert response.status_code == 413


# --- The signature scheme itself, against slack_sdk's ------------------------------


def test_our_signature_is_slacks():
    body = b"payload=%7B%22type%22%3A%22block_actions%22%7D"

    theirs = SignatureVerifier(SECRET).generate_signature(timestamp="1772420400", body=body)

    assert signature(SECRET, "1772420400", body) == theirs


def test_slack_sdk_accepts_what_we_accept_and_refuses_what_we_refuse():
    body = "text=caf\u00e9".encode()
    now = 1772420400
    good = signature(SECRET, str(now), body)
    at = datetime.fromtimestamp(now, UTC)
    flipped = good[:-1] + ("1" if good.endswith("0") else "0")

    cases: list[tuple[str, str]] = [
        (str(now), good), (str(now), flipped), (str(now + 301), good),
        (str(now - 299), signature(SECRET, str(now - 299), body)), (str(now), "v1=" + good[3:]),
    ]
    for timestamp, signed in cases:
        verifier = SignatureVerifier(SECRET, clock=_FixedClock(now))
        theirs = verifier.is_valid(body=body, timestamp=timestamp, signature=signed)
        ours = problem(SECRET, timestamp=timestamp, signed=signed, body=body, now=at) is None
        assert ours == theirs, (timestamp, signed)


class _FixedClock:
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)
