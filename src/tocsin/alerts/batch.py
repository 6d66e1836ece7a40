"""Ingest a batch of events: a webhook may carry thousands of alerts.

Each event gets the decision and the writes `service.ingest` gives it (the
timeline rows, the audit rows, the escalation timer), in dedup-key order;
only the number of statements changes. One query per thousand keys finds
and locks the latest alert of every key; the new alerts, with ids reserved
beforehand, go in one executemany; their timeline rows and timers in one
each; the changes to existing alerts in the flush at commit. The caller
commits, as for every service.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import InstanceState, Session, class_mapper

from tocsin.alerts import batch_store, flapping, service
from tocsin.alerts.rules import Decision, IncomingEvent
from tocsin.alerts.service import IngestResult
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.config.model import Config, Integration
from tocsin.escalation.store import Timer

log = logging.getLogger(__name__)

OPENS = ("open", "open_resolved")
ADDED_ONLY = (AlertEvent, Timer)


def ingest_batch(
    session: Session, *, config: Config, integration: Integration,
    events: Sequence[IncomingEvent], now: datetime,
) -> list[IngestResult]:
    """Apply `events` from one source; the results are in the order of `events`."""
    order = sorted(range(len(events)), key=lambda i: events[i].dedup_key)
    keys = sorted({incoming.dedup_key for incoming in events})
    results: dict[int, IngestResult] = {}
    # Rows are written when the batch is done, not before each query: a
    # query in between would flush them one alert at a time.
    with session.no_autoflush:
        latest = batch_store.latest_alerts(session, integration.name, keys)
        flapping.prefetch(session, config=config, integration=integration.name, latest=latest,
                          events=events, now=now)
        opening = _Opening()
        previous: str | None = None
        for index in order:
            incoming = events[index]
            if incoming.dedup_key == previous:
                # A repeated key: its next event must see what the last one wrote.
                results.update(opening.write(session, config=config, now=now))
                session.flush()
            previous = incoming.dedup_key
            current = latest.get(incoming.dedup_key)
            decision = service.decide_event(current, incoming)
            if decision.outcome in OPENS:
                alert = service.build_alert(integration=integration, incoming=incoming,
                                            now=now, resolved=decision.outcome != "open")
                opening.add(index, alert, decision, reopened=current is not None)
                latest[incoming.dedup_key] = alert
                continue
            results[index] = service.apply_decision(
                session, config=config, integration=integration, incoming=incoming,
                current=current, decision=decision, now=now)
        results.update(opening.write(session, config=config, now=now))
        write_added_rows(session)
    flapping.forget(session)
    return [results[index] for index in range(len(events))]


def write_added_rows(session: Session, models: Sequence[type[Any]] = ADDED_ONLY) -> None:
    """Write the session's new rows of `models` (timeline rows and timers unless
    told) as multi-row inserts.

    Both are only ever added, and nothing reads the id of one made in the
    same transaction. Through the unit of work each new row's id would be
    fetched back: an INSERT per row on SQLite, a statement of thousands of
    parameters for psycopg to parse on PostgreSQL. Code that needs an id
    flushes first, and a flushed row is no longer new.
    """
    for model in models:
        added: list[InstanceState[Any]] = sorted(
            (inspect(obj) for obj in session.new if isinstance(obj, model)),
            key=lambda state: state.insert_order or 0)
        if not added:
            continue
        columns = {column.key for column in class_mapper(model).column_attrs}
        rows = [{key: value for key, value in state.dict.items() if key in columns}
                for state in added]
        for state in added:
            session.expunge(state.obj())
        # NULLs written out keep every row's columns alike: one batch, not one per row.
        session.execute(insert(model).execution_options(render_nulls=True), rows)


@dataclass
class _Opening:
    """New alerts waiting to be inserted together, with the event index of each."""

    # (event index, alert, decision, whether an earlier alert of the key resolved)
    waiting: list[tuple[int, Alert, Decision, bool]] = field(default_factory=list)

    def add(self, index: int, alert: Alert, decision: Decision, *, reopened: bool) -> None:
        self.waiting.append((index, alert, decision, reopened))

    def write(self, session: Session, *, config: Config, now: datetime,
              ) -> dict[int, IngestResult]:
        """Insert the waiting alerts in one statement, then record and route each."""
        if not self.waiting:
            return {}
        alerts = [alert for _, alert, _, _ in self.waiting]
        ids = batch_store.reserve_alert_ids(session, len(alerts))
        for alert, alert_id in zip(alerts, ids, strict=True):
            alert.id = alert_id
        session.add_all(alerts)
        session.flush()
        results = {}
        for index, alert, decision, reopened in self.waiting:
            service.record_opened(session, config=config, alert=alert, now=now,
                                  reopened=reopened)
            results[index] = IngestResult(alert.id, decision.outcome, alert.dedup_key,
                                          decision.reason)
        self.waiting.clear()
        return results
