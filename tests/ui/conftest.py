"""UI tests: the pages in a test client, and in Debian's chromium against `tocsin serve`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.ui.alerting import ALERTS_CONFIG
from tests.web.conftest import USERS, Web, close_web, make_web
from tocsin import accounts
from tocsin.db import transaction

PASSWORD = "correct horse battery"

# The fake clock reads Monday 2026-03-02 03:00 UTC: alice holds primary's
# first week. "office" has someone only 09:00-17:00, so every night is a gap.
SCHEDULES = """
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
  - name: office
    timezone: Europe/Berlin
    rotation: daily
    start_time: "09:00"
    start_date: 2026-03-02
    participants: [bob, carol]
    restrictions:
      - {from: "09:00", to: "17:00"}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
routes:
  - {notify: critical}
"""
UI_CONFIG = USERS + SCHEDULES


def set_password(web: Web, user_id: str, password: str = PASSWORD) -> None:
    with transaction(web.runtime.sessions) as session:
        accounts.set_password(session, user_id=user_id, password=password,
                              now=web.clock.now(), actor="test", surface="cli")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: TestClient, username: str = "alice", password: str = PASSWORD) -> None:
    token = csrf_of(client.get("/ui/login").text)
    response = client.post("/ui/login", data={"username": username, "password": password,
                                              "csrf": token, "next": "/ui/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def ui(tmp_path: Path, db_url: str, clock) -> Iterator[Web]:  # type: ignore[no-untyped-def]
    made = make_web(tmp_path, db_url, clock, UI_CONFIG)
    set_password(made, "alice")
    yield made
    close_web(made)


@pytest.fixture
def alerts_ui(tmp_path: Path, db_url: str, clock) -> Iterator[Web]:  # type: ignore[no-untyped-def]
    """The UI with a routing tree for the alert pages (tests/ui/alerting.py); alice logs in."""
    made = make_web(tmp_path, db_url, clock, ALERTS_CONFIG)
    set_password(made, "alice")
    yield made
    close_web(made)
