"""When a heartbeat counts as missed, and what state it is in now: pure maths.

A heartbeat's deadline counts from the later of its last ping and the
moment an engine began watching it (its start, or the reload that added
it), so after downtime every heartbeat gets a full interval and grace to
ping before it can page anyone.

The state a person reads, in order of precedence:

    missed         the engine raised its alert; the next ping ends it
    waiting        never pinged: waiting for the first ping
    up             pinged within the last interval
    late           the interval has passed; still inside its grace
    startup_grace  its pings would be missed by now, but the engine began
                   watching recently: a start-up or reload grace runs
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tocsin.config.model import Heartbeat

State = Literal["up", "late", "missed", "waiting", "startup_grace"]
STATES: tuple[State, ...] = ("up", "late", "missed", "waiting", "startup_grace")


def deadline(heartbeat: Heartbeat, *, last_ping: datetime | None,
             watched_since: datetime) -> datetime:
    """When the heartbeat counts as missed, absent another ping.

    Interval plus grace after its last ping, or after `watched_since` (when
    this engine started, or first saw the heartbeat in its config) if that
    is later: a heartbeat never expires during the first interval and
    grace after a start-up, however long Tocsin was down.
    """
    since = watched_since if last_ping is None else max(last_ping, watched_since)
    return since + timedelta(minutes=heartbeat.interval_minutes + heartbeat.grace_minutes)


@dataclass(frozen=True)
class Status:
    state: State
    due: datetime | None  # when it counts as missed without a ping; None once missed


def status(heartbeat: Heartbeat, *, last_ping: datetime | None, missed: bool,
           watched_since: datetime, now: datetime) -> Status:
    """The heartbeat's state at `now`; see the module docstring."""
    if missed:
        return Status("missed", None)
    due = deadline(heartbeat, last_ping=last_ping, watched_since=watched_since)
    if last_ping is None:
        return Status("waiting", due)
    if now < last_ping + timedelta(minutes=heartbeat.interval_minutes):
        return Status("up", due)
    own = last_ping + timedelta(minutes=heartbeat.interval_minutes + heartbeat.grace_minutes)
    if now >= own and due > now:
        return Status("startup_grace", due)
    # Inside the grace, or past the deadline with the engine about to raise the alert.
    return Status("late", due)
