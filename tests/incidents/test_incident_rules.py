"""Pure incident rules: ids, the order of the timeline and the clocks it gives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tocsin.config.model import IncidentSettings, Stakeholders
from tocsin.incidents import rules
from tocsin.incidents.rules import TimelineEntry

START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@dataclass
class Incident:
    impact_start: datetime = START


def entry(minute: float, kind: str, entry_id: int | None = 1, **data: Any) -> TimelineEntry:
    when = START + timedelta(minutes=minute)
    return TimelineEntry(id=entry_id, kind=kind, text=kind, actor="bob", occurred_at=when,
                         recorded_at=when, data=data)


@pytest.mark.parametrize(("key", "number"), [
    ("INC-142", 142), ("inc142", 142), (" 7 ", 7), ("INC-0", 0), ("INC-x", None),
    ("142a", None), ("", None), ("INC--1", None),
])
def test_incident_keys(key: str, number: int | None) -> None:
    assert rules.parse_key(key) == number


def test_clocks_come_from_the_timeline() -> None:
    entries = [entry(0, "declared"), entry(4, "acknowledged", None), entry(9, "acknowledged"),
               entry(20, "mitigated"), entry(45, "status", status="resolved")]
    found = rules.clocks(Incident(), entries)
    assert (found.time_to_acknowledge, found.time_to_mitigate, found.duration) == (
        timedelta(minutes=4), timedelta(minutes=20), timedelta(minutes=45))


def test_a_reopened_incident_is_open_until_its_next_resolve() -> None:
    entries = [entry(10, "status", status="resolved"), entry(15, "status", status="monitoring")]
    assert rules.clocks(Incident(), entries).duration is None
    entries.append(entry(50, "status", status="resolved"))
    found = rules.clocks(Incident(), entries)
    assert found.duration == timedelta(minutes=50)
    # Never marked mitigated: it was by the time it was resolved.
    assert found.time_to_mitigate == timedelta(minutes=10)


def test_a_moved_impact_start_moves_every_clock() -> None:
    earlier = Incident(START - timedelta(minutes=30))
    entries = [entry(-40, "note"), entry(5, "acknowledged"), entry(10, "status",
                                                                   status="resolved")]
    found = rules.clocks(earlier, entries)
    assert (found.time_to_acknowledge, found.duration) == (
        timedelta(minutes=35), timedelta(minutes=40))
    # An acknowledgement before the impact start (an old alert linked later) is not one.
    late = Incident(START + timedelta(minutes=7))
    assert rules.clocks(late, entries).time_to_acknowledge is None
    assert rules.clocks(late, entries).duration == timedelta(minutes=3)


def test_the_timeline_is_ordered_by_when_it_happened_then_as_recorded() -> None:
    backdated = entry(-5, "note", entry_id=9)
    ordered = rules.ordered([entry(0, "declared", 1), entry(0, "acknowledged", None),
                             entry(0, "role", 2), backdated])
    assert [(e.kind, e.id) for e in ordered] == [
        ("note", 9), ("declared", 1), ("role", 2), ("acknowledged", None)]
    assert backdated.editable and not ordered[1].editable


def test_stakeholders_match_by_service_and_severity() -> None:
    settings = IncidentSettings(stakeholders=(
        Stakeholders(services=("payment",), slack_channels=("C1",)),
        Stakeholders(severities=("SEV1",), slack_channels=("C2",)),
        Stakeholders(slack_channels=("C3",)),
    ))
    def told(services: tuple[str, ...], severity: str) -> list[str]:
        return [s.slack_channels[0] for s in rules.stakeholders_for(settings, services,
                                                                     severity)]

    assert told(("payment",), "SEV2") == ["C1", "C3"]
    assert told(("search",), "sev1") == ["C2", "C3"]
    assert told((), "SEV3") == ["C3"]
