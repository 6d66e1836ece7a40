"""The Statuspage v2 JSON and the API that writes it, through the web app on both backends.

Every public answer is validated against the schema written from WIRE_FORMATS.md
(statuspage_v2.schema.json, additionalProperties false), in each state a page goes
through. The fake clock starts Monday 2026-03-02 03:00 UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.web.conftest import CONFIG, READ_TOKEN, WRITE_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.statuspage.rules import public_id

SCHEMA = json.loads((Path(__file__).parent / "statuspage_v2.schema.json").read_text("utf-8"))
V2 = "/status/api/v2/"
ENDPOINTS = {
    "summary.json": "summary.json", "status.json": "status.json",
    "components.json": "components.json", "incidents.json": "incidents.json",
    "incidents/unresolved.json": "incidents.json",
    "scheduled-maintenances.json": "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json": "scheduled-maintenances.json",
    "scheduled-maintenances/active.json": "scheduled-maintenances.json",
}
STATUS_CONFIG = CONFIG + """
services:
  - {name: payment, escalation_policy: critical}
  - {name: billing, escalation_policy: critical}
status_page: {title: Example Status, time_zone: Europe/Berlin}
components:
  - {name: API, description: Public REST API, group: Core, service: payment}
  - {name: Web, group: Core}
  - {name: Billing worker, public: false, service: billing}
maintenance:
  - {name: db-upgrade, services: [payment], start: 2026-03-02T02:00, end: 2026-03-02T04:00,
     reason: Database upgrade}
  - {name: billing-move, services: [billing], start: 2026-03-02T02:00,
     end: 2026-03-02T04:00, reason: Internal billing host move}
  - {name: later, services: [payment], start: 2026-03-03T02:00, end: 2026-03-03T03:00}
