"""`working_hours`: business and sleep windows and business days, for on-call load."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from tests.config.helpers import BASE, line_of, load, only_error, rejected
from tocsin.config.model import WorkingHours


def with_hours(value: str) -> str:
    return f"working_hours: {value}\n{BASE}"


def test_without_the_key_the_design_defaults_apply(tmp_path: Path) -> None:
    config, _ = load(tmp_path, BASE)

    assert config.working_hours == WorkingHours(
        time(8), time(18), time(22), time(8), ("mon", "tue", "wed", "thu", "fri")
    )


def test_every_key_is_read(tmp_path: Path) -> None:
    text = with_hours('{business: "09:30-17:00", sleep: "23:00-07:00", days: [sun, monday]}')
    config, warnings = load(tmp_path, text)

    assert warnings == []
    assert config.working_hours == WorkingHours(
        time(9, 30), time(17), time(23), time(7), ("mon", "sun")
    )


def test_keys_left_out_keep_their_defaults(tmp_path: Path) -> None:
    config, _ = load(tmp_path, with_hours('{sleep: "00:00-06:00"}'))

    assert config.working_hours == WorkingHours(sleep_start=time(0), sleep_end=time(6))


def test_a_business_window_may_run_past_midnight(tmp_path: Path) -> None:
    config, _ = load(tmp_path, with_hours("{business: 22:00-06:00, days: [fri, sat, fri]}"))

    assert config.working_hours.business == (time(22), time(6))
    assert config.working_hours.days == ("fri", "sat")


def test_block_style_and_spaces_around_the_dash_read_the_same(tmp_path: Path) -> None:
    text = 'working_hours:\n  business: "08:00 - 18:00"\n  days: [mon]\n' + BASE
    config, _ = load(tmp_path, text)

    assert config.working_hours == WorkingHours(days=("mon",))


@pytest.mark.parametrize("written", ['"8-18"', '"08:00"', '"08:00-24:00"', '"08:00 to 18:00"',
                                     '"08:60-18:00"'])
def test_a_bad_range_names_the_field_line_and_form(tmp_path: Path, written: str) -> None:
    text = f"users: []\nworking_hours:\n  sleep: \"22:00-08:00\"\n  business: {written}\n"
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (4, "working_hours.business")
    assert problem.message.startswith("bad time range ")
    assert "HH:MM-HH:MM" in problem.message
    assert 'write it like "08:00-18:00"' in problem.fix


def test_equal_start_and_end_is_refused_as_ambiguous(tmp_path: Path) -> None:
    text = with_hours('{sleep: "07:00-07:00"}')
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (1, "working_hours.sleep")
    assert problem.format().endswith(
        "working_hours.sleep: the range starts and ends at 07:00, so it is empty or the whole "
        'day; fix: pick different times, e.g. "08:00-18:00" or "22:00-08:00"'
    )


def test_an_unknown_day_is_named_with_its_line(tmp_path: Path) -> None:
    text = BASE + "working_hours:\n  days: [mon, tue, funday]\n"
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "funday")
    assert problem.path == "working_hours.days[2]"
    assert problem.message == "bad day 'funday'"
    assert problem.fix == "write a day such as monday or mon"


def test_an_empty_day_list_is_refused(tmp_path: Path) -> None:
    problem = only_error(tmp_path, with_hours("{days: []}"))

    assert problem.path == "working_hours.days"
    assert "remove days for that default" in problem.fix


def test_an_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    problem = only_error(tmp_path, with_hours('{bussiness: "08:00-18:00"}'))

    assert problem.path == "working_hours.bussiness"
    assert problem.fix == "did you mean 'business'?"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = with_hours('{business: "9-5", sleep: "22:00-22:00", days: [someday]}')
    paths = [p.path for p in rejected(tmp_path, text)]

    assert paths == ["working_hours.business", "working_hours.sleep", "working_hours.days[0]"]
