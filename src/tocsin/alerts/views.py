"""Alerts as plain JSON-ready dictionaries, for the API and the CLI alike."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import group_store
from tocsin.alerts.group_store import AlertGroup
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.escalation.store import chains_of
from tocsin.notify.store import Delivery


def stamp(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def alert_summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "status": alert.status, "title": alert.title,
        "severity": alert.severity, "service": alert.service, "urgency": alert.urgency,
        "integration": alert.integration, "dedup_key": alert.dedup_key,
        "policy": alert.policy, "route": alert.route,
        "step": alert.step + 1 if alert.step >= 0 else None,
        "event_count": alert.event_count, "flapping": bool(alert.flapping),
        "group_id": alert.group_id,
        "triggered_at": stamp(alert.triggered_at),
        "acknowledged_at": stamp(alert.acknowledged_at), "acknowledged_by": alert.acknowledged_by,
        "resolved_at": stamp(alert.resolved_at), "resolved_by": alert.resolved_by,
        "labels": alert.labels, "description": alert.description,
        "source_url": alert.source_url, "runbook_url": alert.runbook_url,
        "not_actionable": bool(alert.not_actionable),
    }


def alert_detail(session: Session, alert: Alert) -> dict[str, Any]:
    timeline = session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
    )
    pages = session.scalars(
        select(Delivery).where(Delivery.alert_id == alert.id).order_by(Delivery.id)
    )
    return {
        **alert_summary(alert),
        "details": alert.details,
        "group": group_json(_group(session, alert.group_id)),
        # Further policies escalating beside `policy` (routes with continue).
        "also": [
            {"policy": chain.policy, "route": chain.route,
             "step": chain.step + 1 if chain.step >= 0 else None, "pass": chain.pass_number + 1,
             "started_at": stamp(chain.started_at), "stopped_at": stamp(chain.stopped_at)}
            for chain in chains_of(session, alert.id, running_only=False)
        ],
        "timeline": [
            {"at": stamp(e.at), "kind": e.kind, "actor": e.actor, "surface": e.surface,
             "message": e.message, "data": e.data}
            for e in timeline
        ],
        "notifications": [
            {"id": d.id, "user": d.user_id, "channel": d.channel, "step": d.step,
             "status": d.status, "attempts": d.attempts, "detail": d.detail,
             "created_at": stamp(d.created_at), "finished_at": stamp(d.finished_at)}
            for d in pages
        ],
    }


def group_json(group: AlertGroup | None) -> dict[str, Any] | None:
    """A group as the API shows it on each member: its key values and how many fire."""
    if group is None:
        return None
    return {
        "id": group.id, "key": group.key, "alerts": group.alert_count,
        "firing": group.firing_count, "status": group.status, "route": group.route,
        "lead_alert_id": group.lead_alert_id, "opened_at": stamp(group.opened_at),
        "acknowledged_by": group.acknowledged_by, "resolved_at": stamp(group.resolved_at),
    }


def _group(session: Session, group_id: int | None) -> AlertGroup | None:
    return None if group_id is None else session.get(AlertGroup, group_id)


def groups_of(session: Session, alerts: Iterable[Alert]) -> dict[int, AlertGroup]:
    """The groups of these alerts, by id, in one query."""
    return group_store.by_ids(session, {a.group_id for a in alerts if a.group_id is not None})


def group_members(session: Session, group_id: int, *, limit: int) -> list[Alert]:
    """A group's alerts, oldest first, at most `limit`."""
    query = select(Alert).where(Alert.group_id == group_id).order_by(Alert.id).limit(limit)
    return list(session.scalars(query))


def list_alerts(
    session: Session, *, status: str | None = None, dedup_key: str | None = None,
    service: str | None = None, since: datetime | None = None, limit: int = 100,
) -> list[Alert]:
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if status:
        query = query.where(Alert.status == status)
    if dedup_key:
        query = query.where(Alert.dedup_key == dedup_key)
    if service:
        query = query.where(Alert.service == service)
    if since:
        query = query.where(Alert.triggered_at >= since)
    return list(session.scalars(query))
