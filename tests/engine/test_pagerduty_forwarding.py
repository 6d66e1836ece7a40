"""Forwarded alerts follow Tocsin: an ack or resolve here reaches the far side.

The engine runs on the fake clock and sends through the real forwarder to
an Events v2 endpoint on loopback, so retries and backoff are what a far
side that is down would see. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.support.events_receiver import EventsReceiver
from tests.support.harness import Harness
from tocsin.clock import FakeClock
from tocsin.config.model import PagerDutyProvider
from tocsin.db import transaction
from tocsin.leases import CANCELLED, FAILED, SENDING, SENT
from tocsin.notify import store as outbox
from tocsin.notify.pagerduty_forward import PagerDutyForwarder
from tocsin.notify.pagerduty_store import PagerDutyFollowUp

KEY = "R0UT1NGKEY0000000000000000000042"
OTHER_KEY = "R0UT1NGKEY00000000000000000000ff"

CONFIG = """
timezone: UTC
public_url: http://tocsin.test
users:
  - {{id: downstream, name: Downstream, contacts: {{pagerduty: {key}}}}}
  - {{id: other, name: Other, contacts: {{pagerduty: {other_key}}}}}
  - {{id: dave, name: Dave, contacts: {{webhook: "http://hooks.test/dave"}}}}
escalation_policies:
  - name: forward
    steps:
      - {{targets: [downstream, other], timeout_minutes: 30}}
  - name: web-only
    steps:
      - {{targets: [dave], timeout_minutes: 30}}
routes:
  - {{match: {{team: web}}, notify: web-only}}
  - {{notify: forward}}
notifications:
  webhook: {{secret: test-webhook-secret}}
  pagerduty: {{url: "{url}", timeout_seconds: 5}}
  fallback: [dave]
integrations:
  - {{name: prom, type: alertmanager, key: prom-key}}
