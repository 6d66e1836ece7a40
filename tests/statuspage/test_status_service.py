"""Public incidents written on purpose, on SQLite and PostgreSQL: state, components, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.statuspage.conftest import CONFIG, NOW, declare, update, window, with_windows
from tocsin.audit import AuditEntry
from tocsin.errors import InvalidInput, NotFound
from tocsin.statuspage import view


def page(sessions, at=NOW, config=CONFIG, internal=False):
    with sessions() as session:
        return view.page(session, config=config, now=at, internal=internal)


def statuses(shown):
    return {c.name: c.status for c in shown.components}


def test_an_incident_moving_through_its_updates_changes_components_and_groups(sessions):
    t = [NOW + timedelta(minutes=m) for m in (0, 10, 20, 30)]
    incident = declare(sessions, components={"API": "major_outage"})
    first = page(sessions, t[0])
    update(sessions, incident, at=t[1], status="identified",
           components={"api": "partial_outage", "Web": "degraded_performance"})
    second = page(sessions, t[1])
    update(sessions, incident, at=t[2], status="monitoring", components={"API": "operational"})
    third = page(sessions, t[2])
    update(sessions, incident, at=t[3], status="resolved")
    last = page(sessions, t[3])

    assert statuses(first)["API"] == "major_outage"
    assert (first.groups[0].name, first.groups[0].status) == ("Core", "major_outage")
    assert first.indicator.indicator == "critical"
    assert statuses(second) == {"API": "partial_outage", "Web": "degraded_performance",
                                "Checkout": "operational"}
    assert (second.groups[0].status, second.indicator.indicator) == ("partial_outage", "major")
    assert third.groups[0].status == "degraded_performance"
    assert third.indicator.indicator == "major"  # the open incident's impact
    # The resolve returned Web, which this incident left degraded, to operational.
    assert set(statuses(last).values()) == {"operational"}
    assert (last.indicator.indicator, last.unresolved) == ("none", [])
    (shown,) = last.incidents
    assert [u.status for u in shown.updates] == ["resolved", "monitoring", "identified",
                                                 "investigating"]
    assert [(a.component.name, a.old_status, a.new_status) for a in shown.updates[0].affected] \
        == [("Web", "degraded_performance", "operational")]
    assert shown.state.resolved_at == t[3]


def test_updates_entered_out_of_order_follow_their_display_times(sessions):
    incident = declare(sessions, components={"Checkout": "major_outage"})
    later = NOW + timedelta(hours=1)
    update(sessions, incident, at=later, status="resolved")
    # Entered after the resolve, shown before it: it must not reopen the incident.
    update(sessions, incident, at=later + timedelta(minutes=5), status="identified",
           display_at=NOW + timedelta(minutes=20), components={"Checkout": "partial_outage"})

    shown = page(sessions, later + timedelta(minutes=5))

    (found,) = shown.incidents
    assert (found.state.status, found.state.resolved_at) == ("resolved", later)
    assert [u.status for u in found.updates] == ["resolved", "identified", "investigating"]
    assert statuses(shown)["Checkout"] == "operational"
    assert [(a.old_status, a.new_status) for a in found.updates[1].affected] == \
        [("major_outage", "partial_outage")]
    assert [(a.old_status, a.new_status) for a in found.updates[0].affected] == \
        [("partial_outage", "operational")]


def test_a_resolve_leaves_a_component_another_incident_set_since(sessions):
    first = declare(sessions, components={"API": "partial_outage"})
    declare(sessions, at=NOW + timedelta(minutes=5), name="Second",
            components={"API": "major_outage"})
    update(sessions, first, at=NOW + timedelta(minutes=10), status="resolved")

    assert statuses(page(sessions, NOW + timedelta(minutes=10)))["API"] == "major_outage"


def test_internal_components_stay_off_the_public_view(sessions):
    declare(sessions, components={"Billing worker": "major_outage", "API": "degraded_performance"})

    public, internal = page(sessions), page(sessions, internal=True)

    assert "Billing worker" not in statuses(public)
    assert public.indicator.indicator == "major"  # impact major, from the incident
    assert [a.component.name for a in public.incidents[0].updates[0].affected] == ["API"]
    assert statuses(internal)["Billing worker"] == "major_outage"


def test_maintenance_windows_show_on_components_of_their_services(sessions):
    config = with_windows(
        window("db", ("payment",), timedelta(hours=-1), timedelta(hours=1), "Database upgrade"),
        window("soon", ("checkout",), timedelta(hours=2), timedelta(hours=3)),
        window("hidden", ("billing",), timedelta(hours=-1), timedelta(hours=1)))

    shown = page(sessions, config=config)
    after = page(sessions, NOW + timedelta(hours=4), config=config)

    assert statuses(shown)["API"] == "under_maintenance"
    assert shown.groups[0].status == "under_maintenance"
    assert shown.indicator.indicator == "maintenance"
    assert [(m.name, m.status) for m in shown.maintenances] == [
        ("Scheduled maintenance: API", "in_progress"),
        ("Scheduled maintenance: Checkout", "scheduled")]
    assert [(m.name, m.status) for m in after.maintenances] == [
        ("Scheduled maintenance: API", "completed"),
        ("Scheduled maintenance: Checkout", "completed")]
    assert statuses(after)["API"] == "operational"


def test_an_outage_shows_through_maintenance(sessions):
    config = with_windows(window("db", ("payment",), timedelta(hours=-1), timedelta(hours=1)))
    declare(sessions, config=config, components={"API": "major_outage"})

    assert statuses(page(sessions, config=config))["API"] == "major_outage"


def test_each_write_leaves_an_audit_row(sessions):
    incident = declare(sessions, incident_id=142)
    update(sessions, incident, at=NOW + timedelta(minutes=1), status="monitoring")

    with sessions() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(r.actor, r.action, r.object_id) for r in rows] == [
        ("ann", "status_incident.create", str(incident)),
        ("ben", "status_incident.update", str(incident))]
    assert rows[0].after["incident_id"] == 142
    assert (rows[1].before["status"], rows[1].after["status"]) == ("investigating", "monitoring")


def test_bad_input_names_every_field(sessions):
    with pytest.raises(InvalidInput) as caught:
        declare(sessions, name="", impact="huge", status="fixed", body="\x00",
                components={"Nope": "operational", "API": "broken"}, incident_id="INC-1",
                display_at=NOW + timedelta(hours=1))

    assert sorted(p.path for p in caught.value.fields) == [
        "body", "components.API", "components.Nope", "display_at", "impact", "incident_id",
        "name", "status"]


def test_an_update_to_a_missing_incident_is_not_found(sessions):
    with pytest.raises(NotFound):
        update(sessions, 99, at=NOW, status="resolved")
