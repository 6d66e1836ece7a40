"""Which routes are in storm, as the engine's senders see it.

The engine asks once at the start of each pass, and again within a long
pass once a second of its clock has gone by: one grouped count of the last
minute's alerts. Ingest does no work for it. Each batch of leased pages is
then sorted, in one transaction, into those that go into bundles
(`alerts.bundles.sort_into_bundles` says which) and those sent one by one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts import bundles, storm_rules, storm_store
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.logs import event

log = logging.getLogger(__name__)

RECOUNT_EVERY = timedelta(seconds=1)


@dataclass
class StormWatch:
    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    checked_at: datetime | None = None
    _stormy: frozenset[str] = frozenset()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stale(self, now: datetime) -> bool:
        return self.checked_at is None or now - self.checked_at >= RECOUNT_EVERY

    def refresh(self) -> None:
        """Count again; log each storm that started or ended since the last count."""
        now = self.clock.now()
        config = self.config()
        with transaction(self.sessions) as session:
            counts = storm_store.recent_counts(session, since=now - storm_rules.WINDOW,
                                               until=now)
            found = storm_rules.storms(counts, config)
            started, ended = self._record(session, found, now)
        with self._lock:
            self._stormy = frozenset(found)
            self.checked_at = now
        for storm in started:
            event(log, "storm.started", level=logging.WARNING, route=storm.route,
                  alerts=storm.alerts, limit=storm.limit)
        for route, peak in ended:
            event(log, "storm.ended", route=route, peak=peak)

    def _record(
        self, session: Session, found: dict[str, storm_rules.Storm], now: datetime,
    ) -> tuple[list[storm_rules.Storm], list[tuple[str, int]]]:
        before = storm_store.raging(session)
        started = []
        for storm in found.values():
            if storm.route not in before:
                if storm_store.start(session, route=storm.route, alerts=storm.alerts, now=now):
                    started.append(storm)
            elif storm.alerts > before[storm.route]:
                storm_store.raise_peak(session, route=storm.route, alerts=storm.alerts)
        ended = [(route, peak) for route, peak in before.items()
                 if route not in found and storm_store.end(session, route=route, now=now)]
        return started, ended

    def divert(self, delivery_ids: list[int], channels: Collection[str]) -> list[int]:
        """Sort the storm's pages among these leased ones into bundles; the rest go singly.

        `channels`: those whose sender can carry a bundle.
        """
        with self._lock:
            stormy = self._stormy
        with transaction(self.sessions) as session:
            held = bundles.sort_into_bundles(session, delivery_ids=delivery_ids, stormy=stormy,
                                             now=self.clock.now(), channels=channels)
            joined = [(row.id, row.alert_id, bundle.id) for row, bundle in held]
        for delivery_id, alert_id, bundle_id in joined:
            event(log, "delivery.bundled", delivery_id=delivery_id, alert_id=alert_id,
                  bundle_id=bundle_id)
        bundled = {delivery_id for delivery_id, _, _ in joined}
        return [delivery_id for delivery_id in delivery_ids if delivery_id not in bundled]
