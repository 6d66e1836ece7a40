"""Grafana webhooks and generic JSON alerts through the app, on SQLite and PostgreSQL.

Each test posts what the sender really sends, runs the engine under the
fake clock, and checks what a responder would see: the alert through the
API, the page the fake channel received, the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.test_grafana_source import grafana_alert, grafana_body
from tests.web.conftest import CONFIG, READ_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock

GRAFANA_KEY = "gf-key-41c9a7d2e0"
GENERIC_KEY = "gen-key-8b3e6f1a92"
SOURCES = CONFIG.replace("integrations:\n", f"""integrations:
  - {{name: grafana, type: grafana, key: {GRAFANA_KEY}, service: payment}}
  - {{name: scripts, type: generic, key: {GENERIC_KEY}}}
""", 1)
GRAFANA_PATH = f"/integrations/{GRAFANA_KEY}/grafana"
GENERIC_PATH = f"/integrations/{GENERIC_KEY}/generic"


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, SOURCES)
    yield made
    close_web(made)


def alerts(web: Web, **filters: Any) -> list[dict[str, Any]]:
    response = web.call("GET", "/api/v1/alerts", READ_TOKEN, params=filters)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["alerts"]
    return found


def generic(web: Web, **body: Any) -> dict[str, Any]:
    response = web.client.post(GENERIC_PATH, json=body)
    assert response.status_code == 202, response.text
    reply: dict[str, Any] = response.json()
    return reply


# --- Grafana -----------------------------------------------------------------


def test_grafana_firing_pages_the_person_on_call_and_its_resolve_closes_it(web: Web) -> None:
    response = web.client.post(GRAFANA_PATH, json=grafana_body(grafana_alert()))
    assert response.status_code == 200, response.text
    [touched] = response.json()["alerts"]
    web.runtime.engine.run_due()

    alert = web.alert(touched["id"])
    assert (alert["integration"], alert["dedup_key"]) == ("grafana", "9f0e8d7c6b5a4f3e")
    assert (alert["title"], alert["description"]) == ("Checkout p99 above 2s", "p99 is 2.4s")
    assert (alert["severity"], alert["service"], alert["urgency"]) == (
        "warning", "payment", "low")
    assert alert["runbook_url"] == "https://wiki.example.net/runbooks/checkout"
    assert alert["source_url"].endswith("/alerting/grafana/ab12cd/view?orgId=1")
    assert alert["details"]["values"] == {"A": 2.41, "B": 1}
    assert alert["details"]["links"]["panel"].endswith("viewPanel=4")
    [page] = web.pages()
    assert (page.user_id, page.alert_id, page.title) == (
        "alice", touched["id"], "Checkout p99 above 2s")

    resolved = grafana_alert(status="resolved", endsAt="2026-12-04T16:20:00+01:00")
    body = {**grafana_body(resolved, status="resolved"), "state": "ok"}
    response = web.client.put(GRAFANA_PATH, json=body)  # Grafana may be set to PUT
    assert response.status_code == 200, response.text

    closed = web.alert(touched["id"])
    assert (closed["status"], closed["resolved_by"]) == ("resolved", "integration:grafana")
    assert len(alerts(web)) == 1


def test_a_grafana_resolve_that_overtakes_its_firing_wins(web: Web) -> None:
    resolved = grafana_alert(status="resolved", endsAt="2026-12-04T16:20:00+01:00")
    first = web.client.put(GRAFANA_PATH, json=grafana_body(resolved, status="resolved"))
    late = web.client.post(GRAFANA_PATH, json=grafana_body(grafana_alert()))
    web.runtime.engine.run_due()

    assert (first.status_code, late.status_code) == (200, 200)
    assert late.json()["alerts"][0]["outcome"] == "ignore"
    [kept] = alerts(web)
    assert kept["status"] == "resolved"
    assert web.pages() == [], "a resolve for an alert never seen pages nobody"

    again = web.client.post(GRAFANA_PATH, json=grafana_body(
        grafana_alert(startsAt="2026-12-04T17:00:00+01:00")))
    assert again.json()["alerts"][0]["outcome"] == "open"
    assert [a["status"] for a in alerts(web)] == ["triggered", "resolved"]


def test_grafana_may_send_its_key_as_a_bearer_header(web: Web) -> None:
    body = grafana_body(grafana_alert())
    by_header = web.client.post("/integrations/grafana", json=body,
                                headers={"Authorization": f"Bearer {GRAFANA_KEY}"})
    assert by_header.status_code == 200, by_header.text

    wrong = web.client.put("/integrations/grafana", json=body,
                           headers={"Authorization": "Bearer not-a-key"})
    other_type = web.client.post(f"/integrations/{GENERIC_KEY}/grafana", json=body)
    for refused in (wrong, other_type):
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["message"] == (
            "unknown key for an integration of type grafana")
        assert GENERIC_KEY not in refused.text
    assert len(alerts(web)) == 1


def test_a_grafana_body_with_only_bad_alerts_is_400_naming_them(web: Web) -> None:
    response = web.client.post(GRAFANA_PATH, json=grafana_body(grafana_alert(status="pending")))

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert [f["path"] for f in error["fields"]] == ["alerts[0].status"]
    assert alerts(web) == []


# --- generic JSON --------------------------------------------------------------


def test_generic_trigger_repeat_acknowledge_resolve(web: Web) -> None:
    sent = {"summary": "Nightly backup failed on db-1", "severity": "critical",
            "source": "db-1", "service": "payment", "dedup_key": "backup-db-1",
            "details": {"exit_code": 3},
            "links": [{"href": "https://ci.example.net/jobs/991", "text": "Job 991"}]}
    reply = generic(web, **sent)
    assert (reply["dedup_key"], reply["outcome"]) == ("backup-db-1", "open")
    [touched] = reply["alerts"]
    web.runtime.engine.run_due()

    alert = web.alert(touched["id"])
    assert (alert["title"], alert["severity"], alert["urgency"]) == (
        "Nightly backup failed on db-1", "critical", "high")
    assert (alert["service"], alert["source_url"]) == (
        "payment", "https://ci.example.net/jobs/991")
    assert alert["details"]["details"] == {"exit_code": 3}

    assert generic(web, **sent)["outcome"] == "update"
    web.runtime.engine.run_due()
    assert web.alert(touched["id"])["event_count"] == 2
    assert len(web.pages()) == 1, "a repeat must not page again"

    assert generic(web, action="acknowledge", dedup_key="backup-db-1")["outcome"] == (
        "acknowledge")
    acked = web.alert(touched["id"])
    assert (acked["status"], acked["acknowledged_by"]) == (
        "acknowledged", "integration:scripts")
    [entry] = [e for e in web.audit() if e.action == "alert.acknowledge"]
    assert (entry.actor, entry.surface, entry.object_id) == (
        "integration:scripts", "source", str(touched["id"]))

    assert generic(web, action="resolve", dedup_key="backup-db-1")["outcome"] == "resolve"
    late_ack = generic(web, action="acknowledge", dedup_key="backup-db-1")
    assert late_ack["outcome"] == "ignore"
    assert "not open" in late_ack["message"]
    assert web.alert(touched["id"])["status"] == "resolved"


def test_generic_alerts_without_a_key_are_one_alert_per_summary_and_source(web: Web) -> None:
    first = generic(web, summary="Disk full", source="db-1")
    second = generic(web, summary="Disk full", source="db-1")
    resolved = generic(web, summary="Disk full", source="db-1", action="resolve")

    assert first["dedup_key"] == second["dedup_key"] == resolved["dedup_key"]
    [alert] = alerts(web)
    assert (alert["status"], alert["event_count"]) == ("resolved", 2)


def test_generic_key_may_come_as_a_bearer_header(web: Web) -> None:
    response = web.client.post("/integrations/generic", json={"summary": "Queue stuck"},
                               headers={"Authorization": f"Bearer {GENERIC_KEY}"})
    assert response.status_code == 202, response.text
    refused = web.client.post("/integrations/generic", json={"summary": "Queue stuck"})
    assert refused.status_code == 401
    assert len(alerts(web)) == 1


@pytest.mark.parametrize(("body", "field", "fix"), [
    ({"severity": "critical"}, "summary", 'such as "Disk full on db-1"'),
    ({"summary": "x", "action": "page"}, "action", "trigger, acknowledge or resolve"),
    ({"summary": "x", "details": "text"}, "details", "must be an object"),
    ({"summary": "x", "links": [{"text": "no href"}]}, "links[0].href", "is required"),
    ({"summary": "x", "timestamp": "yesterday"}, "timestamp", "2026-12-04T16:00:00Z"),
    ({"action": "resolve"}, "dedup_key", "the dedup_key the trigger's reply returned"),
    ({"summary": "nul \u0000 here"}, "summary", "NUL"),
])
def test_bad_generic_input_is_400_naming_the_field_and_the_fix(
    web: Web, body: dict[str, Any], field: str, fix: str,
) -> None:
    response = web.client.post(GENERIC_PATH, json=body)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    messages = {f["path"]: f["message"] for f in error["fields"]}
    assert field in messages, messages
    assert fix in messages[field]
    assert alerts(web) == []


# --- urgency from severity -----------------------------------------------------


def test_urgency_follows_the_severity_and_a_new_severity_changes_it(web: Web) -> None:
    expected = {"P1": "high", "SEV2": "high", "error": "high", "P3": "low", "info": "low",
                "sev4": "low", "somethingelse": "high"}
    for severity in expected:
        generic(web, summary=f"check {severity}", severity=severity)
    found = {a["severity"]: a["urgency"] for a in alerts(web)}
    assert found == expected

    [low] = [a for a in alerts(web) if a["severity"] == "info"]
    generic(web, summary="check info", severity="critical")
    raised = web.alert(low["id"])
    assert (raised["severity"], raised["urgency"]) == ("critical", "high")
    assert "urgency_changed" in [entry["kind"] for entry in raised["timeline"]]


def test_a_route_that_names_an_urgency_overrides_the_severity(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    quiet = SOURCES.replace("  - {notify: critical}\n",
                            "  - {match: {service: batch}, notify: critical, urgency: low}\n"
                            "  - {notify: critical}\n")
    made = make_web(tmp_path, db_url, clock, quiet)
    try:
        generic(made, summary="Batch job late", severity="critical", service="batch")
        generic(made, summary="Checkout down", severity="critical", service="payment")
        found = {a["service"]: a["urgency"] for a in alerts(made)}
        assert found == {"batch": "low", "payment": "high"}
    finally:
        close_web(made)
