"""`tocsin action-item list|add|update|push` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.support.action_items import declare, make_harnesses
from tests.support.harness import Harness
from tocsin.audit import AuditEntry
from tocsin.cli.main import app
from tocsin.clock import FakeClock

OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None}
TRACKERS = """
trackers:
  github: {repo: acme/platform, token: "${GH_TOKEN:-ghp-cli-test}", base_url: "http://127.0.0.1:9"}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    for build in make_harnesses(tmp_path, db_url, clock, TRACKERS):
        yield build()


def _cli(harness: Harness, db_url: str, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--config", str(harness.config_path),
                                    "--db", db_url], env=OPERATOR)


def test_add_update_list_and_push_from_the_cli(harness: Harness, db_url: str) -> None:
    key = declare(harness)
    added = _cli(harness, db_url, "action-item", "add", key, "Alert on disk usage",
                 "--owner", "bob@example.com", "--due", "2099-03-10", "--priority", "P0")
    assert added.exit_code == 0, added.stderr
    assert added.stdout == ("#1 INC-1 P0 planned: Alert on disk usage "
                            "(owner bob, due 2099-03-10)\n")

    updated = _cli(harness, db_url, "action-item", "update", "1", "--status", "in_progress",
                   "--due", "none", "--json")
    assert updated.exit_code == 0, updated.stderr
    shown = json.loads(updated.stdout)
    assert (shown["status"], shown["due_date"]) == ("in_progress", None)

    pushed = _cli(harness, db_url, "action-item", "push", "1", "--tracker", "github")
    assert pushed.exit_code == 0, pushed.stderr
    assert pushed.stdout.endswith("[github pending]\n")

    listed = json.loads(_cli(harness, db_url, "action-item", "list", "--team", "payments",
                             "--json").stdout)
    assert [(i["id"], i["owner"], i["tracker"]["name"]) for i in listed["action_items"]] == [
        (1, "bob", "github")]
    with harness.runtime.sessions() as session:
        actors = {a.actor for a in session.scalars(select(AuditEntry))
                  if a.object_type == "action_item"}
    assert actors == {"cli:zoe"}


def test_bad_input_names_the_field_and_exits_non_zero(harness: Harness, db_url: str) -> None:
    key = declare(harness)
    unknown = _cli(harness, db_url, "action-item", "add", key, "x", "--owner", "mallory")
    assert unknown.exit_code == 1
    assert "owner: 'mallory' is not a user in the config" in unknown.stderr
    bad_date = _cli(harness, db_url, "action-item", "add", key, "x", "--owner", "bob",
                    "--due", "next week")
    assert bad_date.exit_code == 2 and "--due" in bad_date.stderr
    no_tracker = _cli(harness, db_url, "action-item", "push", "1", "--tracker", "jira")
    assert no_tracker.exit_code == 1
    all_bad = _cli(harness, db_url, "action-item", "add", key, "two\nlines", "--owner",
                   "mallory", "--due", "1999-12-31", "--priority", "P9")
    assert all_bad.exit_code == 1
    for named in ("title: must be one line", "owner: 'mallory'",
                  "due_date: 1999-12-31 is out of range", "priority: use one of"):
        assert named in all_bad.stderr
