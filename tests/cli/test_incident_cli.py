"""`tocsin incident create|list|show|update|resolve|note|role` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.harness import Harness
from tests.support.incident_setup import start
from tocsin.cli.main import app
from tocsin.clock import FakeClock

OPERATOR = {"LOGNAME": "zoe", "USER": "zoe", "TOCSIN_CONFIG": None,
            "TOCSIN_DATABASE_URL": None}


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _cli(harness: Harness, db_url: str, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--config", str(harness.config_path),
                                    "--db", db_url], env=OPERATOR)


def test_run_an_incident_from_the_cli(harness: Harness, db_url: str) -> None:
    made = _cli(harness, db_url, "incident", "create", "Checkout failing", "--severity",
                "sev2", "--service", "payment", "--as", "bob")
    assert made.exit_code == 0, made.stderr
    assert made.stdout == ("INC-1 declared: [SEV2] Checkout failing (commander bob, "
                           "target MTTR 60 min)\n")
    # The CLI stamps its own wall-clock time: the server's engine runs when that is due.
    harness.clock.set(datetime.now(UTC) + timedelta(seconds=1))
    harness.runtime.engine.run_due()
    assert [user for _, user, _ in harness.paged()] == ["alice"]

    role = _cli(harness, db_url, "incident", "role", "INC-1", "scribe", "carol")
    assert role.stdout.startswith("INC-1: carol is Scribe: Keeps the timeline")
    note = _cli(harness, db_url, "incident", "note", "inc-1", "LB shows 502s", "--at",
                "2026-03-02T02:55:00Z", "--json")
    assert json.loads(note.stdout)["occurred_at"] == "2026-03-02T02:55:00Z"
    update = _cli(harness, db_url, "incident", "update", "INC-1", "--status", "identified",
                  "--mitigated", "--users-affected", "40", "--message", "Rolled back", "--json")
    assert update.exit_code == 0, update.stderr
    shown = json.loads(update.stdout)
    assert (shown["status"], shown["users_affected"]) == ("identified", 40)
    assert shown["mitigated_at"] is not None
    resolved = _cli(harness, db_url, "incident", "resolve", "INC-1", "--note", "fixed")
    assert resolved.stdout == "INC-1: resolved after 0 min\n"
    detail = json.loads(_cli(harness, db_url, "incident", "show", "INC-1", "--json").stdout)
    assert [(e["kind"], e["actor"]) for e in detail["timeline"]] == [
        ("note", "cli:zoe"), ("declared", "bob"), ("role", "bob"), ("paged", "bob"),
        ("role", "cli:zoe"), ("impact", "cli:zoe"), ("mitigated", "cli:zoe"),
        ("status", "cli:zoe"), ("update", "cli:zoe"), ("status", "cli:zoe"),
        ("pages_resolved", "cli:zoe")]  # the resolve closed the incident's open page
    listed = json.loads(_cli(harness, db_url, "incident", "list", "--json",
                             "--status", "open").stdout)
    assert listed == {"incidents": []}


def test_as_names_a_config_user_or_stays_only_the_actor(harness: Harness, db_url: str) -> None:
    by_name = _cli(harness, db_url, "incident", "create", "Checkout failing", "--severity",
                   "sev2", "--as", "Bob", "--json")
    assert by_name.exit_code == 0, by_name.stderr
    made = json.loads(by_name.stdout)
    assert (made["declared_by"], made["commander"]) == ("bob", "bob")
    ghost = _cli(harness, db_url, "incident", "create", "Search slow", "--severity", "sev2",
                 "--as", "ghost")
    assert ghost.exit_code == 0, ghost.stderr
    assert ghost.stdout == ("INC-2 declared: [SEV2] Search slow (commander none yet, "
                            "target MTTR 60 min)\n")
    detail = json.loads(_cli(harness, db_url, "incident", "show", "INC-2", "--json").stdout)
    assert (detail["declared_by"], detail["commander"]) == ("ghost", None)
    assert [(e["kind"], e["actor"], e["text"]) for e in detail["timeline"]][1] == (
        "role", "ghost", "no commander: assign one with `/incident role commander @person`, "
        "`tocsin incident role KEY Commander USER` or the incident's page")


def test_show_prints_text_to_read_unless_json_is_asked(harness: Harness, db_url: str) -> None:
    _cli(harness, db_url, "incident", "create", "Checkout \x1b[2Jfailing", "--severity", "SEV2",
         "--service", "payment", "--as", "bob")
    _cli(harness, db_url, "incident", "note", "INC-1", "LB shows 502s", "--at",
         "2026-03-02T02:55:00Z")
    shown = _cli(harness, db_url, "incident", "show", "inc-1")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    # A title is one line: the service folds control characters to spaces.
    assert lines[0] == "INC-1 [SEV2] investigating: Checkout [2Jfailing"
    assert "Roles: Commander bob" in lines
    assert "Services: payment" in lines
    assert lines[lines.index("Timeline:") + 1] == (
        "  2026-03-02T02:55:00Z  note         cli:zoe: LB shows 502s")
    assert json.loads(_cli(harness, db_url, "incident", "show", "INC-1", "--json").stdout)[
        "title"] == "Checkout [2Jfailing"
    missing = _cli(harness, db_url, "incident", "show", "INC-9")
    assert missing.exit_code == 1 and missing.stdout == ""


def test_cli_mistakes_exit_with_the_field_and_fix(harness: Harness, db_url: str) -> None:
    _cli(harness, db_url, "incident", "create", "Checkout failing", "--severity", "SEV2")
    unknown_role = _cli(harness, db_url, "incident", "role", "INC-1", "chef", "carol")
    assert unknown_role.exit_code == 1
    assert "role: use one of Commander, Communicator, Investigator, Scribe" in (
        unknown_role.stderr)
    huge = _cli(harness, db_url, "incident", "update", "INC-1", "--users-affected",
                str(2**40))
    assert huge.exit_code == 1 and "users_affected: give a whole number" in huge.stderr
    nothing = _cli(harness, db_url, "incident", "update", "INC-1")
    assert nothing.exit_code == 2
    bad_time = _cli(harness, db_url, "incident", "note", "INC-1", "x", "--at", "yesterday")
    assert bad_time.exit_code == 2 and "--at" in bad_time.stderr
    missing = _cli(harness, db_url, "incident", "resolve", "INC-7")
    assert missing.exit_code == 1 and "incident INC-7 does not exist" in missing.stderr


def test_a_note_prints_the_incident_key_and_the_entry(harness: Harness, db_url: str) -> None:
    _cli(harness, db_url, "incident", "create", "Checkout failing", "--severity", "SEV2")
    note = _cli(harness, db_url, "incident", "note", "2 ", "LB\nshows 502s", "--at",
                "2026-03-02T02:55:00Z")
    assert note.exit_code == 1  # there is no INC-2
    note = _cli(harness, db_url, "incident", "note", "1", "LB shows 502s", "--at",
                "2026-03-02T02:55:00Z")
    assert note.exit_code == 0, note.stderr
    assert note.stdout.startswith("INC-1: note #")
    assert note.stdout.endswith(" at 2026-03-02T02:55:00Z: LB shows 502s\n")
    bad_time = _cli(harness, db_url, "incident", "note", "INC-1", "x", "--at", "yesterday")
    assert "schedule" not in bad_time.stderr
    assert "2026-03-08T09:00 (in the config's timezone, " in bad_time.stderr
    helped = CliRunner().invoke(app, ["incident", "note", "--help"], env=OPERATOR)
    assert "schedule" not in helped.stdout and "config's timezone" in helped.stdout
