"""`GET /api/v1/heartbeats`: each configured heartbeat with its last ping, state and alert.

The fake clock starts Monday 2026-03-02 03:00 UTC, when the engine of the
app under test begins watching. `backup` expects a ping every 10 minutes
with 2 of grace: missed 12 minutes after its last ping, or after the start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import log_in, set_password
from tests.web.conftest import CONFIG, READ_TOKEN, WRITE_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock

BACKUP_KEY = "hb-backup-list-5a1e"
HEARTBEATS = f"""
heartbeats:
  - {{name: backup, interval_minutes: 10, grace_minutes: 2, service: payment, key: {BACKUP_KEY}}}
  - {{name: nightly export, interval_minutes: 1440, severity: warning}}
"""
LIST = "/api/v1/heartbeats"


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG + HEARTBEATS)
    yield made
    close_web(made)


def listed(web: Web, token: str = READ_TOKEN) -> dict[str, dict[str, Any]]:
    response = web.call("GET", LIST, token)
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["heartbeats"]}


def ping(web: Web, name: str = "backup") -> None:
    assert web.call("POST", f"/heartbeats/{name}", BACKUP_KEY).status_code == 200


def test_each_configured_heartbeat_is_listed_waiting_for_its_first_ping(web: Web) -> None:
    response = web.call("GET", LIST, READ_TOKEN)

    assert response.status_code == 200
    assert response.json() == {"heartbeats": [
        {"name": "backup", "interval_minutes": 10, "grace_minutes": 2, "service": "payment",
         "severity": "critical", "state": "waiting", "last_ping": None, "pings": 0,
         "due": "2026-03-02T03:12:00Z", "missed_since": None, "alert_id": None,
         "watched_since": "2026-03-02T03:00:00Z"},
        {"name": "nightly export", "interval_minutes": 1440, "grace_minutes": 60,
         "service": None, "severity": "warning", "state": "waiting", "last_ping": None,
         "pings": 0, "due": "2026-03-03T04:00:00Z", "missed_since": None, "alert_id": None,
         "watched_since": "2026-03-02T03:00:00Z"},
    ]}
    assert BACKUP_KEY not in response.text


def test_a_heartbeat_goes_up_late_missed_and_up_again(web: Web) -> None:
    web.clock.advance(minutes=1)
    ping(web)
    shown = listed(web)["backup"]
    assert (shown["state"], shown["last_ping"], shown["pings"], shown["due"]) == (
        "up", "2026-03-02T03:01:00Z", 1, "2026-03-02T03:13:00Z")

    web.clock.advance(minutes=10)
    assert listed(web)["backup"]["state"] == "late"

    web.clock.advance(minutes=2)
    web.runtime.engine.run_due()
    missed = listed(web)["backup"]
    alerts = web.call("GET", "/api/v1/alerts?dedup_key=backup", READ_TOKEN).json()["alerts"]
    assert (missed["state"], missed["due"], missed["missed_since"]) == (
        "missed", None, "2026-03-02T03:13:00Z")
    assert missed["alert_id"] == alerts[0]["id"]

    ping(web)
    back = listed(web)["backup"]
    assert (back["state"], back["alert_id"], back["missed_since"]) == ("up", None, None)


def test_a_miss_resolved_by_hand_stays_missed_without_an_open_alert(web: Web) -> None:
    web.clock.advance(minutes=12)
    web.runtime.engine.run_due()
    alert_id = listed(web)["backup"]["alert_id"]
    assert web.call("POST", f"/api/v1/alerts/{alert_id}/resolve", WRITE_TOKEN).status_code == 200

    shown = listed(web)["backup"]

    assert (shown["state"], shown["alert_id"]) == ("missed", None)


def test_after_a_restart_an_overdue_heartbeat_is_in_its_start_up_grace(
        tmp_path: Path, db_url: str, clock: FakeClock) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    first = make_web(tmp_path / "one", db_url, clock, CONFIG + HEARTBEATS)
    ping(first)
    close_web(first)
    clock.advance(minutes=30)  # Tocsin was down: its pings were not seen

    second = make_web(tmp_path / "two", db_url, clock, CONFIG + HEARTBEATS)
    try:
        shown = listed(second)["backup"]
        assert (shown["state"], shown["last_ping"], shown["due"], shown["watched_since"]) == (
            "startup_grace", "2026-03-02T03:00:00Z", "2026-03-02T03:42:00Z",
            "2026-03-02T03:30:00Z")
    finally:
        close_web(second)


def test_a_heartbeat_added_by_a_reload_is_listed_from_then(web: Web) -> None:
    web.clock.advance(minutes=5)
    web.rewrite_config(CONFIG + HEARTBEATS + "  - {name: queue, interval_minutes: 5}\n")
    web.runtime.config.reload()

    shown = listed(web)["queue"]

    assert (shown["state"], shown["watched_since"], shown["due"]) == (
        "waiting", "2026-03-02T03:05:00Z", "2026-03-02T03:15:00Z")


def test_a_token_or_a_ui_session_is_needed(web: Web) -> None:
    assert web.call("GET", LIST).status_code == 401
    assert web.call("GET", LIST, "not-a-token").status_code == 401
    assert web.call("GET", LIST, BACKUP_KEY).status_code == 401  # a ping key reads nothing
    set_password(web, "alice")
    log_in(web.client)
    assert web.client.get(LIST).status_code == 200
