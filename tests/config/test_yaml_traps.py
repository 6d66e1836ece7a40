"""YAML 1.1 surprises never reach the model: each value is read as its key expects."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from tests.config.helpers import BASE, errors, line_of, load, only_error


def test_unquoted_time_of_day_is_a_time_not_a_number(tmp_path: Path) -> None:
    # YAML 1.1 reads 17:00 as the sexagesimal number 1020.
    text = BASE.replace("rotation: weekly", "rotation: weekly\n    start_time: 17:00")
    config, _ = load(tmp_path, text)

    assert config.schedules["primary"].layers[0].start_time == time(17, 0)


def test_time_like_and_boolean_like_label_values_stay_strings(tmp_path: Path) -> None:
    text = BASE.replace(
        "  - notify: critical\n",
        "  - match: {window: 17:00, paging: on, canary: no, code: 0500}\n"
        "    notify: critical\n"
        "  - notify: critical\n",
    )
    config, _ = load(tmp_path, text)

    assert config.routes[0].match == {
        "window": "17:00",
        "paging": "on",
        "canary": "no",
        "code": "0500",
    }


def test_names_that_look_like_booleans_stay_names(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
teams:
  - {name: no, members: [alice]}
  - {name: on, members: [bob]}
"""
    )
    config, _ = load(tmp_path, text)

    assert set(config.teams) == {"no", "on"}


def test_a_boolean_where_a_choice_belongs_is_a_bad_value(tmp_path: Path) -> None:
    text = BASE.replace("  - notify: critical\n", "  - notify: critical\n    urgency: yes\n")
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].urgency"
    assert problem.message == "bad value 'yes': must be high or low"


def test_fractional_minutes_are_numbers(tmp_path: Path) -> None:
    text = BASE.replace("timeout_minutes: 5", "timeout_minutes: 0.05")
    config, _ = load(tmp_path, text)

    assert config.escalation_policies["critical"].steps[0].timeout_minutes == 0.05


def test_a_quoted_number_is_a_string_and_rejected_where_a_number_belongs(
    tmp_path: Path,
) -> None:
    text = BASE.replace("timeout_minutes: 5", 'timeout_minutes: "5"')
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, '"5"')
    assert problem.message == "wrong type: expected a number, got the string '5'"
    assert problem.fix == "remove the quotes: 5"


@pytest.mark.parametrize(("written", "fix"), [
    ('"five"', "write a number of minutes, like 5"),
    ("five", "write a number of minutes, like 5"),
    ('"1h"', "write timeout_minutes: 60 (1h as a plain number of minutes)"),
    ("1h", "write timeout_minutes: 60 (1h as a plain number of minutes)"),
    ('"1h 30m"', "write timeout_minutes: 90 (1h 30m as a plain number of minutes)"),
    ('"90s"', "write timeout_minutes: 1.5 (90s as a plain number of minutes)"),
    ('"${STEP_WAIT}"', "write the number itself: variables are replaced only inside strings"),
])
def test_quotes_are_blamed_only_when_the_text_inside_is_a_number(
    tmp_path: Path, written: str, fix: str,
) -> None:
    text = BASE.replace("timeout_minutes: 5", f"timeout_minutes: {written}")
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].steps[0].timeout_minutes"
    assert problem.fix == fix


def test_a_quoted_duration_in_another_unit_is_counted_in_the_keys_unit(tmp_path: Path) -> None:
    text = BASE + """\
heartbeats:
  - {name: backup, interval_minutes: "1h", key: k-backup}
notifications:
  webhook: {secret: s, timeout_seconds: "2m"}
"""
    found = errors(tmp_path, text)

    assert [(p.path, p.fix) for p in found] == [
        ("heartbeats[0].interval_minutes",
         "write interval_minutes: 60 (1h as a plain number of minutes)"),
        ("notifications.webhook.timeout_seconds",
         "write timeout_seconds: 120 (2m as a plain number of seconds)"),
    ]


def test_a_quoted_fraction_where_a_count_belongs_is_not_fixed_by_unquoting(
    tmp_path: Path,
) -> None:
    text = BASE.replace("  - name: critical\n", '  - name: critical\n    repeat: "1.5"\n')
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].repeat"
    assert "remove the quotes" not in problem.fix


@pytest.mark.parametrize(("written", "fix"), [
    ('"true"', "remove the quotes: true"),
    ('"yes"', "write true or false"),
])
def test_a_quoted_boolean_is_unquoted_only_when_it_is_true_or_false(
    tmp_path: Path, written: str, fix: str,
) -> None:
    route = f"  - notify: critical\n    continue: {written}\n"
    text = BASE.replace("  - notify: critical\n", route)
    problem = only_error(tmp_path, text)

    assert problem.path == "routes[0].continue"
    assert problem.fix == fix


def test_a_whole_number_is_required_for_counts(tmp_path: Path) -> None:
    text = BASE.replace("  - name: critical\n", "  - name: critical\n    repeat: 1.5\n")
    problem = only_error(tmp_path, text)

    assert problem.path == "escalation_policies[0].repeat"
    assert "expected a whole number" in problem.message


def test_a_date_is_read_as_a_date_and_checked(tmp_path: Path) -> None:
    good = BASE.replace("rotation: weekly", "rotation: weekly\n    start_date: 2026-01-05")
    config, _ = load(tmp_path, good)
    assert config.schedules["primary"].layers[0].start_date == date(2026, 1, 5)

    bad = BASE.replace("rotation: weekly", "rotation: weekly\n    start_date: 2026-02-30")
    problem = only_error(tmp_path, bad)
    assert problem.path == "schedules[0].start_date"
    assert problem.message == "bad date '2026-02-30'"


def test_start_day_accepts_full_and_short_names_in_any_case(tmp_path: Path) -> None:
    for written, day in (("Monday", "mon"), ("THU", "thu"), ("sunday", "sun")):
        text = BASE.replace("rotation: weekly", f"rotation: weekly\n    start_day: {written}")
        config, _ = load(tmp_path, text)
        assert config.schedules["primary"].layers[0].start_day == day


def test_a_phone_number_contact_keeps_its_plus_and_digits(tmp_path: Path) -> None:
    text = BASE.replace(
        "name: Alice}", "name: Alice, contacts: {phone: +15550100, sms: 0812345678}}"
    )
    config, _ = load(tmp_path, text)

    assert config.users["alice"].contacts == {"phone": "+15550100", "sms": "0812345678"}


def test_anchors_and_aliases_reuse_whole_values(tmp_path: Path) -> None:
    text = BASE.replace("participants: [alice, bob]", "participants: &people [alice, bob]")
    text += "teams:\n  - {name: everyone, members: *people}\n"
    config, _ = load(tmp_path, text)

    assert config.teams["everyone"].members == ("alice", "bob")


def test_a_merge_key_is_reported_plainly(tmp_path: Path) -> None:
    text = BASE.replace("  - name: primary\n", "  - <<: {timezone: UTC}\n    name: primary\n")
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, "<<")
    assert problem.path == "schedules[0].<<"
    assert problem.message == "merge keys (<<) are not supported"


def test_tags_are_ignored_and_nothing_is_constructed(tmp_path: Path) -> None:
    text = BASE + "public_url: !!python/object/apply:os.getcwd 'http://x.example'\n"
    config, _ = load(tmp_path, text)

    assert config.public_url == "http://x.example"
