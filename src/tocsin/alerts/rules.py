"""What an incoming event does to an alert: pure decisions, no storage.

An alert's identity is its integration plus its dedup key. Events of one
alert are ordered by the source's own timestamps, never by arrival, and a
sender's clock is never compared with ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Action = Literal["trigger", "acknowledge", "resolve"]
Outcome = Literal["open", "open_resolved", "update", "acknowledge", "resolve", "ignore"]


@dataclass(frozen=True)
class IncomingEvent:
    """One alert event from any source, in Tocsin's own words."""

    action: Action
    dedup_key: str
    title: str = ""
    # The source's id for this firing (Alertmanager's startsAt): a resend of
    # the same instance after a resolve must not reopen the alert.
    instance: str | None = None
    instance_time: datetime | None = None
    # When the source says this event happened (startsAt or endsAt).
    source_time: datetime | None = None
    description: str | None = None
    severity: str | None = None
    service: str | None = None
    source: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    source_url: str | None = None
    runbook_url: str | None = None


@dataclass(frozen=True)
class AlertState:
    """What the decision needs to know of the latest alert with this key."""

    status: str  # triggered | acknowledged | resolved
    instance: str | None
    instance_time: datetime | None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str = ""


def decide(current: AlertState | None, event: IncomingEvent) -> Decision:
    """Decide what `event` does, given the latest alert with its key (or None)."""
    if current is None or current.status == "resolved":
        return _decide_closed(current, event)
    return _decide_open(current, event)


def _decide_closed(current: AlertState | None, event: IncomingEvent) -> Decision:
    if event.action == "trigger":
        same_instance = (
            current is not None
            and event.instance is not None
            and current.instance == event.instance
        )
        if same_instance:
            return Decision("ignore", "resend of an instance that is already resolved")
        return Decision("open")
    if event.action == "resolve" and current is None:
        return Decision("open_resolved", "resolve for an alert never seen: kept for audit")
    return Decision("ignore", f"{event.action} for an alert that is not open")


def _decide_open(current: AlertState, event: IncomingEvent) -> Decision:
    if event.action == "trigger":
        return Decision("update")
    if event.action == "acknowledge":
        if current.status == "acknowledged":
            return Decision("ignore", "already acknowledged")
        return Decision("acknowledge")
    if _is_stale_resolve(current, event):
        return Decision("ignore", "resolve is older than the firing it would close")
    return Decision("resolve")


def _is_stale_resolve(current: AlertState, event: IncomingEvent) -> bool:
    # A resolve wins when it ends at or after the start of the firing now
    # open; one that ended before it belongs to an earlier firing.
    if event.source_time is None or current.instance_time is None:
        return False
    return event.source_time < current.instance_time
