"""The on-call survey: one question when a shift ends, answered once, changeable.

`primary` hands over daily at 09:00 UTC: alice holds Monday 2026-03-02
09:00 to Tuesday 09:00, bob Tuesday 09:00 to Wednesday 09:00. Alice has a
Slack contact, so her survey is a Slack DM with five buttons (to the fake
Slack Web API on 127.0.0.1); bob has only e-mail, so his goes by mail (to a
real aiosmtpd server on 127.0.0.1) with five signed links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.fake_slack import FakeSlack
from tests.support.slack_clicks import block_actions, form_body, signed
from tests.support.smtp_server import SmtpServer
from tests.web.conftest import Web, close_web
from tests.web.slack_app import make_slack_web
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.engine.shift_surveys import ShiftSurveys
from tocsin.metrics.store import ShiftSurvey
from tocsin.oncall import overrides

SECRET = "slack-signing-secret-3c4d5e6f7a"
CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, contacts: {slack: U0ALICE}}
  - {id: bob, name: Bob, timezone: Europe/Berlin, contacts: {email: bob@example.test}}
  - {id: carol, name: Carol, contacts: {slack: U0CAROL}}
schedules:
  - name: primary
    rotation: daily
    start_time: "09:00"
    start_date: 2026-03-02
    participants: [alice, bob]
    overrides:
      # Half an hour of carol in bob's shift: too short for a survey.
      - {user: carol, replaces: bob, start: 2026-03-03T12:00, end: 2026-03-03T12:30}
notifications:
  slack: {token: xoxb-test-token-9d8c7b, signing_secret: slack-signing-secret-3c4d5e6f7a,
          api_url: "API_URL"}
  email: {host: 127.0.0.1, port: SMTP_PORT, security: none, from: tocsin@example.test}
api_tokens:
  - {name: alice, token: alice-token-4b5c6d7e, user: alice, scope: write}
  - {name: bob, token: bob-token-8f9a0b1c, user: bob, scope: write}
  - {name: carol, token: carol-admin-token-2d3e4f, user: carol, scope: admin}
SURVEYS
"""


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def peers() -> Iterator[tuple[FakeSlack, SmtpServer]]:
    with FakeSlack() as slack, SmtpServer() as smtp:
        yield slack, smtp


def start(tmp_path: Path, db_url: str, clock: FakeClock, peers: tuple[FakeSlack, SmtpServer],
          surveys: str = "") -> Web:
    slack, smtp = peers
    config = CONFIG.replace("SMTP_PORT", str(smtp.port)).replace("SURVEYS", surveys)
    return make_slack_web(tmp_path, db_url, clock, slack, config)


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock,
        peers: tuple[FakeSlack, SmtpServer]) -> Iterator[Web]:
    made = start(tmp_path, db_url, clock, peers)
    yield made
    close_web(made)


def run_to(web: Web, until: datetime) -> None:
    """Each minute up to `until`, one engine pass."""
    while web.clock.now() < until:
        web.clock.advance(minutes=1)
        web.runtime.engine.run_due()


def surveys(web: Web) -> list[ShiftSurvey]:
    with web.runtime.sessions() as session:
        return list(session.scalars(select(ShiftSurvey).order_by(ShiftSurvey.id)))


def dms(slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    return [params for _channel, _ts, params in slack.posts if params["channel"] == user]


def click(web: Web, slack: FakeSlack, score: int, *, slack_user: str = "U0ALICE") -> None:
    channel, ts, message = next(p for p in slack.posts if p[2]["channel"] == "U0ALICE")
    payload = block_actions(message, channel=channel, ts=ts, action_id=f"tocsin_survey_{score}",
                            slack_user=slack_user)
    body = form_body(payload)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               **signed(SECRET, body, int(web.clock.now().timestamp()))}
    response = web.client.post("/slack/interactions", content=body, headers=headers)
    assert response.status_code == 200, response.text


def survey_audit(web: Web) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    with web.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "shift_survey")
                               .order_by(AuditEntry.id))
        return [(r.actor, r.surface, r.action, r.before, r.after) for r in rows]


