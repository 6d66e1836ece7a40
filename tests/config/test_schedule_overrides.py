"""Overrides in the file: who, what kind, and from when to when on the UTC line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.config.helpers import BASE, errors, line_of, load, only_error, warnings_at
from tocsin.config.model import Override


def with_overrides(items: str, zone: str = "America/New_York") -> str:
    """BASE whose schedule is in `zone` and has `items` (one flow item per line)."""
    return BASE.replace(
        "rotation: weekly",
        f"timezone: {zone}\n    rotation: weekly\n    overrides:\n" + items.rstrip("\n"),
    )


def overrides(tmp_path: Path, text: str) -> tuple[Override, ...]:
    config, _ = load(tmp_path, text)
    return config.schedules["primary"].overrides


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_an_override_of_the_whole_schedule(tmp_path: Path) -> None:
    text = with_overrides("      - {user: bob, start: 2026-03-02T09:00Z, end: 2026-03-03T09:00Z}\n")

    assert overrides(tmp_path, text) == (
        Override(
            user="bob",
            start=utc(2026, 3, 2, 9),
            end=utc(2026, 3, 3, 9),
            kind="whole",
            replaces=None,
            id="config:primary:0",
        ),
    )


def test_kinds_and_ids_follow_the_list(tmp_path: Path) -> None:
    text = with_overrides(
        "      - {user: bob, start: 2026-03-02T09:00Z, end: 2026-03-03T09:00Z}\n"
        "      - {user: bob@company.com, replaces: alice@company.com,"
        " start: 2026-03-02T09:00Z, end: 2026-03-03T09:00Z}\n"
        "      - {user: erin@company.com, add: true, start: 2026-03-02T09:00Z,"
        " end: 2026-03-03T09:00Z}\n"
        "      - {user: alice, add: false, start: 2026-03-02T09:00Z, end: 2026-03-03T09:00Z}\n"
    )
    config, _ = load(tmp_path, text)
    found = config.schedules["primary"].overrides

    assert [(o.id, o.kind, o.user, o.replaces) for o in found] == [
        ("config:primary:0", "whole", "bob", None),
        ("config:primary:1", "replace", "bob", "alice"),
        ("config:primary:2", "add", "erin@company.com", None),
        ("config:primary:3", "whole", "alice", None),
    ]
    # A bare e-mail address that names nobody is an implicit user, as for participants.
    assert config.users["erin@company.com"].implicit


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-03-02T09:00Z", utc(2026, 3, 2, 9)),
        ("2026-03-02t09:00z", utc(2026, 3, 2, 9)),
        ('"2026-03-02T09:00:00+07:00"', utc(2026, 3, 2, 2)),
        ("2026-03-02T09:00-05:00", utc(2026, 3, 2, 14)),
        # No offset: the schedule's zone (New York, EST in early March).
        ("2026-03-02T09:00", utc(2026, 3, 2, 14)),
        ('"2026-03-02 09:00"', utc(2026, 3, 2, 14)),
        # Spring forward: 02:30 never happens, so it moves to the gap's end, 03:00 EDT.
        ("2026-03-08T02:30", utc(2026, 3, 8, 7)),
        # Fall back: 01:30 happens twice; the first one is EDT.
        ("2026-11-01T01:30", utc(2026, 11, 1, 5, 30)),
        # A date alone is 00:00 local.
        ("2026-03-02", utc(2026, 3, 2, 5)),
        ("2026-07-02", utc(2026, 7, 2, 4)),
    ],
)
def test_start_times_as_the_command_line_reads_them(
    tmp_path: Path, written: str, expected: datetime
) -> None:
    text = with_overrides(f"      - {{user: bob, start: {written}, end: 2027-01-01}}\n")
    start = overrides(tmp_path, text)[0].start

    assert start == expected
    assert start.tzinfo is UTC


def test_local_times_use_the_schedules_zone_not_the_files(tmp_path: Path) -> None:
    text = "timezone: Europe/London\n" + with_overrides(
        "      - {user: bob, start: 2026-03-02T09:00, end: 2026-03-03T09:00}\n",
        zone="Asia/Bangkok",
    )

    assert overrides(tmp_path, text)[0].start == utc(2026, 3, 2, 2)


def test_without_a_schedule_zone_local_times_use_the_files(tmp_path: Path) -> None:
    text = "timezone: Asia/Bangkok\n" + BASE.replace(
        "rotation: weekly",
        "rotation: weekly\n    overrides:\n"
        "      - {user: bob, start: 2026-03-02T09:00, end: 2026-03-03T09:00}",
    )

    assert overrides(tmp_path, text)[0].start == utc(2026, 3, 2, 2)


def test_add_with_replaces_is_an_error(tmp_path: Path) -> None:
    text = with_overrides(
        "      - user: bob\n"
        "        replaces: alice\n"
        "        add: true\n"
        "        start: 2026-03-02T09:00\n"
        "        end: 2026-03-03T09:00\n"
    )
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (
        line_of(text, "add: true"),
        "schedules[0].overrides[0].add",
    )
    assert problem.message.startswith("add: true cannot be combined with replaces")


def test_end_must_be_after_start(tmp_path: Path) -> None:
    text = with_overrides(
        "      - user: bob\n        start: 2026-03-02T09:00\n        end: 2026-03-02T14:00Z\n"
    )
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (
        line_of(text, "end: 2026"),
        "schedules[0].overrides[0].end",
    )
    # Local 09:00 in New York is 14:00Z: the same instant, so nothing is covered.
    assert problem.message == (
        "end (2026-03-02T09:00-05:00) is not after start (2026-03-02T09:00-05:00)"
    )
    assert problem.fix.startswith("make end later than start")


@pytest.mark.parametrize(
    ("item", "path", "message"),
    [
        (
            "{start: 2026-03-02, end: 2026-03-03}",
            "schedules[0].overrides[0].user",
            "missing required key 'user'",
        ),
        (
            "{user: bob, end: 2026-03-03}",
            "schedules[0].overrides[0].start",
            "missing required key 'start'",
        ),
        (
            "{user: bob, start: 2026-03-02}",
            "schedules[0].overrides[0].end",
            "missing required key 'end'",
        ),
        (
            "{user: bobby, start: 2026-03-02, end: 2026-03-03}",
            "schedules[0].overrides[0].user",
            "unknown user 'bobby': no user has that name",
        ),
        (
            "{user: critical, start: 2026-03-02, end: 2026-03-03}",
            "schedules[0].overrides[0].user",
            "'critical' is an escalation policy (line ",
        ),
        (
            "{user: bob, replaces: alicia, start: 2026-03-02, end: 2026-03-03}",
            "schedules[0].overrides[0].replaces",
            "unknown user 'alicia': no user has that name",
        ),
        (
            "{user: bob, start: next monday, end: 2026-03-03}",
            "schedules[0].overrides[0].start",
            "bad time 'next monday'",
        ),
        (
            "{user: bob, start: 2026-02-30, end: 2026-03-03}",
            "schedules[0].overrides[0].start",
            "bad time '2026-02-30'",
        ),
        (
            "{user: bob, start: 2026-03-02, end: 2026-03-03T25:00}",
            "schedules[0].overrides[0].end",
            "bad time '2026-03-03T25:00'",
        ),
        (
            "{user: bob, start: 0001-01-01, end: 2026-03-03}",
            "schedules[0].overrides[0].start",
            "bad time '0001-01-01'",
        ),
        (
            "{user: bob, add: yes, start: 2026-03-02, end: 2026-03-03}",
            "schedules[0].overrides[0].add",
            "wrong type: expected true or false, got 'yes'",
        ),
        (
            '{user: bob, add: "true", start: 2026-03-02, end: 2026-03-03}',
            "schedules[0].overrides[0].add",
            "wrong type: expected true or false, got the string 'true'",
        ),
        (
            "{user: bob, who: alice, start: 2026-03-02, end: 2026-03-03}",
            "schedules[0].overrides[0].who",
            "unknown key 'who'",
        ),
    ],
)
def test_bad_overrides_name_their_field(tmp_path: Path, item: str, path: str, message: str) -> None:
    text = with_overrides(f"      - {item}\n")
    problem = only_error(tmp_path, text)

    assert (problem.line, problem.path) == (line_of(text, item), path)
    assert problem.message.startswith(message)
    assert problem.fix


def test_a_bad_time_says_which_forms_work(tmp_path: Path) -> None:
    text = with_overrides("      - {user: bob, start: tomorrow, end: 2026-03-03}\n")

    assert only_error(tmp_path, text).fix == (
        "write ISO 8601: 2026-03-02T09:00 (the schedule's zone), 2026-03-02T09:00Z, "
        "2026-03-02T09:00+07:00, or a date alone for 00:00"
    )


def test_replacing_someone_outside_every_layer_is_a_warning(tmp_path: Path) -> None:
    text = with_overrides(
        "      - {user: bob, replaces: carol@company.com, start: 2026-03-02, end: 2026-03-03}\n"
    )
    config, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "schedules[0].overrides[0].replaces") == [
        "'carol@company.com' is not a participant of any layer of this schedule, "
        "so this override never takes effect"
    ]
    assert config.schedules["primary"].overrides[0].replaces == "carol@company.com"


def test_replacing_a_participant_of_any_layer_is_fine(tmp_path: Path) -> None:
    text = BASE.replace(
        "    rotation: weekly\n    participants: [alice, bob]\n",
        "    layers:\n"
        "      - {rotation: weekly, participants: [alice]}\n"
        "      - {rotation: daily, participants: [bob]}\n"
        "    overrides:\n"
        "      - {user: alice, replaces: bob@company.com, start: 2026-03-02, end: 2026-03-03}\n",
    )
    _, warnings = load(tmp_path, text)

    assert warnings == []


def test_replacing_oneself_is_a_warning(tmp_path: Path) -> None:
    text = with_overrides(
        "      - {user: alice, replaces: alice@company.com, start: 2026-03-02, end: 2026-03-03}\n"
    )
    _, warnings = load(tmp_path, text)

    assert warnings_at(warnings, "schedules[0].overrides[0].replaces") == [
        "'alice' replaces themselves, so this override changes nothing"
    ]


def test_an_empty_overrides_list_is_no_overrides(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: weekly\n    overrides: []")

    assert overrides(tmp_path, text) == ()


def test_every_bad_override_is_reported(tmp_path: Path) -> None:
    text = with_overrides(
        "      - {user: bobby, start: 2026-03-02, end: 2026-03-03}\n"
        "      - {user: bob, start: 2026-03-03, end: 2026-03-02}\n"
    )
    found = errors(tmp_path, text)

    assert [p.path for p in found] == [
        "schedules[0].overrides[0].user",
        "schedules[0].overrides[1].end",
    ]


def test_add_with_replaces_does_not_hide_the_other_problems(tmp_path: Path) -> None:
    text = with_overrides(
        "      - {user: bob, replaces: alice, add: true, start: 2026-03-03, end: 2026-03-02}\n"
    )
    found = errors(tmp_path, text)

    assert [p.path for p in found] == [
        "schedules[0].overrides[0].add",
        "schedules[0].overrides[0].end",
    ]
