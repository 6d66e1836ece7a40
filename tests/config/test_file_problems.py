"""A file that cannot be read as a config gives one clear problem at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import write
from tocsin.config.loader import ConfigError, Problem, load_config


def _only_problem(path: Path) -> Problem:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def test_a_missing_file_is_reported_at_line_zero(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path / "nope.yaml")

    assert problem.file == str(tmp_path / "nope.yaml")
    assert problem.line == 0
    assert "No such file" in problem.message
    assert problem.fix


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path)

    assert problem.line == 0
    assert problem.message.startswith("cannot read the file")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_one_problem(tmp_path: Path, text: str) -> None:
    problem = _only_problem(write(tmp_path, text))

    assert (problem.line, problem.message) == (1, "the file is empty")


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "schedules:\n  - name: primary\n    rotation: [weekly\nroutes: []\n")
    problem = _only_problem(path)

    assert problem.line == 4
    assert problem.message.startswith("not valid YAML: ")
    assert "indentation" in problem.fix


def test_plain_prose_is_not_a_config(tmp_path: Path) -> None:
    problem = _only_problem(write(tmp_path, "\nthis is a shopping list and not a YAML config\n"))

    assert problem.line == 2
    assert problem.message == (
        "the top level must be a mapping of keys, got 'this is a shopping list and not a YAM...'"
    )


def test_a_top_level_list_is_not_a_config(tmp_path: Path) -> None:
    problem = _only_problem(write(tmp_path, "- name: primary-oncall\n"))

    assert problem.line == 1
    assert problem.message.endswith("got a list")
    assert "schedules:" in problem.fix


def test_two_documents_in_one_file_are_rejected(tmp_path: Path) -> None:
    problem = _only_problem(write(tmp_path, "timezone: UTC\n---\ntimezone: UTC\n"))

    assert problem.line == 2
    assert problem.message == (
        "not valid YAML: expected a single document in the stream, but found another document"
    )
    assert "remove the --- line" in problem.fix


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_bytes(b"timezone: UTC\npublic_url: http://caf\xe9.example\n")
    problem = _only_problem(path)

    assert (problem.line, problem.message) == (2, "not UTF-8 text")


def test_a_path_string_is_accepted_and_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: Asia/Bangkok\n")
    config, warnings = load_config(str(path), env={})

    assert config.path == str(path)
    assert config.timezone == "Asia/Bangkok"
    assert warnings == []


def test_a_schedule_without_a_zone_takes_the_top_level_one_then_utc(tmp_path: Path) -> None:
    schedule = "schedules:\n  - {name: s, rotation: daily, participants: [a@b.co]}\n"
    config, _ = load_config(write(tmp_path, "timezone: Europe/Paris\n" + schedule), env={})
    assert config.schedules["s"].timezone == "Europe/Paris"

    config, _ = load_config(write(tmp_path, schedule), env={})
    assert config.schedules["s"].timezone == "UTC"
    assert config.schedules["s"].layers[0].start_time.isoformat() == "00:00:00"


def test_absurd_nesting_is_refused_not_a_crash(tmp_path: Path) -> None:
    problem = _only_problem(write(tmp_path, "users: " + "[" * 1500 + "]" * 1500 + "\n"))

    assert problem.message == "nested too deeply to read"
