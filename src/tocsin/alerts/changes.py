"""Change events: deploys and config pushes a source reports. They page nobody.

They are kept so that whoever is paged can see what changed on the service
just before it broke. Functions run inside the caller's session and never
commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.rules import IncomingChange
from tocsin.alerts.store import ChangeEvent
from tocsin.alerts.views import stamp
from tocsin.config.model import Integration
from tocsin.logs import event

log = logging.getLogger(__name__)


def record_change(
    session: Session, *, integration: Integration, change: IncomingChange, now: datetime,
) -> ChangeEvent:
    """Store one change on the integration's service; nobody is paged."""
    row = ChangeEvent(
        integration=integration.name, service=integration.service, summary=change.summary,
        source=change.source, happened_at=change.timestamp or now, received_at=now,
        details=change.details, links=list(change.links),
    )
    session.add(row)
    session.flush()
    event(log, "change.recorded", change_id=row.id, integration=integration.name,
          service=integration.service)
    return row


def list_changes(
    session: Session, *, service: str | None = None, integration: str | None = None,
    since: datetime | None = None, limit: int = 100,
) -> list[ChangeEvent]:
    """Newest first by arrival; `since` compares the time the change happened."""
    query = select(ChangeEvent).order_by(ChangeEvent.id.desc()).limit(limit)
    if service:
        query = query.where(ChangeEvent.service == service)
    if integration:
        query = query.where(ChangeEvent.integration == integration)
    if since:
        query = query.where(ChangeEvent.happened_at >= since)
    return list(session.scalars(query))


def change_summary(change: ChangeEvent) -> dict[str, Any]:
    return {
        "id": change.id, "summary": change.summary, "source": change.source,
        "service": change.service, "integration": change.integration,
        "happened_at": stamp(change.happened_at), "received_at": stamp(change.received_at),
        "details": change.details, "links": change.links,
    }
