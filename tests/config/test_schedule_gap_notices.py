"""A schedule's `team` and `gap_notice_days`: who hears of its coverage gaps, and how early."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import load, only_error

CONFIG = """\
users:
  - {id: alice}
  - {id: bob}
teams:
  - {name: ops, members: [bob]}
schedules:
  - name: primary
    rotation: weekly
    participants: [alice]
"""


def test_without_the_keys_no_team_and_three_days(tmp_path: Path) -> None:
    config, _ = load(tmp_path, CONFIG)

    schedule = config.schedules["primary"]
    assert (schedule.team, schedule.gap_notice_days) == (None, 3)


def test_both_keys_are_read(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, CONFIG + "    team: ops\n    gap_notice_days: 1.5\n")

    assert warnings == []
    assert (config.schedules["primary"].team, config.schedules["primary"].gap_notice_days) == (
        "ops", 1.5)


def test_a_layered_schedule_takes_them_too(tmp_path: Path) -> None:
    text = CONFIG.replace("    rotation: weekly\n    participants: [alice]\n",
                          "    layers: [{rotation: weekly, participants: [alice]}]\n")
    config, _ = load(tmp_path, text + "    team: ops\n    gap_notice_days: 0\n")

    assert (config.schedules["primary"].team, config.schedules["primary"].gap_notice_days) == (
        "ops", 0)


def test_an_unknown_team_is_an_error_with_its_line(tmp_path: Path) -> None:
    problem = only_error(tmp_path, CONFIG + "    team: opz\n")

    assert (problem.line, problem.path) == (10, "schedules[0].team")
    assert "unknown team 'opz'" in problem.message and "did you mean 'ops'" in problem.fix


def test_a_user_is_not_a_team(tmp_path: Path) -> None:
    problem = only_error(tmp_path, CONFIG + "    team: bob\n")

    assert "team" in problem.message


@pytest.mark.parametrize("value", ["15", "-1", "soon"])
def test_gap_notice_days_is_a_number_from_0_to_14(tmp_path: Path, value: str) -> None:
    problem = only_error(tmp_path, CONFIG + f"    gap_notice_days: {value}\n")

    assert problem.path == "schedules[0].gap_notice_days"
