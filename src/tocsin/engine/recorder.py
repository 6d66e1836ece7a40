"""The engine's recording step: past final shifts are stored once a minute.

Recording a minute late costs nothing (until then the time is computed, as
it was before), so a failure is logged and tried again on the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.oncall import history

log = logging.getLogger(__name__)

RECORD_EVERY = timedelta(minutes=1)


@dataclass
class Recorder:
    sessions: sessionmaker[Session]
    config: Callable[[], Config]
    clock: Clock
    _recorded_at: datetime | None = field(default=None, init=False)

    def run_due(self) -> int:
        """Record every schedule up to now, at most once a minute of engine time."""
        now = self.clock.now()
        last = self._recorded_at
        if last is not None and last <= now < last + RECORD_EVERY:
            return 0
        stored = 0
        for schedule in self.config().schedules.values():
            try:
                # One transaction per schedule: it holds that schedule's
                # watermark row locked while recording and anchoring edits.
                with transaction(self.sessions) as session:
                    stored += history.record_with_anchors(session, schedule=schedule, now=now)
            except Exception:
                # One schedule the maths cannot expand must not stop the
                # others being recorded; its range is recorded on a later pass.
                log.exception("recorder.schedule_failed")
        self._recorded_at = now
        return stored
