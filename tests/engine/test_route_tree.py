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


def test_a_raised_severity_starts_the_new_policy_when_the_old_one_has_run_out(make_harness):
    # Found by a trial user: a warning paged erin (one step, then nothing);
    # the same alert turning critical must page the critical policy.
    harness = make_harness("""
escalation_policies:
  - name: critical
    steps:
      - {targets: [bob], timeout_minutes: 5}
      - {targets: [carol], timeout_minutes: 0}
routes:
  - {match: {severity: critical}, notify: critical}
  - {notify: erin}
""")
    alert_id = harness.fire("disk-db-9", severity="warning")
    harness.advance(2)
    harness.fire("disk-db-9", severity="critical")
    harness.advance(6)

    assert [(minute, user) for minute, user, _step in harness.paged()] == [
        (0, "erin"), (2, "bob"), (7, "carol")]
    assert any("no step was waiting; critical starts now" in line
               for line in harness.timeline(alert_id))


def test_a_raised_severity_mid_escalation_leaves_the_waiting_step_alone(make_harness):
    harness = make_harness("""
escalation_policies:
  - name: slow
    steps:
      - {targets: [erin], timeout_minutes: 10}
      - {targets: [dave], timeout_minutes: 0}
  - name: critical
    steps:
      - {targets: [bob], timeout_minutes: 5}
      - {targets: [carol], timeout_minutes: 0}
routes:
  - {match: {severity: critical}, notify: critical}
  - {notify: slow}
""")
    harness.fire("latency", severity="warning")
    harness.advance(2)
    harness.fire("latency", severity="critical")
    harness.advance(10)

    # Step 2 was already waiting (due at minute 10): it runs from the new policy.
    assert [(minute, user) for minute, user, _step in harness.paged()] == [
        (0, "erin"), (10, "carol")]
