"""The Opsgenie-compatible alert API as a sender sees it, over HTTP, on both backends.

Create, repeat, acknowledge and close by alias, id and tiny id; the request
status every write leaves; Opsgenie's errors for a bad key, a body it cannot
process and an unknown responder; and responders paged instead of the
route's target.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import Web, close_web, make_web
from tocsin.clock import FakeClock
from tocsin.logs import record_fields

OG_KEY = "og-key-3f9a1c77e2"
OTHER_OG_KEY = "og-other-5b2d8e10c4"
AM_KEY = "am-key-7f3a9c2e51"
READ_TOKEN = "read-token-1a2b3c4d"

# Alice holds the primary schedule this week; the route pages `critical`.
CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {id: alice, name: Alice, email: alice@example.com,
     contacts: {webhook: "http://hooks.test/alice"}}
  - {id: bob, name: Bob, contacts: {webhook: "http://hooks.test/bob"}}
  - {id: carol, name: Carol, contacts: {webhook: "http://hooks.test/carol"}}
  - {id: dave, name: Dave, contacts: {webhook: "http://hooks.test/dave"}}
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
  - name: managers
    steps:
      - {targets: [carol], timeout_minutes: 10}
      - {targets: [dave], timeout_minutes: 10}
services:
  - {name: payment, escalation_policy: managers, team: payments}
teams:
  - {name: payments, members: [bob, carol], services: [payment]}
  - {name: web, members: [carol, dave]}
routes:
  - {notify: critical}
integrations:
  - {name: prometheus, type: alertmanager, key: am-key-7f3a9c2e51}
  - {name: og, type: opsgenie, key: og-key-3f9a1c77e2}
  - {name: og-other, type: opsgenie, key: og-other-5b2d8e10c4}
notifications:
  webhook: {secret: web-test-webhook-secret}
  fallback: [dave]
api_tokens:
  - {name: reader, token: read-token-1a2b3c4d, user: carol, scope: read}
"""


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG)
    yield made
    close_web(made)


def _genie(key: str = OG_KEY) -> dict[str, str]:
    return {"Authorization": f"GenieKey {key}"}


def _create(web: Web, key: str = OG_KEY, **body: Any) -> httpx.Response:
    return web.client.post("/v2/alerts", json=body, headers=_genie(key))


def _act(web: Web, identifier: str, action: str, identifier_type: str | None = None,
         key: str = OG_KEY, **body: Any) -> httpx.Response:
    params = {"identifierType": identifier_type} if identifier_type else {}
    return web.client.post(f"/v2/alerts/{identifier}/{action}", params=params,
                           json=body or None, headers=_genie(key))


def _status(web: Web, response: httpx.Response, key: str = OG_KEY) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    request_id = response.json()["requestId"]
    polled = web.client.get(f"/v2/alerts/requests/{request_id}", headers=_genie(key))
    assert polled.status_code == 200, polled.text
    data: dict[str, Any] = polled.json()["data"]
    return data


def _only_alert(web: Web, alias: str) -> dict[str, Any]:
    listed = web.client.get("/api/v1/alerts", params={"dedup_key": alias},
                            headers={"Authorization": f"Bearer {READ_TOKEN}"})
    [summary] = listed.json()["alerts"]
    return web.alert(summary["id"])


def _paged(web: Web) -> list[tuple[str, int]]:
    return [(page.user_id, page.step) for page in web.pages()]


# --- create, repeat, request status ------------------------------------------


def test_create_answers_202_after_commit_and_the_request_status_names_the_alert(web: Web):
    response = _create(web, message="Checkout errors above 5%", alias="checkout-5xx",
                       description="p99 2.3 s", priority="P1", tags=["checkout", "prod"],
                       details={"region": "eu-west-1", "runbook_url": "https://rb.test/co"},
                       entity="checkout-api", source="datadog")

    assert response.status_code == 202
    body = response.json()
    assert body["result"] == "Request will be processed"
    assert isinstance(body["took"], float) and body["requestId"]
    assert response.headers["X-Request-ID"] == body["requestId"]
    alert = _only_alert(web, "checkout-5xx")
    assert body["alert_ids"] == [alert["id"]]
    assert (alert["title"], alert["severity"], alert["urgency"]) == (
        "Checkout errors above 5%", "P1", "high")
    assert (alert["description"], alert["runbook_url"]) == ("p99 2.3 s", "https://rb.test/co")
    assert alert["labels"] == {"region": "eu-west-1", "runbook_url": "https://rb.test/co",
                               "priority": "P1", "entity": "checkout-api",
                               "tags": "checkout,prod"}
    assert alert["details"]["tags"] == ["checkout", "prod"]
    status = _status(web, response)
    assert status == {
        "success": True, "action": "Create", "processedAt": status["processedAt"],
        "integrationId": "og", "isSuccess": True, "status": "Created alert",
        "alertId": str(alert["id"]), "alias": "checkout-5xx",
    }
    assert status["processedAt"] == "2026-03-02T03:00:00.000Z"


