"""Each kind of error names the file, the line, the field and a fix."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import BASE, errors, line_of, only_error, rejected, write
from tocsin.config.loader import ConfigError, load_config


def test_unknown_target_names_the_step_and_suggests_a_close_name(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
  - notify: critcal
"""
    )
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "notify: critcal")
    assert problem.path == "routes[1].notify"
    assert problem.message.startswith("unknown target 'critcal'")
    assert "did you mean 'critical'?" in problem.fix


def test_unknown_target_without_a_close_name_lists_what_is_defined(tmp_path: Path) -> None:
    text = BASE.replace("targets: [bob]", "targets: [zz-nobody]")
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].steps[1].targets[0]"
    assert problem.line == line_of(text, "zz-nobody")
    assert "no schedule or user has that name" in problem.message
    assert "schedules primary" in problem.fix
    assert "users alice, bob" in problem.fix


def test_unknown_time_zone_suggests_the_iana_name(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: weekly\n    timezone: Asia/Bangkokk")
    problem = only_error(tmp_path, text)

    assert problem.format() == (
        f"{tmp_path / 'tocsin.yaml'}:{line_of(text, 'Bangkokk')}: schedules[0].timezone: "
        "unknown time zone 'Asia/Bangkokk'; fix: use an IANA name such as Asia/Bangkok"
    )


def test_bad_time_of_day_says_the_format(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", 'rotation: weekly\n    start_time: "24:00"')
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "24:00")
    assert problem.path == "schedules[0].start_time"
    assert "bad time of day '24:00'" in problem.message
    assert "HH:MM" in problem.message
    assert '"09:00"' in problem.fix


def test_duplicate_name_names_both_lines(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
teams:
  - {name: primary, members: [alice]}
"""
    )
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "{name: primary")
    assert problem.path == "teams[0].name"
    assert problem.message == (
        f"duplicate name 'primary': a schedule at line {line_of(text, 'name: primary')} has it"
    )
    assert "rename one of them" in problem.fix


def test_unknown_key_suggests_the_closest_known_key(tmp_path: Path) -> None:
    text = BASE.replace("participants:", "participents:")
    found = errors(tmp_path, text)
    unknown = [p for p in found if p.message.startswith("unknown key")]

    assert len(unknown) == 1
    assert unknown[0].line == line_of(text, "participents")
    assert unknown[0].path == "schedules[0].participents"
    assert unknown[0].fix == "did you mean 'participants'?"


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    text = BASE + "colour: blue\n"
    problem = only_error(tmp_path, text)

    assert problem.path == "colour"
    assert "schedules" in problem.fix and "escalation_policies" in problem.fix


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    text = BASE.replace("timeout_minutes: 5", "timeout_minutes: five")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "five")
    assert problem.path == "escalation_policies[0].steps[0].timeout_minutes"
    assert problem.message == "wrong type: expected a number, got 'five'"
    assert "5" in problem.fix


def test_a_single_name_where_a_list_belongs_is_a_wrong_type(tmp_path: Path) -> None:
    text = BASE.replace("targets: [primary]", "targets: primary")
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].steps[0].targets"
    assert "expected a list" in problem.message
    assert problem.fix == "write it as a list: [primary]"


def test_unset_variable_names_the_variable(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
integrations:
  - {name: prom, type: alertmanager, key: "${PROM_KEY}"}
"""
    )
    problem = only_error(tmp_path, text, env={})

    assert problem.line == line_of(text, "PROM_KEY")
    assert problem.path == "integrations[0].key"
    assert "${PROM_KEY} is not set" in problem.message
    assert "${PROM_KEY:-" in problem.fix


def test_missing_required_key_points_at_the_entry(tmp_path: Path) -> None:
    text = BASE.replace("    participants: [alice, bob]\n", "")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "name: primary")
    assert problem.path == "schedules[0].participants"
    assert problem.message == "missing required key 'participants'"
    assert problem.fix.startswith("add participants:")


def test_bad_enum_value_lists_the_allowed_values(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: monthly")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "monthly")
    assert problem.path == "schedules[0].rotation"
    assert problem.message == "bad value 'monthly': must be daily or weekly"
    assert "daily or weekly" in problem.fix


def test_duplicate_key_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: weekly\n    rotation: daily")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "rotation: daily")
    assert problem.path == "schedules[0].rotation"
    assert problem.message == f"duplicate key 'rotation' (first at line {line_of(text, 'weekly')})"


def test_every_error_is_reported_at_once_sorted_by_line(tmp_path: Path) -> None:
    text = """\
routes:
  - notify: nobody-defined
schedules:
  - name: primary
    timezone: Mars/Olympus
    rotation: weekly
    start_time: "25:00"
    participants: [alice@company.com]
escalation_policies:
  - name: primary
    steps: [{targets: [primary], timeout_minutes: -1}]
"""
    found = errors(tmp_path, text)

    assert [(p.line, p.path) for p in found] == [
        (2, "routes[0].notify"),
        (5, "schedules[0].timezone"),
        (7, "schedules[0].start_time"),
        (10, "escalation_policies[0].name"),
        (11, "escalation_policies[0].steps[0].timeout_minutes"),
    ]


def test_config_error_text_is_one_formatted_line_per_problem(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: monthly")
    path = write(tmp_path, text)
    problems = rejected(tmp_path, text)

    try:
        load_config(path, env={})
    except ConfigError as error:
        assert str(error).splitlines() == [p.format() for p in problems]
    else:
        raise AssertionError("the file loaded")


def test_warnings_are_formatted_with_a_warning_prefix(tmp_path: Path) -> None:
    text = BASE.replace("notify: critical", "notify: primary")
    _config, warnings = load_config(write(tmp_path, text), env={})

    assert [w.format() for w in warnings] == [
        f"{tmp_path / 'tocsin.yaml'}:{line_of(text, 'notify: primary')}: routes[0].notify: "
        "warning: route notifies schedule 'primary' directly; it has no escalation; "
        "fix: notify an escalation policy instead if an unanswered page should go further"
    ]
