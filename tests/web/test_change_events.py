"""PagerDuty change events: stored on the integration's service, listed, never paged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import CONFIG, READ_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock

PD_KEY = "pd-change-key-0c4e9a"
CHANGES = CONFIG.replace("integrations:\n", f"""integrations:
  - {{name: deploys, type: pagerduty, key: {PD_KEY}, service: payment}}
  - {{name: other, type: pagerduty, key: {PD_KEY}-b}}
""", 1)


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CHANGES)
    yield made
    close_web(made)


def change(key: str = PD_KEY, **payload: Any) -> dict[str, Any]:
    return {"routing_key": key,
            "payload": {"summary": "Deployed checkout v2.14.0", "source": "deploy-bot",
                        "timestamp": "2026-03-02T02:40:00.000+0000",
                        "custom_details": {"commit": "4f2a9c1"}, **payload},
            "links": [{"href": "https://ci.example.net/deploys/77", "text": "Deploy 77"}]}


def listed(web: Web, **params: Any) -> list[dict[str, Any]]:
    response = web.call("GET", "/api/v1/changes", READ_TOKEN, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["changes"]
    return found


def test_a_change_event_is_stored_on_its_service_and_pages_nobody(web: Web) -> None:
    response = web.client.post("/v2/change/enqueue", json=change())

    assert response.status_code == 202, response.text
    reply = response.json()
    assert (reply["status"], reply["message"]) == ("success", "Change event processed")
    web.runtime.engine.run_due()
    assert web.pages() == []
    assert web.call("GET", "/api/v1/alerts", READ_TOKEN).json()["alerts"] == []

    [stored] = listed(web)
    assert stored["id"] == int(reply["id"])
    assert (stored["summary"], stored["source"]) == ("Deployed checkout v2.14.0", "deploy-bot")
    assert (stored["service"], stored["integration"]) == ("payment", "deploys")
    assert stored["happened_at"] == "2026-03-02T02:40:00Z"
    assert stored["received_at"] == "2026-03-02T03:00:00Z"
    assert stored["details"] == {"commit": "4f2a9c1"}
    assert stored["links"] == [{"href": "https://ci.example.net/deploys/77", "text": "Deploy 77"}]


def test_changes_are_listed_newest_first_and_filtered(web: Web) -> None:
    web.client.post("/v2/change/enqueue", json=change(summary="first"))
    web.client.post("/v2/change/enqueue", json=change(f"{PD_KEY}-b", summary="elsewhere",
                                                      timestamp=None))
    web.client.post("/v2/change/enqueue", json=change(summary="second",
                                                      timestamp="2026-03-02T02:55:00Z"))

    assert [c["summary"] for c in listed(web)] == ["second", "elsewhere", "first"]
    assert [c["summary"] for c in listed(web, service="payment")] == ["second", "first"]
    assert [c["summary"] for c in listed(web, integration="other")] == ["elsewhere"]
    assert [c["summary"] for c in listed(web, since="2026-03-02T02:50:00Z")] == [
        "second", "elsewhere"], "a change with no timestamp happened when it arrived"
    assert [c["summary"] for c in listed(web, limit=1)] == ["second"]


def test_listing_changes_needs_a_token(web: Web) -> None:
    assert web.call("GET", "/api/v1/changes").status_code == 401
    assert web.call("GET", "/api/v1/changes", "wrong-token").status_code == 401
    assert web.call("GET", "/api/v1/changes", READ_TOKEN,
                    params={"since": "whenever"}).status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    (change("R0000000000000000unknown"), "routing_key"),
    (change(summary=None), "payload.summary"),
    (change(timestamp="after lunch"), "payload.timestamp"),
    ({**change(), "links": "https://ci.example.net"}, "links"),
])
def test_bad_change_events_get_pagerdutys_400(web: Web, body: Any, field: str) -> None:
    response = web.client.post("/v2/change/enqueue", json=body)

    assert response.status_code == 400, response.text
    reply = response.json()
    assert reply["status"] == "invalid event"
    assert any(message.startswith(field) for message in reply["errors"]), reply
    assert listed(web) == []