def test_a_shift_that_ends_gets_one_slack_survey_and_a_second_pass_sends_nothing(
    web, peers, clock,
):
    slack, smtp = peers
    clock.set(utc(3, 8, 58))

    run_to(web, utc(3, 9, 2))

    [dm] = dms(slack, "U0ALICE")
    assert "Your on-call shift for primary has ended" in dm["text"]
    buttons = [e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == [f"{surveys(web)[0].id}:{n}" for n in range(1, 6)]
    [row] = surveys(web)
    assert (row.user_id, row.schedule, row.shift_start, row.shift_end) == (
        "alice", "primary", utc(2, 9), utc(3, 9))
    assert (row.sent_at, row.channel, row.score) == (utc(3, 9), "slack", None)
    # Bob's mail is his handoff notices; no survey went by mail.
    assert not [m for m in smtp.messages if "has ended" in m.message["Subject"]]

    run_to(web, utc(3, 9, 5))
    assert len(dms(slack, "U0ALICE")) == 1
    assert len(surveys(web)) == 1


def test_a_slack_button_records_the_score_and_a_second_one_changes_it(web, peers, clock):
    slack, _smtp = peers
    clock.set(utc(3, 8, 59))
    run_to(web, utc(3, 9, 1))

    clock.set(utc(3, 9, 10))
    click(web, slack, 4)
    clock.set(utc(3, 9, 20))
    click(web, slack, 2)

    [row] = surveys(web)
    assert (row.score, row.answered_at) == (2, utc(3, 9, 10))
    assert survey_audit(web) == [
        ("alice", "slack", "survey.answered", {"score": None}, {"score": 4}),
        ("alice", "slack", "survey.changed", {"score": 4}, {"score": 2}),
    ]
    updates = [call.params for call in slack.calls_to("chat.update")]
    assert "you answered 4 good" in updates[0]["text"]
    assert "you answered 2 bad" in updates[1]["text"]


def test_a_click_by_someone_else_records_nothing(web, peers, clock):
    slack, _smtp = peers
    clock.set(utc(3, 8, 59))
    run_to(web, utc(3, 9, 1))

    click(web, slack, 5, slack_user="U0CAROL")

    assert surveys(web)[0].score is None
    [whisper] = [call.params for call in slack.calls_to("chat.postEphemeral")]
    assert whisper["user"] == "U0CAROL"
    assert "sent to someone else" in whisper["text"]


def test_by_mail_with_signed_links_get_confirms_and_post_records(web, peers, clock):
    _slack, smtp = peers
    clock.set(utc(4, 8, 59))
    run_to(web, utc(4, 9, 1))

    bob = [row for row in surveys(web) if row.user_id == "bob"]
    assert [(r.shift_start, r.shift_end, r.channel) for r in bob] == [
        (utc(3, 12, 30), utc(4, 9), "email")]
    [mail] = [m for m in smtp.messages if "has ended" in m.message["Subject"]]
    assert mail.rcpt_tos == ["bob@example.test"]
    assert mail.message["Subject"].startswith("[Tocsin] Your on-call shift for primary")
    body = mail.message.get_content()
    links = re.findall(r"http://tocsin\.test(/survey/\S+)", body)
    assert len(links) == 5

    page = web.client.get(links[4])
    assert page.status_code == 200
    assert "Answer 5 great" in page.text
    # In bob's own zone, named: 12:30 and 09:00 UTC are 13:30 and 10:00 in Berlin.
    assert ("Tue 03 Mar 2026 13:30 to Wed 04 Mar 2026 10:00 (Europe/Berlin)"
            in " ".join(page.text.split()))
    assert surveys(web)[-1].score is None  # a mail scanner's GET records nothing

    done = web.client.post(links[4])
    assert done.status_code == 200
    assert "Recorded: 5 great" in done.text
    assert surveys(web)[-1].score == 5
    assert survey_audit(web) == [
        ("bob", "link", "survey.answered", {"score": None}, {"score": 5})]

    clock.set(utc(5, 9, 2))  # a day and a minute after the mail: the link has expired
    assert web.client.post(links[0]).status_code == 403
    assert surveys(web)[-1].score == 5


def test_short_shifts_get_no_survey_and_each_shift_gets_its_own(web, clock):
    # Straight to 12:31 on Tuesday: alice's shift ended at 09:00, bob's first
    # piece at 12:00 (carol took over), carol's half hour at 12:30.
    clock.set(utc(3, 12, 31))
    web.runtime.engine.run_due()

    assert [(r.user_id, r.shift_end) for r in surveys(web)] == [
        ("alice", utc(3, 9)), ("bob", utc(3, 12))]


def test_the_api_answers_only_for_the_person_and_names_a_bad_score(web, clock):
    clock.set(utc(3, 8, 59))
    run_to(web, utc(3, 9, 1))
    survey_id = surveys(web)[0].id
    path = f"/api/v1/surveys/{survey_id}"

    bad = web.call("POST", path, "alice-token-4b5c6d7e", json={"score": 6})
    assert bad.status_code == 400
    assert [f["path"] for f in bad.json()["error"]["fields"]] == ["score"]
    # Someone else's survey is not there for bob, whichever verb he uses.
    theirs = web.call("POST", path, "bob-token-8f9a0b1c", json={"score": 3})
    assert theirs.status_code == 404
    assert theirs.json()["error"]["message"] == f"survey {survey_id} does not exist"
    # An admin sees it but answers only their own.
    admin = web.call("POST", path, "carol-admin-token-2d3e4f", json={"score": 3})
    assert admin.status_code == 403
    assert "sent to someone else" in admin.json()["error"]["message"]
    assert web.call("GET", path, "carol-admin-token-2d3e4f").json()["score"] is None
    good = web.call("POST", path, "alice-token-4b5c6d7e", json={"score": 3})
    assert good.status_code == 200
    assert (good.json()["score"], good.json()["changed"]) == (3, True)
    again = web.call("POST", path, "alice-token-4b5c6d7e", json={"score": 3})
    assert again.json()["changed"] is False
    assert [a[2] for a in survey_audit(web)] == ["survey.answered"]
    assert web.call("GET", path, "bob-token-8f9a0b1c").status_code == 404
    assert web.call("GET", path, "alice-token-4b5c6d7e").json()["score"] == 3


def test_after_shift_minutes_delays_the_survey(tmp_path, db_url, clock, peers):
    slack, _smtp = peers
    made = start(tmp_path, db_url, clock, peers,
                 "surveys: {enabled: true, after_shift_minutes: 30}")
    try:
        clock.set(utc(3, 9, 27))
        run_to(made, utc(3, 9, 29))
        assert dms(slack, "U0ALICE") == []
        run_to(made, utc(3, 9, 31))
        assert len(dms(slack, "U0ALICE")) == 1
        assert surveys(made)[0].sent_at == utc(3, 9, 30)
    finally:
        close_web(made)


def test_switched_off_nothing_is_written_or_sent(tmp_path, db_url, clock, peers):
    slack, _smtp = peers
    made = start(tmp_path, db_url, clock, peers, "surveys: {enabled: false}")
    try:
        clock.set(utc(3, 8, 59))
        run_to(made, utc(3, 9, 2))
        assert surveys(made) == []
        assert slack.posts == []
    finally:
        close_web(made)


def test_a_crash_after_the_send_sends_once_more_when_the_lease_runs_out(
    web, peers, clock, monkeypatch,
):
    slack, _smtp = peers
    real_finish = ShiftSurveys._finish

    def crash(*_args: object) -> None:
        raise RuntimeError("the worker died before recording the send")

    monkeypatch.setattr(ShiftSurveys, "_finish", crash)
    clock.set(utc(3, 9))
    web.runtime.engine.run_due()
    assert len(dms(slack, "U0ALICE")) == 1
    assert surveys(web)[0].sent_at is None

    monkeypatch.setattr(ShiftSurveys, "_finish", real_finish)
    run_to(web, utc(3, 9, 1))
    assert len(dms(slack, "U0ALICE")) == 1  # still leased: nobody sends it yet
    run_to(web, utc(3, 9, 3))  # the two-minute lease has run out
    assert len(dms(slack, "U0ALICE")) == 2
    run_to(web, utc(3, 9, 5))
    assert len(dms(slack, "U0ALICE")) == 2
    assert surveys(web)[0].channel == "slack"


def test_a_survey_planned_for_a_shift_an_override_then_cuts_short_is_not_sent(web, peers, clock):
    slack, _smtp = peers
    clock.set(utc(3, 8, 52))
    web.runtime.engine.run_due()  # plans alice's survey for 09:00, a few minutes ahead
    assert [(r.user_id, r.shift_end, r.sent_at) for r in surveys(web)] == [
        ("alice", utc(3, 9), None)]
    with transaction(web.runtime.sessions) as session:
        # Carol takes alice's last five minutes: the 09:00 survey no longer holds.
        overrides.create_override(
            session, config=web.runtime.config_now(), schedule="primary", user="carol",
            start=utc(3, 8, 55), end=utc(3, 9), kind="replace", replaces="alice",
            actor="alice", surface="api", now=clock.now())

    run_to(web, utc(3, 9, 2))

    assert [(r.user_id, r.shift_end, r.channel) for r in surveys(web)] == [
        ("alice", utc(3, 8, 55), "slack")]
    [dm] = dms(slack, "U0ALICE")
    assert "to Tue 03 Mar 08:55 UTC" in dm["text"]
    assert not [d for d in dms(slack, "U0CAROL") if "has ended" in d["text"]]  # 5 minutes


def test_a_repeated_slack_request_is_answered_once(web, peers, clock):
    slack, _smtp = peers
    clock.set(utc(3, 8, 59))
    run_to(web, utc(3, 9, 1))

    click(web, slack, 3)
    click(web, slack, 3)  # the same signed body again: Slack's retry, or a replay

    assert surveys(web)[0].score == 3
    assert len(survey_audit(web)) == 1
    assert len(slack.calls_to("chat.update")) == 1
