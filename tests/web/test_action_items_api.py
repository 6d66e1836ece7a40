"""The action items API: add, list with filters, change, push; scopes and error shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.action_items import ACTION_CONFIG
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.postmortems.store import ActionItem

READ, WRITE = "ai-read-token-1", "ai-write-token-2"
CONFIG = ACTION_CONFIG + f"""
api_tokens:
  - {{name: reader, token: {READ}, user: carol, scope: read}}
  - {{name: writer, token: {WRITE}, user: bob, scope: write}}
trackers:
  webhook: {{url: "http://127.0.0.1:9/items", secret: "${{TRACKER_SECRET:-s3cret-tracker}}"}}
"""


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def _incident(web: Web) -> str:
    response = web.call("POST", "/api/v1/incidents", WRITE,
                        json={"title": "Checkout errors", "severity": "SEV3"})
    assert response.status_code == 201, response.text
    key: str = response.json()["id"]
    return key


def _add(web: Web, key: str, **body: Any) -> dict[str, Any]:
    fields = {"title": "Alert on disk usage", "owner": "alice", "due_date": "2026-03-10",
              **body}
    response = web.call("POST", f"/api/v1/incidents/{key}/action-items", WRITE, json=fields)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_add_list_change_and_finish_an_item(web: Web) -> None:
    key = _incident(web)
    made = _add(web, key, priority="P0")
    assert {k: made[k] for k in ("id", "incident", "owner", "owner_name", "due_date",
                                 "priority", "status", "overdue", "created_by")} == {
        "id": 1, "incident": key, "owner": "alice", "owner_name": "Alice",
        "due_date": "2026-03-10", "priority": "P0", "status": "planned", "overdue": False,
        "created_by": "bob"}
    _add(web, key, owner="bob@example.com", due_date=None)

    listed = web.call("GET", f"/api/v1/action-items?incident={key}&owner=alice", READ)
    assert [i["id"] for i in listed.json()["action_items"]] == [1]

    patched = web.call("PATCH", "/api/v1/action-items/1", WRITE,
                       json={"status": "done", "due_date": None})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["status"], patched.json()["due_date"],
            patched.json()["completed_at"]) == ("done", None, "2026-03-02T03:00:00Z")
    still_open = web.call("GET", "/api/v1/action-items?status=open&team=payments", READ)
    assert [i["id"] for i in still_open.json()["action_items"]] == [2]
    timeline = web.call("GET", f"/api/v1/incidents/{key}", READ).json()["timeline"]
    assert [e["kind"] for e in timeline].count("action_item") == 3


def test_an_unknown_owner_is_a_400_naming_the_field(web: Web) -> None:
    key = _incident(web)
    response = web.call("POST", f"/api/v1/incidents/{key}/action-items", WRITE,
                        json={"title": "x", "owner": "mallory"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["fields"][0]["path"] == "owner"
    assert "mallory" in error["fields"][0]["message"]


def test_a_null_that_cannot_be_cleared_and_a_bad_status_are_400s(web: Web) -> None:
    _add(web, _incident(web))
    nulled = web.call("PATCH", "/api/v1/action-items/1", WRITE, json={"owner": None})
    bad = web.call("PATCH", "/api/v1/action-items/1", WRITE, json={"status": "closed"})

    assert nulled.status_code == 400 and nulled.json()["error"]["fields"][0]["path"] == "owner"
    assert bad.status_code == 400


def test_reading_needs_a_token_and_changing_needs_write_scope(web: Web) -> None:
    _add(web, _incident(web))
    assert web.call("GET", "/api/v1/action-items", None).status_code == 401
    response = web.call("PATCH", "/api/v1/action-items/1", READ, json={"status": "done"})
    assert response.status_code == 403
    assert web.call("GET", "/api/v1/action-items/99", READ).status_code == 404


def test_push_queues_and_the_webhook_tracker_posts_status_back(web: Web) -> None:
    _add(web, _incident(web))
    unknown = web.call("POST", "/api/v1/action-items/1/push", WRITE, json={"tracker": "jira"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"][0]["path"] == "tracker"

    pushed = web.call("POST", "/api/v1/action-items/1/push", WRITE, json={"tracker": "webhook"})
    assert pushed.status_code == 202, pushed.text
    assert pushed.json()["tracker"]["name"] == "webhook"
    again = web.call("POST", "/api/v1/action-items/1/push", WRITE, json={"tracker": "webhook"})
    assert again.status_code == 409

    back = web.call("POST", "/api/v1/action-items/1/tracker-status", WRITE,
                    json={"status": "done", "tracker_status": "Resolved", "key": "T-9"})
    assert back.status_code == 200, back.text
    assert (back.json()["status"], back.json()["tracker"]["status"],
            back.json()["tracker"]["key"]) == ("done", "Resolved", "T-9")
    assert web.call("POST", "/api/v1/action-items/1/tracker-status", READ,
                    json={"status": "planned"}).status_code == 403


def test_every_bad_field_is_named_in_one_400(web: Web) -> None:
    key = _incident(web)
    both = web.call("POST", f"/api/v1/incidents/{key}/action-items", WRITE,
                    json={"title": "Alert on disk", "owner": "mallory", "priority": "P9"})
    four = web.call("POST", f"/api/v1/incidents/{key}/action-items", WRITE,
                    json={"title": "Line one\nline two", "owner": "mallory",
                          "due_date": "2026-13-01", "priority": "urgent"})
    _add(web, key)
    patched = web.call("PATCH", "/api/v1/action-items/1", WRITE,
                       json={"due_date": "1999-12-31", "status": "closed", "title": "a\tb"})

    assert both.status_code == 400
    assert [f["path"] for f in both.json()["error"]["fields"]] == ["owner", "priority"]
    assert four.status_code == 400
    assert [f["path"] for f in four.json()["error"]["fields"]] == [
        "title", "owner", "due_date", "priority"]
    assert patched.status_code == 400
    fields = {f["path"]: f["message"] for f in patched.json()["error"]["fields"]}
    assert set(fields) == {"title", "due_date", "status"}
    assert "2000-01-01 to 2100-12-31" in fields["due_date"]
    assert web.call("GET", "/api/v1/action-items/1", READ).json()["due_date"] == "2026-03-10"


def test_an_error_stored_before_scrubbing_is_shown_without_the_credential(web: Web) -> None:
    _add(web, _incident(web))
    with transaction(web.runtime.sessions) as session:
        item = session.get(ActionItem, 1)
        assert item is not None
        item.tracker = "webhook"
        item.tracker_error = "webhook: POST answered HTTP 400: bad secret s3cret-tracker"

    shown = web.call("GET", "/api/v1/action-items/1", READ).json()["tracker"]["error"]

    assert shown == "webhook: POST answered HTTP 400: bad secret [hidden]"
