"""The engine's maintenance step: release the alerts a window no longer holds.

Holds are rows (`maintenance_holds`), written with the decision not to
page, so a restart loses none; each pass looks at the holds still in force
and releases, one transaction each, those whose window has ended, was
ended early or was removed from the file (`alerts.maintenance_release`).
The due time is computed from the windows as they are now, so a reload
that moves a window's end moves the release with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts import maintenance_release as releases
from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.logs import event
from tocsin.telemetry import ENGINE_FAILURES

log = logging.getLogger(__name__)


class Releases:
    """Releases held alerts; `run_due` once per engine pass."""

    def __init__(self, *, sessions: sessionmaker[Session], config: Callable[[], Config],
                 clock: Clock) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock

    def run_due(self) -> int:
        """Release every hold that is over; the number of alerts that started paging."""
        config, now = self._config(), self._clock.now()
        with self._sessions() as session:
            due = releases.over(session, config=config, now=now)
        released = 0
        for hold_id in due:
            try:
                with transaction(self._sessions) as session:
                    outcome = releases.release(session, config=config, hold_id=hold_id, now=now)
            except Exception:
                # Like a timer that fails: the alert must neither stay silenced
                # for good nor hold up the other releases.
                log.exception("maintenance.release_failed", extra={"hold_id": hold_id})
                self._give_up(config, hold_id, now)
                continue
            released += outcome == "released"
        return released

    def _give_up(self, config: Config, hold_id: int, now: datetime) -> None:
        ENGINE_FAILURES.inc()
        with transaction(self._sessions) as session:
            releases.give_up(session, config=config, hold_id=hold_id, now=now)
        event(log, "maintenance.release_gave_up", level=logging.ERROR, hold_id=hold_id)

    def next_due(self, session: Session) -> datetime | None:
        return releases.next_due(session, config=self._config(), now=self._clock.now())
