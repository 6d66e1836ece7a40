"""Answering and making pages over the API: each action with its audit row and
timeline entry, tokens and scopes, and the 400/404/409 answers."""

from __future__ import annotations

import pytest

from tests.web.conftest import READ_TOKEN, WRITE_TOKEN, Web


def _entry(web: Web, alert_id: int, kind: str) -> dict:
    return next(e for e in web.alert(alert_id)["timeline"] if e["kind"] == kind)


def _audited(web: Web, action: str) -> list[tuple[str, str, str]]:
    return [(a.object_id, a.actor, a.surface) for a in web.audit() if a.action == action]


def test_snooze_acknowledges_and_re_triggers_after_the_minutes(web: Web):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/snooze", WRITE_TOKEN,
                        json={"minutes": 10})
    web.clock.advance(minutes=10)
    web.runtime.engine.run_due()

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    assert web.alert(alert_id)["status"] == "triggered"
    assert [p.user_id for p in web.pages()] == ["alice", "alice"]
    entry = _entry(web, alert_id, "snoozed")
    assert (entry["actor"], entry["surface"]) == ("bob", "api")
    assert _audited(web, "alert.snoozed") == [(str(alert_id), "bob", "api")]


def test_unacknowledge_triggers_again_and_pages_the_current_step(web: Web):
    alert_id = web.fire()
    web.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/unacknowledge", WRITE_TOKEN)
    web.runtime.engine.run_due()

    assert response.json()["status"] == "triggered"
    assert [p.user_id for p in web.pages()] == ["alice", "alice"]
    assert _entry(web, alert_id, "unacknowledged")["surface"] == "api"
    assert _audited(web, "alert.unacknowledged") == [(str(alert_id), "bob", "api")]


def test_escalate_pages_step_two_now(web: Web):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/escalate", WRITE_TOKEN)
    web.runtime.engine.run_due()

    assert response.status_code == 200
    assert [(p.user_id, p.step) for p in web.pages()] == [("alice", 1), ("bob", 2)]
    assert _audited(web, "alert.escalated_now") == [(str(alert_id), "bob", "api")]
    again = web.call("POST", f"/api/v1/alerts/{alert_id}/escalate", WRITE_TOKEN)
    assert again.status_code == 409
    assert "last step" in again.json()["error"]["message"]


def test_reassign_pages_the_new_user(web: Web):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/reassign", WRITE_TOKEN,
                        json={"user": "carol"})
    web.runtime.engine.run_due()

    assert response.status_code == 200, response.text
    assert [p.user_id for p in web.pages()] == ["alice", "carol"]
    assert "reassigned to user carol" in _entry(web, alert_id, "reassigned")["message"]
    assert _audited(web, "alert.reassigned") == [(str(alert_id), "bob", "api")]


def test_add_responder_pages_them_too(web: Web):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/responders", WRITE_TOKEN,
                        json={"user": "carol"})
    web.runtime.engine.run_due()

    assert response.status_code == 200, response.text
    assert [p.user_id for p in web.pages()] == ["alice", "carol"]
    assert _audited(web, "alert.responder_added") == [(str(alert_id), "bob", "api")]


def test_a_direct_page_creates_an_alert_and_pages_the_user(web: Web):
    response = web.call("POST", "/api/v1/pages", WRITE_TOKEN, json={
        "target": {"user": "carol"}, "title": "Checkout is down", "urgency": "high"})
    second = web.call("POST", "/api/v1/pages", WRITE_TOKEN, json={
        "target": {"schedule": "primary"}, "title": "Checkout is down"})
    web.runtime.engine.run_due()

    assert (response.status_code, second.status_code) == (201, 201), response.text
    alert_id = response.json()["id"]
    assert second.json()["id"] != alert_id
    assert sorted(p.user_id for p in web.pages()) == ["alice", "carol"]
    detail = web.alert(alert_id)
    assert detail["status"] == "triggered"
    assert (detail["timeline"][0]["actor"], detail["timeline"][0]["surface"]) == ("bob", "api")
    assert _audited(web, "alert.page") == [(str(alert_id), "bob", "api"),
                                           (str(second.json()["id"]), "bob", "api")]


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/alerts/{id}/snooze", {"minutes": 5}),
    ("/api/v1/alerts/{id}/unacknowledge", None),
    ("/api/v1/alerts/{id}/escalate", None),
    ("/api/v1/alerts/{id}/reassign", {"user": "carol"}),
    ("/api/v1/alerts/{id}/responders", {"user": "carol"}),
    ("/api/v1/pages", {"target": {"user": "carol"}, "title": "x"}),
])
def test_actions_need_a_write_token(web: Web, path: str, body):
    alert_id = web.fire()
    url = path.format(id=alert_id)

    anonymous = web.call("POST", url, None, json=body)
    reader = web.call("POST", url, READ_TOKEN, json=body)

    assert (anonymous.status_code, reader.status_code) == (401, 403)
    assert len(web.pages()) == 1


