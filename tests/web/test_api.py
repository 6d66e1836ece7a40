"""The REST API as an operator's script uses it: tokens, scopes, ack, resolve, filters."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import (
    ADMIN_TOKEN,
    AM_KEY,
    PUBLIC_URL,
    READ_TOKEN,
    WRITE_TOKEN,
    Web,
    link_path,
)
from tocsin.links import LinkSigner
from tocsin.logs import RedactingFilter


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def _in_order(kinds: list[str], wanted: list[str]) -> bool:
    """Whether `wanted` appears in `kinds` in this order, other kinds in between allowed."""
    remaining = iter(kinds)
    return all(kind in remaining for kind in wanted)


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", f"Basic {WRITE_TOKEN}"])
def test_without_a_valid_bearer_token_the_api_answers_401(web: Web, header):
    headers = {"Authorization": header} if header else {}

    response = web.client.get("/api/v1/alerts", headers=headers)

    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "unauthorized"
    assert error["message"]
    assert error["fields"] == []


def test_a_read_token_lists_alerts_but_cannot_acknowledge(web: Web):
    alert_id = web.fire()

    listed = web.call("GET", "/api/v1/alerts", READ_TOKEN)
    refused = web.call("POST", f"/api/v1/alerts/{alert_id}/ack", READ_TOKEN)

    assert [a["id"] for a in listed.json()["alerts"]] == [alert_id]
    assert refused.status_code == 403
    assert _error(refused)["code"] == "forbidden"
    assert web.alert(alert_id)["status"] == "triggered"


def test_a_write_token_acknowledges_and_the_timeline_shows_the_whole_story(web: Web):
    alert_id = web.fire()

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)

    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    detail = web.alert(alert_id)
    assert detail["acknowledged_by"] == "bob"
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert _in_order(kinds, ["triggered", "escalated", "notification", "acknowledged"])
    ack = next(e for e in detail["timeline"] if e["kind"] == "acknowledged")
    assert (ack["actor"], ack["surface"]) == ("bob", "api")
    sent = {(n["user"], n["channel"], n["status"]) for n in detail["notifications"]}
    assert sent == {("alice", "console", "sent"), ("alice", "webhook", "sent")}


def test_an_acknowledgement_stops_the_escalation(web: Web):
    alert_id = web.fire()
    web.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)

    web.clock.advance(minutes=15)
    web.runtime.engine.run_due()

    assert [page.user_id for page in web.pages()] == ["alice"]


def test_acknowledging_twice_is_a_200_no_op(web: Web):
    alert_id = web.fire()
    first = web.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)
    web.clock.advance(minutes=1)

    second = web.call("POST", f"/api/v1/alerts/{alert_id}/ack", ADMIN_TOKEN)

    assert second.status_code == 200
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert second.json()["acknowledged_by"] == "bob"
    assert web.kinds(alert_id).count("acknowledged") == 1
    assert [row.action for row in web.audit()] == ["alert.acknowledge"]


def test_acknowledging_a_resolved_alert_is_a_409_and_changes_nothing(web: Web):
    alert_id = web.fire()
    resolved = web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)
    again = web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)

    response = web.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)

    assert (resolved.status_code, again.status_code) == (200, 200)
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "conflict"
    assert "already resolved by bob" in error["message"]
    detail = web.alert(alert_id)
    assert (detail["status"], detail["acknowledged_by"]) == ("resolved", None)
    assert "acknowledged" not in web.kinds(alert_id)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/alerts/9999"),
    ("POST", "/api/v1/alerts/9999/ack"),
    ("POST", "/api/v1/alerts/9999/resolve"),
])
def test_an_unknown_alert_is_404(web: Web, method, path):
    response = web.call(method, path, WRITE_TOKEN)

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"
    assert "9999" in _error(response)["message"]


@pytest.mark.parametrize("alert_id", [2**31, 10**20])
def test_an_id_too_large_for_the_database_is_404_on_both_backends(web: Web, alert_id):
    # Product bug: 500 on PostgreSQL from 2**31 (a 32-bit id column), and on
    # SQLite from 2**63 (OverflowError in the driver).
    client = TestClient(web.client.app, raise_server_exceptions=False)
    shown = client.get(f"/api/v1/alerts/{alert_id}", headers=_bearer(READ_TOKEN))
    acked = client.post(f"/api/v1/alerts/{alert_id}/ack", headers=_bearer(WRITE_TOKEN))

    assert (shown.status_code, acked.status_code) == (404, 404)
    assert _error(shown)["code"] == "not_found"


def _ids(web: Web, query: str) -> list[int]:
    response = web.call("GET", f"/api/v1/alerts?{query}", READ_TOKEN)
    assert response.status_code == 200, response.text
    return [alert["id"] for alert in response.json()["alerts"]]


def test_the_alert_list_filters_by_status_and_dedup_key(web: Web):
    disk = web.fire("fp-disk")
    api = web.fire("fp-api")
    web.call("POST", f"/api/v1/alerts/{disk}/ack", WRITE_TOKEN)

    assert _ids(web, "") == [api, disk]
    assert _ids(web, "status=triggered") == [api]
    assert _ids(web, "status=acknowledged") == [disk]
    assert _ids(web, "dedup_key=fp-disk") == [disk]
    assert _ids(web, "status=triggered&dedup_key=fp-disk") == []


def test_the_alert_list_filters_by_since(web: Web):
    early = web.fire("fp-early")
    web.clock.advance(minutes=30)
    late = web.fire("fp-late")

    assert _ids(web, "since=2026-03-02T03:10:00Z") == [late]
    assert _ids(web, "since=2026-03-02T02:00:00Z") == [late, early]


@pytest.mark.parametrize(("query", "field"), [
    ("since=yesterday", "since"),
    ("since=2026-13-45T00:00:00Z", "since"),
    ("status=sleeping", "status"),
])
def test_a_bad_filter_is_a_400_naming_the_field(web: Web, query, field):
    response = web.call("GET", f"/api/v1/alerts?{query}", READ_TOKEN)

    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid_input"
    assert [problem["path"] for problem in error["fields"]] == [field]


# --- Secrets stay out of the logs -------------------------------------------------------


def _leaks(records: list[logging.LogRecord], secrets: list[str]) -> list[str]:
    found = []
    for record in records:
        # The test client's own request log; `serve` keeps httpx at WARNING.
        if record.name.startswith(("httpx", "httpcore")):
            continue
        text = record.getMessage() + " " + str(getattr(record, "tocsin_fields", ""))
        found += [f"{record.name}: {text}" for s in secrets if s in text]
    return found


def test_keys_tokens_and_links_never_reach_a_log_record(web: Web, caplog):
    caplog.set_level(logging.DEBUG)
    alert_id = web.fire()
    link = link_path(web.pages()[0])
    web.client.get(link)
    web.client.post(link, data={"action": "acknowledge"})
    web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN)
    web.call("POST", "/api/v1/config/reload", ADMIN_TOKEN)
    web.call("GET", "/api/v1/alerts", "wrong-token-0000")

    assert caplog.records, "the flows above log nothing at all; the check would be empty"
    secrets = [AM_KEY, READ_TOKEN, WRITE_TOKEN, ADMIN_TOKEN, link.removeprefix("/a/")]
    assert _leaks(caplog.records, secrets) == []


def _access_record(path: str) -> logging.LogRecord:
    """A record shaped like uvicorn's access log line."""
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:51234", "POST", path, "1.1", 200), None,
    )


@pytest.mark.parametrize("path", [
    f"/integrations/{AM_KEY}/alertmanager",
    f"/integrations/{AM_KEY}/grafana?orgId=1",
    f"/integrations/{AM_KEY}",
])
def test_the_access_log_path_hides_the_integration_key(path):
    record = _access_record(path)

    assert RedactingFilter().filter(record) is True

    line = record.getMessage()
    assert AM_KEY not in line
    assert "/integrations/***" in line
    assert line.startswith('127.0.0.1:51234 - "POST /integrations/***')


def test_the_access_log_hides_a_signed_link(clock):
    # Product bug: `POST /a/<token>` reaches the access log whole, and the token
    # acknowledges as the person paged for a day.
    link = LinkSigner("link-secret", PUBLIC_URL, clock).url(12, "alice")
    link = link.removeprefix(PUBLIC_URL)
    record = _access_record(link)

    RedactingFilter().filter(record)

    assert link.removeprefix("/a/") not in record.getMessage()
    assert '"POST /a/*** HTTP/1.1"' in record.getMessage()
