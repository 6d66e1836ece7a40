"""`match_re` patterns run on RE2: `check` refuses what RE2 cannot run, with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.config.helpers import BASE, errors, line_of, load, only_error, write
from tocsin.cli.main import app


def with_route_pattern(pattern: str) -> str:
    return BASE.replace("routes:\n  - notify: critical\n",
                        "routes:\n"
                        "  - match: {service: payment}\n"
                        f"    match_re: {{host: '{pattern}'}}\n"
                        "    notify: critical\n"
                        "  - notify: critical\n")


@pytest.mark.parametrize(("pattern", "message", "fix"), [
    ("db-(?=primary).*", "RE2 has no lookahead", "rewrite without (?=...)"),
    ("(?!staging).*", "RE2 has no negative lookahead", "rewrite without (?!...)"),
    ("(?<=db-)[0-9]+", "RE2 has no lookbehind", "rewrite without (?<=...)"),
    ("(?<!x)db", "RE2 has no negative lookbehind", "rewrite without (?<!...)"),
    ("(db)-\\1", "RE2 has no backreferences", "rewrite without \\1 or (?P=name)"),
    ("(?P<n>db)-(?P=n)", "RE2 has no backreferences", "rewrite without \\1 or (?P=name)"),
    ("(?>db)-.*", "RE2 has no atomic groups", "write the group as (?:...)"),
    ("db-.*+", "RE2 has no possessive quantifiers", "write * + ? or {n,m}"),
    ("db-[0-9]{,3}", "RE2 reads {,N} as literal text", "write {0,N}"),
    ("db-.*\\Z", "RE2 has no \\Z", "write \\z"),
])
def test_a_route_pattern_re2_cannot_run_is_an_error_at_its_line(
    tmp_path: Path, pattern: str, message: str, fix: str,
) -> None:
    text = with_route_pattern(pattern)

    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].match_re.host"
    assert problem.line == line_of(text, "match_re:")
    assert problem.message.startswith(message)
    assert problem.fix.startswith(fix)


def test_a_pattern_that_backtracks_in_python_is_fine_for_re2(tmp_path: Path) -> None:
    config, _ = load(tmp_path, with_route_pattern("(a+)+$"))

    assert config.routes[0].match_re == {"host": "(a+)+$"}


def test_a_maintenance_pattern_re2_cannot_run_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = BASE + """\
maintenance:
  - name: db-upgrade
    match_re: {host: "(?<=db-)[0-9]+"}
    start: 2026-03-02T22:00
    end: 2026-03-03T02:00
"""

    [problem] = errors(tmp_path, text)

    assert (problem.path, problem.line) == ("maintenance[0].match_re.host",
                                            line_of(text, "match_re:"))
    assert problem.message == "RE2 has no lookbehind"


def test_check_prints_the_problem_with_its_file_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, with_route_pattern("db-(?=primary).*"))

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 1
    line = line_of(with_route_pattern(""), "match_re:")
    assert result.stderr.splitlines()[0] == (
        f"{path}:{line}: routes[0].match_re.host: RE2 has no lookahead; "
        "fix: rewrite without (?=...): match the text itself")


def test_a_route_whose_only_pattern_is_refused_is_not_called_a_catch_all(
    tmp_path: Path,
) -> None:
    # The refused pattern leaves the route with no conditions it can use; it
    # was meant for some alerts, so no "matches every alert" warning follows.
    text = BASE.replace("routes:\n  - notify: critical\n",
                        "routes:\n"
                        "  - match_re: {env: 'prod-(?!test)[0-9]+'}\n"
                        "    notify: critical\n"
                        "  - notify: critical\n")
    path = write(tmp_path, text)

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 1
    assert "RE2 has no negative lookahead" in result.stderr
    assert "matches every alert" not in result.stderr
