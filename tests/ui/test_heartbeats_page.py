"""The heartbeats page: each heartbeat's state, last ping and the alert of a missed one.

The fake clock starts Monday 2026-03-02 03:00 UTC, when the app's engine
begins watching; carol reads in Asia/Bangkok (UTC+7).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import log_in, set_password
from tests.web.conftest import CONFIG, WRITE_TOKEN, Web, close_web, make_web
from tocsin.clock import FakeClock

HEARTBEATS = """
heartbeats:
  - {name: backup, interval_minutes: 10, grace_minutes: 2, service: payment}
  - {name: queue worker, interval_minutes: 5, grace_minutes: 10}
  - {name: nightly export, interval_minutes: 1440}
"""


@pytest.fixture
def ui(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    config = CONFIG.replace("{id: carol, name: Carol,", "{id: carol, name: Carol, "
                                                        "timezone: Asia/Bangkok,")
    made = make_web(tmp_path, db_url, clock, config + HEARTBEATS)
    set_password(made, "carol")
    yield made
    close_web(made)


def row_of(page: str, name: str) -> str:
    return " ".join(page.split(f'<tr data-heartbeat="{name}"')[1].split("</tr>")[0].split())


def test_the_page_needs_a_login(ui: Web):
    response = ui.client.get("/ui/heartbeats", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/heartbeats"


def test_a_missed_heartbeat_is_shown_with_its_alert_beside_the_others(ui: Web):
    ui.clock.advance(minutes=4)
    ui.call("POST", "/heartbeats/queue worker", WRITE_TOKEN)
    ui.clock.advance(minutes=8)  # 03:12: backup is missed; queue worker pinged 8 min ago
    ui.runtime.engine.run_due()
    [alert] = ui.call("GET", "/api/v1/alerts?dedup_key=backup", WRITE_TOKEN).json()["alerts"]
    log_in(ui.client, "carol")

    page = ui.client.get("/ui/heartbeats").text

    assert "1 heartbeat missed." in page
    backup = row_of(page, "backup")
    assert "missed" in backup and "never" in backup
    assert f'<a href="/ui/alerts/{alert["id"]}">#{alert["id"]}</a>' in backup
    assert "missed since Mon 02 Mar 2026 10:12" in backup
    worker = row_of(page, "queue worker")
    assert "late" in worker and "Mon 02 Mar 2026 10:04" in worker and "(8 min ago)" in worker
    export = row_of(page, "nightly export")
    assert "waiting for the first ping" in export and "Tue 03 Mar 2026 11:00" in export
    assert "Last ping (Asia/Bangkok)" in page


def test_a_miss_resolved_by_hand_has_no_alert_link(ui: Web):
    ui.clock.advance(minutes=12)
    ui.runtime.engine.run_due()
    [alert] = ui.call("GET", "/api/v1/alerts?dedup_key=backup", WRITE_TOKEN).json()["alerts"]
    ui.call("POST", f"/api/v1/alerts/{alert['id']}/resolve", WRITE_TOKEN)
    log_in(ui.client, "carol")

    backup = row_of(ui.client.get("/ui/heartbeats").text, "backup")

    assert "resolved by hand" in backup and "/ui/alerts/" not in backup
