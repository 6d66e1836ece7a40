"""Many timers and pages due at once: the engine takes them in batches, and one
that fails costs nobody else their page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from tests.support.harness import Harness
from tocsin.alerts import service
from tocsin.alerts.rules import IncomingEvent
from tocsin.db import transaction
from tocsin.engine import delivery, runner
from tocsin.notify.store import Delivery

POLICY = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
routes:
  - {notify: critical}
"""


def fire_without_engine(harness: Harness, *keys: str) -> list[int]:
    """Store alerts whose first step is due now, leaving the engine to take them together."""
    integration = harness.config.integrations[0]
    ids = []
    for key in keys:
        with transaction(harness.runtime.sessions) as session:
            result = service.ingest(session, config=harness.config, integration=integration,
                                    incoming=IncomingEvent("trigger", key, title=f"alert {key}"),
                                    now=harness.clock.now())
        assert result.alert_id is not None
        ids.append(result.alert_id)
    return ids


def test_a_timer_that_fails_in_a_batch_leaves_the_others_paging(make_harness, monkeypatch):
    harness = make_harness(POLICY)
    first, broken, last = fire_without_engine(harness, "api-500s", "disk-full", "queue-lag")
    real = runner.apply_timer

    def apply_timer(session: Any, **kwargs: Any) -> None:
        real(session, **kwargs)
        if kwargs["timer"].alert_id == broken:
            raise RuntimeError("bug in a step")  # after its writes: they must not stay

    monkeypatch.setattr(runner, "apply_timer", apply_timer)
    harness.runtime.engine.run_due()

    paged = sorted((page.alert_id, page.user_id) for page in harness.channels["webhook"].sent)
    assert paged == [(first, "alice"), (broken, "dave"), (last, "alice")]
    assert any("the escalation failed with an internal error" in line
               for line in harness.timeline(broken))
    assert not any(line.startswith("escalated") for line in harness.timeline(broken))
    assert any(line.startswith("escalated") for line in harness.timeline(last))


def test_pages_whose_batch_cannot_be_recorded_are_recorded_one_by_one(make_harness,
                                                                      monkeypatch):
    harness = make_harness(POLICY)
    ids = fire_without_engine(harness, "api-500s", "disk-full", "queue-lag")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the batch insert failed")

    monkeypatch.setattr(delivery, "write_added_rows", broken)
    harness.runtime.engine.run_due()

    assert sorted(page.alert_id for page in harness.channels["webhook"].sent) == ids
    for alert_id in ids:
        assert "notification: notified Alice via webhook" in harness.timeline(alert_id)
    with harness.runtime.sessions() as session:
        statuses = set(session.scalars(select(Delivery.status)))
    assert statuses == {"sent"}

    harness.advance(3)  # past any lease: nothing is sent again
    assert len(harness.channels["webhook"].sent) == len(ids)


def test_an_acknowledgement_between_lease_and_send_stops_the_page(make_harness, monkeypatch):
    harness = make_harness(POLICY)
    first, acked, last = fire_without_engine(harness, "api-500s", "disk-full", "queue-lag")
    real = runner.Engine._divert

    def ack_then_divert(engine: runner.Engine, claimed: list[int]) -> list[int]:
        # The pages are leased; the person acknowledges before they are sent.
        if acked is not None:
            with transaction(harness.runtime.sessions) as session:
                service.acknowledge(session, config=harness.config, alert_id=acked,
                                    actor="alice", surface="api", now=harness.clock.now())
        return real(engine, claimed)

    monkeypatch.setattr(runner.Engine, "_divert", ack_then_divert)
    harness.runtime.engine.run_due()
    monkeypatch.setattr(runner.Engine, "_divert", real)
    harness.advance(10)

    assert sorted(page.alert_id for page in harness.channels["webhook"].sent) == [first, last]
    assert acked not in {page.alert_id for page in harness.channels["console"].sent}
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(Delivery).where(Delivery.alert_id == acked)).all()
    assert {(row.status, row.detail) for row in rows} == {
        ("cancelled", "alert is acknowledged; page not sent")}


def test_steps_due_together_are_written_together(make_harness):
    harness = make_harness(POLICY + "storm: off\n")  # single pages, not a storm's bundles
    ids = fire_without_engine(harness, *(f"disk-{n}" for n in range(30)))
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(("INSERT INTO deliveries", "INSERT INTO alert_events")):
            inserts.append(statement.split(None, 3)[2])

    event.listen(harness.runtime.db, "before_cursor_execute", seen)
    try:
        harness.runtime.engine.run_due()
    finally:
        event.remove(harness.runtime.db, "before_cursor_execute", seen)

    assert sorted(page.alert_id for page in harness.channels["webhook"].sent) == ids
    assert sorted(page.alert_id for page in harness.channels["console"].sent) == ids
    for alert_id in ids:
        timeline = harness.timeline(alert_id)
        assert any(line.startswith("escalated: critical, step 1 of 1: paging Alice")
                   for line in timeline), timeline
        assert "notification: notified Alice via webhook" in timeline
    # One batch of timers: its 60 pages in one statement, its timeline rows in one;
    # the batch of pages sent: their timeline rows in one more.
    assert inserts.count("deliveries") == 1
    assert inserts.count("alert_events") == 2


@pytest.fixture(autouse=True)
def _quiet_engine_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL", logger="tocsin.engine")
