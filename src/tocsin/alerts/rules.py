"""What an incoming event does to an alert: pure decisions, no storage.

An alert's identity is its integration plus its dedup key. Events of one
alert are ordered by the source's own timestamps, never by arrival, and a
sender's clock is never compared with ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tocsin.config.model import Target

Action = Literal["trigger", "acknowledge", "resolve"]
Outcome = Literal["open", "open_resolved", "update", "acknowledge", "resolve", "ignore"]
Urgency = Literal["high", "low"]

# Every source's severity words, and the urgency each means. docs/integrations.md
# shows this table; keep the two in step.
SEVERITY_URGENCY: dict[str, Urgency] = {
    "critical": "high", "error": "high", "warning": "low", "info": "low",
    "p1": "high", "p2": "high", "p3": "low", "p4": "low", "p5": "low",
    "sev1": "high", "sev2": "high", "sev3": "high", "sev4": "low",
    "high": "high", "low": "low",
}


def urgency_for(severity: str | None) -> Urgency:
    """The urgency a severity means, in any source's words and any case.

    A missing or unknown severity is high: a word we do not know must never
    make a page quieter than its sender meant.
    """
    if severity is None:
        return "high"
    return SEVERITY_URGENCY.get(severity.strip().lower().replace("-", ""), "high")


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
    # Who the sender says to page (Opsgenie's `responders`), already looked
    # up in the config: when given, they are paged instead of the route's target.
    responders: tuple[Target, ...] = ()


@dataclass(frozen=True)
class IncomingChange:
    """A change (a deploy, a config push) from a source: it pages nobody."""

    summary: str
    source: str | None = None
    timestamp: datetime | None = None  # when the source says it happened
    details: Any = None
    links: list[dict[str, str]] = field(default_factory=list)


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
