"""`tocsin override add|list|remove`, and overrides crossing surfaces: one made by
the CLI is seen by `tocsin oncall` and the API, one made by the API by the CLI.

The CLI reads the real clock, so times here are a week or more from now.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.web.conftest import READ_TOKEN, WRITE_TOKEN, close_web, make_web
from tocsin.audit import AuditEntry
from tocsin.cli.main import app
from tocsin.clock import FakeClock
from tocsin.db import make_engine, make_sessionmaker

CONFIG = """
timezone: UTC
users:
  - {id: ann, email: ann@example.test}
  - {id: ben, email: ben@example.test}
  - {id: cat, email: cat@example.test}
schedules:
  - name: solo
    timezone: Asia/Bangkok
    rotation: daily
    start_time: "09:00"
    participants: [ann]
"""


def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# Midnight UTC a week from today: in the future whenever the test runs.
BASE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=7)
START, MIDDLE, END = (_z(BASE + timedelta(hours=h)) for h in (4, 6, 8))


@pytest.fixture
def cli(tmp_path: Path, db_url: str):
    config = tmp_path / "cli.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")

    def run(*args: str, config_path: Path = config) -> Any:
        return CliRunner().invoke(app, [*args, "--config", str(config_path), "--db", db_url])

    return run


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _who(cli, at: str = MIDDLE, schedule: str = "solo", **kwargs: Any) -> list[tuple[str, str]]:
    found = _json(cli("oncall", schedule, "--at", at, "--json", **kwargs))
    return sorted((shift["user"], shift["source"]) for shift in found["oncall"])


def test_a_whole_override_is_seen_by_oncall_and_shifts(cli):
    created = _json(cli("override", "add", "solo", "cat", "--from", START, "--to", END,
                        "--json"))

    shifts = _json(cli("shifts", "solo", "--from", START, "--to", END, "--json"))

    source = f"override:{created['id']}"
    assert (created["kind"], created["surface"]) == ("whole", "cli")
    assert created["created_by"].startswith("cli:")
    assert _who(cli) == [("cat", source)]
    assert ("cat", START, END, source) in [
        (s["user"], s["start"], s["end"], s["source"]) for s in shifts["shifts"]]


def test_local_times_are_read_in_the_schedules_zone(cli):
    local = (BASE + timedelta(hours=4 + 7)).strftime("%Y-%m-%dT%H:%M")  # Bangkok is UTC+7

    created = _json(cli("override", "add", "solo", "cat", "--from", local, "--to", END,
                        "--json"))

    assert created["start"] == START


def test_replace_and_add(cli):
    _json(cli("override", "add", "solo", "cat", "--from", START, "--to", END,
              "--replaces", "ann@example.test", "--json"))
    added = _json(cli("override", "add", "solo", "ben", "--from", START, "--to", END, "--add",
                      "--json"))

    assert [user for user, _source in _who(cli)] == ["ben", "cat"]
    assert added["kind"] == "add"


def test_list_and_remove(cli):
    created = _json(cli("override", "add", "solo", "cat", "--from", START, "--to", END,
                        "--json"))

    listed = _json(cli("override", "list", "solo", "--json"))
    removed = cli("override", "remove", str(created["id"]))
    again = cli("override", "remove", str(created["id"]))

    assert [o["id"] for o in listed["overrides"]] == [created["id"]]
    assert removed.exit_code == 0, removed.stderr
    assert f"override {created['id']}: deleted" in removed.stdout
    assert again.exit_code == 0  # removing twice is a no-op
    assert _json(cli("override", "list", "--json")) == {"overrides": []}
    assert _who(cli) == [("ann", "rotation")]
    table = cli("override", "list")
    assert table.exit_code == 0 and "no overrides" in table.stdout


def test_list_all_shows_deleted_overrides_with_who_and_when(cli):
    kept = _json(cli("override", "add", "solo", "ben", "--from", START, "--to", END, "--add",
                     "--json"))
    gone = _json(cli("override", "add", "solo", "cat", "--from", START, "--to", END, "--json"))
    assert cli("override", "remove", str(gone["id"]), "--as", "ben").exit_code == 0

    current = _json(cli("override", "list", "solo", "--json"))
    everything = _json(cli("override", "list", "solo", "--all", "--json"))
    table = cli("override", "list", "--all")

    assert [o["id"] for o in current["overrides"]] == [kept["id"]]
    found = {o["id"]: (o["deleted_by"], o["deleted_at"] is not None)
             for o in everything["overrides"]}
    assert found == {kept["id"]: (None, False), gone["id"]: ("ben", True)}
    assert table.exit_code == 0
    assert "deleted" in table.stdout and "ben" in table.stdout


def test_as_names_the_actor_in_the_audit_log(cli, db_url):
    created = _json(cli("override", "add", "solo", "cat", "--from", START, "--to", END,
                        "--as", "ann", "--json"))
    assert cli("override", "remove", str(created["id"]), "--as", "ben").exit_code == 0

    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    engine.dispose()
    assert [(r.action, r.actor, r.surface) for r in rows] == [
        ("override.create", "ann", "cli"), ("override.delete", "ben", "cli")]


@pytest.mark.parametrize(("args", "field"), [
    (["solo", "cat", "--from", END, "--to", START], "end: must be after start"),
    (["solo", "zed", "--from", START, "--to", END], "user: no user 'zed'"),
    (["solo", "cat", "--from", START, "--to", END, "--replaces", "zed"], "replaces:"),
    (["solo", "cat", "--from", "2020-01-01", "--to", "2020-01-02"], "end: is not after now"),
])
def test_an_invalid_override_exits_1_naming_the_field(cli, args, field):
    result = cli("override", "add", *args)

    assert result.exit_code == 1
    assert field in result.stderr
    assert _json(cli("override", "list", "--all", "--json")) == {"overrides": []}


@pytest.mark.parametrize("args", [
    ["solo", "cat", "--from", START, "--to", END, "--replaces", "ann", "--add"],
    ["solo", "cat", "--from", "next week", "--to", END],
])
def test_usage_errors_exit_2(cli, args):
    assert cli("override", "add", *args).exit_code == 2


def test_unknown_schedule_and_unknown_id_exit_1(cli):
    assert cli("override", "add", "nope", "cat", "--from", START, "--to", END).exit_code == 1
    assert cli("override", "list", "nope").exit_code == 1
    assert cli("override", "remove", "999").exit_code == 1


def test_no_database_is_refused_and_none_is_created(tmp_path: Path):
    config = tmp_path / "cli.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    missing = tmp_path / "missing.db"

    for args in (["add", "solo", "cat", "--from", START, "--to", END], ["list"],
                 ["remove", "1"]):
        result = CliRunner().invoke(app, ["override", *args, "--config", str(config),
                                          "--db", f"sqlite:///{missing}"])
        assert result.exit_code == 1
        assert "no database" in result.stderr
    assert not missing.exists()


def test_an_override_made_by_the_cli_is_seen_by_the_api(cli, tmp_path, db_url):
    web = make_web(tmp_path, db_url, FakeClock(BASE))
    try:
        created = _json(cli("override", "add", "primary", "carol", "--from", START,
                            "--to", END, "--json", config_path=web.config_path))
        shifts = web.call("GET", f"/api/v1/schedules/primary/shifts?from={START}&to={END}",
                          READ_TOKEN).json()["shifts"]
        web.clock.set(BASE + timedelta(hours=6))
        (primary,) = web.call("GET", "/api/v1/oncall", READ_TOKEN).json()["schedules"]
    finally:
        close_web(web)
    source = f"override:{created['id']}"
    assert [(s["user"], s["source"]) for s in shifts] == [("carol", source)]
    assert [(s["user"], s["source"]) for s in primary["oncall"]] == [("carol", source)]


def test_an_override_made_by_the_api_is_seen_by_the_cli(cli, tmp_path, db_url):
    web = make_web(tmp_path, db_url, FakeClock(BASE))
    try:
        response = web.call("POST", "/api/v1/schedules/primary/overrides", WRITE_TOKEN,
                            json={"user": "carol", "start": START, "end": END})
    finally:
        close_web(web)
    assert response.status_code == 201, response.text
    created = response.json()

    who = _who(cli, schedule="primary", config_path=web.config_path)
    listed = _json(cli("override", "list", "primary", "--json", config_path=web.config_path))

    assert who == [("carol", f"override:{created['id']}")]
    assert listed["overrides"] == [created]
