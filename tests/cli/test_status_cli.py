"""`tocsin status`: engine lag, queued and failing deliveries, pages that reached nobody."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli.test_alert_incident import CONFIG, OPERATOR
from tests.support.harness import Harness
from tests.support.webhook_receiver import WebhookReceiver
from tocsin.cli.main import app
from tocsin.clock import FakeClock


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, CONFIG)
    yield made
    made.close()


def status(harness: Harness, db_url: str, *, later: timedelta = timedelta(0),
           as_json: bool = True) -> tuple[int, Any]:
    at = (harness.clock.now() + later).strftime("%Y-%m-%dT%H:%M:%SZ")
    args = ["status", "--at", at, "--config", str(harness.config_path), "--db", db_url]
    result = CliRunner().invoke(app, args + (["--json"] if as_json else []), env=OPERATOR)
    return result.exit_code, json.loads(result.stdout) if as_json else result.stdout


def test_a_healthy_engine_reports_no_lag_and_exits_0(harness, db_url):
    harness.fire("disk-full")

    code, body = status(harness, db_url)

    assert code == 0
    assert body["lagging"] is False
    assert body["engine_lag_seconds"] == 0
    assert body["queued_deliveries"] == {}
    assert body["last_heartbeat"] is None


def test_a_lagging_engine_shows_its_oldest_due_timer_and_exits_1(harness, db_url):
    harness.fire("disk-full")  # the next step is due in five minutes

    code, body = status(harness, db_url, later=timedelta(minutes=7))

    assert code == 1
    assert body["lagging"] is True
    assert body["engine_lag_seconds"] == 120
    due = harness.clock.now() + timedelta(minutes=5)
    assert body["oldest_due_timer"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_queued_retries_are_counted_by_channel(harness, db_url):
    harness.channels["webhook"].fail_next(1, retryable=True)

    harness.fire("disk-full")
    code, body = status(harness, db_url)

    assert code == 0
    assert body["queued_deliveries"] == {"webhook": 1}


def test_failing_channels_and_pages_to_nobody_are_listed(harness, db_url):
    for channel in harness.channels.values():
        channel.fail_next(1, retryable=False)

    alert_id = harness.fire("disk-full")
    _code, now = status(harness, db_url)
    _code, later = status(harness, db_url, later=timedelta(hours=2))
    _code, text = status(harness, db_url, as_json=False)

    assert now["failed_deliveries_last_hour"]["webhook"] == 1
    assert later["failed_deliveries_last_hour"] == {}
    assert [(f["alert_id"], f["paged_nobody"]) for f in later["fallbacks_last_24h"]] == [
        (alert_id, True)]
    assert "no channel could deliver" in text


def test_the_last_self_heartbeat_is_shown(tmp_path, db_url, clock):
    with WebhookReceiver(secret="unused") as monitor:
        harness = Harness(tmp_path, db_url, clock, CONFIG + f"""
self_monitoring: {{heartbeat_url: "{monitor.url('/ping/abc')}"}}
""")
        try:
            harness.runtime.engine.run_due()
            assert harness.runtime.engine.selfwatch.run_due()
            _code, body = status(harness, db_url)
        finally:
            harness.close()

    assert body["last_heartbeat"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
