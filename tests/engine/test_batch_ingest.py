"""A batch of events is stored as if each had come on its own, in few statements.

Two integrations get the same random event stream: one event per transaction
through `service.ingest`, and whole batches through `ingest_batch`. Alerts,
timelines, timers, pages and audit rows must come out the same.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from tests.engine.conftest import BASE_CONFIG
from tests.support.harness import Harness
from tocsin.alerts import service
from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import IngestResult
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.escalation.store import Timer
from tocsin.notify.store import Delivery

ROUTES = """
escalation_policies:
  - name: critical
    ack_timeout_minutes: 30
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
  - name: quiet
    steps:
      - {targets: [carol], timeout_minutes: 0}
routes:
  - {match: {severity: critical}, notify: critical}
  - {match: {severity: warning}, notify: quiet, urgency: low}
"""
# No service on these integrations: an `info` alert matches no route and
# goes to the fallback contact, the path that flushes while it pages.
INTEGRATIONS = """\
  - {name: one, type: alertmanager, key: one-key}
  - {name: many, type: alertmanager, key: many-key}
"""
KEYS = [f"key-{n}" for n in range(6)]


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    config = BASE_CONFIG.replace("integrations:\n", "integrations:\n" + INTEGRATIONS, 1)
    made = Harness(tmp_path, db_url, clock, config + ROUTES)
    yield made
    made.close()


def integration(harness: Harness, name: str) -> Any:
    return next(i for i in harness.config.integrations if i.name == name)


def one_by_one(harness: Harness, events: list[IncomingEvent]) -> list[IngestResult]:
    found = integration(harness, "one")
    results = []
    for incoming in sorted(events, key=lambda e: e.dedup_key):
        with transaction(harness.runtime.sessions) as session:
            results.append(service.ingest(session, config=harness.config, integration=found,
                                          incoming=incoming, now=harness.clock.now()))
    return results


def as_batch(harness: Harness, events: list[IncomingEvent]) -> list[IngestResult]:
    with transaction(harness.runtime.sessions) as session:
        return ingest_batch(session, config=harness.config,
                            integration=integration(harness, "many"), events=events,
                            now=harness.clock.now())


def random_events(rng: random.Random, start: datetime) -> list[IncomingEvent]:
    """Triggers, repeats, resolves (some stale) and acks over a few keys."""
    events = []
    for _ in range(rng.randint(1, 12)):
        key = rng.choice(KEYS)
        firing = start + timedelta(hours=rng.randint(0, 2))
        action = rng.choices(["trigger", "resolve", "acknowledge"], weights=[6, 3, 1])[0]
        if action == "trigger":
            events.append(IncomingEvent(
                "trigger", key, title=f"{key} at {firing:%H}", instance=firing.isoformat(),
                instance_time=firing, source_time=firing,
                severity=rng.choice(["critical", "critical", "warning", "info"]),
                labels={"alertname": key}))
        else:
            ended = firing + timedelta(minutes=rng.choice([-30, 30]))
            events.append(IncomingEvent(action, key, source_time=ended,  # type: ignore[arg-type]
                                        labels={"alertname": key}))
    return events


def state(harness: Harness, name: str) -> list[Any]:
    """Everything ingest wrote for one integration, with its name and ids taken out."""
    def plain(value: Any) -> Any:
        return str(value).replace(f"integration:{name}", "integration:X")

    with harness.runtime.sessions() as session:
        alerts = session.scalars(select(Alert).where(Alert.integration == name)
                                 .order_by(Alert.dedup_key, Alert.id)).all()
        found = []
        for alert in alerts:
            timeline = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id)
                                       .order_by(AlertEvent.id))
            timers = session.scalars(select(Timer).where(Timer.alert_id == alert.id)
                                     .order_by(Timer.id))
            pages = session.scalars(select(Delivery).where(Delivery.alert_id == alert.id)
                                    .order_by(Delivery.id))
            audit = session.scalars(select(AuditEntry).where(
                AuditEntry.object_type == "alert", AuditEntry.object_id == str(alert.id))
                .order_by(AuditEntry.id))
            found.append((
                alert.dedup_key, alert.status, alert.instance, alert.event_count, alert.title,
                alert.severity, alert.urgency, alert.route, alert.policy, alert.step,
                alert.triggered_at, alert.resolved_at, plain(alert.resolved_by),
                _ordered_by_ingest(timeline, plain),
                [(t.kind, t.state, t.due_at, t.step) for t in timers],
                [(p.user_id, p.channel, p.status, p.step) for p in pages],
                [(a.action, plain(a.actor), a.before, a.after) for a in audit],
            ))
        return found


def _ordered_by_ingest(rows: Any, plain: Callable[[Any], Any]) -> list[Any]:
    # The engine sends an alert's pages on several threads, so the order of
    # its "notification" rows is not ingest's to keep.
    entries = [(e.kind, plain(e.message), plain(e.actor), e.surface, e.at) for e in rows]
    sent = sorted(entry for entry in entries if entry[0] == "notification")
    return [entry for entry in entries if entry[0] != "notification"] + sent


@pytest.mark.timeout(300)
def test_a_batch_writes_what_its_events_one_by_one_write(harness: Harness) -> None:
    rng = random.Random(20260302)
    start = harness.clock.now() - timedelta(hours=3)
    for _ in range(25):
        events = random_events(rng, start)
        single = one_by_one(harness, events)
        batch = as_batch(harness, events)

        by_key = sorted(zip((e.dedup_key for e in events), batch, strict=True),
                        key=lambda pair: pair[0])
        assert [r.outcome for r in single] == [r.outcome for _, r in by_key]
        harness.advance(rng.choice([0, 1, 6]))

    assert state(harness, "one") == state(harness, "many")
    assert len(state(harness, "many")) >= len(KEYS)


def test_a_key_twice_in_one_batch_sees_its_first_event(harness: Harness) -> None:
    t0 = harness.clock.now() - timedelta(minutes=10)
    t1 = t0 + timedelta(minutes=5)
    firing = IncomingEvent("trigger", "disk", title="Disk full", instance=t0.isoformat(),
                           instance_time=t0, source_time=t0, severity="critical")
    events = [
        firing,
        IncomingEvent("trigger", "cpu", title="CPU hot", severity="warning"),
        IncomingEvent("resolve", "disk", source_time=t1),
        firing,  # a resend of the instance just resolved: ignored
        IncomingEvent("trigger", "disk", title="Disk full again", instance=t1.isoformat(),
                      instance_time=t1, source_time=t1, severity="critical"),
    ]

    results = as_batch(harness, events)

    assert [r.outcome for r in results] == ["open", "open", "resolve", "ignore", "open"]
    assert results[0].alert_id == results[2].alert_id == results[3].alert_id
    assert results[4].alert_id not in (None, results[0].alert_id)
    first = harness.alert(results[0].alert_id or 0)
    assert first.status == "resolved" and first.open_key is None
    assert [kind.split(":")[0] for kind in harness.timeline(first.id)] == [
        "triggered", "routed", "resolved", "event_ignored"]
    assert harness.alert(results[4].alert_id or 0).status == "triggered"


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2].split(None, 1)[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_storm_and_its_repeats_take_a_few_statements_not_a_few_per_alert(
    harness: Harness,
) -> None:
    events = [IncomingEvent("trigger", f"node-{n:04}", title=f"node {n} down",
                            severity="critical", labels={"instance": f"node-{n}"})
              for n in range(1000)]

    with counting(harness.runtime.db) as opened:
        results = as_batch(harness, events)
    with counting(harness.runtime.db) as repeated:
        repeats = as_batch(harness, events[::-1])

    assert {r.outcome for r in results} == {"open"}
    assert {r.outcome for r in repeats} == {"update"}
    # Per thousand keys: a lookup, the alerts, their timeline rows and timers.
    assert len(opened) <= 15, opened
    assert len(repeated) <= 10, repeated
    alert = harness.alert(results[0].alert_id or 0)
    assert alert.event_count == 2 and alert.policy == "critical"
    assert harness.timeline(alert.id)[:2] == [
        "triggered: triggered: node 0 down",
        "routed: routes[0] matched (matched severity=critical); policy critical"]