def test_an_unknown_alert_is_404_and_a_resolved_one_409(web: Web):
    alert_id = web.fire()
    web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)

    missing = web.call("POST", "/api/v1/alerts/999/snooze", WRITE_TOKEN, json={"minutes": 5})
    resolved = web.call("POST", f"/api/v1/alerts/{alert_id}/snooze", WRITE_TOKEN,
                        json={"minutes": 5})

    assert missing.status_code == 404
    assert resolved.status_code == 409
    assert "already resolved by bob" in resolved.json()["error"]["message"]


def test_bad_input_names_the_field_and_the_fix(web: Web):
    alert_id = web.fire()

    nobody = web.call("POST", f"/api/v1/alerts/{alert_id}/reassign", WRITE_TOKEN,
                      json={"user": "mallory"})
    two = web.call("POST", f"/api/v1/alerts/{alert_id}/reassign", WRITE_TOKEN,
                   json={"user": "carol", "schedule": "primary"})
    zero = web.call("POST", f"/api/v1/alerts/{alert_id}/snooze", WRITE_TOKEN,
                    json={"minutes": 0})
    page = web.call("POST", "/api/v1/pages", WRITE_TOKEN,
                    json={"target": {"schedule": "nope"}, "title": "x"})

    assert [r.status_code for r in (nobody, two, zero, page)] == [400] * 4
    assert nobody.json()["error"]["fields"][0]["path"] == "user"
    assert "mallory" in nobody.json()["error"]["fields"][0]["message"]
    assert two.json()["error"]["fields"][0]["message"].startswith("give exactly one")
    assert zero.json()["error"]["fields"][0]["path"] == "minutes"
    assert page.json()["error"]["fields"][0]["path"] == "target.schedule"
    assert len(web.pages()) == 1


# --- Bodies: no JSON, or a field the endpoint does not know --------------------------


JSON = {"Content-Type": "application/json", "Authorization": f"Bearer {WRITE_TOKEN}"}


@pytest.mark.parametrize(("action", "body", "problem"), [
    # Product bug: both answered 200 and acted as if no body were sent.
    ("resolve", b"{bad", "body is not valid JSON: Expecting property name"),
    ("ack", b"[1,2", "body is not valid JSON: Expecting ','"),
    ("ack", b"[1, 2]", "body must be a JSON object"),
    ("unacknowledge", b'"now"', "body must be a JSON object"),
    ("escalate", b'{"step": 2}', "unknown field step; this endpoint takes no fields"),
    # Endpoints with a body model, whose JSON FastAPI reads first, say it the same way.
    ("snooze", b'{"minutes": 5', "body is not valid JSON: "),
    ("reassign", b"{user: bob}", "body is not valid JSON: "),
])
def test_a_body_that_is_not_a_json_object_is_400_and_changes_nothing(
        web: Web, action: str, body: bytes, problem: str):
    alert_id = web.fire()
    before = web.alert(alert_id)

    response = web.client.post(f"/api/v1/alerts/{alert_id}/{action}", content=body,
                               headers=JSON)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(problem)
    after = web.alert(alert_id)
    assert (after["status"], after["step"]) == (before["status"], before["step"])
    assert len(after["timeline"]) == len(before["timeline"])


@pytest.mark.parametrize(("action", "body", "field", "valid"), [
    ("snooze", {"minutez": 5}, "minutez", "valid fields: minutes"),
    ("snooze", {"minutes": 5, "note": "lunch"}, "note", "valid fields: minutes"),
    ("reassign", {"usr": "bob"}, "usr", "valid fields: user, schedule, escalation_policy"),
    ("responders", {"user": "bob", "urgent": True}, "urgent",
     "valid fields: user, schedule, escalation_policy"),
    ("not-actionable", {"actionable": False}, "actionable", "valid fields: not_actionable"),
    ("ack", {"minutes": 5}, "minutes", "this endpoint takes no fields"),
])
def test_an_unknown_field_is_400_naming_it_and_the_valid_ones(
        web: Web, action: str, body: dict, field: str, valid: str):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/{action}", WRITE_TOKEN, json=body)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"].startswith(f"unknown field {field}; {valid}")
    assert [f["path"] for f in error["fields"]] == [field]
    detail = web.alert(alert_id)
    assert (detail["status"], detail["not_actionable"]) == ("triggered", False)
    assert detail["acknowledged_by"] is None


def test_a_direct_page_with_an_unknown_field_is_refused_and_pages_no_one(web: Web):
    response = web.call("POST", "/api/v1/pages", WRITE_TOKEN,
                        json={"target": {"usr": "alice"}, "title": "Disk full"})
    misspelt = web.call("POST", "/api/v1/pages", WRITE_TOKEN,
                        json={"target": {"user": "alice"}, "titel": "Disk full"})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "unknown field target.usr; valid fields: user, schedule, escalation_policy")
    assert misspelt.status_code == 400
    assert misspelt.json()["error"]["message"] == (
        "unknown field titel; valid fields: target, title, description, urgency")
    web.runtime.engine.run_due()
    assert web.pages() == []


@pytest.mark.parametrize("body", [b"", b"{}", b"  "])
def test_an_empty_body_still_acknowledges(web: Web, body: bytes):
    alert_id = web.fire()

    response = web.client.post(f"/api/v1/alerts/{alert_id}/ack", content=body, headers=JSON)

    assert response.status_code == 200, response.text
    assert web.alert(alert_id)["status"] == "acknowledged"
