"""`repeat: 1` runs the whole policy once more, the last timeout between passes."""

from __future__ import annotations

REPEATING = """
escalation_policies:
  - name: critical
    repeat: 1
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 10}
routes:
  - {notify: critical}
"""


def test_the_policy_runs_twice_then_stops(make_harness):
    harness = make_harness(REPEATING)
    harness.fire("queue-backlog")

    harness.advance(21)  # each minute through the last page
    harness.clock.advance(minutes=69)  # a page due in the hour after would go at minute 90
    harness.runtime.engine.run_due()

    assert harness.paged() == [
        (0, "alice", 1), (5, "carol", 2), (15, "alice", 1), (20, "carol", 2),
    ]


def test_the_timeline_names_the_pass(make_harness):
    harness = make_harness(REPEATING)
    alert_id = harness.fire("queue-backlog")
    harness.advance(16)

    assert any("step 1 of 2, pass 2 of 2: paging Alice" in line
               for line in harness.timeline(alert_id))
