"""An acknowledgement after step 2 stops everything after it."""

from __future__ import annotations

import pytest

from tocsin.errors import Conflict

POLICY = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
      - {targets: [dave], timeout_minutes: 10}
routes:
  - {notify: critical}
"""


def test_ack_after_step_two_stops_step_three(make_harness):
    harness = make_harness(POLICY)
    alert_id = harness.fire("api-500s")
    harness.advance(7)

    harness.ack(alert_id, actor="carol")
    harness.advance(60)

    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2)]
    alert = harness.alert(alert_id)
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == "carol"


def test_ack_cancels_pages_still_queued(make_harness):
    harness = make_harness(POLICY)
    harness.channels["webhook"].fail_next(1)  # alice's page waits to be retried
    alert_id = harness.fire("api-500s")

    harness.ack(alert_id)
    harness.advance(30)

    assert harness.paged() == []
    detail = harness.timeline(alert_id)
    assert any("acknowledged by alice via api" in line for line in detail)


def test_acking_twice_is_a_no_op_and_acking_a_resolved_alert_conflicts(make_harness):
    harness = make_harness(POLICY)
    alert_id = harness.fire("api-500s")
    harness.ack(alert_id, actor="alice")
    harness.ack(alert_id, actor="bob")
    assert harness.alert(alert_id).acknowledged_by == "alice"

    harness.resolve(alert_id)
    harness.resolve(alert_id)
    with pytest.raises(Conflict, match="already resolved by alice"):
        harness.ack(alert_id)


def test_source_resolve_stops_the_escalation(make_harness):
    harness = make_harness(POLICY)
    alert_id = harness.fire("api-500s")
    harness.advance(2)

    harness.fire("api-500s", action="resolve")
    harness.advance(30)

    assert harness.paged() == [(0, "alice", 1)]
    assert harness.alert(alert_id).resolved_by == "integration:prom"


def test_an_ignored_event_is_explained_on_the_alert(make_harness):
    harness = make_harness(POLICY)
    alert_id = harness.fire("api-500s")
    harness.resolve(alert_id)

    harness.fire("api-500s", action="resolve")

    assert any("resolve ignored: resolve for an alert that is not open" in line
               for line in harness.timeline(alert_id))
