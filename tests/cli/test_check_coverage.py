"""`tocsin check` warns about coverage gaps in the next 14 days.

`coverage_warnings` takes `now`, so these tests pin it: Monday 2026-03-02
03:00 UTC. One CLI test uses a schedule that starts centuries ahead, which
leaves a gap whatever today is.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from tocsin.cli.coverage_check import coverage_warnings
from tocsin.cli.main import app
from tocsin.config.loader import load_config
from tocsin.config.model import Config

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<path>\S+): warning: .+; fix: .+$")

USERS = """\
users:
  - {id: alice, email: alice@company.com}
  - {id: bob, email: bob@company.com}
"""
ROUTES = """\
escalation_policies:
  - name: critical
    steps: [{targets: [SCHEDULE], timeout_minutes: 0}]
routes:
  - notify: critical
"""
COVERED = """\
  - name: covered
    rotation: weekly
    start_date: 2026-01-05
    participants: [alice, bob]
"""
OFFICE = """\
  - name: office
    rotation: daily
    start_time: "09:00"
    start_date: 2026-01-05
    participants: [alice, bob]
    restrictions:
      - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
"""
LATER = """\
  - name: later
    timezone: Asia/Bangkok
    rotation: weekly
    start_time: "09:00"
    start_date: 2026-03-09
    participants: [alice]
"""


def config(tmp_path: Path, *schedules: str, extra: str = "") -> Config:
    first = re.search(r"name: (\S+)", schedules[0])
    assert first is not None
    text = USERS + "schedules:\n" + "".join(schedules) + extra
    text += ROUTES.replace("SCHEDULE", first.group(1))
    path = tmp_path / "tocsin.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, _ = load_config(path, env={})
    return loaded


def line_of(path: str, needle: str) -> int:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, 1) if needle in text)


def test_a_schedule_covered_all_the_time_gets_no_warning(tmp_path: Path):
    assert coverage_warnings(config(tmp_path, COVERED), NOW) == []


def test_office_hours_are_one_warning_counting_every_gap(tmp_path: Path):
    loaded = config(tmp_path, COVERED, OFFICE)

    [warning] = coverage_warnings(loaded, NOW)

    # Ten weekday windows in two weeks: the night before the first, and one after each.
    assert warning.severity == "warning"
    assert warning.path == "schedules[1]"
    assert warning.line == line_of(loaded.path, "name: office")
    assert warning.message == (
        "nobody is on call for 11 gap(s) in the next 14 days, "
        "the first 2026-03-02T03:00:00Z to 2026-03-02T09:00:00Z"
    )
    assert warning.fix == "add a layer or an override, or accept the gap"


def test_a_schedule_starting_next_week_warns_until_its_first_shift(tmp_path: Path):
    [warning] = coverage_warnings(config(tmp_path, LATER), NOW)

    # Monday 09:00 in Bangkok is 02:00 UTC.
    assert warning.message == ("nobody is on call for 1 gap(s) in the next 14 days, "
                               "the first 2026-03-02T03:00:00Z to 2026-03-09T02:00:00Z")


def test_a_schedule_starting_after_the_horizon_is_one_gap_over_all_of_it(tmp_path: Path):
    later = LATER.replace("2026-03-09", "2026-04-06")

    [warning] = coverage_warnings(config(tmp_path, later), NOW)

    assert "for 1 gap(s)" in warning.message
    assert warning.message.endswith("the first 2026-03-02T03:00:00Z to 2026-03-16T03:00:00Z")


def test_an_override_in_the_file_fills_the_gap(tmp_path: Path):
    filled = LATER + ("    overrides:\n"
                      "      - {user: bob, start: 2026-03-01T00:00Z, end: 2026-03-10T00:00Z}\n")

    assert coverage_warnings(config(tmp_path, filled), NOW) == []


def test_every_schedule_with_gaps_gets_its_own_line(tmp_path: Path):
    found = coverage_warnings(config(tmp_path, OFFICE, COVERED, LATER), NOW)

    assert [warning.path for warning in found] == ["schedules[0]", "schedules[2]"]
    for warning in found:
        assert PROBLEM.match(warning.format()), warning.format()


def test_check_prints_the_gap_warning_sorted_by_line_and_exits_0(tmp_path: Path):
    # Centuries ahead: a gap over the whole horizon, whatever today is.
    text = textwrap.dedent("""\
        users:
          - {id: alice, email: alice@company.com}
        schedules:
          - name: someday
            rotation: weekly
            start_date: 2999-01-05
            participants: [alice]
        routes:
          - notify: someday
        """)
    path = tmp_path / "tocsin.yaml"
    path.write_text(text, encoding="utf-8")

    result = CliRunner().invoke(app, ["check", str(path)])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{path}: valid (2 warning(s))\n"
    lines = result.stderr.splitlines()
    matched = [PROBLEM.match(line) for line in lines]
    assert all(matched), lines
    assert [(m["line"], m["path"]) for m in matched if m] == [
        ("4", "schedules[0]"), ("9", "routes[0].notify"),
    ]
    assert "nobody is on call for 1 gap(s) in the next 14 days, the first " in lines[0]
