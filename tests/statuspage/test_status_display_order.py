"""Display time rules the page: backdated updates after a resolve, and updates dated ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.statuspage.conftest import CONFIG, NOW, declare, update
from tocsin.errors import InvalidInput
from tocsin.statuspage import view


def page(sessions, at):
    with sessions() as session:
        return view.page(session, config=CONFIG, now=at)


def statuses(shown):
    return {c.name: c.status for c in shown.components}


def test_a_backdated_update_entered_after_the_resolve_is_returned_by_it(sessions):
    incident = declare(sessions, components={"API": "partial_outage"})
    resolved_at = NOW + timedelta(hours=1)
    update(sessions, incident, at=resolved_at, status="resolved")
    # Entered later, shown before the resolve: Checkout was never set when it resolved.
    update(sessions, incident, at=resolved_at + timedelta(minutes=10), status="monitoring",
           display_at=NOW + timedelta(minutes=30), components={"Checkout": "partial_outage"})

    during = page(sessions, NOW + timedelta(minutes=40))
    after = page(sessions, resolved_at + timedelta(minutes=10))

    assert statuses(during)["Checkout"] == "partial_outage"
    assert set(statuses(after).values()) == {"operational"}
    assert (after.indicator.indicator, after.unresolved) == ("none", [])
    (found,) = after.incidents
    assert [(a.component.name, a.old_status, a.new_status)
            for a in found.updates[0].affected] == [
        ("API", "partial_outage", "operational"),
        ("Checkout", "partial_outage", "operational")]


def test_a_backdated_update_leaves_a_later_incidents_component_alone(sessions):
    first = declare(sessions, components={"API": "partial_outage"})
    update(sessions, first, at=NOW + timedelta(hours=1), status="resolved")
    second = declare(sessions, at=NOW + timedelta(hours=2), name="Second",
                     components={"Checkout": "major_outage"})
    # The first incident's late note on Checkout predates the second's outage.
    update(sessions, first, at=NOW + timedelta(hours=3), status="monitoring",
           display_at=NOW + timedelta(minutes=30), components={"Checkout": "degraded_performance"})

    shown = page(sessions, NOW + timedelta(hours=3))

    assert statuses(shown)["Checkout"] == "major_outage"
    assert [i.id for i in shown.unresolved] == [second]


def test_a_resolve_dated_ahead_is_refused_naming_display_at(sessions):
    incident = declare(sessions, components={"API": "major_outage"})

    with pytest.raises(InvalidInput) as refused:
        update(sessions, incident, at=NOW + timedelta(minutes=5), status="resolved",
               display_at=NOW + timedelta(minutes=9))

    (problem,) = refused.value.fields
    assert problem.path == "display_at"
    assert "leave display_at out" in problem.message
    assert page(sessions, NOW + timedelta(minutes=20)).unresolved[0].id == incident


def test_an_update_dated_ahead_shows_only_when_its_time_comes(sessions):
    incident = declare(sessions, components={"API": "major_outage"})
    written = NOW + timedelta(minutes=10)
    ahead = written + timedelta(minutes=3, milliseconds=400)
    update(sessions, incident, at=written, status="monitoring", display_at=ahead,
           components={"API": "degraded_performance"})
    # A real update entered after it, shown before it, is not swallowed.
    update(sessions, incident, at=written + timedelta(minutes=1), status="identified")

    before = page(sessions, written + timedelta(minutes=2))
    due = page(sessions, written + timedelta(minutes=3))  # its whole second has come

    assert statuses(before)["API"] == "major_outage"
    (shown,) = before.incidents
    assert shown.state.status == "identified"
    assert [u.status for u in shown.updates] == ["identified", "investigating"]
    assert statuses(due)["API"] == "degraded_performance"
    assert due.incidents[0].state.status == "monitoring"


def test_a_first_update_dated_ahead_keeps_the_incident_off_the_page_until_then(sessions):
    declare(sessions, display_at=NOW + timedelta(minutes=2),
            components={"Checkout": "major_outage"})

    before = page(sessions, NOW + timedelta(minutes=1))
    due = page(sessions, NOW + timedelta(minutes=2))

    assert (before.incidents, statuses(before)["Checkout"]) == ([], "operational")
    assert statuses(due)["Checkout"] == "major_outage"
    assert len(due.unresolved) == 1
