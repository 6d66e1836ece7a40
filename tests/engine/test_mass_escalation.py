"""Many timers and pages due at once: the engine takes them in batches, and one
that fails costs nobody else their page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

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


@pytest.fixture(autouse=True)
def _quiet_engine_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL", logger="tocsin.engine")
