"""The engine's heartbeat step, and the ping the web edge records.

Each pass raises an alert for every configured heartbeat past its deadline
(`alerts.heartbeat_rules.deadline`). The deadline counts from the later of the
last ping and the moment this engine began watching the heartbeat: its
start, or the reload that added it. So after downtime every heartbeat gets
a full interval and grace to ping again before it can page anyone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts import heartbeat_store as store
from tocsin.alerts import heartbeats as service
from tocsin.alerts.heartbeat_rules import deadline
from tocsin.clock import Clock
from tocsin.config.model import Config, Heartbeat
from tocsin.db import transaction
from tocsin.logs import event

log = logging.getLogger(__name__)

# A heartbeat whose check failed is tried again after this, not in a tight loop.
RETRY_AFTER = timedelta(seconds=30)


def ping(
    sessions: sessionmaker[Session], *, config: Config, heartbeat: Heartbeat, now: datetime,
) -> service.PingResult:
    """Record a ping, committed before this returns; log a recovery once it is."""
    with transaction(sessions) as session:
        result = service.record_ping(session, config=config, heartbeat=heartbeat, now=now)
    if result.recovered:
        event(log, "heartbeat.recovered", heartbeat=heartbeat.name, alert_id=result.alert_id,
              resolved=result.resolved)
    return result


class Watch:
    """Finds missed heartbeats; `run_due` once per engine pass."""

    def __init__(self, *, sessions: sessionmaker[Session], config: Callable[[], Config],
                 clock: Clock, started: datetime) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        # When this engine began watching each heartbeat in its current config.
        self._since = dict.fromkeys(config().heartbeats, started)
        self._retry_at: dict[str, datetime] = {}

    def run_due(self) -> int:
        """Raise an alert for each heartbeat now missed; the number raised."""
        config, now = self._config(), self._clock.now()
        if not config.heartbeats:
            return 0
        with self._sessions() as session:
            due = [name for name, at in self._deadlines(session, config, now).items() if at <= now]
        raised = 0
        for name in due:
            raised += self._expire(config, config.heartbeats[name], now)
        return raised

    def next_due(self, session: Session) -> datetime | None:
        """The earliest deadline of a heartbeat not missed yet, or None."""
        config = self._config()
        if not config.heartbeats:
            return None
        found = self._deadlines(session, config, self._clock.now()).values()
        return min(found, default=None)

    def watched_since(self) -> dict[str, datetime]:
        """When this engine began watching each heartbeat of the current config."""
        return self._watched(self._config(), self._clock.now())

    def _deadlines(self, session: Session, config: Config, now: datetime) -> dict[str, datetime]:
        since = self._watched(config, now)
        rows = store.states(session, config.heartbeats)
        found: dict[str, datetime] = {}
        for name, heartbeat in config.heartbeats.items():
            row = rows.get(name)
            if row is not None and row.expired:
                continue
            due = deadline(heartbeat, last_ping=row.last_ping_at if row else None,
                           watched_since=since[name])
            retry = self._retry_at.get(name)
            found[name] = due if retry is None else max(due, retry)
        return found

    def _watched(self, config: Config, now: datetime) -> dict[str, datetime]:
        with self._lock:
            for name in [name for name in self._since if name not in config.heartbeats]:
                del self._since[name]
            for name in config.heartbeats:
                self._since.setdefault(name, now)
            return dict(self._since)

    def _expire(self, config: Config, heartbeat: Heartbeat, now: datetime) -> int:
        try:
            with transaction(self._sessions) as session:
                miss = service.expire_if_due(session, config=config, heartbeat=heartbeat,
                                             watched_since=self._since_of(heartbeat.name, now),
                                             now=now)
        except Exception:
            # The miss stays due: its row is unchanged, so a later pass raises it.
            log.exception("heartbeat.check_failed", extra={"heartbeat": heartbeat.name})
            self._retry_at[heartbeat.name] = now + RETRY_AFTER
            return 0
        self._retry_at.pop(heartbeat.name, None)
        if miss is None:
            return 0
        event(log, "heartbeat.expired", level=logging.WARNING, heartbeat=miss.name,
              alert_id=miss.alert_id,
              last_ping=f"{miss.last_ping:%Y-%m-%dT%H:%M:%SZ}" if miss.last_ping else "never")
        return 1

    def _since_of(self, name: str, now: datetime) -> datetime:
        with self._lock:
            return self._since.get(name, now)
