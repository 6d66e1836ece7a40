"""The incidents API: declare, read, change; scopes, privacy and the error shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.incident_setup import INCIDENT_CONFIG
from tests.web.conftest import Web, alertmanager_body, close_web, make_web
from tocsin.clock import FakeClock

READ, WRITE, ADMIN = "inc-read-token-1", "inc-write-token-2", "inc-admin-token-3"
OUTSIDER = "inc-outsider-token-4"
CONFIG = INCIDENT_CONFIG + f"""
api_tokens:
  - {{name: reader, token: {READ}, user: carol, scope: read}}
  - {{name: writer, token: {WRITE}, user: bob, scope: write}}
  - {{name: admin, token: {ADMIN}, user: vp, scope: admin}}
  - {{name: outsider, token: {OUTSIDER}, user: sam, scope: write}}
"""


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def _declare(web: Web, **extra: object) -> dict[str, Any]:
    body = {"title": "Payment API returning 500 errors", "severity": "sev2",
            "services": ["payment"], **extra}
    response = web.call("POST", "/api/v1/incidents", WRITE, json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_declare_and_run_an_incident_over_the_api(web: Web) -> None:
    made = _declare(web)
    assert (made["id"], made["commander"], made["slack_channel"]) == (
        "INC-1", "bob", "inc-2026-0001")
    assert [entry["kind"] for entry in made["timeline"]] == ["declared", "role", "paged"]
    web.runtime.engine.run_due()
    assert [page.user_id for page in web.pages()] == ["alice"]

    role = web.call("POST", "/api/v1/incidents/INC-1/roles", WRITE,
                    json={"role": "communicator", "user": "carol"})
    assert role.status_code == 200, role.text
    assert role.json()["duty"].startswith("Posts updates")
    web.clock.advance(minutes=5)
    note = web.call("POST", "/api/v1/incidents/inc-1/notes", WRITE,
                    json={"text": "LB shows 502s", "occurred_at": "2026-03-02T02:58:00Z"})
    assert note.status_code == 201, note.text
    edited = web.call("PATCH", f"/api/v1/incidents/INC-1/timeline/{note.json()['id']}",
                      WRITE, json={"text": "LB showed 502s"})
    assert (edited.json()["text"], edited.json()["edited_by"]) == ("LB showed 502s", "bob")
    patched = web.call("PATCH", "/api/v1/incidents/INC-1", WRITE, json={
        "status": "identified", "note": "bad deploy", "mitigated": True,
        "users_affected": 300, "summary": "Some payments failed"})
    assert patched.status_code == 200, patched.text
    shown = patched.json()
    assert (shown["status"], shown["users_affected"], shown["mitigated_at"]) == (
        "identified", 300, "2026-03-02T03:05:00Z")
    assert shown["clocks"]["time_to_mitigate_seconds"] == 300
    update = web.call("POST", "/api/v1/incidents/INC-1/updates", WRITE,
                      json={"text": "Rolled back"})
    assert update.status_code == 201 and update.json()["posted_by"] == "bob"
    web.clock.advance(minutes=5)
    done = web.call("PATCH", "/api/v1/incidents/INC-1", WRITE, json={"status": "resolved"})
    assert done.json()["clocks"]["duration_seconds"] == 600
    kinds = [entry["kind"] for entry in done.json()["timeline"]]
    # The note was backdated to before the declaration: the timeline is by time it happened.
    assert kinds == ["note", "declared", "role", "paged", "role", "impact", "mitigated",
                     "status", "update", "status", "pages_resolved"]
    listed = web.call("GET", "/api/v1/incidents?status=resolved", READ).json()["incidents"]
    assert [item["id"] for item in listed] == ["INC-1"]
    cleared = web.call("PATCH", "/api/v1/incidents/INC-1", WRITE, json={"users_affected": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["users_affected"] is None
    assert cleared.json()["timeline"][-1]["text"] == "impact: users_affected cleared"


def test_responders_alerts_and_declaring_from_an_alert(web: Web) -> None:
    _declare(web, services=[])
    added = web.call("POST", "/api/v1/incidents/INC-1/responders", WRITE,
                     json={"schedule": "primary"})
    assert added.status_code == 200, added.text
    by_name = web.call("POST", "/api/v1/incidents/INC-1/responders", WRITE,
                       json={"target": "Bob"})
    assert by_name.status_code == 200, by_name.text
    web.runtime.engine.run_due()
    assert sorted(page.user_id for page in web.pages()) == ["alice", "bob"]
    fired = web.client.post("/integrations/prom-key-for-incidents/alertmanager",
                            json=alertmanager_body("fp-payment"))
    alert_id = fired.json()["alerts"][0]["id"]
    linked = web.call("POST", "/api/v1/incidents/INC-1/alerts", WRITE,
                      json={"alert_id": alert_id})
    assert alert_id in [link["alert_id"] for link in linked.json()["alerts"]]
    # An alert is in one incident at most: a second declare or link names the first.
    _declare(web, services=[])
    for path, body in ((f"/api/v1/alerts/{alert_id}/incident", {"severity": "SEV3"}),
                       ("/api/v1/incidents/INC-2/alerts", {"alert_id": alert_id})):
        twice = web.call("POST", path, WRITE, json=body)
        assert twice.status_code == 409, twice.text
        assert f"alert {alert_id} is already in incident INC-1" in twice.text
    fired = web.client.post("/integrations/prom-key-for-incidents/alertmanager",
                            json=alertmanager_body("fp-other", starts_at="2026-03-02T02:41:00Z"))
    other = fired.json()["alerts"][0]["id"]
    web.clock.advance(minutes=4)
    declared = web.call("POST", f"/api/v1/alerts/{other}/incident", WRITE,
                        json={"severity": "SEV3"})
    assert declared.status_code == 201, declared.text
    assert declared.json()["title"] == "Payment API returning 500 errors (fp-other)"
    # Impact began when Alertmanager says the alert started, not when Tocsin heard of it.
    assert declared.json()["impact_start"].startswith("2026-03-02T02:41:00")
    again = web.call("POST", f"/api/v1/alerts/{other}/incident", WRITE,
                     json={"severity": "SEV3"})
    assert again.status_code == 409
    assert f"already in incident {declared.json()['id']}" in again.text


def test_scopes_privacy_and_errors(web: Web) -> None:
    secret = _declare(web, private=True, title="Credentials leaked")
    assert web.call("POST", "/api/v1/incidents", READ, json={
        "title": "x", "severity": "SEV1"}).status_code == 403
    assert web.call("GET", "/api/v1/incidents").status_code == 401
    hidden = web.call("GET", f"/api/v1/incidents/{secret['id']}", READ)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert web.call("GET", "/api/v1/incidents", READ).json()["incidents"] == []
    assert web.call("GET", f"/api/v1/incidents/{secret['id']}", ADMIN).status_code == 200
    bad = web.call("POST", "/api/v1/incidents", WRITE, json={
        "title": "Checkout down", "severity": "SEV9", "services": ["nope"]})
    assert bad.status_code == 400
    assert [f["path"] for f in bad.json()["error"]["fields"]] == ["severity", "services[0]"]
    # No database keeps NUL: refused by name on both backends, never a 500 or a stored row.
    nul = web.call("POST", "/api/v1/incidents", WRITE, json={
        "title": "Checkout\u0000down", "severity": "SEV2"})
    assert (nul.status_code, nul.json()["error"]["fields"][0]["path"]) == (400, "title")
    nul_note = web.call("POST", f"/api/v1/incidents/{secret['id']}/notes", ADMIN,
                        json={"text": "a\u0000b"})
    assert (nul_note.status_code, nul_note.json()["error"]["fields"][0]["path"]) == (
        400, "text")
    assert web.call("GET", "/api/v1/incidents?severity=SEV%002", READ).status_code == 400
    no_alert = web.call("POST", "/api/v1/incidents", WRITE, json={
        "title": "Checkout down", "severity": "SEV2", "alert_ids": [4242]})
    assert no_alert.status_code == 400
    assert no_alert.json()["error"]["fields"][0]["path"] == "alert_ids[0]"
    wrong = web.call("PATCH", f"/api/v1/incidents/{secret['id']}", WRITE,
                     json={"status": "fixed"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"][0]["path"].endswith("status")
    assert web.call("GET", "/api/v1/incidents/INC-99", READ).status_code == 404
    assert web.call("GET", "/api/v1/incidents/banana", READ).status_code == 404
    empty = web.call("PATCH", f"/api/v1/incidents/{secret['id']}", WRITE, json={})
    assert empty.status_code == 400
    paths = web.client.get("/openapi.json").json()["paths"]
    assert "/api/v1/incidents/{key}/timeline/{entry_id}" in paths


def test_a_private_incidents_pages_keep_its_title_and_stay_in_it(web: Web) -> None:
    _declare(web, private=True, title="SECRET merger leak")
    listed = web.call("GET", "/api/v1/alerts", OUTSIDER).json()["alerts"]
    assert [a["title"] for a in listed] == [
        "Private incident INC-1 (SEV2): you are paged as a responder"]
    page = listed[0]["id"]
    public = web.call("POST", "/api/v1/incidents", OUTSIDER,
                      json={"title": "Checkout slow", "severity": "sev3"})
    assert public.status_code == 201, public.text

    declared = web.call("POST", f"/api/v1/alerts/{page}/incident", OUTSIDER,
                        json={"severity": "SEV1"})
    linked = web.call("POST", "/api/v1/incidents/INC-2/alerts", OUTSIDER,
                      json={"alert_id": page})
    by_member = web.call("POST", f"/api/v1/alerts/{page}/incident", WRITE,
                         json={"severity": "SEV1"})
    by_admin = web.call("POST", "/api/v1/incidents/INC-2/alerts", ADMIN,
                        json={"alert_id": page})

    assert (declared.status_code, linked.status_code) == (404, 404)
    assert "SECRET" not in declared.text + linked.text
    assert (by_member.status_code, by_admin.status_code) == (409, 409)
    assert "INC-1" in by_member.json()["error"]["message"]
    with_alert = {"title": "Another", "severity": "sev3", "alert_ids": [page]}
    hidden = web.call("POST", "/api/v1/incidents", OUTSIDER, json=with_alert)
    held = web.call("POST", "/api/v1/incidents", ADMIN, json=with_alert)
    assert (hidden.status_code, hidden.json()["error"]["fields"][0]["path"]) == (
        400, "alert_ids[0]")
    assert held.status_code == 409 and "INC-1" in held.json()["error"]["message"]
    keys = [i["id"] for i in web.call("GET", "/api/v1/incidents", ADMIN).json()["incidents"]]
    assert sorted(keys) == ["INC-1", "INC-2"]
    shown = web.call("GET", "/api/v1/incidents/INC-2", ADMIN).json()
    assert shown["alerts"] == []


def test_absurd_impact_starts_and_note_times_are_refused_by_name(web: Web) -> None:
    made = _declare(web)
    now = web.clock.now()

    def problem(method: str, path: str, body: dict[str, Any]) -> tuple[int, list[Any]]:
        response = web.call(method, path, WRITE, json=body)
        fields = response.json()["error"]["fields"] if response.status_code == 400 else []
        return response.status_code, [(f["path"], f["message"]) for f in fields]

    early = ("impact_start", "give a time from 2000-01-01 on")
    assert problem("PATCH", "/api/v1/incidents/INC-1", {
        "impact_start": "0001-01-01T00:00:00+14:00"}) == (400, [early])
    assert problem("PATCH", "/api/v1/incidents/INC-1", {
        "impact_start": (now + timedelta(minutes=6)).isoformat()}) == (
        400, [("impact_start", "give a time at or before now")])
    assert problem("POST", "/api/v1/incidents/INC-1/notes", {
        "text": "x", "occurred_at": "1970-01-01T00:00:00Z"}) == (
        400, [("occurred_at", "give a time from 2000-01-01 on")])
    # A clock a few minutes ahead of the server's is no mistake.
    ahead = (now + timedelta(minutes=4)).isoformat()
    note = web.call("POST", "/api/v1/incidents/INC-1/notes", WRITE,
                    json={"text": "from a fast laptop", "occurred_at": ahead})
    assert note.status_code == 201, note.text
    assert problem("PATCH", f"/api/v1/incidents/INC-1/timeline/{note.json()['id']}", {
        "occurred_at": "9999-12-31T23:59:00-14:00"}) == (
        400, [("occurred_at", "give a time at or before now")])
    shown = web.call("GET", "/api/v1/incidents/INC-1", READ).json()
    assert shown["impact_start"] == made["impact_start"]
    assert [e["kind"] for e in shown["timeline"]].count("note") == 1
