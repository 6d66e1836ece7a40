"""Alert groups as people see them: the API, the alert list and page, and `tocsin alert list`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.ui.conftest import csrf_of, log_in, set_password
from tests.web.conftest import AM_KEY, READ_TOKEN, USERS, WRITE_TOKEN, Web, close_web, make_web
from tocsin.cli.main import app
from tocsin.clock import FakeClock

GROUPING = USERS + """
schedules:
  - {name: primary, rotation: weekly, start_date: 2026-03-02, participants: [alice, bob]}
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [bob], timeout_minutes: 5}
routes:
  - match: {alertname: Loner}
    notify: critical
  - notify: critical
    group_by: [alertname]
"""


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, GROUPING)
    set_password(made, "alice")
    yield made
    close_web(made)


def storm(web: Web, *fingerprints: str, alertname: str = "DiskFull") -> list[int]:
    """One Alertmanager webhook with a firing alert per fingerprint; their ids in that order."""
    alerts = [{"status": "firing", "fingerprint": fp, "startsAt": "2026-03-02T02:59:00Z",
               "endsAt": "0001-01-01T00:00:00Z",
               "labels": {"alertname": alertname, "instance": fp},
               "annotations": {"summary": f"{alertname} on {fp}"}} for fp in fingerprints]
    response = web.client.post(f"/integrations/{AM_KEY}/alertmanager",
                               json={"version": "4", "status": "firing", "alerts": alerts})
    assert response.status_code == 200, response.text
    web.runtime.engine.run_due()
    by_key = {item["dedup_key"]: item["id"] for item in response.json()["alerts"]}
    return [by_key[fp] for fp in fingerprints]


def test_the_api_shows_each_members_group_and_a_lone_alerts_none(web: Web) -> None:
    first, second, third = storm(web, "db-1", "db-2", "db-3")
    (loner,) = storm(web, "solo", alertname="Loner")

    group = web.alert(second)["group"]

    assert {name: group[name] for name in ("id", "key", "alerts", "firing", "status")} == {
        "id": 1, "key": {"alertname": "DiskFull"}, "alerts": 3, "firing": 3,
        "status": "triggered"}
    assert group["lead_alert_id"] == first
    assert web.alert(loner)["group"] is None
    assert [page.user_id for page in web.pages()] == ["alice", "alice"]  # the group, the loner
    listed = web.call("GET", "/api/v1/alerts", READ_TOKEN).json()["alerts"]
    assert {a["id"]: a["group_id"] for a in listed} == {
        first: 1, second: 1, third: 1, loner: None}


def test_acknowledging_a_member_through_the_api_acknowledges_the_group(web: Web) -> None:
    ids = storm(web, "db-1", "db-2", "db-3")

    response = web.call("POST", f"/api/v1/alerts/{ids[2]}/ack", WRITE_TOKEN)

    assert response.status_code == 200
    assert [web.alert(a)["status"] for a in ids] == ["acknowledged"] * 3
    assert web.alert(ids[0])["group"]["status"] == "acknowledged"
    # One audit row per alert acknowledged, the lead and the others alike.
    acks = [(e.object_id, e.actor, e.surface) for e in web.audit()
            if e.action == "alert.acknowledge"]
    assert sorted(acks) == [(str(a), "bob", "api") for a in ids]


def test_the_list_shows_the_group_size_on_grouped_rows(web: Web) -> None:
    first, second, _ = storm(web, "db-1", "db-2", "db-3")
    (loner,) = storm(web, "solo", alertname="Loner")
    resolved = {"status": "resolved", "fingerprint": "db-1", "startsAt": "2026-03-02T02:59:00Z",
                "endsAt": "2026-03-02T03:00:00Z", "labels": {"alertname": "DiskFull"},
                "annotations": {}}
    web.client.post(f"/integrations/{AM_KEY}/alertmanager",
                    json={"version": "4", "status": "resolved", "alerts": [resolved]})
    log_in(web.client)

    page = web.client.get("/ui/alerts?status=all").text

    rows = {int(m[1]): m[2] for m in re.finditer(r'<tr data-alert="(\d+)">(.*?)</tr>', page,
                                                  re.S)}
    for alert_id in (first, second):
        assert "group of 3 (2 firing)" in " ".join(rows[alert_id].split())
    assert "group of" not in rows[loner]


def test_the_alert_page_lists_the_groups_members(web: Web) -> None:
    first, second, third = storm(web, "db-1", "db-2", "db-3")
    log_in(web.client)

    page = web.client.get(f"/ui/alerts/{second}").text
    group = " ".join(page.split('id="group-heading"')[1].split("</section>")[0].split())

    assert group.startswith(">Group 1: 3 alerts, 3 firing</h2>")
    assert f"alert #{first} pages for it" in group
    assert f'<a href="/ui/alerts/{first}">DiskFull on db-1</a>' in group
    assert f'<a href="/ui/alerts/{third}">DiskFull on db-3</a>' in group
    assert "DiskFull on db-2 (this alert)" in group
    assert "<script" not in page.split("</head>")[1]  # the CSP allows no inline script


def test_resolving_a_member_in_the_ui_resolves_the_whole_group(web: Web) -> None:
    ids = storm(web, "db-1", "db-2")
    log_in(web.client)
    csrf = csrf_of(web.client.get(f"/ui/alerts/{ids[1]}").text)

    response = web.client.post(f"/ui/alerts/{ids[1]}/resolve", data={"csrf": csrf},
                               follow_redirects=False)

    assert response.status_code == 303
    assert [(web.alert(a)["status"], web.alert(a)["resolved_by"]) for a in ids] == [
        ("resolved", "alice"), ("resolved", "alice")]
    assert web.alert(ids[0])["group"]["status"] == "resolved"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "TOCSIN_CONFIG": None,
                                                    "TOCSIN_DATABASE_URL": None})


def test_the_cli_lists_the_group_size(web: Web, db_url: str) -> None:
    ids = storm(web, "db-1", "db-2", "db-3")
    (loner,) = storm(web, "solo", alertname="Loner")

    table = cli("alert", "list", "--db", db_url)
    listed = json.loads(cli("alert", "list", "--json", "--db", db_url).stdout)["alerts"]

    assert table.exit_code == 0, table.output
    assert table.stdout.count("#1: 3 (3 firing)") == 3
    assert {a["id"]: (a["group"] or {}).get("alerts") for a in listed} == {
        ids[0]: 3, ids[1]: 3, ids[2]: 3, loner: None}


def test_route_test_says_how_an_alert_would_be_grouped(web: Web) -> None:
    text = cli("route", "test", "alertname=DiskFull", "--config", str(web.config_path))
    as_json = cli("route", "test", "alertname=DiskFull", "--json", "--config",
                  str(web.config_path))
    alone = cli("route", "test", "alertname=Loner", "--json", "--config", str(web.config_path))

    assert text.exit_code == 0, text.output
    assert "=> grouped by alertname=DiskFull: an open group with these values pages once" in (
        text.stdout)
    assert json.loads(as_json.stdout)["group_by"] == {"alertname": "DiskFull"}
    assert json.loads(alone.stdout)["group_by"] == {}
