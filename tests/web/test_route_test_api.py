"""`POST /api/v1/routes/test`: the API's answer to "where would this alert go?"."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import AM_KEY, READ_TOKEN, USERS, Web, close_web, make_web
from tocsin.clock import FakeClock

BEARER = {"Authorization": f"Bearer {READ_TOKEN}"}


def test_a_read_token_gets_the_route_and_its_explanation(web: Web) -> None:
    response = web.client.post("/api/v1/routes/test", headers=BEARER,
                               json={"labels": {"severity": "critical", "service": "payment"}})

    assert response.status_code == 200
    decision = response.json()
    assert decision["via"] == "route"
    assert decision["route"] == "routes[0]"
    assert decision["policy"] == "critical"
    assert decision["urgency"] == "high"
    assert decision["also"] == []
    assert decision["explanation"] == [
        f"routes[0] (line {decision['line']}): yes, catch-all route",
        f"routes[0] (line {decision['line']}): takes the alert, notify critical",
    ]


def test_without_a_token_it_is_refused(web: Web) -> None:
    response = web.client.post("/api/v1/routes/test", json={"labels": {}})

    assert response.status_code == 401


def test_an_integration_key_is_not_an_api_token(web: Web) -> None:
    response = web.client.post("/api/v1/routes/test", json={"labels": {}},
                               headers={"Authorization": f"Bearer {AM_KEY}"})

    assert response.status_code == 401


def test_a_bad_time_names_the_field(web: Web) -> None:
    response = web.client.post("/api/v1/routes/test", headers=BEARER,
                               json={"labels": {}, "at": "next tuesday"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"] == "at"


def test_labels_must_be_strings(web: Web) -> None:
    response = web.client.post("/api/v1/routes/test", headers=BEARER,
                               json={"labels": {"severity": ["critical"]}})

    assert response.status_code == 400
    assert "labels" in response.json()["error"]["fields"][0]["path"]


CONTINUING = USERS + """
escalation_policies:
  - name: critical
    steps: [{targets: [alice], timeout_minutes: 5}]
  - name: leadership
    steps: [{targets: [carol], timeout_minutes: 5}]
routes:
  - {match: {service: payment}, notify: critical, continue: true}
  - {match: {severity: critical}, notify: leadership}
"""


def test_routes_that_continue_are_in_the_answer_and_on_the_alert(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    web = make_web(tmp_path, db_url, clock, CONTINUING)
    try:
        decision = web.client.post(
            "/api/v1/routes/test", headers=BEARER,
            json={"labels": {"severity": "critical", "service": "payment"}}).json()
        alert = web.alert(web.fire())
    finally:
        close_web(web)

    assert decision["policy"] == "critical"
    assert [(also["route"], also["policy"]) for also in decision["also"]] == [
        ("routes[1]", "leadership")]
    assert alert["policy"] == "critical"
    assert [(also["policy"], also["step"]) for also in alert["also"]] == [("leadership", 1)]
    assert sorted(page.user_id for page in web.pages()) == ["alice", "carol"]
