"""Restrictions: the local windows in which a layer puts someone on call."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from tests.config.helpers import BASE, errors, line_of, load, only_error
from tocsin.config.model import Restriction


def restricted(windows: str) -> str:
    """BASE with `windows` (one flow item per line) as its single layer's restrictions."""
    return BASE.replace(
        "rotation: weekly", "rotation: weekly\n    restrictions:\n" + windows.rstrip("\n")
    )


def built(tmp_path: Path, text: str, layer: int = 0) -> tuple[Restriction, ...]:
    config, _ = load(tmp_path, text)
    return config.schedules["primary"].layers[layer].restrictions


def test_weekday_office_hours(tmp_path: Path) -> None:
    text = restricted('      - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}\n')

    assert built(tmp_path, text) == (
        Restriction(time(9), time(17), ("mon", "tue", "wed", "thu", "fri")),
    )


def test_overnight_window_is_allowed_and_kept_as_written(tmp_path: Path) -> None:
    text = restricted('      - {from: "22:00", to: "06:00"}\n')

    assert built(tmp_path, text) == (Restriction(time(22), time(6), ()),)


def test_without_days_a_window_is_every_day(tmp_path: Path) -> None:
    text = restricted('      - {from: "09:00", to: "17:00"}\n')

    assert built(tmp_path, text)[0].days == ()


def test_day_spellings_are_those_start_day_accepts(tmp_path: Path) -> None:
    # Listed out of order and twice: kept once each, in week order.
    text = restricted('      - {days: [Friday, mon, Wed, monday], from: "09:00", to: "17:00"}\n')

    assert built(tmp_path, text)[0].days == ("mon", "wed", "fri")


def test_unquoted_times_are_times_of_day(tmp_path: Path) -> None:
    # YAML 1.1 would read 17:00 as the number 1020.
    text = restricted("      - {from: 09:00, to: 17:00}\n")

    assert built(tmp_path, text) == (Restriction(time(9), time(17)),)


def test_several_windows_keep_their_order(tmp_path: Path) -> None:
    text = restricted(
        '      - {days: [sat], from: "10:00", to: "14:00"}\n'
        '      - {days: [mon], from: "09:00", to: "12:00"}\n'
    )

    assert [window.days for window in built(tmp_path, text)] == [("sat",), ("mon",)]


def test_restrictions_per_layer(tmp_path: Path) -> None:
    text = BASE.replace(
        "    rotation: weekly\n    participants: [alice, bob]\n",
        "    layers:\n"
        "      - {rotation: weekly, participants: [alice]}\n"
        "      - rotation: daily\n"
        "        participants: [bob]\n"
        "        restrictions:\n"
        "          - {days: [sun], from: 22:00, to: 06:00}\n",
    )

    assert built(tmp_path, text, 0) == ()
    assert built(tmp_path, text, 1) == (Restriction(time(22), time(6), ("sun",)),)


def test_from_equal_to_is_an_error(tmp_path: Path) -> None:
    text = restricted('      - {days: [mon], from: "09:00", to: "09:00"}\n')
    problem = only_error(tmp_path, text)

    assert problem.line == line_of(text, 'to: "09:00"')
    assert problem.path == "schedules[0].restrictions[0].to"
    assert problem.message == (
        "from and to are both 09:00, so the window is either empty or the whole day"
    )
    assert problem.fix.startswith(
        "remove the restriction to be on call all day, or pick different times"
    )


def test_from_and_to_are_required(tmp_path: Path) -> None:
    text = restricted("      - {days: [mon]}\n")
    found = errors(tmp_path, text)

    line = line_of(text, "days: [mon]")
    assert [(p.line, p.path, p.message) for p in found] == [
        (line, "schedules[0].restrictions[0].from", "missing required key 'from'"),
        (line, "schedules[0].restrictions[0].to", "missing required key 'to'"),
    ]
    assert found[0].fix == 'add from: "09:00"'


@pytest.mark.parametrize(
    ("window", "path", "message"),
    [
        (
            '{days: [mon, funday], from: "09:00", to: "17:00"}',
            "schedules[0].restrictions[0].days[1]",
            "bad day 'funday'",
        ),
        (
            '{from: "9am", to: "17:00"}',
            "schedules[0].restrictions[0].from",
            "bad time of day '9am': must be HH:MM from 00:00 to 23:59",
        ),
        (
            '{from: "09:00", to: "24:00"}',
            "schedules[0].restrictions[0].to",
            "bad time of day '24:00': must be HH:MM from 00:00 to 23:59",
        ),
        (
            '{days: [], from: "09:00", to: "17:00"}',
            "schedules[0].restrictions[0].days",
            "the list is empty",
        ),
        (
            '{from: "09:00", until: "17:00"}',
            "schedules[0].restrictions[0].until",
            "unknown key 'until'",
        ),
    ],
)
def test_bad_windows_name_their_field(tmp_path: Path, window: str, path: str, message: str) -> None:
    text = restricted(f"      - {window}\n")
    found = errors(tmp_path, text)

    assert (found[0].line, found[0].path, found[0].message) == (
        line_of(text, window),
        path,
        message,
    )


def test_an_empty_restrictions_list_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: weekly\n    restrictions: []")
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].restrictions"
    assert problem.fix == (
        "list at least one window, or remove restrictions to be on call all the time"
    )


def test_a_window_must_be_a_mapping(tmp_path: Path) -> None:
    text = restricted('      - "09:00-17:00"\n')
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].restrictions[0]"
    assert problem.message.startswith("wrong type: expected a mapping of keys")
