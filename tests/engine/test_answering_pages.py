"""Answering a page: snooze, un-acknowledge, escalate now, reassign, add a responder,
and paging someone directly, on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.harness import Harness
from tocsin.alerts import actions, direct
from tocsin.config.model import Target
from tocsin.db import transaction
from tocsin.errors import Conflict

TWO_STEPS = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
routes:
  - {notify: critical}
"""


def _do(harness: Harness, action: Any, **kwargs: Any) -> Any:
    with transaction(harness.runtime.sessions) as session:
        alert = action(session, config=harness.config, actor="erin", surface="api",
                       now=harness.clock.now(), **kwargs)
        status = alert.status
    harness.runtime.engine.run_due()
    return status


def test_snooze_acknowledges_then_re_triggers_at_the_current_step(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.advance(6)

    assert _do(harness, actions.snooze, alert_id=alert_id, minutes=10) == "acknowledged"
    harness.advance(9)
    assert harness.alert(alert_id).status == "acknowledged"
    harness.advance(1)

    assert harness.alert(alert_id).status == "triggered"
    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2), (16, "carol", 2)]
    assert any(line.startswith("snoozed: snoozed for 10 min") for line in
               harness.timeline(alert_id))


def test_a_resolve_during_a_snooze_cancels_the_re_trigger(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    _do(harness, actions.snooze, alert_id=alert_id, minutes=10)
    harness.resolve(alert_id)

    harness.advance(30)

    assert harness.paged() == [(0, "alice", 1)]
    with pytest.raises(Conflict, match="already resolved"):
        _do(harness, actions.snooze, alert_id=alert_id, minutes=10)


def test_unacknowledge_resumes_the_escalation_at_once(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.advance(1)
    harness.ack(alert_id)
    harness.advance(2)

    assert _do(harness, actions.unacknowledge, alert_id=alert_id) == "triggered"
    harness.advance(5)

    assert harness.paged() == [(0, "alice", 1), (3, "alice", 1), (8, "carol", 2)]
    assert harness.alert(alert_id).acknowledged_by is None


def test_unacknowledging_a_triggered_alert_changes_nothing(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")

    assert _do(harness, actions.unacknowledge, alert_id=alert_id) == "triggered"
    harness.advance(1)

    assert harness.paged() == [(0, "alice", 1)]


def test_escalate_now_pages_step_two_at_once_and_only_once(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.advance(1)

    _do(harness, actions.escalate_now, alert_id=alert_id)
    harness.advance(20)

    assert harness.paged() == [(0, "alice", 1), (1, "carol", 2)]


def test_escalate_now_from_acknowledged_triggers_again_and_pages(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.ack(alert_id)

    assert _do(harness, actions.escalate_now, alert_id=alert_id) == "triggered"

    assert harness.paged() == [(0, "alice", 1), (0, "carol", 2)]


def test_escalate_now_at_the_last_step_is_a_conflict(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.advance(6)

    with pytest.raises(Conflict, match="last step of critical"):
        _do(harness, actions.escalate_now, alert_id=alert_id)


def test_reassign_restarts_the_escalation_with_the_new_target(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.advance(2)

    _do(harness, actions.reassign, alert_id=alert_id, target=Target("user", "erin"))
    harness.advance(20)

    assert harness.paged() == [(0, "alice", 1), (2, "erin", 1)]
    assert harness.alert(alert_id).policy == "responders: user erin"


def test_reassign_to_a_schedule_pages_who_is_on_call(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.ack(alert_id)

    assert _do(harness, actions.reassign, alert_id=alert_id,
               target=Target("schedule", "secondary")) == "triggered"

    assert harness.paged() == [(0, "alice", 1), (0, "carol", 1)]


def test_an_added_responder_is_paged_beside_the_escalation(make_harness):
    harness = make_harness(TWO_STEPS)
    alert_id = harness.fire("api-500s")
    harness.advance(1)

    _do(harness, actions.add_responder, alert_id=alert_id, target=Target("user", "erin"))
    harness.advance(5)

    assert harness.paged() == [(0, "alice", 1), (1, "erin", 1), (5, "carol", 2)]
    with pytest.raises(Conflict, match="already paged"):
        _do(harness, actions.add_responder, alert_id=alert_id, target=Target("user", "erin"))


def test_a_direct_page_is_a_normal_alert_with_its_escalation(make_harness):
    harness = make_harness(TWO_STEPS)
    with transaction(harness.runtime.sessions) as session:
        alert = direct.page(session, target=Target("escalation_policy", "critical"),
                            title="Checkout is down", actor="erin", surface="cli",
                            now=harness.clock.now())
        alert_id, key = alert.id, alert.dedup_key
    harness.runtime.engine.run_due()
    harness.advance(5)

    found = harness.alert(alert_id)
    assert (found.integration, found.status, found.title) == (
        "direct", "triggered", "Checkout is down")
    assert key.startswith("page-")
    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2)]
    harness.ack(alert_id)
    assert harness.alert(alert_id).status == "acknowledged"


GROUPED = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
routes:
  - notify: critical
    group_by: [alertname]
"""


def _fire_grouped(harness: Harness, key: str) -> int:
    alert_id = harness.fire(key, labels={"alertname": "DiskFull"})
    assert alert_id is not None
    return alert_id


def test_snoozing_a_group_member_snoozes_the_group_through_its_lead(make_harness):
    harness = make_harness(GROUPED)
    lead = _fire_grouped(harness, "disk-a")
    member = _fire_grouped(harness, "disk-b")

    _do(harness, actions.snooze, alert_id=member, minutes=10)
    assert {harness.alert(lead).status, harness.alert(member).status} == {"acknowledged"}
    harness.advance(10)

    assert {harness.alert(lead).status, harness.alert(member).status} == {"triggered"}
    assert harness.paged() == [(0, "alice", 1), (10, "alice", 1)]


def test_escalating_a_group_member_moves_the_leads_escalation(make_harness):
    harness = make_harness(GROUPED)
    lead = _fire_grouped(harness, "disk-a")
    member = _fire_grouped(harness, "disk-b")

    _do(harness, actions.escalate_now, alert_id=member)
    harness.advance(10)

    assert harness.paged() == [(0, "alice", 1), (0, "carol", 2)]
    assert any(line.startswith("escalated_now:") for line in harness.timeline(lead))


def test_a_snooze_outlasts_the_policys_ack_timeout(make_harness):
    harness = make_harness(TWO_STEPS.replace("  - name: critical\n",
                                             "  - name: critical\n    ack_timeout_minutes: 3\n"))
    alert_id = harness.fire("api-500s")

    _do(harness, actions.snooze, alert_id=alert_id, minutes=10)
    harness.advance(9)
    assert harness.alert(alert_id).status == "acknowledged"
    harness.advance(1)

    assert harness.paged() == [(0, "alice", 1), (10, "alice", 1)]
