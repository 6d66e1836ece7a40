"""A Slack click, a text reply or a key press repeated acts once (alerts.replay_store).

Slack and Twilio retry deliveries, and a signed request can be posted again:
each copy must not act again. The escalation policy here has three steps
(alice's schedule, bob, carol), so an escalation acted on twice would skip
bob. Requests are signed with the `twilio` package's RequestValidator and
slack_sdk's SignatureVerifier, as Twilio and Slack sign them.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from tests.support.harness import FakeChannel
from tests.support.migrations import downgraded, schema_differences, upgrade_to_head
from tests.support.slack_clicks import block_actions, form_body
from tests.web.conftest import WRITE_TOKEN, Web, close_web
from tests.web.slack_app import ALICE, BOB, SlackWeb, open_slack_web
from tests.web.slack_app import CONFIG as SLACK_CONFIG
from tests.web.test_twilio_inbound import ALICE_SMS, post_signed
from tests.web.test_twilio_inbound import CONFIG as PHONE_CONFIG
from tocsin.alerts import replay_store
from tocsin.clock import FakeClock
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.engine.runtime import build_runtime
from tocsin.notify.slack import ESCALATE_ACTION_ID
from tocsin.notify.twilio import voice_ack_url
from tocsin.web.app import create_app

_TWO_STEPS = "      - {targets: [bob], timeout_minutes: 5}\n"
_THREE_STEPS = _TWO_STEPS + "      - {targets: [carol], timeout_minutes: 5}\n"


def _three_steps(config: str) -> str:
    assert _TWO_STEPS in config
    return config.replace(_TWO_STEPS, _THREE_STEPS)


@pytest.fixture
def phone(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    config_path = tmp_path / "tocsin.yaml"
    config_path.write_text(_three_steps(PHONE_CONFIG), encoding="utf-8")
    channels = {name: FakeChannel(name, clock) for name in ("console", "webhook", "sms", "phone")}
    runtime = build_runtime(config_path=config_path, db_url=db_url, clock=clock,
                            notifiers=lambda _config: dict(channels))
    made = Web(TestClient(create_app(runtime, engine_required=False)), runtime, clock, channels,
               config_path)
    yield made
    close_web(made)


@pytest.fixture
def sw(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[SlackWeb]:
    with open_slack_web(tmp_path, db_url, clock, _three_steps(SLACK_CONFIG)) as made:
        yield made


def _sms(alert_id: int, sid: str = "SM0001", sid_field: str = "MessageSid") -> dict[str, str]:
    return {"From": ALICE_SMS, "To": "+15550199", "Body": f"ESC {alert_id}", sid_field: sid}


def _said(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return html.unescape(response.text.split("<Message>", 1)[1].split("</Message>", 1)[0])


def _audit(web: Web) -> list[tuple[str, str]]:
    return [(row.action, row.surface) for row in web.audit()]


def _voice_path(web: Web) -> str:
    page = web.pages("sms")[-1]
    url = voice_ack_url(page.ack_url)
    assert url is not None
    return str(url).removeprefix("http://tocsin.test")


def _both_at_once(post: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Post two copies together, as a retry racing the original would."""
    start = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def one() -> None:
        start.wait()
        answers.append(post())

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    return answers


# --- Text replies ------------------------------------------------------------------------


def test_a_repeated_text_escalates_once_and_says_it_was_handled(
        phone: Web, caplog: pytest.LogCaptureFixture):
    alert_id = phone.fire()

    first = _said(post_signed(phone, "/twilio/sms", _sms(alert_id)))
    with caplog.at_level(logging.INFO, logger="tocsin.alerts.replay_store"):
        again = _said(post_signed(phone, "/twilio/sms", _sms(alert_id)))

    assert first == f"Tocsin: Alert {alert_id} escalated to step 2 of critical."
    assert again == (f"Tocsin: This message was already handled for alert {alert_id}; "
                     "nothing more was changed.")
    assert phone.alert(alert_id)["step"] == 2
    assert _audit(phone) == [("alert.escalated_now", "sms")]
    repeats = [r for r in caplog.records if "replay.ignored" in r.getMessage()]
    assert len(repeats) == 1


def test_a_repeat_known_by_its_sms_sid_acts_once(phone: Web):
    alert_id = phone.fire()

    for _ in range(2):
        post_signed(phone, "/twilio/sms", _sms(alert_id, "SM0002", sid_field="SmsSid"))

    assert phone.alert(alert_id)["step"] == 2
    assert _audit(phone) == [("alert.escalated_now", "sms")]