def test_a_repeat_with_the_same_alias_raises_the_count_of_the_open_alert(web: Web):
    first = _create(web, message="Disk 91% on db-1", alias="disk-db-1")
    second = _create(web, message="Disk 93% on db-1", alias="disk-db-1")

    alert = _only_alert(web, "disk-db-1")
    assert (alert["event_count"], alert["title"]) == (2, "Disk 93% on db-1")
    assert first.json()["alert_ids"] == second.json()["alert_ids"] == [alert["id"]]
    assert _status(web, second)["status"] == (
        "Alert with this alias is already open; its count is now 2")


def test_without_an_alias_each_create_is_a_new_alert_with_its_own_alias(web: Web):
    first = _status(web, _create(web, message="Backup failed"))
    second = _status(web, _create(web, message="Backup failed"))

    assert first["alertId"] != second["alertId"]
    assert first["alias"] and first["alias"] != second["alias"]


@pytest.mark.parametrize(("priority", "urgency"), [(None, "low"), ("P2", "high"),
                                                   ("p4", "low"), ("P5", "low")])
def test_priority_is_the_severity_and_sets_the_urgency(web: Web, priority, urgency):
    body = {"message": "Queue depth high", "alias": f"queue-{priority}"}
    if priority:
        body["priority"] = priority
    _create(web, **body)

    alert = _only_alert(web, f"queue-{priority}")
    assert (alert["severity"], alert["urgency"]) == ((priority or "P3").upper(), urgency)


# --- acknowledge and close ---------------------------------------------------


def test_acknowledge_and_close_by_alias_with_a_note(web: Web):
    _create(web, message="Payment API 500s", alias="pay-500")
    web.runtime.engine.run_due()

    acked = _act(web, "pay-500", "acknowledge", "alias", user="Jane", note="looking")
    alert = _only_alert(web, "pay-500")
    assert (alert["status"], alert["acknowledged_by"]) == ("acknowledged", "integration:og")
    assert _status(web, acked) == {
        **_status(web, acked), "action": "Acknowledge", "isSuccess": True, "success": True,
        "status": "Acknowledged alert", "alertId": str(alert["id"]), "alias": "pay-500"}
    note = next(e for e in alert["timeline"] if e["kind"] == "note")
    assert (note["message"], note["actor"]) == ("looking (user: Jane)", "integration:og")

    closed = _act(web, "pay-500", "close", "alias")
    assert _only_alert(web, "pay-500")["status"] == "resolved"
    assert _status(web, closed)["status"] == "Closed alert"


def test_acknowledge_and_close_by_id_and_by_tiny_id(web: Web):
    alert_id = _create(web, message="Cache miss storm", alias="cache").json()["alert_ids"][0]

    assert _status(web, _act(web, str(alert_id), "acknowledge"))["isSuccess"] is True
    assert web.alert(alert_id)["status"] == "acknowledged"
    assert _status(web, _act(web, str(alert_id), "close", "tiny"))["status"] == "Closed alert"
    assert web.alert(alert_id)["status"] == "resolved"


def test_repeats_of_an_action_are_no_ops_and_acking_a_closed_alert_fails(web: Web):
    _create(web, message="Cert expires in 3 days", alias="cert")
    _act(web, "cert", "acknowledge", "alias")

    again = _status(web, _act(web, "cert", "acknowledge", "alias"))
    _act(web, "cert", "close", "alias")
    close_again = _status(web, _act(web, "cert", "close", "alias"))
    ack_closed = _status(web, _act(web, "cert", "acknowledge", "alias"))

    assert (again["isSuccess"], again["status"]) == (True, "Alert is already acknowledged")
    assert (close_again["isSuccess"], close_again["status"]) == (True, "Alert is already closed")
    assert (ack_closed["isSuccess"], ack_closed["status"]) == (False, "Alert is already closed")
    alert = _only_alert(web, "cert")
    assert alert["status"] == "resolved"
    assert [e["kind"] for e in alert["timeline"]].count("event_ignored") == 3


