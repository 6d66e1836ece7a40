"""`tocsin postmortem draft|show|export|state|list` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.harness import Harness
from tests.support.incident_setup import runner, start
from tocsin.cli.main import app
from tocsin.clock import FakeClock
from tocsin.incidents import service as incidents
from tocsin.postmortems import service

OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None}


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _cli(harness: Harness, db_url: str, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--config", str(harness.config_path),
                                    "--db", db_url], env=OPERATOR)


def test_draft_show_move_list_and_export_from_the_cli(harness: Harness, db_url: str,
                                                      tmp_path: Path) -> None:
    runner(harness)(lambda s: incidents.declare(
        s, config=harness.config, title="Search slow", severity="SEV3", services=("search",),
        actor="bob", surface="api", now=harness.clock.now()))
    drafted = _cli(harness, db_url, "postmortem", "draft", "INC-1", "--json")
    assert drafted.exit_code == 0, drafted.stderr
    assert (json.loads(drafted.stdout)["status"], json.loads(drafted.stdout)["created_by"]) == (
        "draft", "cli:zoe")
    runner(harness)(lambda s: service.update(
        s, config=harness.config, key="INC-1", actor="bob", surface="api",
        now=harness.clock.now(), fields={"root_cause": "Someone should have added an index."}))

    shown = _cli(harness, db_url, "postmortem", "show", "inc-1")
    assert shown.stdout.splitlines()[0] == "INC-1 post-mortem (draft): Search slow"
    assert ('Suggestion (root_cause): Someone should have added an index.: "should have" '
            "judges with hindsight;") in shown.stdout
    early = _cli(harness, db_url, "postmortem", "state", "INC-1", "published")
    assert (early.exit_code, early.stderr.strip()) == (1, (
        "tocsin: a draft is reviewed before it is published: move it to in_review first"))
    for status in ("in_review", "published"):
        moved = _cli(harness, db_url, "postmortem", "state", "INC-1", status, "--as", "alice")
        assert moved.stdout == f"INC-1: post-mortem is {status}\n"
    listed = json.loads(_cli(harness, db_url, "postmortem", "list", "-q", "INDEX",
                             "--json").stdout)
    assert [(p["incident"], p["status"]) for p in listed["postmortems"]] == [
        ("INC-1", "published")]
    target = tmp_path / "out.md"
    written = _cli(harness, db_url, "postmortem", "export", "INC-1", "--output", str(target))
    assert written.stdout == f"INC-1: post-mortem written to {target}\n"
    assert "Someone should have added an index." in target.read_text(encoding="utf-8")
    missing = _cli(harness, db_url, "postmortem", "show", "INC-7")
    assert (missing.exit_code, missing.stderr.strip()) == (
        1, "tocsin: incident INC-7 does not exist")


def test_export_to_a_missing_folder_and_an_unknown_state_are_said_once_and_clearly(
        harness: Harness, db_url: str, tmp_path: Path) -> None:
    runner(harness)(lambda s: incidents.declare(
        s, config=harness.config, title="Search slow", severity="SEV3", services=("search",),
        actor="bob", surface="api", now=harness.clock.now()))
    assert _cli(harness, db_url, "postmortem", "draft", "INC-1").exit_code == 0
    target = tmp_path / "no-such-folder" / "x.md"
    exported = _cli(harness, db_url, "postmortem", "export", "INC-1", "--output", str(target))
    assert exported.exit_code == 1
    assert exported.stderr.startswith(f"tocsin: cannot write the post-mortem to {target}: ")
    assert "Traceback" not in exported.stderr + exported.stdout

    moved = _cli(harness, db_url, "postmortem", "state", "INC-1", "reviewed")
    assert (moved.exit_code, moved.stderr) == (1, "tocsin: unknown status 'reviewed'; use one "
                                                  "of draft, in_review, published\n")