def test_a_new_text_with_the_same_words_still_acts(phone: Web):
    alert_id = phone.fire()

    post_signed(phone, "/twilio/sms", _sms(alert_id, "SM0003"))
    second = _said(post_signed(phone, "/twilio/sms", _sms(alert_id, "SM0004")))

    assert second == f"Tocsin: Alert {alert_id} escalated to step 3 of critical."
    assert _audit(phone) == [("alert.escalated_now", "sms")] * 2


def test_two_copies_of_a_text_at_once_act_once(phone: Web):
    alert_id = phone.fire()

    answers = _both_at_once(lambda: post_signed(phone, "/twilio/sms", _sms(alert_id)))

    said = sorted(_said(response) for response in answers)
    assert said == [f"Tocsin: Alert {alert_id} escalated to step 2 of critical.",
                    f"Tocsin: This message was already handled for alert {alert_id}; "
                    "nothing more was changed."]
    assert phone.alert(alert_id)["step"] == 2
    assert _audit(phone) == [("alert.escalated_now", "sms")]


def test_a_text_that_changed_nothing_can_be_sent_again(phone: Web):
    # A refused answer is rolled back with its claim: Twilio's retry is told the same.
    alert_id = phone.fire()
    form = {"From": ALICE_SMS, "Body": f"SNOOZE {alert_id} 0", "MessageSid": "SM0005"}

    first = _said(post_signed(phone, "/twilio/sms", form))
    again = _said(post_signed(phone, "/twilio/sms", form))

    assert first == again
    assert first.startswith("Tocsin: Snooze for 1 to ")
    assert _audit(phone) == []


# --- The keypad --------------------------------------------------------------------------


def test_a_repeated_key_press_escalates_once_and_says_the_same(phone: Web):
    alert_id = phone.fire()
    path = _voice_path(phone)

    first = post_signed(phone, path, {"Digits": "3", "CallSid": "CA0001"})
    again = post_signed(phone, path, {"Digits": "3", "CallSid": "CA0001"})

    assert first.status_code == again.status_code == 200
    assert f"<Say>Alert {alert_id} escalated to step 2 of critical. Goodbye.</Say>" in first.text
    assert again.text == first.text
    assert phone.alert(alert_id)["step"] == 2
    assert _audit(phone) == [("alert.escalated_now", "phone")]


def test_two_copies_of_a_key_press_at_once_act_once(phone: Web):
    alert_id = phone.fire()
    path = _voice_path(phone)

    answers = _both_at_once(
        lambda: post_signed(phone, path, {"Digits": "3", "CallSid": "CA0002"}))

    assert answers[0].text == answers[1].text
    assert phone.alert(alert_id)["step"] == 2
    assert _audit(phone) == [("alert.escalated_now", "phone")]


def test_a_key_press_without_a_call_sid_is_not_deduplicated(phone: Web):
    alert_id = phone.fire()
    path = _voice_path(phone)

    for _ in range(2):
        post_signed(phone, path, {"Digits": "3"})

    assert phone.alert(alert_id)["step"] == 3
    assert _audit(phone) == [("alert.escalated_now", "phone")] * 2


# --- Slack -------------------------------------------------------------------------------


def _escalate_body(sw: SlackWeb, *, older: bool = False) -> bytes:
    """Alice's click on "Escalate now"; `older`: as a message from before the button's step."""
    channel, ts, message = sw.page_to(ALICE)
    payload = block_actions(message, channel=channel, ts=ts, action_id=ESCALATE_ACTION_ID,
                            slack_user=ALICE)
    if older:
        payload["actions"][0]["value"] = payload["actions"][0]["value"].split(":")[0]
    return form_body(payload)


@pytest.mark.parametrize("older", [False, True])
def test_a_repeated_slack_click_escalates_once(sw: SlackWeb, older: bool):
    alert_id = sw.fire()
    body = _escalate_body(sw, older=older)
    when = int(sw.web.clock.now().timestamp())

    first = sw.post("/slack/interactions", body, timestamp=when)
    again = sw.post("/slack/interactions", body, timestamp=when)

    assert first.status_code == again.status_code == 200
    assert sw.web.alert(alert_id)["step"] == 2
    assert _audit(sw.web) == [("alert.escalated_now", "slack")]
    assert len(sw.updates()) == 1 and sw.whispers() == []