def test_a_closed_alias_opens_a_new_alert(web: Web):
    _create(web, message="Disk full", alias="disk")
    _act(web, "disk", "close", "alias")
    _create(web, message="Disk full again", alias="disk")

    acked = _status(web, _act(web, "disk", "acknowledge", "alias"))
    listed = web.client.get("/api/v1/alerts", params={"dedup_key": "disk"},
                            headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()["alerts"]
    assert [a["status"] for a in listed] == ["acknowledged", "resolved"]
    assert acked["alertId"] == str(listed[0]["id"])


def test_acting_on_an_alert_that_does_not_exist_is_accepted_and_fails_in_the_status(web: Web):
    for identifier, kind in [("never-sent", "alias"), ("999999", "id"), ("x1", "tiny")]:
        status = _status(web, _act(web, identifier, "close", kind))
        assert (status["isSuccess"], status["status"], status["alertId"]) == (
            False, "Alert does not exist", "")


def test_an_integration_acts_only_on_its_own_alerts(web: Web):
    alert_id = _create(web, message="Mine", alias="mine").json()["alert_ids"][0]

    by_alias = _status(web, _act(web, "mine", "close", "alias", key=OTHER_OG_KEY), OTHER_OG_KEY)
    by_id = _status(web, _act(web, str(alert_id), "close", key=OTHER_OG_KEY), OTHER_OG_KEY)

    assert by_alias["status"] == by_id["status"] == "Alert does not exist"
    assert web.alert(alert_id)["status"] == "triggered"


def test_long_aliases_and_aliases_with_slashes_dedup_and_can_be_acted_on(web: Web):
    long_alias = "k8s/" + "x" * 500
    for alias in (long_alias, "team/service:check"):
        first = _create(web, message="Pod crash looping", alias=alias).json()["alert_ids"]
        second = _create(web, message="Pod crash looping", alias=alias).json()["alert_ids"]
        assert first == second
        acked = _status(web, _act(web, alias.replace("/", "%2F"), "acknowledge", "alias"))
        assert (acked["status"], acked["alias"], acked["alertId"]) == (
            "Acknowledged alert", alias, str(first[0]))


# --- errors in Opsgenie's shape ------------------------------------------------


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"message", "took", "requestId"} <= set(body)
    assert OG_KEY not in response.text and AM_KEY not in response.text
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "GenieKey"},
                                     {"Authorization": f"Basic {OG_KEY}"},
                                     {"Authorization": "GenieKey og-key-wrong"}])
def test_without_a_valid_genie_key_the_answer_is_401(web: Web, headers):
    response = web.client.post("/v2/alerts", json={"message": "hi"}, headers=headers)

    assert "Could not authenticate" in _error(response, 401)["message"]
    assert web.client.get("/api/v1/alerts", headers={
        "Authorization": f"Bearer {READ_TOKEN}"}).json()["alerts"] == []


def test_the_key_of_another_kind_of_integration_is_403(web: Web):
    response = _create(web, key=AM_KEY, message="hi")

    assert "only opsgenie integrations" in _error(response, 403)["message"]


def test_bearer_and_lower_case_scheme_are_accepted(web: Web):
    for header in (f"Bearer {OG_KEY}", f"geniekey {OG_KEY}"):
        response = web.client.post("/v2/alerts", json={"message": "hi"},
                                   headers={"Authorization": header})
        assert response.status_code == 202, response.text


@pytest.mark.parametrize(("body", "field", "words"), [
    ({}, "message", "Message can not be empty."),
    ({"message": "   "}, "message", "Message can not be empty."),
    ({"message": "x" * 131}, "message", "the limit is 130"),
    ({"message": "ok", "alias": "a" * 513}, "alias", "the limit is 512"),
    ({"message": "ok", "priority": "P0"}, "priority", "P1, P2, P3, P4, P5"),
    ({"message": "ok", "tags": "a,b"}, "tags", "list of strings"),
    ({"message": "ok", "details": {"n": {"nested": 1}}}, "details.n", "must be a string"),
    ({"message": "ok", "responders": [{"type": "squad", "name": "x"}]}, "responders[0].type",
     "one of user, team, schedule, escalation"),
    ({"message": "ok", "responders": [{"type": "user"}]}, "responders[0]", "id or username"),
])
def test_a_body_opsgenie_cannot_process_is_422_naming_the_field(web: Web, body, field, words):
    error = _error(_create(web, **body), 422)

    assert error["message"] == "Request body is not processable. Please check the errors."
    assert words in error["errors"][field]


