"""Action items as the API, the CLI's --json and the UI show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.config.model import Config
from tocsin.notify.base import utc_stamp
from tocsin.notify.trackers import scrub, tracker_secrets
from tocsin.postmortems import action_rules as rules
from tocsin.postmortems.actions import owner_zone
from tocsin.postmortems.store import ActionItem


def _stamp(when: datetime | None) -> str | None:
    return utc_stamp(when) if when is not None else None


def item_json(item: ActionItem, *, config: Config, now: datetime) -> dict[str, Any]:
    user = config.users.get(item.owner)
    incident = f"INC-{item.incident_id}"
    return {
        "id": item.id,
        "incident": incident,
        "postmortem_id": item.postmortem_id,
        "title": item.title,
        "owner": item.owner,
        "owner_name": user.display if user else item.owner,
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "priority": item.priority,
        "status": item.status,
        "overdue": rules.is_overdue(item.due_date, item.status, now,
                                    owner_zone(config, item.owner)),
        "created_at": _stamp(item.created_at),
        "created_by": item.created_by,
        "updated_at": _stamp(item.updated_at),
        "completed_at": _stamp(item.completed_at),
        "tracker": None if item.tracker is None else {
            "name": item.tracker,
            "key": item.tracker_key,
            "url": item.tracker_url,
            "status": rules.far_label(item.tracker_status),
            "synced_at": _stamp(item.synced_at),
            # Stored scrubbed; scrubbed again for rows kept before that rule.
            "error": scrub(item.tracker_error, tracker_secrets(config.trackers))
            if item.tracker_error else None,
        },
        "links": {"incident": f"{config.public_url.rstrip('/')}/ui/incidents/{incident}",
                  "item": f"{config.public_url.rstrip('/')}/ui/action-items?id={item.id}"},
    }
