"""Alerts as plain JSON-ready dictionaries, for the API and the CLI alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.store import Alert, AlertEvent
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
        "event_count": alert.event_count,
        "triggered_at": stamp(alert.triggered_at),
        "acknowledged_at": stamp(alert.acknowledged_at), "acknowledged_by": alert.acknowledged_by,
        "resolved_at": stamp(alert.resolved_at), "resolved_by": alert.resolved_by,
        "labels": alert.labels, "description": alert.description,
        "source_url": alert.source_url, "runbook_url": alert.runbook_url,
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
