"""Which gaps a notice is due for, and who hears of them: pure, with plain values."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tocsin.config.loader import load_config
from tocsin.config.model import Config
from tocsin.oncall.coverage import Gap, audience, gaps_to_notice
from tocsin.oncall.rules import Shift

NOW = datetime(2026, 3, 2, 3, tzinfo=UTC)


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def covered(*spans: tuple[float, float]) -> list[Shift]:
    return [Shift("ann", at(a), at(b), "rotation") for a, b in spans]


def test_a_gap_within_the_days_is_due_and_one_further_out_is_not():
    shifts = covered((-24, 10), (20, 80), (90, 400))

    assert gaps_to_notice(shifts, NOW, 3) == [Gap(at(10), at(20))]
    assert gaps_to_notice(shifts, NOW, 4) == [Gap(at(10), at(20)), Gap(at(80), at(90))]


def test_a_gap_under_way_is_due_once_it_began_within_the_day_looked_back():
    assert gaps_to_notice(covered((-24, -2), (5, 400)), NOW, 3) == [Gap(at(-2), at(5))]
    # Begun before the day looked back: its start is unknown, so it gets no name.
    assert gaps_to_notice(covered((5, 400)), NOW, 3) == []


def test_a_gap_past_the_14_days_has_an_open_end_and_a_stable_key():
    shifts = covered((-24, 30))
    first = gaps_to_notice(shifts, NOW, 3)
    later = gaps_to_notice(shifts, NOW + timedelta(hours=1), 3)

    assert first == [Gap(at(30), None)] == later
    assert first[0].key == "2026-03-03T09:00:00Z/open"


def test_a_finished_gap_is_not_due():
    assert gaps_to_notice(covered((-24, -10), (-5, 400)), NOW, 3) == []


def test_the_key_names_both_ends():
    assert Gap(at(10), at(20)).key == "2026-03-02T13:00:00Z/2026-03-02T23:00:00Z"


CONFIG = """
users: [{id: ann}, {id: ben}, {id: cat}, {id: dan}, {id: eve}]
teams:
  - {name: ops, members: [cat, dan], services: [api]}
  - {name: web, members: [eve, cat]}
  - {name: empty, members: []}
services:
  - {name: api, escalation_policy: policy}
  - {name: site, escalation_policy: policy, team: web}
schedules:
  - {name: named, rotation: daily, participants: [ann, ben], team: web}
  - {name: paged, rotation: daily, participants: [ann, ben]}
  - {name: alone, rotation: daily, participants: [ben, ann, ben]}
  - {name: nobody, rotation: daily, participants: [ann], team: empty}
escalation_policies:
  - name: policy
    steps: [{targets: [paged], timeout_minutes: 5}, {targets: [alone], timeout_minutes: 0}]
routes:
  - notify: policy
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "tocsin.yaml"
    path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return load_config(path)[0]


@pytest.mark.parametrize(("schedule", "expected"), [
    ("named", ("eve", "cat")),  # its own team
    ("paged", ("cat", "dan", "eve")),  # ops lists the service; web is the service's team
    ("alone", ("cat", "dan", "eve")),  # any step of the policy counts
    ("nobody", ("ann",)),  # a team with nobody in it: the participants
])
def test_who_hears_of_a_schedules_gaps(config, schedule, expected):
    assert audience(config, config.schedules[schedule]) == expected


def test_without_a_team_or_a_service_the_participants_hear(config, tmp_path):
    text = CONFIG.replace("    steps: [{targets: [paged], timeout_minutes: 5}, "
                          "{targets: [alone], timeout_minutes: 0}]",
                          "    steps: [{targets: [paged], timeout_minutes: 0}]")
    path = tmp_path / "other.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    other = load_config(path)[0]

    assert audience(other, other.schedules["alone"]) == ("ben", "ann")
