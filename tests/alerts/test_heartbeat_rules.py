"""A heartbeat's state at an instant: pure maths, no database.

`backup` expects a ping every 10 minutes with 2 of grace. The engine began
watching at 03:00 unless a case says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.alerts.heartbeat_rules import status
from tocsin.config.model import Heartbeat

BACKUP = Heartbeat(name="backup", interval_minutes=10, grace_minutes=2)


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("last_ping", "watched", "now", "state", "due"), [
    (None, at(3, 0), at(3, 5), "waiting", at(3, 12)),
    (None, at(3, 0), at(3, 11), "waiting", at(3, 12)),
    (at(3, 1), at(3, 0), at(3, 10), "up", at(3, 13)),
    (at(3, 1), at(3, 0), at(3, 11), "late", at(3, 13)),
    (at(3, 1), at(3, 0), at(3, 13), "late", at(3, 13)),  # due: the engine raises it now
    (at(2, 0), at(3, 0), at(3, 5), "startup_grace", at(3, 12)),
    (at(2, 55), at(3, 0), at(3, 6), "late", at(3, 12)),  # its own grace, not the start-up's
])
def test_state_and_due(last_ping, watched, now, state, due):
    found = status(BACKUP, last_ping=last_ping, missed=False, watched_since=watched, now=now)

    assert (found.state, found.due) == (state, due)


def test_a_missed_heartbeat_has_no_due_time():
    found = status(BACKUP, last_ping=at(2, 0), missed=True, watched_since=at(3, 0), now=at(4, 0))

    assert (found.state, found.due) == ("missed", None)
