"""The post-mortems API: draft, edit, review, publish, export and search; scopes and privacy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.incident_setup import INCIDENT_CONFIG
from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock

READ, WRITE, ADMIN = "pm-read-token-1", "pm-write-token-2", "pm-admin-token-3"
OUTSIDER = "pm-outsider-token-4"
CONFIG = INCIDENT_CONFIG + f"""
api_tokens:
  - {{name: reader, token: {READ}, user: carol, scope: read}}
  - {{name: writer, token: {WRITE}, user: bob, scope: write}}
  - {{name: admin, token: {ADMIN}, user: vp, scope: admin}}
  - {{name: outsider, token: {OUTSIDER}, user: sam, scope: write}}
"""
PM = "/api/v1/incidents/INC-1/postmortem"


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    found: dict[str, Any] = response.json()
    return found


def _resolved_incident(web: Web, **extra: object) -> None:
    _ok(web.call("POST", "/api/v1/incidents", WRITE, json={
        "title": "Checkout failing", "severity": "SEV2", "services": ["payment"], **extra}),
        201)
    web.clock.advance(minutes=42)
    _ok(web.call("PATCH", "/api/v1/incidents/INC-1", WRITE, json={
        "status": "resolved", "users_affected": 300}))
    web.runtime.engine.run_due()


def test_resolve_drafts_then_edit_review_publish_export_and_search(web: Web) -> None:
    _resolved_incident(web)
    drafted = _ok(web.call("GET", PM, READ))
    assert (drafted["status"], drafted["due_at"], drafted["users_affected"]) == (
        "draft", "2026-03-07T03:42:00Z", 300)
    assert _ok(web.call("POST", PM, WRITE))["created_at"] == drafted["created_at"]

    edited = _ok(web.call("PATCH", PM, WRITE, json={
        "summary": "Payments failed for 42 minutes", "estimated_cost": "$1,200",
        "root_cause": "Bob forgot to scale the pool.", "root_cause_category": "capacity",
        "whys": [{"why": "Why did payments fail?", "because": "The pool ran dry."}],
        "lessons": "Scale pools with traffic", "expected_version": drafted["version"]}))
    assert [(s["field"], s["reason"]) for s in edited["suggestions"]] == [
        ("root_cause", "names a person (Bob)")]
    assert _ok(web.call("POST", f"{PM}/state", WRITE, json={"status": "in_review"}))[
        "status"] == "in_review"
    published = _ok(web.call("POST", f"{PM}/state", WRITE, json={"status": "published"}))
    assert (published["published_by"], published["published_at"]) == (
        "bob", "2026-03-02T03:42:00Z")

    found = _ok(web.call("GET", "/api/v1/postmortems?q=pool&severity=sev2&service=payment",
                         READ))
    assert [(p["incident"], p["status"]) for p in found["postmortems"]] == [
        ("INC-1", "published")]
    assert _ok(web.call("GET", "/api/v1/postmortems?q=pool&service=search", READ))[
        "postmortems"] == []
    exported = web.call("GET", f"{PM}.md", READ)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/markdown; charset=utf-8"
    assert 'filename="INC-1-postmortem.md"' in exported.headers["content-disposition"]
    text = exported.text
    assert text.startswith("# Post-mortem: INC-1 Checkout failing\n")
    assert "| Duration | 42m (2026-03-02 03:00 UTC to 2026-03-02 03:42 UTC) |" in text
    assert "- Estimated cost: $1,200" in text
    assert "1. Why? Why did payments fail?\n   Because: The pool ran dry." in text


def test_errors_name_the_field_and_scopes_hold(web: Web) -> None:
    _resolved_incident(web)
    assert web.call("PATCH", PM, READ, json={"summary": "x"}).status_code == 403
    bad = web.call("PATCH", PM, WRITE, json={"users_affected": -3, "root_cause_category": "x"})
    assert bad.status_code == 400
    assert sorted(f["path"] for f in bad.json()["error"]["fields"]) == [
        "root_cause_category", "users_affected"]
    empty = web.call("PATCH", PM, WRITE, json={})
    assert empty.json()["error"]["message"] == "nothing to change"
    refused = web.call("POST", f"{PM}/state", WRITE, json={"status": "published"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
    assert web.call("GET", "/api/v1/incidents/INC-9/postmortem", READ).status_code == 404


def test_a_private_incidents_postmortem_is_missing_to_outsiders(web: Web) -> None:
    _resolved_incident(web, private=True)
    assert web.call("GET", PM, OUTSIDER).status_code == 404
    assert web.call("GET", f"{PM}.md", OUTSIDER).status_code == 404
    assert web.call("POST", PM, OUTSIDER).status_code == 404
    assert _ok(web.call("GET", "/api/v1/postmortems", OUTSIDER))["postmortems"] == []
    assert [p["incident"] for p in _ok(web.call("GET", "/api/v1/postmortems", ADMIN))[
        "postmortems"]] == ["INC-1"]


def test_two_saves_of_one_version_within_a_second_the_second_is_409(web: Web) -> None:
    _resolved_incident(web)
    opened = _ok(web.call("GET", PM, READ))["version"]
    first = _ok(web.call("PATCH", PM, WRITE, json={"summary": "alice's words",
                                                   "expected_version": opened}))
    assert first["version"] == opened + 1
    second = web.call("PATCH", PM, WRITE, json={"summary": "bob's words",
                                                "expected_version": opened})
    assert second.status_code == 409, second.text
    assert _ok(web.call("GET", PM, READ))["summary"] == "alice's words"


def test_unknown_and_mistyped_fields_are_refused_all_at_once(web: Web) -> None:
    _resolved_incident(web)
    bad = web.call("PATCH", PM, WRITE, json={
        "root_cuase": "the pool", "users_affected": True, "support_tickets": "12",
        "root_cause_category": "gremlins", "whys": [{"why": "a", "becuase": "b"}],
        "timeline": [{"at": "2026-03-02T03:00:00Z", "text": "x", "entry_id": True}],
        "expected_version": "7"})
    assert bad.status_code == 400, bad.text
    assert sorted(f["path"] for f in bad.json()["error"]["fields"]) == [
        "expected_version", "root_cause_category", "root_cuase", "support_tickets",
        "timeline[0].entry_id", "users_affected", "whys[0]"]
    assert _ok(web.call("GET", PM, READ))["users_affected"] == 300  # nothing was stored
    moved = web.call("POST", f"{PM}/state", WRITE, json={"status": "in_review", "by": "x"})
    assert moved.status_code == 400
    assert [f["path"] for f in moved.json()["error"]["fields"]] == ["body.by"]
    assert _ok(web.call("GET", PM, READ))["status"] == "draft"


def test_an_unknown_severity_or_service_filter_is_named(web: Web) -> None:
    _resolved_incident(web)
    bad = web.call("GET", "/api/v1/postmortems?severity=SEV9&service=paymnet", READ)
    assert bad.status_code == 400, bad.text
    assert [f["path"] for f in bad.json()["error"]["fields"]] == ["severity", "service"]
    assert [p["incident"] for p in _ok(web.call(
        "GET", "/api/v1/postmortems?severity=sev2&service=payment", READ))["postmortems"]] == [
        "INC-1"]