def test_a_message_of_exactly_130_characters_is_accepted(web: Web):
    assert _create(web, message="x" * 130).status_code == 202


def test_unknown_responders_are_422_naming_each_and_nothing_is_stored(web: Web):
    response = _create(web, message="ok", alias="resp", responders=[
        {"type": "user", "username": "nobody@example.com"},
        {"type": "schedule", "name": "primary"},
        {"type": "team", "name": "ghosts"},
        {"type": "escalation", "id": "no-such-policy"}])

    errors = _error(response, 422)["errors"]
    assert errors == {
        "responders[0]": "No user exists with username 'nobody@example.com'.",
        "responders[2]": "No team exists with name 'ghosts'.",
        "responders[3]": "No escalation policy exists with id 'no-such-policy'.",
    }
    listed = web.client.get("/api/v1/alerts", params={"dedup_key": "resp"},
                            headers={"Authorization": f"Bearer {READ_TOKEN}"})
    assert listed.json()["alerts"] == []


def test_every_problem_of_a_body_is_named_at_once(web: Web):
    error = _error(_create(web, message="x" * 131, priority="urgent",
                           responders=[{"type": "user", "id": "zed"}]), 422)

    assert set(error["errors"]) == {"message", "priority", "responders[0]"}


@pytest.mark.parametrize(("raw", "status"), [
    (b'{"message": "ok",', 400),
    (b'{"message": "nul \\u0000 inside"}', 400),
    (b'{"message": "lone \\ud800 surrogate"}', 400),
    (b"[1, 2]", 422),
])
def test_unreadable_bodies_are_refused_in_opsgenie_shape(web: Web, raw, status):
    response = web.client.post("/v2/alerts", content=raw, headers={
        **_genie(), "Content-Type": "application/json"})

    _error(response, status)


def test_a_body_over_the_limit_is_413(web: Web):
    response = _create(web, message="ok", description="x" * 300_000)

    _error(response, 413)


def test_a_refused_request_is_a_warning_naming_the_integration_not_its_key(
        web: Web, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="tocsin.web.opsgenie"):
        refused = _create(web, message="")
        unknown = _create(web, key="og-key-typo-3f9a1c77e2", message="Disk full")

    assert (refused.status_code, unknown.status_code) == (422, 401)
    bad_field, bad_key = [r for r in caplog.records if r.getMessage() == "opsgenie.refused"]
    assert bad_field.levelno == logging.WARNING
    assert record_fields(bad_field)["integration"] == "og"
    assert str(record_fields(bad_field)["problems"]).startswith("message: ")
    assert "integration" not in record_fields(bad_key)
    assert OG_KEY not in caplog.text
    assert "og-key-typo" not in caplog.text


def test_a_bad_identifier_type_is_422(web: Web):
    error = _error(_act(web, "x", "close", "name"), 422)

    assert "id, alias or tiny" in error["errors"]["identifierType"]


def test_a_request_id_is_readable_only_by_the_integration_that_made_it(web: Web):
    request_id = _create(web, message="mine").json()["requestId"]

    other = web.client.get(f"/v2/alerts/requests/{request_id}", headers=_genie(OTHER_OG_KEY))
    unknown = web.client.get("/v2/alerts/requests/00000000-0000-0000-0000-000000000000",
                             headers=_genie())

    _error(other, 404)
    _error(unknown, 404)


def test_the_key_never_reaches_the_log(web: Web, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.DEBUG):
        _create(web, message="logged", alias="logged")
        _act(web, "logged", "acknowledge", "alias")
        web.client.post("/v2/alerts", json={}, headers=_genie("og-key-typo-3f9a1c77e2"))

    assert caplog.records
    assert all(OG_KEY not in r.getMessage() and "og-key-typo" not in str(r.__dict__)
               for r in caplog.records)
    assert all(OG_KEY not in str(r.__dict__) for r in caplog.records)


# --- responders ----------------------------------------------------------------


def test_without_responders_the_route_target_is_paged(web: Web):
    _create(web, message="Route me", alias="routed")
    web.runtime.engine.run_due()

    assert _paged(web) == [("alice", 1)]


