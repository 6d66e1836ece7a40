"""An acknowledgement left alone lapses and the alert re-triggers at its step."""

from __future__ import annotations

LAPSING = """
escalation_policies:
  - name: critical
    ack_timeout_minutes: 30
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
routes:
  - {notify: critical}
"""


def test_lapsed_ack_pages_the_current_step_again(make_harness):
    harness = make_harness(LAPSING)
    alert_id = harness.fire("api-500s")
    harness.advance(6)
    harness.ack(alert_id, actor="carol")

    harness.advance(29)
    assert harness.alert(alert_id).status == "acknowledged"
    harness.advance(1)

    assert harness.alert(alert_id).status == "triggered"
    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2), (36, "carol", 2)]


def test_resolve_cancels_the_lapse(make_harness):
    harness = make_harness(LAPSING)
    alert_id = harness.fire("api-500s")
    harness.ack(alert_id)
    harness.resolve(alert_id)

    harness.advance(60)

    assert harness.alert(alert_id).status == "resolved"
    assert harness.paged() == [(0, "alice", 1)]