@pytest.mark.parametrize("older", [False, True])
def test_two_copies_of_a_slack_click_at_once_act_once(sw: SlackWeb, older: bool):
    # An older message's button has no step to check: only the remembered request stops it.
    alert_id = sw.fire()
    body = _escalate_body(sw, older=older)
    when = int(sw.web.clock.now().timestamp())

    answers = _both_at_once(lambda: sw.post("/slack/interactions", body, timestamp=when))

    assert [a.status_code for a in answers] == [200, 200]
    assert sw.web.alert(alert_id)["step"] == 2
    assert _audit(sw.web) == [("alert.escalated_now", "slack")]


def test_the_same_click_signed_a_second_later_is_a_new_click(sw: SlackWeb):
    # A second, deliberate click on the message is a new request (new timestamp, new signature).
    alert_id = sw.fire()
    sw.click(ESCALATE_ACTION_ID)
    sw.web.runtime.engine.run_due()
    sw.web.clock.advance(seconds=1)

    sw.click(ESCALATE_ACTION_ID, slack_user=BOB, page_of=BOB)

    assert sw.web.alert(alert_id)["step"] == 3
    assert _audit(sw.web) == [("alert.escalated_now", "slack")] * 2


def test_a_stale_escalate_button_is_told_the_alert_moved_on(sw: SlackWeb):
    alert_id = sw.fire()
    escalated = sw.web.call("POST", f"/api/v1/alerts/{alert_id}/escalate", WRITE_TOKEN)
    assert escalated.status_code == 200, escalated.text

    sw.click(ESCALATE_ACTION_ID)  # on alice's message, sent at step 1

    [whisper] = sw.whispers()
    assert whisper["user"] == ALICE
    assert whisper["text"] == (f"Alert {alert_id} has already moved on to step 2 since this "
                               "message was sent at step 1. Nothing was changed.")
    assert sw.web.alert(alert_id)["step"] == 2
    assert _audit(sw.web) == [("alert.escalated_now", "api")]


def test_an_escalate_button_from_an_older_tocsin_still_escalates(sw: SlackWeb):
    alert_id = sw.fire()
    channel, ts, message = sw.page_to(ALICE)
    payload: dict[str, Any] = block_actions(message, channel=channel, ts=ts,
                                            action_id=ESCALATE_ACTION_ID, slack_user=ALICE)
    assert payload["actions"][0]["value"] == f"{alert_id}:1"
    payload["actions"][0]["value"] = str(alert_id)

    response = sw.post("/slack/interactions", form_body(payload))

    assert response.status_code == 200
    assert sw.web.alert(alert_id)["step"] == 2
    assert _audit(sw.web) == [("alert.escalated_now", "slack")]


# --- The store ---------------------------------------------------------------------------


def test_answered_requests_are_forgotten_after_a_day(db_url: str, clock: FakeClock):
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as session:
            assert replay_store.claim(session, source="sms", key="SM1", now=clock.now())
        clock.advance(minutes=23 * 60)
        with transaction(sessions) as session:
            assert not replay_store.claim(session, source="sms", key="SM1", now=clock.now())
        clock.advance(minutes=2 * 60)
        with transaction(sessions) as session:
            assert replay_store.claim(session, source="sms", key="SM2", now=clock.now())
        with sessions() as session:
            kept = session.scalars(select(replay_store.AnsweredRequest.key)).all()
            count = session.scalar(select(func.count()).select_from(
                replay_store.AnsweredRequest))
        assert (kept, count) == (["SM2"], 1)
    finally:
        engine.dispose()


def test_one_key_under_two_sources_is_two_requests(db_url: str, clock: FakeClock):
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as session:
            assert replay_store.claim(session, source="sms", key="X1", now=clock.now())
            assert replay_store.claim(session, source="slack", key="X1", now=clock.now())
    finally:
        engine.dispose()


def test_the_migrated_table_matches_the_model_and_goes_down_and_up(db_url: str):
    found = schema_differences(db_url)
    with downgraded(db_url, "0016") as connection:
        down = inspect(connection).has_table("answered_requests")
        upgrade_to_head(connection)
        up = inspect(connection).has_table("answered_requests")

    assert [diff for diff in found if "answered_requests" in repr(diff)] == []
    assert (down, up) == (False, True)
