"""One engine per SQLite file: a second serve refuses, and so does worker."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tocsin.yaml"


def run_tocsin(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tocsin.cli.main", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_serve_refuses_a_sqlite_file_another_process_serves(tmp_path: Path) -> None:
    db = tmp_path / "tocsin.db"
    with open(f"{db}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running serve holds it

        result = run_tocsin("serve", "--port", "1", "--config", str(EXAMPLE),
                            "--db", f"sqlite:///{db}")

    assert result.returncode == 1
    assert "another tocsin process is already serving" in result.stderr


def test_worker_refuses_sqlite(tmp_path: Path) -> None:
    result = run_tocsin("worker", "--config", str(EXAMPLE),
                        "--db", f"sqlite:///{tmp_path / 'tocsin.db'}")

    assert result.returncode == 1
    assert "tocsin worker needs PostgreSQL" in result.stderr


def test_serve_refuses_an_invalid_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schedules:\n  - name: x\n    timezone: Mars/Olympus\n", encoding="utf-8")

    result = run_tocsin("serve", "--config", str(bad), "--db", f"sqlite:///{tmp_path}/t.db")

    assert result.returncode == 1
    assert "bad.yaml:3: schedules[0].timezone" in result.stderr
    assert not (tmp_path / "t.db").exists()


def test_a_symlink_to_a_served_file_is_refused_too(tmp_path: Path) -> None:
    db = tmp_path / "tocsin.db"
    db.touch()
    (tmp_path / "link.db").symlink_to(db)
    with open(f"{db}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)

        result = run_tocsin("serve", "--port", "1", "--config", str(EXAMPLE),
                            "--db", f"sqlite:///{tmp_path / 'link.db'}")

    assert result.returncode == 1
    assert "another tocsin process is already serving" in result.stderr


@pytest.mark.parametrize("verb", [["serve", "--port", "1"], ["worker"]])
def test_serve_says_in_one_sentence_that_the_database_cannot_be_reached(verb: list[str]) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    url = "postgresql+psycopg://postgres:not-shown@127.0.0.1:1/tocsin"

    result = run_tocsin(*verb, "--config", str(EXAMPLE), "--db", url)

    assert result.returncode == 1
    assert result.stderr.startswith(
        "tocsin: cannot open the database at postgresql+psycopg://postgres:***@127.0.0.1:1/")
    assert "Traceback" not in result.stderr
    assert "not-shown" not in result.stderr
    assert len(result.stderr.splitlines()) <= 2  # psycopg's own hint may follow
