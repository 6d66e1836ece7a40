"""Heartbeat pings over HTTP: Tocsin's path and Opsgenie's, who may ping, what is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.conftest import CONFIG, READ_TOKEN, WRITE_TOKEN, Web, close_web, make_web
from tocsin.alerts.heartbeat_store import HeartbeatState
from tocsin.clock import FakeClock
from tocsin.logs import REDACTOR

BACKUP_KEY = "hb-backup-3f9a1c"
EXPORT_KEY = "hb-export-77d0e4"
HEARTBEATS = f"""
heartbeats:
  - {{name: backup, interval_minutes: 10, grace_minutes: 2, service: payment, key: {BACKUP_KEY}}}
  - {{name: nightly export, interval_minutes: 1440, key: {EXPORT_KEY}}}
  - {{name: tokens-only, interval_minutes: 5}}
"""


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG + HEARTBEATS)
    yield made
    close_web(made)


def state(web: Web, name: str) -> HeartbeatState | None:
    with web.runtime.sessions() as session:
        return session.scalars(select(HeartbeatState).where(HeartbeatState.name == name)).first()


def genie(key: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {key}"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_tocsin_path_records_the_ping_before_replying(web: Web, method: str) -> None:
    response = web.call(method, "/heartbeats/backup", BACKUP_KEY)

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "heartbeat": "backup",
                               "pinged_at": "2026-03-02T03:00:00Z", "recovered": False,
                               "alert_ids": []}
    found = state(web, "backup")
    assert found is not None
    assert (found.last_ping_at, found.pings, found.expired) == (
        datetime(2026, 3, 2, 3, 0, tzinfo=UTC), 1, False)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH"])
def test_opsgenie_path_answers_in_opsgenie_shape(web: Web, method: str) -> None:
    response = web.client.request(method, "/v2/heartbeats/backup/ping", headers=genie(BACKUP_KEY))

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["result"] == "PONG - Heartbeat received"
    assert isinstance(body["took"], float) and len(body["requestId"]) == 36
    found = state(web, "backup")
    assert found is not None and found.pings == 1


def test_a_name_with_a_space_is_pinged_url_encoded(web: Web) -> None:
    response = web.client.get("/v2/heartbeats/nightly%20export/ping", headers=genie(EXPORT_KEY))

    assert response.status_code == 202, response.text
    assert state(web, "nightly export") is not None


@pytest.mark.parametrize("header", [f"Bearer {BACKUP_KEY}", f"GenieKey {BACKUP_KEY}",
                                    f"geniekey   {BACKUP_KEY}  ", f"bearer {WRITE_TOKEN}"])
def test_the_key_or_a_write_token_in_either_scheme_pings(web: Web, header: str) -> None:
    for path in ("/heartbeats/backup", "/v2/heartbeats/backup/ping"):
        response = web.client.post(path, headers={"Authorization": header})
        assert response.status_code in (200, 202), response.text


def test_a_heartbeat_without_a_key_takes_write_tokens_only(web: Web) -> None:
    assert web.call("POST", "/heartbeats/tokens-only", WRITE_TOKEN).status_code == 200
    assert web.call("POST", "/heartbeats/tokens-only", BACKUP_KEY).status_code == 401
    assert web.call("POST", "/heartbeats/tokens-only", READ_TOKEN).status_code == 403


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "GenieKey"}, {"Authorization": f"Basic {BACKUP_KEY}"},
    {"Authorization": "GenieKey wrong-key"}, {"Authorization": f"GenieKey {EXPORT_KEY}"},
])
def test_pings_without_the_right_key_are_refused_and_not_stored(web: Web, headers) -> None:
    plain = web.client.post("/heartbeats/backup", headers=headers)
    opsgenie = web.client.get("/v2/heartbeats/backup/ping", headers=headers)

    assert plain.status_code == 401
    assert plain.json()["error"]["code"] == "unauthorized"
    assert "GenieKey <key>" in plain.json()["error"]["message"]
    assert opsgenie.status_code == 401
    assert set(opsgenie.json()) >= {"message", "took", "requestId", "error"}
    assert state(web, "backup") is None


def test_a_read_token_is_forbidden(web: Web) -> None:
    response = web.call("GET", "/heartbeats/backup", READ_TOKEN)

    assert response.status_code == 403
    assert "scope read" in response.json()["error"]["message"]


def test_an_unknown_name_is_404_naming_it_for_a_caller_with_a_credential(web: Web) -> None:
    for key in (BACKUP_KEY, WRITE_TOKEN):
        plain = web.call("POST", "/heartbeats/backpu", key)
        opsgenie = web.client.get("/v2/heartbeats/backpu/ping", headers=genie(key))

        assert plain.status_code == 404
        assert "no heartbeat named 'backpu'" in plain.json()["error"]["message"]
        assert opsgenie.status_code == 404
        assert "no heartbeat named 'backpu'" in opsgenie.json()["message"]
    assert state(web, "backpu") is None


def test_an_unknown_name_is_401_without_a_credential(web: Web) -> None:
    # So that heartbeat names cannot be discovered by probing.
    assert web.client.post("/heartbeats/backpu").status_code == 401
    assert web.call("POST", "/heartbeats/backpu", "nope").status_code == 401


def test_a_ping_after_a_miss_resolves_the_alert_and_names_it(web: Web) -> None:
    web.clock.advance(minutes=12)
    web.runtime.engine.run_due()
    found = state(web, "backup")
    assert found is not None and found.expired and found.alert_id is not None
    assert web.alert(found.alert_id)["status"] == "triggered"

    response = web.call("GET", "/heartbeats/backup", BACKUP_KEY)

    assert response.status_code == 200
    assert response.json()["recovered"] is True
    assert response.json()["alert_ids"] == [found.alert_id]
    assert web.alert(found.alert_id)["status"] == "resolved"
    after = state(web, "backup")
    assert after is not None and not after.expired


def test_heartbeat_keys_are_masked_in_logs(web: Web) -> None:
    assert BACKUP_KEY not in REDACTOR.redact(f"Authorization: GenieKey {BACKUP_KEY}")
