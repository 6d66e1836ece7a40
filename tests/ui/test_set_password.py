"""`tocsin user set-password`: stores a hash, never the password; refuses what it should."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.ui.conftest import UI_CONFIG
from tocsin.accounts import UserPassword
from tocsin.audit import AuditEntry
from tocsin.cli.main import app
from tocsin.db import make_engine, make_sessionmaker


def _run(tmp_path: Path, db_url: str, *args: str, stdin: str) -> tuple[int, str]:
    config = tmp_path / "tocsin.yaml"
    config.write_text(UI_CONFIG, encoding="utf-8")
    result = CliRunner().invoke(app, ["user", "set-password", *args, "--config", str(config),
                                      "--db", db_url, "--as", "ops"], input=stdin)
    return result.exit_code, result.output


def _rows(db_url: str) -> tuple[list[UserPassword], list[AuditEntry]]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        found = (list(session.scalars(select(UserPassword))),
                 list(session.scalars(select(AuditEntry))))
    engine.dispose()
    return found


def test_the_password_is_stored_as_an_argon2_hash_and_audited(tmp_path: Path, db_url: str):
    code, output = _run(tmp_path, db_url, "alice", "--password-stdin",
                        stdin="a long passphrase\n")
    assert code == 0, output
    passwords, audit = _rows(db_url)
    assert [p.user_id for p in passwords] == ["alice"]
    assert passwords[0].hash.startswith("$argon2id$")
    assert "a long passphrase" not in passwords[0].hash
    assert [(a.actor, a.surface, a.action) for a in audit] == [
        ("ops", "cli", "user.password_set")]
    assert "passphrase" not in str(audit[0].after)


def test_prompting_asks_twice(tmp_path: Path, db_url: str):
    code, output = _run(tmp_path, db_url, "bob", stdin="a long passphrase\na long passphrase\n")
    assert code == 0, output
    assert "a long passphrase" not in output


def test_unknown_users_and_short_passwords_are_refused(tmp_path: Path, db_url: str):
    assert _run(tmp_path, db_url, "mallory", "--password-stdin", stdin="a long one\n")[0] == 1
    assert _run(tmp_path, db_url, "alice", "--password-stdin", stdin="short\n")[0] == 1
    assert _rows(db_url) == ([], [])
