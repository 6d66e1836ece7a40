"""What the alert pages draw: plain values for the templates, worked out from stored alerts.

Text from senders (titles, labels, descriptions, links) reaches the page
only through Jinja2's autoescaping; a link is drawn as a link only when it
is http or https, so a `javascript:` runbook URL stays inert text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import escalate, search
from tocsin.alerts import views as alert_views
from tocsin.alerts.group_rules import describe_key
from tocsin.alerts.group_store import AlertGroup
from tocsin.alerts.routes import decide_route
from tocsin.alerts.store import ACKNOWLEDGED, RESOLVED, Alert, AlertEvent
from tocsin.config.model import Config, Route, Target
from tocsin.notify.store import Delivery

PAGE_SIZE = 50
MAX_PAGE = 200
# How often an open list asks for fresh rows (HTMX polling).
POLL_SECONDS = 5
# Members listed on an alert's page; a storm's group may hold thousands.
MAX_MEMBERS = 100
STATUS_LABELS = (("open", "Open (triggered or acknowledged)"), ("triggered", "Triggered"),
                 ("acknowledged", "Acknowledged"), ("resolved", "Resolved"), ("all", "All"))
# What the action forms report back after their redirect (?done=...).
DONE = ("acknowledged", "resolved", "already-acknowledged", "already-resolved",
        "marked-not-actionable", "marked-actionable")


@dataclass(frozen=True)
class ListFilter:
    """The list's query parameters as typed, and the search they make."""

    status: str = "open"
    service: str = ""
    severity: str = ""
    route: str = ""
    before: int | None = None
    limit: int = PAGE_SIZE

    @classmethod
    def read(cls, *, status: str, service: str, severity: str, route: str, before: str,
             limit: str) -> ListFilter:
        # A hand-edited URL with a value we do not know falls back to the default.
        chosen = status if status in search.STATUSES else "open"
        older = int(before) if _digits(before) and 0 < int(before) < 2**31 else None
        size = int(limit) if _digits(limit) and 0 < int(limit) <= MAX_PAGE else PAGE_SIZE
        return cls(chosen, service.strip(), severity.strip(), route.strip(), older, size)

    def query(self) -> search.AlertQuery:
        return search.AlertQuery(statuses=search.STATUSES[self.status],
                                 service=self.service or None, severity=self.severity or None,
                                 route=self.route or None, before=self.before, limit=self.limit)

    def params(self, **changes: Any) -> str:
        """The query string of this list, with `changes` applied; empty values left out."""
        values: dict[str, Any] = {"status": self.status, "service": self.service,
                                  "severity": self.severity, "route": self.route,
                                  "before": self.before,
                                  "limit": self.limit if self.limit != PAGE_SIZE else None}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _digits(text: str) -> bool:
    # str.isdigit alone takes "²", which int() refuses.
    return text.isascii() and text.isdigit() and len(text) <= 10


def web_link(url: str | None) -> str | None:
    """`url` if it is an http(s) link to a host; None for anything else."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def age(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def when(at: datetime | None, zone: ZoneInfo) -> str:
    return "" if at is None else f"{at.astimezone(zone):%a %d %b %Y %H:%M:%S}"


def who(config: Config, actor: str | None) -> str:
    """A person's name for a user id; any other actor (integration:x, cli:root) as it is."""
    if not actor:
        return ""
    user = config.users.get(actor)
    return user.display if user is not None else actor


def row(config: Config, alert: Alert, now: datetime, zone: ZoneInfo,
        group: AlertGroup | None = None) -> dict[str, Any]:
    """One line of the list; `group` is the alert's group, if it is in one."""
    return {"id": alert.id, "title": alert.title, "status": alert.status,
            "group": group_line(group),
            "severity": alert.severity or "", "urgency": alert.urgency,
            "service": alert.service or "", "age": age(now - alert.triggered_at),
            "triggered": when(alert.triggered_at, zone),
            "triggered_iso": alert.triggered_at.isoformat(),
            "acknowledged_by": who(config, alert.acknowledged_by),
            "flapping": bool(alert.flapping)}


def group_line(group: AlertGroup | None) -> dict[str, Any] | None:
    if group is None:
        return None
    return {"id": group.id, "alerts": group.alert_count, "firing": group.firing_count,
            "status": group.status, "key": describe_key(group.key)}


def group_detail(session: Session, alert: Alert) -> dict[str, Any] | None:
    """The alert's group for its page: counts, key values and the members."""
    group = session.get(AlertGroup, alert.group_id) if alert.group_id is not None else None
    line = group_line(group)
    if group is None or line is None:
        return None
    members = alert_views.group_members(session, group.id, limit=MAX_MEMBERS + 1)
    return {**line, "route": group.route, "lead": group.lead_alert_id,
            "members": [{"id": m.id, "title": m.title, "status": m.status,
                         "lead": m.id == group.lead_alert_id, "this": m.id == alert.id}
                        for m in members[:MAX_MEMBERS]],
            "more": max(group.alert_count - MAX_MEMBERS, 0) if len(members) > MAX_MEMBERS else 0}


