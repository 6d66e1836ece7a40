"""`tocsin alert list` marks a flapping alert, in its table and in --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.test_alert_incident import CONFIG, OPERATOR, tocsin
from tests.support.harness import Harness
from tocsin.cli.main import app
from tocsin.clock import FakeClock


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, CONFIG)
    yield made
    made.close()


def test_alert_list_marks_the_flapping_alert(harness: Harness, db_url: str):
    steady = harness.fire("api-500s")
    flapping = harness.fire("disk-full")
    for _ in range(3):
        harness.advance(1)
        harness.fire("disk-full", action="resolve")
        harness.advance(1)
        flapping = harness.fire("disk-full")

    wide = {**OPERATOR, "COLUMNS": "200"}  # one line per alert
    table = CliRunner().invoke(app, ["alert", "list", "--db", db_url], env=wide)
    listed = json.loads(tocsin("alert", "list", "--json", "--db", db_url).stdout)["alerts"]

    assert table.exit_code == 0, table.output
    assert "triggered, flapping" in table.stdout
    assert table.stdout.count("flapping") == 1
    assert {a["id"]: a["flapping"] for a in listed if a["status"] == "triggered"} == {
        flapping: True, steady: False}
