"""Flapping on the batch path: the same verdicts as one event at a time, in few statements."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.engine.conftest import BASE_CONFIG
from tests.engine.test_batch_ingest import counting, integration
from tests.support.harness import Harness
from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import IngestResult
from tocsin.alerts.store import Alert
from tocsin.clock import FakeClock
from tocsin.db import transaction

CONFIG = BASE_CONFIG + """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 0}
routes:
  - {notify: critical}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, CONFIG)
    yield made
    made.close()


def batch(harness: Harness, events: list[IncomingEvent], *,
          run: bool = True) -> list[IngestResult]:
    with transaction(harness.runtime.sessions) as session:
        results = ingest_batch(session, config=harness.config,
                               integration=integration(harness, "prom"), events=events,
                               now=harness.clock.now())
    if run:
        harness.runtime.engine.run_due()
    return results


def fire(key: str) -> IncomingEvent:
    return IncomingEvent("trigger", key, title=f"{key} down")


def resolve(key: str) -> IncomingEvent:
    return IncomingEvent("resolve", key)


def test_a_key_flipping_within_one_webhook_flaps_and_waits_for_the_window(
    harness: Harness,
) -> None:
    batch(harness, [fire("disk")])
    harness.advance(1)

    results = batch(harness, [resolve("disk"), fire("disk")] * 3)
    harness.advance(29)

    newest = harness.alert(results[-1].alert_id or 0)
    assert newest.flapping and newest.status == "triggered"
    assert [minute for minute, _, _ in harness.paged()] == [0, 30]
    assert any(line.startswith("flapping: flapping: 6 changes in 30 minutes")
               for line in harness.timeline(newest.id))


def test_a_storm_that_flaps_takes_a_few_statements_not_a_few_per_alert(
    harness: Harness,
) -> None:
    # A hundred alerts: a statement or more each would be four times the bound below.
    keys = [f"node-{n:03}" for n in range(100)]
    batch(harness, [fire(key) for key in keys])
    for _ in range(2):
        harness.advance(1)
        batch(harness, [resolve(key) for key in keys])
        harness.advance(1)
        batch(harness, [fire(key) for key in keys])
    harness.advance(1)
    batch(harness, [resolve(key) for key in keys])
    harness.advance(1)

    # The third firing again is every key's sixth change: all 100 flap, and
    # each looks up its row and its last page in the same two queries.
    with counting(harness.runtime.db) as statements:
        results = batch(harness, [fire(key) for key in keys], run=False)

    assert {result.outcome for result in results} == {"open"}
    with harness.runtime.sessions() as session:
        flagged = session.scalars(select(Alert.id).where(Alert.flapping)).all()
    assert sorted(flagged) == sorted(result.alert_id for result in results)
    assert len(statements) <= 25, statements
