"""`tocsin user test-page USER pagerduty` forwards a trigger and never prints the routing key."""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from tests.support.events_receiver import EventsReceiver
from tocsin.cli.main import app

KEY = "R0UT1NGKEY0000000000000000000042"

CONFIG = """\
users:
  - {{id: downstream, name: Downstream, contacts: {{pagerduty: {key}}}}}
escalation_policies:
  - name: critical
    steps: [{{targets: [downstream], timeout_minutes: 0}}]
routes:
  - notify: critical
notifications:
  pagerduty: {{url: "{url}", timeout_seconds: 2}}
"""


def test_a_test_page_arrives_as_a_trigger_and_the_key_stays_hidden(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    with EventsReceiver() as far_side:
        path.write_text(textwrap.dedent(CONFIG.format(key=KEY, url=far_side.url)),
                        encoding="utf-8")
        result = CliRunner().invoke(
            app, ["user", "test-page", "downstream", "pagerduty", "--config", str(path)])

    assert result.exit_code == 0, result.output
    assert "test page delivered to Downstream via pagerduty (routing key)" in result.stdout
    assert KEY not in result.output
    assert [(e["event_action"], e["routing_key"]) for e in far_side.events] == [("trigger", KEY)]


def test_a_refused_test_page_exits_1_with_the_far_sides_message(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    with EventsReceiver() as far_side:
        far_side.answer_next(400, {"status": "invalid event", "message": "Event object is invalid",
                                   "errors": [f"unknown routing key {KEY}"]})
        path.write_text(textwrap.dedent(CONFIG.format(key=KEY, url=far_side.url)),
                        encoding="utf-8")
        result = CliRunner().invoke(
            app, ["user", "test-page", "downstream", "pagerduty", "--config", str(path)])

    assert result.exit_code == 1
    assert "Event object is invalid; unknown routing key <routing key>" in result.output
    assert KEY not in result.output
