"""Incidents as JSON: the one shape the API, the CLI's --json and the UI read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts.views import stamp
from tocsin.incidents import service
from tocsin.incidents.rules import Clocks, TimelineEntry
from tocsin.incidents.store import Incident, IncidentUpdate


def summary(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.key, "number": incident.id, "title": incident.title,
        "severity": incident.severity, "status": incident.status,
        "commander": incident.commander, "private": incident.private,
        "services": list(incident.services or []),
        "target_mttr_minutes": incident.target_mttr_minutes,
        "declared_at": stamp(incident.declared_at), "declared_by": incident.declared_by,
        "impact_start": stamp(incident.impact_start),
        "mitigated_at": stamp(incident.mitigated_at),
        "resolved_at": stamp(incident.resolved_at),
        "slack_channel": incident.slack_channel_name,
    }


def detail(session: Session, incident: Incident) -> dict[str, Any]:
    entries = service.timeline(session, incident)
    return {
        **summary(incident),
        "summary": incident.summary, "users_affected": incident.users_affected,
        "root_cause": incident.root_cause,
        "status_changed_at": stamp(incident.status_changed_at),
        "last_update_at": stamp(incident.last_update_at),
        "slack_channel_id": incident.slack_channel_id,
        "roles": service.roles_of(session, incident),
        "clocks": clocks_json(service.clocks(incident, entries)),
        "alerts": [{"alert_id": link.alert_id, "reason": link.reason,
                    "linked_at": stamp(link.linked_at), "linked_by": link.linked_by}
                   for link in service.alerts_of(session, incident)],
        "members": service.members_of(session, incident) if incident.private else [],
        "timeline": [entry_json(entry) for entry in entries],
    }


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "kind": entry.kind, "text": entry.text, "actor": entry.actor,
        "surface": entry.surface, "occurred_at": stamp(entry.occurred_at),
        "recorded_at": stamp(entry.recorded_at), "edited_at": stamp(entry.edited_at),
        "edited_by": entry.edited_by, "slack_ts": entry.slack_ts, "data": entry.data,
    }


def update_json(update: IncidentUpdate) -> dict[str, Any]:
    return {"id": update.id, "text": update.text, "status": update.status,
            "severity": update.severity, "posted_at": stamp(update.posted_at),
            "posted_by": update.posted_by}


def clocks_json(found: Clocks) -> dict[str, Any]:
    return {
        "started_at": stamp(found.started_at),
        "acknowledged_at": stamp(found.acknowledged_at),
        "mitigated_at": stamp(found.mitigated_at), "resolved_at": stamp(found.resolved_at),
        "duration_seconds": _seconds(found.duration),
        "time_to_acknowledge_seconds": _seconds(found.time_to_acknowledge),
        "time_to_mitigate_seconds": _seconds(found.time_to_mitigate),
    }


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()
