"""`tocsin maintenance add|list|end|remove`, and windows crossing surfaces: one made
by the CLI is listed by the API and holds alerts there, one made by the API is
listed by the CLI.

The CLI reads the real clock, so times here are hours or days from now.
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
timezone: Asia/Bangkok
services:
  - {name: payment}
maintenance:
  - name: yearly-dr-test
    match: {env: dr}
    start: 2099-01-01T00:00
    end: 2099-01-02T00:00
    reason: disaster recovery drill
"""


def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(UTC).replace(microsecond=0)
LATER, MUCH_LATER = _z(NOW + timedelta(days=2)), _z(NOW + timedelta(days=3))
SOON = _z(NOW + timedelta(hours=2))


@pytest.fixture
def cli(tmp_path: Path, db_url: str):
    config = tmp_path / "cli.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")

    def run(*args: str, config_path: Path = config) -> Any:
        return CliRunner().invoke(app, [*args, "--config", str(config_path), "--db", db_url])

    run.options = ["--config", str(config), "--db", db_url]  # type: ignore[attr-defined]
    return run


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _add(cli, *args: str) -> dict[str, Any]:
    found: dict[str, Any] = _json(cli("maintenance", "add", "--service", "payment",
                                      "--to", SOON, "--reason", "db upgrade", "--json", *args))
    return found


def test_add_starts_now_by_default_and_is_listed(cli):
    before = datetime.now(UTC).replace(microsecond=0)
    created = _add(cli)
    after = datetime.now(UTC)

    listed = _json(cli("maintenance", "list", "--json"))["maintenance"]

    assert (created["surface"], created["status"], created["end"]) == ("cli", "in_force", SOON)
    assert created["created_by"].startswith("cli:")
    assert before <= datetime.fromisoformat(created["start"]) <= after
    assert [w["id"] for w in listed] == [created["id"], "config:yearly-dr-test"]


def test_label_matchers_and_local_times(cli):
    local = (NOW + timedelta(days=2, hours=7)).strftime("%Y-%m-%dT%H:%M:%S")  # Bangkok

    created = _json(cli("maintenance", "add", "--match", "env=staging", "--match",
                        "team=db", "--match-re", "host=db-[0-9]+", "--from", local,
                        "--to", MUCH_LATER, "--reason", "staging rebuild", "--json"))

    assert created["match"] == {"env": "staging", "team": "db"}
    assert created["match_re"] == {"host": "db-[0-9]+"}
    assert (created["start"], created["status"]) == (LATER, "scheduled")


def test_the_table_says_what_each_window_holds(cli):
    _add(cli, "--match", "env=prod")

    table = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["maintenance", "list", *cli.options])

    assert table.exit_code == 0, table.stderr
    assert "service in (payment), env=prod" in table.stdout
    assert "config:yearly-dr-test" in table.stdout and "in force" in table.stdout


def test_end_stops_a_window_now_and_twice_is_a_no_op(cli):
    created = _add(cli)

    ended = cli("maintenance", "end", str(created["id"]), "--as", "ann")
    again = cli("maintenance", "end", str(created["id"]))

    assert ended.exit_code == 0, ended.stderr
    assert f"maintenance {created['id']}: ended at " in ended.stdout
    assert "by ann" in ended.stdout
    assert again.exit_code == 0
    assert [w["id"] for w in _json(cli("maintenance", "list", "--json"))["maintenance"]] == [
        "config:yearly-dr-test"]


def test_remove_cancels_a_window_not_started_and_all_lists_it(cli, db_url):
    created = _add(cli, "--from", LATER, "--to", MUCH_LATER)

    removed = cli("maintenance", "remove", str(created["id"]), "--as", "ben")
    everything = _json(cli("maintenance", "list", "--all", "--json"))["maintenance"]

    assert removed.exit_code == 0, removed.stderr
    assert "cancelled" in removed.stdout and "deleted" in removed.stdout
    assert [(w["id"], w["status"], w["deleted_by"]) for w in everything] == [
        (created["id"], "cancelled", "ben"), ("config:yearly-dr-test", "scheduled", None)]
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    engine.dispose()
    assert [(r.action, r.actor, r.surface) for r in rows][-1] == (
        "maintenance.delete", "ben", "cli")


