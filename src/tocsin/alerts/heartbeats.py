"""Heartbeats: a ping records its time and ends a miss; a miss raises an alert.

A missed heartbeat is an ordinary alert from the integration
`heartbeat:<name>` with the heartbeat's name as its dedup key, so it is
routed, escalated, acknowledged and resolved like any other; the ping that
ends the miss resolves it as its source. Each miss opens a new alert (its
instance is the moment of the miss), never one a person already resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.alerts import heartbeat_store as store
from tocsin.alerts.heartbeat_rules import deadline
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import ingest
from tocsin.alerts.store import RESOLVED, Alert
from tocsin.config.model import Config, Heartbeat, Integration

SOURCE = "heartbeat"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def integration_for(heartbeat: Heartbeat) -> Integration:
    """The integration a heartbeat's alerts belong to: never in the file, never keyed."""
    return Integration(name=f"heartbeat:{heartbeat.name}", type="heartbeat", key="",
                       service=heartbeat.service)


@dataclass(frozen=True)
class PingResult:
    name: str
    at: datetime
    recovered: bool  # the heartbeat was missed until this ping
    alert_id: int | None = None  # the latest miss's alert, when recovered
    resolved: bool = False  # this ping resolved that alert (a person had not already)


@dataclass(frozen=True)
class Miss:
    name: str
    alert_id: int | None
    last_ping: datetime | None


def record_ping(
    session: Session, *, config: Config, heartbeat: Heartbeat, now: datetime,
) -> PingResult:
    """Record a ping; if the heartbeat was missed, end the miss and resolve its alert."""
    state = store.lock(session, name=heartbeat.name, now=now)
    if state is None:  # made if absent and waited for when locked: never None here
        raise RuntimeError(f"heartbeat row {heartbeat.name!r} could not be locked")
    state.last_ping_at = now
    state.pings += 1
    if not state.expired:
        return PingResult(heartbeat.name, now, recovered=False)
    state.expired = False
    alert = session.get(Alert, state.alert_id) if state.alert_id is not None else None
    resolved = alert is not None and alert.status != RESOLVED
    if resolved:
        incoming = IncomingEvent(action="resolve", dedup_key=heartbeat.name, source=SOURCE)
        ingest(session, config=config, integration=integration_for(heartbeat),
               incoming=incoming, now=now)
    return PingResult(heartbeat.name, now, recovered=True, alert_id=state.alert_id,
                      resolved=resolved)


def expire_if_due(
    session: Session, *, config: Config, heartbeat: Heartbeat, watched_since: datetime,
    now: datetime,
) -> Miss | None:
    """Raise the heartbeat's alert if it is missed and not already; else None.

    The row lock (skipped when another engine holds it) and the re-check
    under it make a miss raise one alert however many engines look at once.
    """
    state = store.lock(session, name=heartbeat.name, now=now, skip_locked=True)
    if state is None or state.expired:
        return None
    due = deadline(heartbeat, last_ping=state.last_ping_at, watched_since=watched_since)
    if due > now:
        return None
    result = ingest(session, config=config, integration=integration_for(heartbeat),
                    incoming=_missed_event(heartbeat, state.last_ping_at, watched_since, now),
                    now=now)
    state.expired = True
    state.expired_at = now
    state.alert_id = result.alert_id
    state.expiries += 1
    return Miss(heartbeat.name, result.alert_id, state.last_ping_at)


def _missed_event(
    heartbeat: Heartbeat, last_ping: datetime | None, watched_since: datetime, now: datetime,
) -> IncomingEvent:
    since = last_ping or watched_since
    pinged = f"last ping {last_ping:{_STAMP}}" if last_ping else "never pinged"
    return IncomingEvent(
        action="trigger",
        dedup_key=heartbeat.name,
        title=f"Heartbeat {heartbeat.name} missed: no ping since {since:{_STAMP}}",
        instance=f"missed {now:%Y-%m-%dT%H:%M:%S.%fZ}",
        description=(f"Expected a ping every {heartbeat.interval_minutes:g} minutes, with "
                     f"{heartbeat.grace_minutes:g} minutes of grace; {pinged}."),
        severity=heartbeat.severity,
        service=heartbeat.service,
        source=SOURCE,
        labels={"heartbeat": heartbeat.name},
        details={"interval_minutes": heartbeat.interval_minutes,
                 "grace_minutes": heartbeat.grace_minutes,
                 "last_ping": f"{last_ping:{_STAMP}}" if last_ping else None},
    )
