"""Action items pushed to Jira, GitHub Issues and a webhook; the status comes back.

The fakes on 127.0.0.1 check credentials and answer in the real APIs' shapes;
the tests check what Tocsin sends them (paths, auth headers, JSON fields).
"""

from __future__ import annotations

import base64
import logging
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.action_items import ACTION_CONFIG, declare
from tests.support.fake_trackers import FakeGitHub, FakeJira, FakeTracker, Seen
from tests.support.harness import Harness
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.engine.action_item_trackers import TrackerWork
from tocsin.errors import Conflict, InvalidInput
from tocsin.incidents.store import TimelineRow
from tocsin.logs import record_fields
from tocsin.notify.trackers import TrackerFailure, request
from tocsin.postmortems import actions, actions_trackers
from tocsin.postmortems.actions_store import TrackerPush
from tocsin.postmortems.actions_views import item_json
from tocsin.postmortems.store import ActionItem

JIRA_TOKEN = "jira-token-do-not-leak"
GITHUB_TOKEN = "ghp-token-do-not-leak"
WEBHOOK_SECRET = "tracker-webhook-secret"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("bot@example.com", JIRA_TOKEN) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub("acme/platform", GITHUB_TOKEN) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def receiver(clock: FakeClock) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=WEBHOOK_SECRET,
                         now=lambda: int(clock.now().timestamp())) as fake:
        yield fake


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock, jira, github, receiver,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("JIRA_TOKEN", JIRA_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    extra = f"""
trackers:
  sync_every_minutes: 10
  jira: {{base_url: "{jira.base_url}", project: OPS, email: bot@example.com,
          token: "${{JIRA_TOKEN}}"}}
  github: {{base_url: "{github.base_url}", repo: acme/platform, token: "${{GITHUB_TOKEN}}"}}
  webhook: {{url: "{receiver.url('/items')}", secret: {WEBHOOK_SECRET}}}
"""
    made = Harness(tmp_path, db_url, clock, ACTION_CONFIG + extra)
    clock.set(datetime(2026, 3, 2, 10, tzinfo=UTC))
    yield made
    made.close()


def add_and_push(harness: Harness, tracker: str) -> int:
    incident = declare(harness)
    with transaction(harness.runtime.sessions) as session:
        item = actions.create(session, config=harness.config, incident=incident,
                              title="Alert on disk usage", owner="alice",
                              due_date=date(2026, 3, 10), priority="P0", actor="alice",
                              surface="api", now=harness.clock.now())
        actions_trackers.request_push(session, config=harness.config, item_id=item.id,
                                      tracker=tracker, actor="alice", surface="api",
                                      now=harness.clock.now())
        return item.id


def run(harness: Harness, minutes: float = 0) -> None:
    harness.clock.advance(minutes=minutes)
    harness.runtime.engine.run_due()


def item_of(harness: Harness, item_id: int) -> ActionItem:
    with harness.runtime.sessions() as session:
        item = session.get(ActionItem, item_id)
        assert item is not None
        return item


def timeline(harness: Harness) -> list[str]:
    with harness.runtime.sessions() as session:
        return [row.text for row in session.scalars(
            select(TimelineRow).where(TimelineRow.kind == "action_item")
            .order_by(TimelineRow.id))]


def test_jira_gets_a_v2_create_with_basic_auth_and_the_key_comes_back(harness, jira):
    item_id = add_and_push(harness, "jira")
    run(harness)

    [create] = [r for r in jira.requests if r.method == "POST"]
    assert create.path == "/rest/api/2/issue"
    expected = base64.b64encode(f"bot@example.com:{JIRA_TOKEN}".encode()).decode()
    assert create.headers["authorization"] == f"Basic {expected}"
    fields = create.body["fields"]
    assert fields["project"] == {"key": "OPS"}
    assert fields["summary"] == "[P0] Alert on disk usage"
    assert fields["issuetype"] == {"name": "Task"}
    assert fields["duedate"] == "2026-03-10"
    assert fields["labels"] == ["tocsin", f"tocsin-action-item-{item_id}"]
    assert "http://tocsin.test/ui/action-items?id=" in fields["description"]
    item = item_of(harness, item_id)
    assert (item.tracker, item.tracker_key, item.tracker_url) == (
        "jira", "OPS-1", f"{jira.base_url}/browse/OPS-1")
    assert timeline(harness)[-1] == f"action item #{item_id} pushed to jira as OPS-1"


def test_github_gets_a_bearer_token_and_the_issue_number_comes_back(harness, github):
    item_id = add_and_push(harness, "github")
    run(harness)

    [create] = [r for r in github.requests if r.method == "POST"]
    assert create.path == "/repos/acme/platform/issues"
    assert create.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert create.headers["accept"] == "application/vnd.github+json"
    assert create.body["title"] == "[P0] Alert on disk usage"
    assert create.body["labels"] == ["tocsin", f"tocsin-action-item-{item_id}"]
    item = item_of(harness, item_id)
    assert (item.tracker_key, item.tracker_url, item.tracker_status) == (
        "acme/platform#1", "https://github.test/acme/platform/issues/1", "open/open")


def test_a_failing_tracker_is_retried_with_backoff_and_makes_one_issue(harness, jira):
    jira.fail_next(2, status=503)
    item_id = add_and_push(harness, "jira")

    run(harness)
    assert item_of(harness, item_id).tracker_error is not None
    assert "HTTP 503" in (item_of(harness, item_id).tracker_error or "")
    for _ in range(6):
        run(harness, minutes=1)

    assert len(jira.issues) == 1
    assert item_of(harness, item_id).tracker_key == "OPS-1"
    assert item_of(harness, item_id).tracker_error is None
    with harness.runtime.sessions() as session:
        [push] = session.scalars(select(TrackerPush))
        assert (push.status, push.attempts) == ("sent", 3)


def test_a_lost_answer_does_not_make_a_second_issue(harness, jira, github):
    jira.lose_next_answer()
    github.lose_next_answer()
    in_jira, in_github = add_and_push(harness, "jira"), add_and_push(harness, "github")

    run(harness)
    for _ in range(4):
        run(harness, minutes=1)

    assert (len(jira.issues), len(github.issues)) == (1, 1)
    assert item_of(harness, in_jira).tracker_key == "OPS-1"
    assert item_of(harness, in_github).tracker_key == "acme/platform#1"


def test_a_refused_push_is_not_retried_and_its_error_holds_no_token(harness, jira, caplog):
    caplog.set_level(logging.DEBUG)
    jira.fail_next(1, status=400)
    item_id = add_and_push(harness, "jira")
    for _ in range(3):
        run(harness, minutes=1)

    error = item_of(harness, item_id).tracker_error or ""
    assert "HTTP 400" in error and JIRA_TOKEN not in error
    assert len([r for r in jira.requests if r.method == "POST"]) == 1
    assert timeline(harness)[-1].startswith(f"action item #{item_id}: push to jira failed: ")
    assert all(JIRA_TOKEN not in line for line in timeline(harness))
    basic = base64.b64encode(f"bot@example.com:{JIRA_TOKEN}".encode()).decode()
    logged = " ".join(f"{r.getMessage()} {record_fields(r)}" for r in caplog.records)
    assert "action_item_push.failed" in logged and "HTTP 400" in logged
    assert JIRA_TOKEN not in logged and basic not in logged


@pytest.mark.parametrize("tracker", ["jira", "github"])
def test_a_tracker_echoing_the_auth_header_leaks_no_form_of_the_token(
        harness, jira, github, caplog, tracker):
    caplog.set_level(logging.DEBUG)
    (jira if tracker == "jira" else github).echo_auth_next(1, status=400)
    item_id = add_and_push(harness, tracker)
    run(harness)

    token = JIRA_TOKEN if tracker == "jira" else GITHUB_TOKEN
    pair = f"bot@example.com:{JIRA_TOKEN}"
    forms = [token, pair, base64.b64encode(pair.encode()).decode()]
    item = item_of(harness, item_id)
    error = item.tracker_error or ""
    assert "HTTP 400" in error and "[hidden]" in error
    assert len(error) <= 500
    shown = str(item_json(item, config=harness.config, now=harness.clock.now()))
    said = " ".join(timeline(harness))
    assert "[hidden]" in said
    logged = " ".join(f"{r.getMessage()} {record_fields(r)}" for r in caplog.records)
    with harness.runtime.sessions() as session:
        [push] = session.scalars(select(TrackerPush))
    for form in forms:
        for where in (error, shown, said, logged, push.detail):
            assert form not in where


class EchoingGateway(FakeTracker):
    """A gateway that refuses every request, quoting the whole URL it was sent."""

    def route(self, seen: Seen) -> tuple[int, Any]:
        query = "&".join(f"{k}={v[0]}" for k, v in seen.query.items())
        return 400, {"message": f"no route for {seen.path}?{query} (key {seen.query})"}


def test_a_token_in_the_url_is_not_echoed_into_the_failure():
    with EchoingGateway() as gateway, httpx.Client() as client:
        url = f"{gateway.base_url}/items?token=url-token-do-not-leak&team=ops"
        with pytest.raises(TrackerFailure) as caught:
            request(client, "webhook", "POST", url, json={})

    said = str(caught.value)
    assert "HTTP 400" in said and "/items" in said and "[hidden]" in said
    assert "url-token-do-not-leak" not in said


def test_a_huge_error_body_is_capped_before_it_is_stored(harness, github):
    item_id = add_and_push(harness, "github")
    github.route = lambda seen: (422, {"message": "x" * 5000})  # type: ignore[method-assign]
    run(harness)

    error = item_of(harness, item_id).tracker_error or ""
    assert "HTTP 422" in error and len(error) <= 500
    assert all(len(line) < 700 for line in timeline(harness))


def retry(harness: Harness) -> None:
    """Move the clock to the push's next try and run the engine's tracker step alone
    (a day holds ~70 tries)."""
    harness.clock.set(push_row(harness).due_at)
    TrackerWork(sessions=harness.runtime.sessions, config=lambda: harness.config,
                clock=harness.clock, rng=random.Random(7), lease=timedelta(minutes=5)).run_due()


def push_row(harness: Harness) -> TrackerPush:
    with harness.runtime.sessions() as session:
        [push] = session.scalars(select(TrackerPush))
        return push


def test_a_tracker_down_is_retried_for_a_day_at_most_30_minutes_apart(harness, jira):
    jira.fail_next(10_000, status=503)
    item_id = add_and_push(harness, "jira")
    start = harness.clock.now()
    run(harness)
    tries = [harness.clock.now()]
    while push_row(harness).status == "queued":
        retry(harness)
        tries.append(harness.clock.now())

    gaps = [later - earlier for earlier, later in pairwise(tries)]
    assert gaps[0] < timedelta(seconds=11) and gaps[1] > gaps[0]
    assert max(gaps) <= timedelta(minutes=30)
    assert max(gaps) >= timedelta(minutes=15)
    assert timedelta(hours=24) <= tries[-1] - start < timedelta(hours=24, minutes=31)
    assert tries[-2] - start < timedelta(hours=24)
    assert push_row(harness).status == "failed"
    assert push_row(harness).attempts == len(tries)
    assert timeline(harness)[-1].startswith(f"action item #{item_id}: push to jira failed: ")
    assert [line for line in timeline(harness) if "failed" in line] == [timeline(harness)[-1]]


def test_a_tracker_back_after_six_hours_still_gets_the_issue(harness, jira):
    jira.fail_next(10_000, status=503)
    item_id = add_and_push(harness, "jira")
    run(harness)
    while harness.clock.now() < datetime(2026, 3, 2, 16, tzinfo=UTC):
        retry(harness)
    with jira.state.lock:
        jira.state.failures.clear()
    retry(harness)

    assert push_row(harness).status == "sent"
    assert item_of(harness, item_id).tracker_key == "OPS-1"
    assert len(jira.issues) == 1


def test_closed_far_away_marks_the_item_done_and_reopened_puts_it_in_progress(
        harness, jira, github):
    in_jira, in_github = add_and_push(harness, "jira"), add_and_push(harness, "github")
    run(harness)

    jira.set_status("OPS-1", "Done", "done")
    github.set_state(1, "closed")
    run(harness, minutes=11)
    assert (item_of(harness, in_jira).status, item_of(harness, in_github).status) == (
        "done", "done")
    assert item_of(harness, in_jira).completed_at == harness.clock.now()
    assert (f"action item #{in_jira} (Alert on disk usage): status planned -> done "
            "(jira OPS-1: Done)") in timeline(harness)

    jira.set_status("OPS-1", "In Progress", "indeterminate")
    run(harness, minutes=11)
    assert item_of(harness, in_jira).status == "in_progress"
    assert item_of(harness, in_jira).completed_at is None
    reads = [r for r in jira.requests if r.path == "/rest/api/2/issue/OPS-1"]
    assert reads and all(r.query == {"fields": ["status"]} for r in reads)


def test_an_item_marked_done_here_stays_done_while_its_issue_is_open(harness, github):
    item_id = add_and_push(harness, "github")
    run(harness)
    with transaction(harness.runtime.sessions) as session:
        actions.update(session, config=harness.config, item_id=item_id, status="done",
                       actor="alice", surface="api", now=harness.clock.now())

    run(harness, minutes=11)

    assert item_of(harness, item_id).status == "done"


def test_the_webhook_tracker_gets_a_signed_post(harness, receiver):
    item_id = add_and_push(harness, "webhook")
    run(harness)

    [request] = receiver.requests
    assert request.path == "/items" and request.signature_valid
    assert request.json["event"] == "action_item"
    assert request.json["action_item"]["id"] == item_id
    assert request.idempotency_key == "action-item-push-1"
    assert item_of(harness, item_id).tracker_key == f"item-{item_id}"


def test_push_names_the_field_when_the_tracker_is_unknown_and_refuses_a_second(harness):
    item_id = add_and_push(harness, "jira")
    with transaction(harness.runtime.sessions) as session:
        with pytest.raises(InvalidInput) as caught:
            actions_trackers.request_push(session, config=harness.config, item_id=item_id,
                                          tracker="trello", actor="alice", surface="api",
                                          now=harness.clock.now())
        assert caught.value.fields[0].path == "tracker"
        assert "jira, github, webhook" in caught.value.fields[0].message
        with pytest.raises(Conflict):
            actions_trackers.request_push(session, config=harness.config, item_id=item_id,
                                          tracker="github", actor="alice", surface="api",
                                          now=harness.clock.now())