def route_choices(config: Config) -> list[tuple[str, str]]:
    """Every route of the tree (indented by depth), then the two ways around it."""
    found: list[tuple[str, str]] = []

    def walk(routes: tuple[Route, ...], depth: int) -> None:
        for route in routes:
            found.append((route.path, f"{'· ' * depth}{route.path} (line {route.line})"))
            walk(route.routes, depth + 1)

    walk(config.routes, 0)
    return [*found, (search.BY_SERVICE, "no route: the service's policy"),
            (search.NO_ROUTE, "no route: fallback contact")]


def notice(config: Config, alert: Alert, done: str, zone: ZoneInfo) -> str:
    """The line an action leaves on the alert's page, if the alert still bears it out."""
    if done == "acknowledged" and alert.status == ACKNOWLEDGED:
        return "Acknowledged. Queued pages for this alert are cancelled."
    if done == "resolved" and alert.status == RESOLVED:
        return "Resolved."
    if done == "already-acknowledged" and alert.acknowledged_at is not None:
        return (f"Already acknowledged by {who(config, alert.acknowledged_by)} at "
                f"{when(alert.acknowledged_at, zone)} ({zone.key}); nothing changed.")
    if done == "already-resolved" and alert.status == RESOLVED:
        return (f"Already resolved by {who(config, alert.resolved_by)} at "
                f"{when(alert.resolved_at, zone)} ({zone.key}); nothing changed.")
    if done == "marked-not-actionable" and alert.not_actionable:
        return "Marked not actionable: it counts apart in the metrics."
    if done == "marked-actionable" and not alert.not_actionable:
        return "No longer marked not actionable."
    return ""


def detail(session: Session, config: Config, alert: Alert, now: datetime,
           zone: ZoneInfo) -> dict[str, Any]:
    """Everything the alert's page shows."""
    events = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id)
                             .order_by(AlertEvent.id))
    pages = session.scalars(select(Delivery).where(Delivery.alert_id == alert.id)
                            .order_by(Delivery.id))
    return {
        "alert": alert, "row": row(config, alert, now, zone),
        "labels": sorted((str(k), str(v)) for k, v in (alert.labels or {}).items()),
        "runbook": web_link(alert.runbook_url), "source_link": web_link(alert.source_url),
        "acknowledged": when(alert.acknowledged_at, zone),
        "acknowledged_by": who(config, alert.acknowledged_by),
        "resolved": when(alert.resolved_at, zone), "resolved_by": who(config, alert.resolved_by),
        "timeline": [{"at": when(e.at, zone), "iso": e.at.isoformat(), "kind": e.kind,
                      "actor": who(config, e.actor), "surface": e.surface or "",
                      "message": e.message} for e in events],
        # Deliveries number their steps from 1; 0 is a page to the fallback contact.
        "pages": [{"who": who(config, d.user_id), "channel": d.channel,
                   "step": d.step or "fallback",
                   "status": d.status, "attempts": d.attempts, "detail": d.detail,
                   "at": when(d.created_at, zone)} for d in pages],
        "policy": _policy(config, alert),
        "group": group_detail(session, alert),
        "today": _today(config, alert, now),
    }


def _policy(config: Config, alert: Alert) -> dict[str, Any]:
    policy = escalate.alert_policy(config, alert)
    if policy is None:
        return {"name": alert.policy or "", "exists": False, "steps": [], "current": None,
                "repeat": 0, "pass": alert.pass_number + 1}
    return {
        "name": alert.policy or policy.name, "exists": True, "repeat": policy.repeat,
        "pass": alert.pass_number + 1, "ack_timeout": policy.ack_timeout_minutes,
        "current": alert.step + 1 if alert.step >= 0 else None,
        "steps": [{"number": i + 1, "targets": ", ".join(_target(config, t) for t in s.targets),
                   "timeout": s.timeout_minutes} for i, s in enumerate(policy.steps)],
    }


def _target(config: Config, target: Target) -> str:
    if target.kind == "user":
        return f"user {who(config, target.name)}"
    return f"{target.kind.replace('_', ' ')} {target.name}"


def _today(config: Config, alert: Alert, now: datetime) -> dict[str, Any]:
    """Where the alert's labels would go now, with the config in force now."""
    labels = {str(k): str(v) for k, v in (alert.labels or {}).items()}
    decision = decide_route(config, labels, severity=alert.severity, service=alert.service,
                            at=now)
    target, choice = decision.target, decision.choice
    route = f"{choice.route.path} (line {choice.route.line})" if choice is not None else ""
    return {"via": decision.via, "route": route, "policy": decision.policy or "",
            "notify": _target(config, target) if target is not None else "",
            "direct": target is not None and target.kind != "escalation_policy",
            "urgency": decision.urgency,
            "channels": ", ".join(decision.channels) if decision.channels is not None else "",
            "explanation": list(decision.explanation),
            "same": decision.policy == alert.policy}