"""


@pytest.fixture
def far_side() -> Iterator[EventsReceiver]:
    with EventsReceiver() as receiver:
        yield receiver


@pytest.fixture
def harness(
    tmp_path: Path, db_url: str, clock: FakeClock, far_side: EventsReceiver,
) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock,
                   CONFIG.format(key=KEY, other_key=OTHER_KEY, url=far_side.url))
    forwarder = PagerDutyForwarder(PagerDutyProvider(url=far_side.url, timeout_seconds=5),
                                   made.config.public_url)
    made.channels["pagerduty"] = forwarder  # type: ignore[assignment]
    made.runtime.config.reload()  # the engine takes its notifiers anew on a reload
    yield made
    made.close()
    forwarder.close()


def sent(far_side: EventsReceiver) -> list[tuple[str, str, str]]:
    """(action, routing key, dedup key) of every event the far side received."""
    return [(e["event_action"], e["routing_key"], e["dedup_key"]) for e in far_side.events]


def followups(harness: Harness, alert_id: int) -> list[PagerDutyFollowUp]:
    with harness.runtime.sessions() as session:
        query = (select(PagerDutyFollowUp).where(PagerDutyFollowUp.alert_id == alert_id)
                 .order_by(PagerDutyFollowUp.id))
        return list(session.scalars(query))


def test_ack_and_resolve_reach_every_key_that_got_the_trigger(
    harness: Harness, far_side: EventsReceiver,
) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    dedup = f"tocsin-{alert_id}"
    assert sorted(sent(far_side)) == [("trigger", KEY, dedup), ("trigger", OTHER_KEY, dedup)]

    harness.ack(alert_id, actor="alice")
    harness.resolve(alert_id, actor="alice")

    assert sorted(sent(far_side)[2:4]) == [("acknowledge", KEY, dedup),
                                           ("acknowledge", OTHER_KEY, dedup)]
    assert sorted(sent(far_side)[4:]) == [("resolve", KEY, dedup), ("resolve", OTHER_KEY, dedup)]
    assert [row.status for row in followups(harness, alert_id)] == [SENT] * 4
    assert "forwarded: forwarded acknowledge for downstream via pagerduty" in (
        harness.timeline(alert_id))


def test_a_resolve_from_the_source_is_forwarded(
    harness: Harness, far_side: EventsReceiver,
) -> None:
    alert_id = harness.fire("api-500s")

    harness.fire("api-500s", action="resolve")

    assert sorted(a for a, _, _ in sent(far_side)) == ["resolve", "resolve",
                                                       "trigger", "trigger"]
    assert harness.alert(alert_id).status == "resolved"


def test_an_alert_never_forwarded_sends_no_followups(
    harness: Harness, far_side: EventsReceiver,
) -> None:
    alert_id = harness.fire("web-500s", labels={"team": "web"})
    assert alert_id is not None

    harness.ack(alert_id)
    harness.resolve(alert_id)

    assert far_side.events == []
    assert followups(harness, alert_id) == []


def test_an_ack_waits_out_a_far_side_outage_with_backoff(
    harness: Harness, far_side: EventsReceiver,
) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    far_side.answer_next(503, count=8)  # the next eight events, whichever key they are for

    harness.ack(alert_id)
    refused_at_once = len(far_side.events) - 2
    # Backoff waits at most 10 s, 20 s, 40 s ... after each failure: 21 minutes for
    # seven in a row, the most one key can meet here.
    harness.advance(30)

    # The first try of each key fails at once; the rest wait their backoff.
    assert refused_at_once == 2
    for key in (KEY, OTHER_KEY):
        answers = [status for status, e in zip(far_side.statuses, far_side.events, strict=True)
                   if e["event_action"] == "acknowledge" and e["routing_key"] == key]
        assert answers[-1] == 202 and set(answers[:-1]) == {503}, (key, answers)
    rows = followups(harness, alert_id)
    assert [row.status for row in rows] == [SENT, SENT]
    assert sum(row.attempts for row in rows) == 10
    retries = [line for line in harness.timeline(alert_id) if "will retry" in line]
    assert len(retries) == 8
    assert "answered HTTP 503" in retries[0]


def test_a_refused_followup_is_final_and_says_why(
    harness: Harness, far_side: EventsReceiver,
) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    far_side.answer_next(400, {"status": "invalid event", "message": "Event object is invalid",
                               "errors": ["dedup_key is required to acknowledge"]}, count=2)

    harness.ack(alert_id)
    harness.advance(30)

    assert [row.status for row in followups(harness, alert_id)] == [FAILED, FAILED]
    assert len(far_side.events) == 4  # two triggers, one refused ack per key
    lines = harness.timeline(alert_id)
    assert any("could not forward acknowledge for downstream via pagerduty" in line
               and "Event object is invalid; dedup_key is required to acknowledge" in line
               for line in lines)
    assert not any(KEY in line for line in lines)


def test_retries_stop_after_six_hours(
    harness: Harness, far_side: EventsReceiver, clock: FakeClock,
) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    far_side.answer_next(503, count=1000)

    harness.ack(alert_id)
    for _ in range(14):  # 7 hours; backoff never waits more than 15 minutes
        clock.advance(minutes=30)
        harness.runtime.engine.run_due()
    tried = len(far_side.events)
    clock.advance(minutes=60)
    harness.runtime.engine.run_due()

    assert [row.status for row in followups(harness, alert_id)] == [FAILED, FAILED]
    assert len(far_side.events) == tried


def test_a_resolve_replaces_an_ack_still_waiting(
    harness: Harness, far_side: EventsReceiver,
) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    far_side.answer_next(503, count=2)

    harness.ack(alert_id)
    harness.resolve(alert_id)
    harness.advance(30)

    rows = followups(harness, alert_id)
    assert sorted((row.action, row.status) for row in rows) == [
        ("acknowledge", CANCELLED), ("acknowledge", CANCELLED),
        ("resolve", SENT), ("resolve", SENT),
    ]
    assert [a for a, _, _ in sent(far_side)].count("acknowledge") == 2  # the refused tries


def test_an_ack_waits_for_a_trigger_still_being_sent(
    harness: Harness, far_side: EventsReceiver, clock: FakeClock,
) -> None:
    alert_id = harness.fire("api-500s")
    assert alert_id is not None
    in_flight = (outbox.Delivery.alert_id == alert_id) & (outbox.Delivery.channel == "pagerduty")
    with transaction(harness.runtime.sessions) as session:
        # As if another worker were posting the trigger right now, with a long lease.
        session.execute(update(outbox.Delivery).where(in_flight).values(
            status=SENDING, lease_until=clock.now().replace(year=2100)))

    harness.ack(alert_id)
    held = [a for a, _, _ in sent(far_side)]
    with transaction(harness.runtime.sessions) as session:
        session.execute(update(outbox.Delivery).where(in_flight).values(
            status=SENT, lease_until=None))
    harness.advance(1)

    assert held == ["trigger", "trigger"]
    assert [a for a, _, _ in sent(far_side)][2:] == ["acknowledge", "acknowledge"]
    assert [row.attempts for row in followups(harness, alert_id)] == [1, 1]
