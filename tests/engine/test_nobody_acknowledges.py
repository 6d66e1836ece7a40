"""Nobody acknowledges: every step is paged at its minute, then the policy ends."""

from __future__ import annotations

FOUR_STEPS = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
      - {targets: [dave], timeout_minutes: 10}
      - {targets: [erin], timeout_minutes: 0}
routes:
  - {match: {severity: critical}, notify: critical}
  - {notify: primary}
"""


def test_steps_two_three_and_four_page_at_their_minutes(make_harness):
    harness = make_harness(FOUR_STEPS)
    alert_id = harness.fire("disk-full", severity="critical")

    harness.advance(60)

    assert harness.paged() == [
        (0, "alice", 1), (5, "carol", 2), (10, "dave", 3), (20, "erin", 4),
    ]
    alert = harness.alert(alert_id)
    assert alert.status == "triggered"
    assert alert.step == 3


def test_each_step_is_on_the_alert_timeline(make_harness):
    harness = make_harness(FOUR_STEPS)
    alert_id = harness.fire("disk-full", severity="critical")
    harness.advance(25)

    timeline = harness.timeline(alert_id)

    escalations = [line for line in timeline if line.startswith("escalated")]
    assert len(escalations) == 4
    assert "step 1 of 4: paging Alice" in escalations[0]
    assert "step 4 of 4: paging Erin" in escalations[3]
    assert any(line.startswith("notification: notified Carol via webhook") for line in timeline)


def test_the_console_shows_every_page_too(make_harness):
    harness = make_harness(FOUR_STEPS)
    harness.fire("disk-full", severity="critical")
    harness.advance(10)

    assert [user for _, user, _ in harness.paged("console")] == ["alice", "carol", "dave"]


def test_a_low_route_notifying_a_schedule_pages_once(make_harness):
    harness = make_harness(FOUR_STEPS)
    harness.fire("slow-disk", severity="warning")
    harness.advance(30)

    assert harness.paged() == [(0, "alice", 1)]
