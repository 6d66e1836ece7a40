"""A forwarded alert triggered again here sends the far side a new trigger.

An acknowledgement that lapses, an unacknowledge, or escalate now on an
acknowledged alert sends `trigger` with the same dedup_key to every routing
key the first trigger reached, with the alert's summary as it is now. The
far side is an Events v2 receiver on loopback (see test_pagerduty_forwarding).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_pagerduty_forwarding import (
    CONFIG,
    KEY,
    OTHER_KEY,
    far_side,
    followups,
    harness,
)
from tests.support.events_receiver import EventsReceiver
from tests.support.harness import Harness
from tocsin.alerts import actions, service
from tocsin.clock import FakeClock
from tocsin.config.model import PagerDutyProvider
from tocsin.db import transaction
from tocsin.leases import CANCELLED, SENT
from tocsin.notify.pagerduty_forward import PagerDutyForwarder

__all__ = ["far_side", "harness"]  # fixtures shared with test_pagerduty_forwarding


TWO_STEPS_TO = ("  - name: forward\n    ack_timeout_minutes: 10\n",
                "timeout_minutes: 1}\n      - {targets: [dave], timeout_minutes: 30}\n"
                "  - name: web")


@pytest.fixture
def lapsing(tmp_path: Path, db_url: str, clock: FakeClock,
            far_side: EventsReceiver) -> Iterator[Harness]:
    """The same setup, where an acknowledgement lapses after 10 minutes and step 2
    (a minute after step 1) pages dave alone."""
    config = CONFIG.format(key=KEY, other_key=OTHER_KEY, url=far_side.url)
    for old, new in zip(("  - name: forward\n", "timeout_minutes: 30}\n  - name: web"),
                        TWO_STEPS_TO, strict=True):
        assert old in config
        config = config.replace(old, new, 1)
    made = Harness(tmp_path, db_url, clock, config)
    forwarder = PagerDutyForwarder(PagerDutyProvider(url=far_side.url, timeout_seconds=5),
                                   made.config.public_url)
    made.channels["pagerduty"] = forwarder  # type: ignore[assignment]
    made.runtime.config.reload()
    yield made
    made.close()
    forwarder.close()


def _new_triggers(far_side: EventsReceiver) -> list[dict[str, Any]]:
    """The triggers after the first two (the pages of step 1)."""
    return [e for e in far_side.events[2:] if e["event_action"] == "trigger"]


def test_a_lapsed_acknowledgement_triggers_the_far_side_again(
        lapsing: Harness, far_side: EventsReceiver) -> None:
    alert_id = lapsing.fire("api-500s", title="Payment API 500s")
    assert alert_id is not None
    lapsing.advance(1)  # step 2: dave alone
    lapsing.ack(alert_id, actor="dave")

    lapsing.advance(10)

    assert lapsing.alert(alert_id).status == "triggered"
    again = _new_triggers(far_side)
    assert sorted((e["routing_key"], e["dedup_key"]) for e in again) == [
        (KEY, f"tocsin-{alert_id}"), (OTHER_KEY, f"tocsin-{alert_id}")]
    assert again[0]["payload"]["summary"] == "Payment API 500s"
    assert again[0]["payload"]["severity"] == "critical"
    assert again[0]["client_url"] == f"http://tocsin.test/ui/alerts/{alert_id}"
    assert [(r.action, r.status) for r in followups(lapsing, alert_id)] == [
        ("acknowledge", SENT), ("acknowledge", SENT), ("trigger", SENT), ("trigger", SENT)]
    assert "forwarded: forwarded trigger for downstream via pagerduty" in (
        lapsing.timeline(alert_id))


def test_a_lapse_that_pages_the_far_side_anyway_sends_one_trigger_per_key(
        lapsing: Harness, far_side: EventsReceiver) -> None:
    alert_id = lapsing.fire("api-500s")
    assert alert_id is not None
    lapsing.ack(alert_id, actor="alice")  # at step 1, which pages both keys

    lapsing.advance(10)

    assert sorted(e["routing_key"] for e in _new_triggers(far_side)) == [KEY, OTHER_KEY]
    dropped = [r for r in followups(lapsing, alert_id) if r.action == "trigger"]
    assert {(r.status, r.detail) for r in dropped} == {
        (CANCELLED, "not sent: the escalation paged this key again itself")}


def test_unacknowledge_triggers_the_far_side_again(
        lapsing: Harness, far_side: EventsReceiver) -> None:
    alert_id = lapsing.fire("api-500s")
    assert alert_id is not None
    lapsing.advance(1)
    lapsing.ack(alert_id, actor="dave")

    with transaction(lapsing.runtime.sessions) as session:
        actions.unacknowledge(session, config=lapsing.config, alert_id=alert_id,
                              actor="dave", surface="api", now=lapsing.clock.now())
    lapsing.runtime.engine.run_due()

    assert sorted(e["routing_key"] for e in _new_triggers(far_side)) == [KEY, OTHER_KEY]


def test_escalate_now_on_an_acknowledged_alert_triggers_the_far_side_again(
        lapsing: Harness, far_side: EventsReceiver) -> None:
    alert_id = lapsing.fire("api-500s")
    assert alert_id is not None
    lapsing.advance(0.5)  # still step 1
    lapsing.ack(alert_id, actor="alice")

    with transaction(lapsing.runtime.sessions) as session:
        actions.escalate_now(session, config=lapsing.config, alert_id=alert_id,
                             actor="alice", surface="api", now=lapsing.clock.now())
    lapsing.runtime.engine.run_due()

    assert sorted(e["routing_key"] for e in _new_triggers(far_side)) == [KEY, OTHER_KEY]


def test_a_resolve_replaces_new_triggers_still_waiting(
        lapsing: Harness, far_side: EventsReceiver) -> None:
    alert_id = lapsing.fire("api-500s")
    assert alert_id is not None
    lapsing.advance(1)
    lapsing.ack(alert_id, actor="dave")

    with transaction(lapsing.runtime.sessions) as session:
        actions.unacknowledge(session, config=lapsing.config, alert_id=alert_id,
                              actor="dave", surface="api", now=lapsing.clock.now())
        service.resolve(session, config=lapsing.config, alert_id=alert_id, actor="dave",
                        surface="api", now=lapsing.clock.now())
    lapsing.runtime.engine.run_due()

    assert [e["event_action"] for e in far_side.events[4:]] == ["resolve", "resolve"]
    assert [(r.action, r.status) for r in followups(lapsing, alert_id)][2:] == [
        ("trigger", CANCELLED), ("trigger", CANCELLED), ("resolve", SENT), ("resolve", SENT)]


def test_an_alert_never_forwarded_sends_no_new_trigger(
        harness: Harness, far_side: EventsReceiver) -> None:
    alert_id = harness.fire("web-500s", labels={"team": "web"})
    assert alert_id is not None
    harness.ack(alert_id)

    with transaction(harness.runtime.sessions) as session:
        actions.unacknowledge(session, config=harness.config, alert_id=alert_id,
                              actor="alice", surface="api", now=harness.clock.now())
    harness.runtime.engine.run_due()

    assert far_side.events == [] and followups(harness, alert_id) == []
