"""What the maintenance and heartbeat pages draw: plain values for the templates.

Every time is shown in the reader's zone (their own, else the config's),
and the pages name that zone beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.alerts.heartbeat_list import Listed as ListedHeartbeat
from tocsin.alerts.maintenance_overview import HeldBy, Listed, Overview, held_by
from tocsin.alerts.maintenance_rules import describe_matchers
from tocsin.alerts.store import RESOLVED, Alert
from tocsin.config.model import Config
from tocsin.web.ui_alert_views import age, who

STATUS_TEXT = {"in_force": "in force", "scheduled": "upcoming", "ended": "ended",
               "cancelled": "cancelled"}
HEARTBEAT_TEXT = {
    "up": "up", "late": "late", "missed": "missed",
    "waiting": "waiting for the first ping", "startup_grace": "start-up grace",
}


def local(at: datetime | None, zone: ZoneInfo) -> str:
    return "" if at is None else f"{at.astimezone(zone):%a %d %b %Y %H:%M}"


def window_item(config: Config, item: Listed, zone: ZoneInfo) -> dict[str, Any]:
    window = item.window
    if item.surface == "config":
        made = f"the config file (line {item.line})" if item.line else "the config file"
    else:
        made = f"{who(config, item.created_by)} ({item.surface})"
    return {
        "key": item.key, "label": item.label, "number": item.key if item.key.isdigit() else "",
        "matchers": describe_matchers(window.services, window.match, window.match_re),
        "start": local(window.start, zone), "end": local(window.end, zone),
        "start_iso": window.start.isoformat(), "end_iso": window.end.isoformat(),
        "planned_end": local(item.planned_end, zone) if item.planned_end != window.end else "",
        "state": item.status, "status": STATUS_TEXT.get(item.status, item.status),
        "reason": window.reason,
        "made_by": made, "holding": item.holding, "endable": item.endable,
        "ended_by": who(config, item.ended_by) if item.ended_at is not None else "",
    }


def overview_context(config: Config, found: Overview, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "in_force": [window_item(config, i, zone) for i in found.in_force],
        "upcoming": [window_item(config, i, zone) for i in found.upcoming],
        "ended": [window_item(config, i, zone) for i in found.ended],
    }


def held_note(session: Session, config: Config, alert: Alert, now: datetime,
              zone: ZoneInfo) -> str:
    """The line an alert's page shows while maintenance holds it; empty when none does."""
    if alert.status == RESOLVED:
        return ""
    held = held_by(session, config=config, alert_id=alert.id, now=now)
    return _held_text(held, zone) if held is not None else ""


def _held_text(held: HeldBy, zone: ZoneInfo) -> str:
    named = f"maintenance window {held.label}"
    if held.over:
        return (f"Held by {named}, which is over; paging starts on the engine's next pass "
                "(within seconds).")
    why = f" ({held.reason})" if held.reason else ""
    return (f"Held by {named}{why} until {local(held.until, zone)} ({zone.key}): "
            "nobody is paged until then.")


def heartbeat_item(item: ListedHeartbeat, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    heartbeat = item.heartbeat
    return {
        "name": heartbeat.name, "state": item.state,
        "state_text": HEARTBEAT_TEXT.get(item.state, item.state),
        "interval": f"{heartbeat.interval_minutes:g} min",
        "grace": f"{heartbeat.grace_minutes:g} min",
        "service": heartbeat.service or "", "severity": heartbeat.severity,
        "last_ping": local(item.last_ping, zone),
        "last_ping_age": age(now - item.last_ping) if item.last_ping is not None else "",
        "due": local(item.due, zone), "missed_since": local(item.missed_since, zone),
        "alert_id": item.alert_id, "pings": item.pings,
    }