@pytest.mark.parametrize(("args", "said"), [
    (["--to", SOON, "--reason", "everything"], "services: a maintenance window needs"),
    (["--service", "payment", "--to", SOON, "--reason", " "], "reason: must not be empty"),
    (["--service", "payment", "--from", LATER, "--to", LATER, "--reason", "x"],
     "end: must be after start"),
    (["--service", "payment", "--from", "2020-01-01", "--to", "2020-01-02", "--reason", "x"],
     "end: is not after now"),
    (["--match-re", "host=db-(", "--to", SOON, "--reason", "x"],
     "match_re.host: bad regular expression"),
])
def test_an_invalid_window_exits_1_naming_the_field(cli, args, said):
    result = cli("maintenance", "add", *args)

    assert result.exit_code == 1
    assert said in result.stderr
    assert "the maintenance window is invalid" in result.stderr


@pytest.mark.parametrize("args", [
    ["--match", "env", "--to", SOON, "--reason", "x"],
    ["--service", "payment", "--to", "next week", "--reason", "x"],
    ["--service", "payment", "--reason", "x"],
])
def test_usage_errors_exit_2(cli, args):
    assert cli("maintenance", "add", *args).exit_code == 2


def test_a_window_from_the_file_and_an_unknown_id_exit_1(cli):
    from_file = cli("maintenance", "end", "config:yearly-dr-test")
    unknown = cli("maintenance", "remove", "999")

    assert from_file.exit_code == 1
    assert "defined in the config file" in from_file.stderr
    assert unknown.exit_code == 1
    assert "no maintenance window 999" in unknown.stderr


def test_no_database_is_refused_and_none_is_created(tmp_path: Path):
    config = tmp_path / "cli.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    missing = tmp_path / "missing.db"

    for args in (["add", "--service", "payment", "--to", SOON, "--reason", "x"], ["list"],
                 ["end", "1"]):
        result = CliRunner().invoke(app, ["maintenance", *args, "--config", str(config),
                                          "--db", f"sqlite:///{missing}"])
        assert result.exit_code == 1
        assert "no database" in result.stderr
    assert not missing.exists()


def test_a_window_made_by_the_cli_holds_alerts_in_the_server(cli, tmp_path, db_url):
    web = make_web(tmp_path, db_url, FakeClock(NOW + timedelta(minutes=1)))
    try:
        # The server's clock is fake and the CLI's is real: start the window
        # at the server's "now" so a slow run cannot leave the alert outside it.
        created = _json(cli("maintenance", "add", "--service", "payment", "--from", _z(NOW),
                            "--to", SOON, "--reason", "db upgrade", "--json",
                            config_path=web.config_path))
        alert_id = web.fire()
        listed = web.call("GET", "/api/v1/maintenance", READ_TOKEN).json()["maintenance"]

        assert [w["id"] for w in listed] == [created["id"]]
        assert web.pages() == []
        assert web.kinds(alert_id) == ["triggered", "silenced"]
    finally:
        close_web(web)


def test_a_window_made_by_the_api_is_listed_by_the_cli(cli, tmp_path, db_url):
    web = make_web(tmp_path, db_url, FakeClock(NOW))
    try:
        made = web.call("POST", "/api/v1/maintenance", WRITE_TOKEN,
                        json={"match": {"env": "prod"}, "end": SOON, "reason": "api made"})
        assert made.status_code == 201, made.text

        listed = _json(cli("maintenance", "list", "--json", config_path=web.config_path))

        assert [(w["id"], w["surface"], w["created_by"]) for w in listed["maintenance"]] == [
            (made.json()["id"], "api", "bob")]
    finally:
        close_web(web)
