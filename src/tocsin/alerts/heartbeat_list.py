"""Every configured heartbeat with its state now, for the API and the UI.

The definitions come from the config, what happened from the `heartbeats`
table, and the start-up grace from the engine that watches them (the
caller passes `watched_since`), so the listing says what the engine will
do: a heartbeat shown `up` or `late` is not missed, one shown `missed` has
raised its alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import heartbeat_store as store
from tocsin.alerts.heartbeat_rules import State, status
from tocsin.alerts.store import RESOLVED, Alert
from tocsin.config.model import Config, Heartbeat
from tocsin.oncall.rules import format_utc


@dataclass(frozen=True)
class Listed:
    heartbeat: Heartbeat
    state: State
    last_ping: datetime | None
    pings: int
    due: datetime | None  # when it counts as missed without a ping; None once missed
    missed_since: datetime | None
    alert_id: int | None  # the open alert of the miss; None when up or resolved by hand
    watched_since: datetime


def list_heartbeats(
    session: Session, *, config: Config, watched_since: Mapping[str, datetime], now: datetime,
) -> list[Listed]:
    """The config's heartbeats by name, each with its state at `now`.

    A heartbeat missing from `watched_since` (added by a reload the engine
    has not seen yet) is counted as watched from `now`, as the engine will.
    """
    rows = store.states(session, config.heartbeats)
    alert_ids = [row.alert_id for row in rows.values() if row.expired and row.alert_id]
    open_ids = set(session.scalars(select(Alert.id).where(
        Alert.id.in_(alert_ids), Alert.status != RESOLVED))) if alert_ids else set()
    found: list[Listed] = []
    for name, heartbeat in sorted(config.heartbeats.items()):
        row = rows.get(name)
        since = watched_since.get(name, now)
        last_ping = row.last_ping_at if row is not None else None
        missed = row is not None and row.expired
        shown = status(heartbeat, last_ping=last_ping, missed=missed, watched_since=since,
                       now=now)
        alert_id = row.alert_id if row is not None and row.alert_id in open_ids else None
        found.append(Listed(
            heartbeat=heartbeat, state=shown.state, last_ping=last_ping,
            pings=row.pings if row is not None else 0, due=shown.due,
            missed_since=row.expired_at if missed and row is not None else None,
            alert_id=alert_id, watched_since=since))
    return found


def describe(item: Listed) -> dict[str, Any]:
    """The plain JSON shape of one listed heartbeat; its key is never shown."""
    heartbeat = item.heartbeat
    return {
        "name": heartbeat.name, "interval_minutes": heartbeat.interval_minutes,
        "grace_minutes": heartbeat.grace_minutes, "service": heartbeat.service,
        "severity": heartbeat.severity, "state": item.state,
        "last_ping": _stamp(item.last_ping), "pings": item.pings, "due": _stamp(item.due),
        "missed_since": _stamp(item.missed_since), "alert_id": item.alert_id,
        "watched_since": format_utc(item.watched_since),
    }


def _stamp(at: datetime | None) -> str | None:
    return format_utc(at) if at is not None else None
