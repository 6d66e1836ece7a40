"""The report through its surfaces: the API, the /metrics gauges and `tocsin report`.

A real alert goes through the real path: Alertmanager fires at Monday
2026-03-02 03:00 UTC, the engine pages Alice (the schedule's first week),
and Alice acknowledges three minutes later. Alice's zone is UTC, so 03:00
is inside her sleep window.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.web.conftest import CONFIG, READ_TOKEN, WRITE_TOKEN, Web, close_web, make_web
from tocsin.cli.main import app
from tocsin.clock import FakeClock

WINDOW = {"since": "2026-03-01", "until": "2026-03-03"}
OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None}


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock)
    yield made
    close_web(made)


def _fire_and_ack(web: Web, fingerprint: str, *, after: timedelta) -> int:
    alert_id = web.fire(fingerprint)
    web.clock.advance(seconds=after.total_seconds())
    response = web.call("POST", f"/api/v1/alerts/{alert_id}/ack", WRITE_TOKEN)
    assert response.status_code == 200, response.text
    return alert_id


def _report(web: Web, **params: str) -> dict[str, Any]:
    response = web.call("GET", "/api/v1/reports/metrics", READ_TOKEN, params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_the_api_reports_a_paged_and_acknowledged_alert(web: Web):
    _fire_and_ack(web, "fp-one", after=timedelta(minutes=3))

    found = _report(web, **WINDOW)

    metrics = found["oncall_metrics"]
    # The window asked for runs into the future: it is measured up to now, and says so.
    assert (found["since"], found["until"]) == ("2026-03-01T00:00:00Z", "2026-03-02T03:03:00Z")
    assert (metrics["alerts"], metrics["alerts_paged"], metrics["alerts_escalated"]) == (1, 1, 0)
    assert metrics["mtta"] == {"count": 1, "mean_seconds": 180.0, "median_seconds": 180.0,
                               "p90_seconds": 180.0}
    assert [(p["user"], p["pages"]) for p in metrics["people"]] == [
        ("alice", {"total": 1, "business_hours": 0, "off_hours": 1, "sleep_hours": 1})]
    # No incident was ever declared: nothing to measure uptime from, not 100%.
    assert found["reliability"]["services"] == [
        {"service": "payment", "uptime": None, "basis": "incidents", "note": None}]
    assert found["reliability"]["uptime"] is None
    assert found["recent_limit"] == 10


def test_a_bad_window_is_refused_naming_the_field_and_a_token_is_needed(web: Web):
    cases = [({"since": "yesterday"}, ["since"]),
             ({"since": "2026-02-20", "until": "2026-02-10"}, ["until"]),
             # Only since, after now (the clock's 2026-03-02): since is wrong, not until.
             ({"since": "2030-01-01"}, ["since"]),
             # Before the calendar leaves room for the window's look-back: no overflow.
             ({"since": "0001-01-01", "until": "0001-12-01"}, ["since", "until"]),
             ({"since": "2025-01-01", "until": "2026-03-01"}, ["since"])]  # over 366 days
    for params, paths in cases:
        response = web.call("GET", "/api/v1/reports/metrics", READ_TOKEN, params=params)
        assert response.status_code == 400, params
        assert [f["path"] for f in response.json()["error"]["fields"]] == paths
    parse = web.call("GET", "/api/v1/reports/metrics", READ_TOKEN, params={"since": "x"})
    assert "in the file's zone" in parse.json()["error"]["fields"][0]["message"]
    assert web.call("GET", "/api/v1/reports/metrics").status_code == 401


@pytest.fixture
def gauged(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Web]:
    made = make_web(tmp_path, db_url, clock, CONFIG + "metrics: {report_gauges: true}\n")
    yield made
    close_web(made)


def test_the_report_gauges_are_off_unless_the_file_turns_them_on(web: Web):
    _fire_and_ack(web, "fp-one", after=timedelta(minutes=3))

    shown = web.client.get("/metrics").text

    assert "tocsin_alerts_unrouted" in shown  # the operational metrics stay
    assert "tocsin_report_" not in shown


def test_gauges_show_the_last_30_days_and_refresh_at_most_once_a_minute(gauged: Web):
    web = gauged
    first_id, second_id = web.fire("fp-one"), web.fire("fp-two")
    web.clock.advance(minutes=3)
    assert web.call("POST", f"/api/v1/alerts/{first_id}/ack", WRITE_TOKEN).status_code == 200
    first = web.metric("tocsin_report_mtta_seconds")  # one ack after 180 s
    web.clock.advance(seconds=30)
    assert web.call("POST", f"/api/v1/alerts/{second_id}/ack", WRITE_TOKEN).status_code == 200
    # The second ack (210 s) moves the mean to 195 s, but 30 s after the last computation
    # /metrics still shows the old figure...
    cached = web.metric("tocsin_report_mtta_seconds")
    web.clock.advance(minutes=1)
    # ...and the new one once a minute has passed.
    fresh = web.metric("tocsin_report_mtta_seconds")

    assert (first, cached, fresh) == (180.0, 180.0, 195.0)
    # No incident ever declared and no component: no uptime to give (NaN), not 100%.
    assert math.isnan(web.metric("tocsin_report_uptime_ratio", service="payment"))
    assert web.metric("tocsin_report_alert_ratio", kind="escalated") == 0.0


def _cli(web: Web, db_url: str, *args: str) -> Any:
    return CliRunner().invoke(app, ["report", *args, "--config", str(web.config_path),
                                    "--db", db_url], env=OPERATOR)


def test_the_cli_prints_the_same_figures_as_json_and_as_tables(web: Web, db_url: str):
    _fire_and_ack(web, "fp-one", after=timedelta(minutes=3))
    web.clock.advance(minutes=24 * 60)  # the window is past for the API too, as for the CLI

    as_json = _cli(web, db_url, "--json", "--since", WINDOW["since"], "--until",
                   WINDOW["until"])
    tables = _cli(web, db_url, "--since", WINDOW["since"], "--until", WINDOW["until"])
    bad = _cli(web, db_url, "--since", "last week")

    assert as_json.exit_code == 0, as_json.output
    # The same document as the API's, but for the schedule: the CLI places it at the real
    # time, the API at the fake clock's.
    printed, served = json.loads(as_json.stdout), _report(web, **WINDOW)
    del printed["oncall_schedule"], served["oncall_schedule"]
    assert printed == served
    assert tables.exit_code == 0, tables.output
    for title in ("Recent incidents", "On-call schedule", "On-call metrics",
                  "Post-mortem action items", "Reliability dashboard"):
        assert title in tables.stdout
    assert "3m mean, 3m median, 3m p90 (n=1)" in tables.stdout
    assert bad.exit_code == 2
    assert "--since" in bad.stderr