def test_a_user_responder_is_paged_instead_of_the_routes_target(web: Web):
    _create(web, message="For Carol", alias="for-carol",
            responders=[{"type": "user", "username": "carol"}])
    web.runtime.engine.run_due()

    assert _paged(web) == [("carol", 1)]
    alert = _only_alert(web, "for-carol")
    routed = next(e for e in alert["timeline"] if e["kind"] == "routed")
    assert "responders the sender named (user carol)" in routed["message"]
    assert alert["policy"] == "responders: user carol"


def test_users_are_found_by_email_and_by_name_too(web: Web):
    _create(web, message="By e-mail", alias="by-email",
            responders=[{"type": "user", "username": "ALICE@example.com"},
                        {"type": "user", "name": "Bob"}])
    web.runtime.engine.run_due()

    assert sorted(_paged(web)) == [("alice", 1), ("bob", 1)]


def test_a_schedule_responder_pages_whoever_is_on_call(web: Web):
    web.clock.advance(minutes=7 * 24 * 60)  # bob's week
    _create(web, message="Schedule", alias="sched",
            responders=[{"type": "schedule", "name": "primary"}])
    web.runtime.engine.run_due()

    assert _paged(web) == [("bob", 1)]


def test_an_escalation_responder_runs_that_policy_with_its_timeouts(web: Web):
    _create(web, message="Escalate", alias="esc",
            responders=[{"type": "escalation", "name": "managers"}])
    web.runtime.engine.run_due()
    web.clock.advance(minutes=10)
    web.runtime.engine.run_due()

    assert _paged(web) == [("carol", 1), ("dave", 2)]
    assert _only_alert(web, "esc")["policy"] == "managers"


def test_a_team_responder_runs_its_services_policy(web: Web):
    _create(web, message="Team", alias="team", responders=[{"type": "team", "name": "payments"}])
    web.runtime.engine.run_due()

    assert _paged(web) == [("carol", 1)]
    kinds = {e["kind"]: e["message"] for e in _only_alert(web, "team")["timeline"]}
    assert "team payments: escalation policy managers of service payment" in kinds["responders"]


def test_a_team_without_a_policy_pages_its_members(web: Web):
    _create(web, message="Web team", alias="web", responders=[{"type": "team", "name": "web"}])
    web.runtime.engine.run_due()

    assert sorted(_paged(web)) == [("carol", 1), ("dave", 1)]


def test_users_beside_a_policy_join_its_first_step_and_an_ack_stops_it(web: Web):
    _create(web, message="Mixed", alias="mixed",
            responders=[{"type": "escalation", "name": "managers"},
                        {"type": "user", "id": "alice"}])
    web.runtime.engine.run_due()
    _act(web, "mixed", "acknowledge", "alias")
    web.clock.advance(minutes=30)
    web.runtime.engine.run_due()

    assert sorted(_paged(web)) == [("alice", 1), ("carol", 1)]


def test_a_severity_change_does_not_move_an_alert_off_its_responders(web: Web):
    _create(web, message="Sticky", alias="sticky", priority="P3",
            responders=[{"type": "user", "id": "carol"}])
    _create(web, message="Sticky", alias="sticky", priority="P1")
    web.runtime.engine.run_due()

    alert = _only_alert(web, "sticky")
    assert (alert["severity"], alert["policy"]) == ("P1", "responders: user carol")
    assert _paged(web) == [("carol", 1)]


def test_responders_are_paged_even_when_no_route_matches(tmp_path: Path, db_url: str,
                                                         clock: FakeClock):
    no_routes = CONFIG.replace("routes:\n  - {notify: critical}\n", "")
    made = make_web(tmp_path, db_url, clock, no_routes)
    try:
        _create(made, message="Unrouted", alias="unrouted",
                responders=[{"type": "user", "id": "bob"}])
        made.runtime.engine.run_due()
        assert _paged(made) == [("bob", 1)]
        assert _only_alert(made, "unrouted")["route"] is None
    finally:
        close_web(made)


def test_racing_creates_with_one_alias_make_one_alert(web: Web):
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: _create(web, message="Race", alias="race"), range(12)))

    assert [a.status_code for a in answers] == [202] * 12
    alert = _only_alert(web, "race")
    assert alert["event_count"] == 12
    assert {tuple(a.json()["alert_ids"]) for a in answers} == {(alert["id"],)}
