"""`tocsin check`: exit 0 valid, 1 invalid, 2 usage; one problem a line on stderr."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tocsin.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
TOCSIN = str(Path(sys.executable).parent / "tocsin")
EXAMPLE = "examples/tocsin.yaml"
SEED = "examples/seed-fragment.yaml"
UNDEFINED = ("secondary-oncall", "engineering-manager", "vp-engineering")
# FILE:LINE: path.to.field: what is wrong; fix: what to do
PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<path>\S+): (?P<what>.+); fix: .+$")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TOCSIN, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def _line_of(file: str, needle: str) -> int:
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, 1) if needle in text)


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch):
    # File names on stderr are as given, so run where the example paths are relative.
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def seed_check() -> subprocess.CompletedProcess[str]:
    """`tocsin check` on the seed fragment, run once as a real process for this module."""
    return _run("check", SEED)


def test_the_example_config_is_valid():
    result = CliRunner().invoke(app, ["check", EXAMPLE])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().startswith(f"{EXAMPLE}: valid")
    for line in result.stderr.splitlines():
        assert PROBLEM.match(line), line
        assert ": warning: " in line


def test_the_seed_fragment_fails_naming_its_three_undefined_targets(seed_check):
    result = seed_check

    assert result.returncode == 1
    assert result.stdout == ""
    problems = [PROBLEM.match(line) for line in result.stderr.splitlines()]
    found = [m for m in problems if m and "unknown target" in m["what"]]
    assert [(m["file"], int(m["line"])) for m in found] == [
        (SEED, _line_of(SEED, f"targets: [{name}]")) for name in UNDEFINED]
    for match, name in zip(found, UNDEFINED, strict=True):
        assert f"'{name}'" in match["what"]
        assert match["path"].startswith("escalation_policies[0].steps[")


def test_check_reports_problems_sorted_by_line(seed_check):
    result = seed_check

    numbered = [PROBLEM.match(line) for line in result.stderr.splitlines()]
    lines = [int(m["line"]) for m in numbered if m]
    assert len(lines) >= 3
    assert lines == sorted(lines)
    assert result.stderr.splitlines()[-1] == f"{SEED}: 3 error(s); the configuration is not valid"


def test_check_reads_the_config_option_and_the_environment(monkeypatch):
    runner = CliRunner()
    by_option = runner.invoke(app, ["check", "--config", SEED])
    monkeypatch.setenv("TOCSIN_CONFIG", EXAMPLE)
    by_env = runner.invoke(app, ["check"])

    assert by_option.exit_code == 1
    assert by_env.exit_code == 0


def test_a_missing_file_is_invalid_and_named(tmp_path: Path):
    missing = tmp_path / "nope.yaml"

    result = CliRunner().invoke(app, ["check", str(missing)])

    assert result.exit_code == 1
    assert str(missing) in result.stderr


@pytest.mark.parametrize("args", [
    ["check", "--no-such-option"],
    ["check", EXAMPLE, SEED],
])
def test_a_usage_error_exits_2(args):
    result = _run(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Usage: tocsin check" in result.stderr
