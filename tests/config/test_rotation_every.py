"""`rotation: {every: N}`: hours elapsed, days or weeks on the wall clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.helpers import BASE, errors, line_of, load, only_error, warnings_at
from tocsin.config.model import Layer


def every(length: str, extra: str = "") -> str:
    return BASE.replace("rotation: weekly", f"rotation: {{every: {length}}}{extra}")


@pytest.mark.parametrize(
    ("written", "kind", "count"),
    [("12h", "hours", 12), ("3d", "days", 3), ("2w", "weeks", 2), ("1h", "hours", 1),
     ("52w", "weeks", 52)],
)
def test_every_reads_its_unit_and_count(
    tmp_path: Path, written: str, kind: str, count: int,
) -> None:
    config, _ = load(tmp_path, every(written))

    (layer,) = config.schedules["primary"].layers
    assert (layer.rotation, layer.every) == (kind, count)
    assert layer == Layer(rotation=kind, participants=("alice", "bob"), name="rotation",
                          every=count)  # type: ignore[arg-type]


@pytest.mark.parametrize("written", ["12", "12m", "h", "twelve hours", "1.5d", "-2w"])
def test_a_length_without_a_unit_names_the_forms(tmp_path: Path, written: str) -> None:
    problem = only_error(tmp_path, every(f'"{written}"'))

    assert problem.path == "schedules[0].rotation.every"
    assert problem.message == f"'{written}' is not a rotation length"
    assert "every: 12h (hours, elapsed)" in problem.fix


@pytest.mark.parametrize(("written", "fix"), [("0h", "use 1 to 8784 hours"),
                                               ("367d", "use 1 to 366 days"),
                                               ("53w", "use 1 to 52 weeks")])
def test_lengths_out_of_range_are_refused(tmp_path: Path, written: str, fix: str) -> None:
    problem = only_error(tmp_path, every(written))

    assert problem.fix == fix


def test_a_misspelt_key_in_the_mapping_is_reported(tmp_path: Path) -> None:
    text = BASE.replace("rotation: weekly", "rotation: {evry: 12h}")
    found = errors(tmp_path, text)

    assert all(problem.line == line_of(text, "evry") for problem in found)
    assert "did you mean 'every'?" in [problem.fix for problem in found]


def test_restrictions_on_a_rotation_by_hours_are_refused(tmp_path: Path) -> None:
    text = every("12h", '\n    restrictions: [{from: "09:00", to: "17:00"}]')
    problem = only_error(tmp_path, text)

    assert problem.path == "schedules[0].restrictions"
    assert "rotation by hours" in problem.message
    assert "daily rotation with restrictions" in problem.fix


def test_restrictions_on_a_rotation_by_days_are_kept(tmp_path: Path) -> None:
    text = every("2d", '\n    restrictions: [{from: "09:00", to: "17:00"}]')
    config, _ = load(tmp_path, text)

    (layer,) = config.schedules["primary"].layers
    assert layer.rotation == "days"
    assert len(layer.restrictions) == 1


def test_start_day_is_used_by_weeks_and_warned_about_for_days(tmp_path: Path) -> None:
    _, quiet = load(tmp_path, every("2w", "\n    start_day: tuesday"))
    _, warned = load(tmp_path, every("3d", "\n    start_day: tuesday"))

    assert warnings_at(quiet, "schedules[0].start_day") == []
    assert warnings_at(warned, "schedules[0].start_day") == [
        "start_day has no effect on a rotation by days"
    ]