"""
INCIDENTS = "/api/v1/status/incidents"


def validator(endpoint: str) -> Draft202012Validator:
    schema = {**SCHEMA, "$ref": f"#/endpoints/{ENDPOINTS[endpoint]}"}
    return Draft202012Validator(schema)


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    # The file's services list replaces the shared one: keep one services key.
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1)
    made = make_web(tmp_path, db_url, clock, text)
    yield made
    close_web(made)


def public(web: Web, endpoint: str) -> dict[str, Any]:
    response = web.client.get(V2 + endpoint)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    body: dict[str, Any] = response.json()
    errors = sorted(validator(endpoint).iter_errors(body), key=str)
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return body


def post(web: Web, path: str, body: dict[str, Any], token: str | None = WRITE_TOKEN):
    return web.call("POST", path, token, content=json.dumps(body))


def declare(web: Web, **body: Any) -> dict[str, Any]:
    response = post(web, INCIDENTS, {"name": "Checkout errors", "impact": "major",
                                     "status": "investigating",
                                     "body": "We are investigating failed payments.", **body})
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def every_public(web: Web) -> dict[str, dict[str, Any]]:
    return {endpoint: public(web, endpoint) for endpoint in ENDPOINTS}


def test_a_page_with_nothing_happening_is_valid_and_operational(web: Web):
    web.clock.advance(minutes=120)  # after the maintenance windows of the morning

    shown = every_public(web)

    assert shown["status.json"]["status"] == {"indicator": "none",
                                              "description": "All Systems Operational"}
    assert shown["status.json"]["page"]["name"] == "Example Status"
    assert shown["status.json"]["page"]["time_zone"] == "Europe/Berlin"
    assert shown["incidents.json"]["incidents"] == []
    names = [(c["name"], c["group"], c["status"]) for c in shown["components.json"]["components"]]
    assert names == [("Core", True, "operational"), ("API", False, "operational"),
                     ("Web", False, "operational")]


def test_groups_name_their_children_and_children_their_group(web: Web):
    core, api, site = public(web, "components.json")["components"]

    assert core["components"] == [api["id"], site["id"]]
    assert api["group_id"] == site["group_id"] == core["id"] == public_id("group", "Core")


def test_maintenance_moves_from_active_to_completed_with_time(web: Web):
    during = every_public(web)
    web.clock.advance(minutes=120)
    after = every_public(web)

    active = during["scheduled-maintenances/active.json"]["scheduled_maintenances"]
    # Named by its components: the window's reason ("Database upgrade") stays internal.
    assert [(m["name"], m["status"]) for m in active] == [
        ("Scheduled maintenance: API", "in_progress")]
    assert "Database upgrade" not in json.dumps(during)
    assert during["status.json"]["status"]["indicator"] == "maintenance"
    assert during["components.json"]["components"][1]["status"] == "under_maintenance"
    upcoming = during["scheduled-maintenances/upcoming.json"]["scheduled_maintenances"]
    assert [(m["name"], m["scheduled_for"]) for m in upcoming] == [
        ("Scheduled maintenance: API", "2026-03-03T02:00:00Z")]
    assert after["scheduled-maintenances/active.json"]["scheduled_maintenances"] == []
    done = after["scheduled-maintenances.json"]["scheduled_maintenances"]
    assert [(m["scheduled_for"], m["status"]) for m in done] == [
        ("2026-03-02T02:00:00Z", "completed"), ("2026-03-03T02:00:00Z", "scheduled")]


def test_a_window_verifies_for_the_configured_minutes_after_its_end(
    tmp_path: Path, db_url: str, clock: FakeClock
) -> None:
    text = STATUS_CONFIG.replace("services:\n  - {name: payment, escalation_policy: critical}\n"
                                 "integrations:", "integrations:", 1).replace(
        "status_page: {title: Example Status,", "status_page: {verifying_minutes: 30, "
        "title: Example Status,")
    web = make_web(tmp_path, db_url, clock, text)
    try:
        web.clock.advance(minutes=70)  # ten minutes past the end of db-upgrade
        during = every_public(web)
        html = web.client.get("/status/").text
        web.clock.advance(minutes=20)
        after = every_public(web)
    finally:
        close_web(web)

    active = during["scheduled-maintenances/active.json"]["scheduled_maintenances"]
    assert [(m["name"], m["status"]) for m in active] == [
        ("Scheduled maintenance: API", "verifying")]
    assert [m["scheduled_for"] for m in during["summary.json"]["scheduled_maintenances"]] == [
        "2026-03-02T02:00:00Z", "2026-03-03T02:00:00Z"]
    assert during["components.json"]["components"][1]["status"] == "under_maintenance"
    assert "Verifying:" in html
    assert after["scheduled-maintenances/active.json"]["scheduled_maintenances"] == []
    assert after["components.json"]["components"][1]["status"] == "operational"
    done = after["scheduled-maintenances.json"]["scheduled_maintenances"]
    assert [(m["scheduled_for"], m["status"]) for m in done] == [
        ("2026-03-02T02:00:00Z", "completed"), ("2026-03-03T02:00:00Z", "scheduled")]


def test_an_incident_changes_banner_components_and_json_at_each_step(web: Web):
    web.clock.advance(minutes=120)
    created = declare(web, components={"API": "major_outage"})
    key = created["id"]
    first = every_public(web)
    web.clock.advance(minutes=10)
    step = post(web, f"{INCIDENTS}/{key}/updates",
                {"status": "monitoring", "body": "A fix is out.",
                 "components": {"API": "degraded_performance"}})
    assert step.status_code == 201, step.text
    second = every_public(web)
    web.clock.advance(minutes=10)
    assert post(web, f"{INCIDENTS}/{key}/updates",
                {"status": "resolved", "body": "Payments work again."}).status_code == 201
    last = every_public(web)

    assert first["summary.json"]["status"]["indicator"] == "critical"
    assert [i["status"] for i in first["summary.json"]["incidents"]] == ["investigating"]
    assert first["components.json"]["components"][0]["status"] == "major_outage"  # Core
    assert second["status.json"]["status"]["indicator"] == "major"  # the impact, still open
    (open_one,) = second["incidents/unresolved.json"]["incidents"]
    assert (open_one["status"], open_one["monitoring_at"]) == ("monitoring",
                                                               "2026-03-02T05:10:00Z")
    assert open_one["incident_updates"][0]["affected_components"] == [
        {"code": public_id("component", "API"), "name": "API", "old_status": "major_outage",
         "new_status": "degraded_performance"}]
    assert last["status.json"]["status"]["indicator"] == "none"
    assert last["incidents/unresolved.json"]["incidents"] == []
    (done,) = last["incidents.json"]["incidents"]
    assert (done["status"], done["resolved_at"]) == ("resolved", "2026-03-02T05:20:00Z")
    assert [u["status"] for u in done["incident_updates"]] == ["resolved", "monitoring",
                                                               "investigating"]
    assert done["shortlink"] == f"http://tocsin.test/status/incidents/{key}"


def internal_incident(web: Web) -> int:
    """An incident (issue 6) with a note customers must never read; its number."""
    response = web.call("POST", "/api/v1/incidents", WRITE_TOKEN, json={
        "title": "Primary DB failover loop", "severity": "SEV2", "services": ["payment"]})
    assert response.status_code == 201, response.text
    key = response.json()["id"]
    noted = web.call("POST", f"/api/v1/incidents/{key}/notes", WRITE_TOKEN,
                     json={"text": "Suspect Dave's migration on db-7"})
    assert noted.status_code == 201, noted.text
    return int(str(key).removeprefix("INC-"))


def test_no_internal_field_or_component_appears_in_any_public_answer(web: Web):
    linked = internal_incident(web)
    created = declare(web, incident_id=linked, components={"Billing worker": "major_outage",
                                                           "Web": "partial_outage"})
    assert (created["incident_id"], created["created_by"]) == (linked, "bob")
    internal = web.call("GET", "/api/v1/status/components", READ_TOKEN).json()
    assert "Billing worker" in [c["name"] for c in internal["components"]]

    text = json.dumps(every_public(web))

    for secret in ("Billing worker", public_id("component", "Billing worker"),
                   "Internal billing host move", "created_by", f"incident_id\": {linked}",
                   "bob", "\"service\"", "\"payment\"", "Primary DB failover loop",
                   "db-7", "INC-"):
        assert secret not in text, secret
    assert "Web" in text  # the public change of the same update is there


def test_writing_needs_a_write_token_and_reading_needs_none(web: Web):
    body = {"name": "x", "impact": "minor", "status": "investigating", "body": "y"}

    assert post(web, INCIDENTS, body, token=None).status_code == 401
    assert post(web, INCIDENTS, body, token=READ_TOKEN).status_code == 403
    assert web.client.get(V2 + "summary.json").status_code == 200
    assert web.call("GET", "/api/v1/status/components").status_code == 401


def test_bad_bodies_name_every_field(web: Web):
    response = post(web, INCIDENTS, {"name": "", "impact": "huge", "status": "done",
                                     "body": "ok", "colour": "red",
                                     "components": {"Nope": "operational"}})
    late = post(web, f"{INCIDENTS}/99/updates", {"status": "resolved", "body": "Fixed."})
    bad_time = post(web, INCIDENTS, {"name": "n", "impact": "minor", "status": "resolved",
                                     "body": "b", "display_at": "yesterday"})

    assert response.status_code == 400
    # An unknown key hides nothing: every problem of the body at once.
    assert sorted(f["path"] for f in response.json()["error"]["fields"]) == [
        "colour", "components.Nope", "impact", "name", "status"]
    assert bad_time.status_code == 400
    [problem] = bad_time.json()["error"]["fields"]
    assert problem["path"] == "display_at"
    assert "the page's zone, Europe/Berlin" in problem["message"]
    assert "schedule" not in problem["message"]
    assert late.status_code == 404
    again = post(web, INCIDENTS, {"name": "", "impact": "huge", "status": "done", "body": "ok",
                                  "components": {"Nope": "operational"}})
    assert sorted(f["path"] for f in again.json()["error"]["fields"]) == [
        "components.Nope", "impact", "name", "status"]


def test_a_backdated_update_shows_in_its_place(web: Web):
    created = declare(web)
    web.clock.advance(minutes=30)
    post(web, f"{INCIDENTS}/{created['id']}/updates", {"status": "resolved", "body": "Done."})
    post(web, f"{INCIDENTS}/{created['id']}/updates",
         {"status": "identified", "body": "Found it.", "display_at": "2026-03-02T03:10:00Z"})

    (shown,) = public(web, "incidents.json")["incidents"]

    assert shown["status"] == "resolved"
    assert [(u["status"], u["display_at"]) for u in shown["incident_updates"]] == [
        ("resolved", "2026-03-02T03:30:00Z"), ("identified", "2026-03-02T03:10:00Z"),
        ("investigating", "2026-03-02T03:00:00Z")]


def test_the_schema_refuses_a_leaked_field_and_a_foreign_status(web: Web):
    declare(web, components={"API": "major_outage"})
    summary = public(web, "summary.json")
    leaked = json.loads(json.dumps(summary))
    leaked["incidents"][0]["incident_updates"][0]["created_by"] = "bob"
    foreign = json.loads(json.dumps(summary))
    foreign["components"][1]["status"] = "down"

    assert list(validator("summary.json").iter_errors(leaked)) != []
    assert list(validator("summary.json").iter_errors(foreign)) != []


def test_answers_are_reused_within_a_second_unless_this_process_writes(web: Web):
    from tocsin.db import make_engine, make_sessionmaker, transaction
    from tocsin.statuspage import service

    # Another process: an engine and sessions of its own on the same database.
    elsewhere = make_engine(web.runtime.db.url.render_as_string(hide_password=False))
    other = make_sessionmaker(elsewhere)
    before = public(web, "status.json")
    # Another process's write: this one hears nothing of it until the second turns.
    with transaction(other) as session:
        service.create_incident(session, config=web.runtime.config_now(), name="Elsewhere",
                                impact="critical", status="investigating", body="x",
                                actor="ann", surface="api", now=web.clock.now())
    same_second = public(web, "status.json")
    web.clock.advance(seconds=1)
    next_second = public(web, "status.json")
    declare(web, impact="minor")  # a write here is seen at once
    after_write = public(web, "incidents.json")
    with transaction(other) as session:
        service.create_incident(session, config=web.runtime.config_now(), name="Quiet",
                                impact="none", status="resolved", body="x", actor="ann",
                                surface="api", now=web.clock.now())
    kept = public(web, "incidents.json")
    # A write through this process's own sessions, from any surface, is seen at once.
    with transaction(web.runtime.sessions) as session:
        service.create_incident(session, config=web.runtime.config_now(), name="Here",
                                impact="none", status="resolved", body="x", actor="ann",
                                surface="ui", now=web.clock.now())
    here = public(web, "incidents.json")
    elsewhere.dispose()

    assert same_second == before
    assert next_second["status"]["indicator"] == "critical"
    assert [i["name"] for i in after_write["incidents"]] == ["Checkout errors", "Elsewhere"]
    assert kept == after_write  # "Quiet" not before the next second
    assert [i["name"] for i in here["incidents"]] == ["Here", "Quiet", "Checkout errors",
                                                      "Elsewhere"]


def test_a_linked_incident_gets_each_public_update_on_its_timeline(web: Web):
    linked = internal_incident(web)
    created = declare(web, incident_id=linked)
    web.clock.advance(minutes=5)
    post(web, f"{INCIDENTS}/{created['id']}/updates", {"status": "resolved", "body": "Fixed."})
    missing = post(web, INCIDENTS, {"name": "n", "impact": "minor", "status": "resolved",
                                    "body": "b", "incident_id": 9999})

    timeline = web.call("GET", f"/api/v1/incidents/INC-{linked}", READ_TOKEN).json()
    texts = [entry["text"] for entry in timeline["timeline"]]
    assert "Status page update (investigating): We are investigating failed payments." in texts
    assert "Status page update (resolved): Fixed." in texts
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"] == [
        {"path": "incident_id", "message": "no incident INC-9999 you can see"}]
    assert len(public(web, "incidents.json")["incidents"]) == 1  # the refused one left nothing


def test_an_update_dated_ahead_shows_on_the_cached_page_when_its_time_comes(web: Web):
    created = declare(web, components={"Web": "major_outage"})
    updates = f"{INCIDENTS}/{created['id']}/updates"
    ahead = post(web, updates, {"status": "resolved", "body": "Fixed.",
                                "display_at": "2026-03-02T03:02:00Z"})
    later = post(web, updates, {"status": "monitoring", "body": "Recovering.",
                                "components": {"Web": "degraded_performance"},
                                "display_at": "2026-03-02T03:02:00.600Z"})
    first = public(web, "summary.json")
    web.clock.advance(seconds=119.9)  # 03:01:59.9
    just_before = public(web, "summary.json")
    web.clock.advance(seconds=0.1)  # 03:02:00: the update's whole second has come
    due = public(web, "summary.json")

    def web_status(summary: dict[str, Any]) -> str:
        return next(str(c["status"]) for c in summary["components"] if c["name"] == "Web")

    assert ahead.status_code == 400
    assert [f["path"] for f in ahead.json()["error"]["fields"]] == ["display_at"]
    assert later.status_code == 201, later.text
    assert (web_status(first), web_status(just_before)) == ("major_outage", "major_outage")
    assert just_before["incidents"][0]["status"] == "investigating"
    assert web_status(due) == "degraded_performance"
    assert due["incidents"][0]["status"] == "monitoring"


def test_the_api_never_takes_a_private_incidents_title_for_its_public_face(web: Web):
    made = web.call("POST", "/api/v1/incidents", WRITE_TOKEN, json={
        "title": "Leaked key of ACME Corp", "severity": "SEV2", "private": True})
    assert made.status_code == 201, made.text
    linked = int(str(made.json()["id"]).removeprefix("INC-"))

    refused = post(web, INCIDENTS, {"impact": "major", "status": "investigating",
                                    "body": "Some payments fail.", "incident_id": linked})
    named = post(web, INCIDENTS, {"name": "Payment delays", "impact": "major",
                                  "status": "investigating", "body": "Some payments fail.",
                                  "incident_id": linked})

    assert refused.status_code == 400
    assert [f["path"] for f in refused.json()["error"]["fields"]] == ["name"]
    assert named.status_code == 201, named.text
    shown = json.dumps(every_public(web))
    assert "Payment delays" in shown and "ACME" not in shown


def test_a_writer_sees_an_incident_dated_ahead_that_the_page_shows_later(web: Web):
    made = declare(web, display_at="2026-03-02T03:03:00Z", components={"Web": "major_outage"})

    before = public(web, "incidents.json")["incidents"]
    web.clock.advance(minutes=3)
    due = public(web, "incidents.json")["incidents"]

    assert [u["display_at"] for u in made["incident_updates"]] == ["2026-03-02T03:03:00Z"]
    assert before == []
    assert [i["id"] for i in due] == [made["id"]]
