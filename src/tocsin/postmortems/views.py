"""Post-mortems as JSON: the one shape the API, the CLI's --json and the tests read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts.views import stamp
from tocsin.config.model import Config
from tocsin.incidents.store import Incident
from tocsin.postmortems import edits, rules, service
from tocsin.postmortems.store import ActionItem, Postmortem


def summary(postmortem: Postmortem, incident: Incident, now: datetime) -> dict[str, Any]:
    return {
        "incident": incident.key, "incident_title": incident.title,
        "severity": incident.severity, "services": list(incident.services or []),
        "status": postmortem.status, "title": postmortem.title,
        "root_cause_category": postmortem.root_cause_category,
        "due_at": stamp(postmortem.due_at),
        "overdue": rules.is_overdue(postmortem.status, postmortem.due_at, now),
        "updated_at": stamp(postmortem.updated_at), "updated_by": postmortem.updated_by,
        "version": postmortem.version,
        "published_at": stamp(postmortem.published_at),
    }


def detail(session: Session, config: Config, postmortem: Postmortem, incident: Incident,
           now: datetime) -> dict[str, Any]:
    fields = edits.snapshot(postmortem)
    return {
        **summary(postmortem, incident, now),
        **{name: fields[name] for name in edits.EDITABLE},
        "created_at": stamp(postmortem.created_at), "created_by": postmortem.created_by,
        "review_requested_at": stamp(postmortem.review_requested_at),
        "published_by": postmortem.published_by,
        "action_items": [action_item_json(item)
                         for item in service.action_items(session, incident)],
        "suggestions": [found.to_json() for found in service.suggestions(config, postmortem)],
    }


def action_item_json(item: ActionItem) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "owner": item.owner,
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "priority": item.priority, "status": item.status}
