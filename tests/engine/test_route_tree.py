"""Alerts take the routing tree: nested routes, active windows, the service catalog."""

from __future__ import annotations

ROUTES = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
  - name: office
    steps:
      - {targets: [secondary], timeout_minutes: 0}
routes:
  - match: {service: payment}
    notify: critical
    routes:
      - match: {severity: warning}
        notify: office
        active: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}
  - notify: critical
"""


def test_an_active_nested_route_pages_in_office_hours_only(make_harness):
    harness = make_harness(ROUTES)
    harness.clock.set(harness.clock.now().replace(hour=3, minute=0))  # Monday 03:00 UTC

    night = harness.fire("disk-night", severity="warning")
    harness.clock.set(harness.clock.now().replace(hour=10, minute=0))
    day = harness.fire("disk-day", severity="warning")

    assert [user for _minute, user, _step in harness.paged()] == ["alice", "carol"]
    assert harness.alert(night).route.startswith("routes[0] (line ")
    assert harness.alert(day).route.startswith("routes[0].routes[0] (line ")
    assert any(line.startswith("routed: routes[0].routes[0] matched (matched severity=warning)")
               for line in harness.timeline(day))


def test_a_severity_change_reroutes_through_the_tree(make_harness):
    harness = make_harness(ROUTES)
    harness.clock.set(harness.clock.now().replace(hour=10, minute=0))

    alert_id = harness.fire("latency", severity="critical")
    harness.fire("latency", severity="warning")

    alert = harness.alert(alert_id)
    assert alert.policy == "office"
    assert any(line.startswith("rerouted: routes[0].routes[0] matched") for line in
               harness.timeline(alert_id))
