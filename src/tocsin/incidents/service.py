"""Incident use cases. Declaring is all there is yet; the workflow comes later."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.config.model import Config
from tocsin.db import MAX_ID
from tocsin.errors import FieldProblem, InvalidInput, NotFound
from tocsin.incidents.store import Incident
from tocsin.logs import event

log = logging.getLogger(__name__)


def declare(
    session: Session, *, config: Config, title: str, severity: str, actor: str, surface: str,
    now: datetime, commander: str | None = None,
) -> Incident:
    title = title.strip()
    if not title:
        raise InvalidInput("an incident needs a title", [FieldProblem("title", "is empty")])
    found = config.severity(severity)
    if found is None:
        names = ", ".join(s.name for s in config.severities)
        raise InvalidInput(f"unknown severity {severity!r}", [
            FieldProblem("severity", f"must be one of {names}")])
    incident = Incident(
        title=title, severity=found.name, status="investigating",
        commander=commander or actor, target_mttr_minutes=found.target_mttr_minutes,
        declared_at=now, declared_by=actor, impact_start=now,
    )
    session.add(incident)
    session.flush()
    audit.record(session, now=now, actor=actor, surface=surface, action="incident.declare",
                 object_type="incident", object_id=incident.key,
                 after={"title": title, "severity": found.name, "commander": incident.commander})
    event(log, "incident.declared", incident=incident.key, severity=found.name, actor=actor)
    return incident


def get(session: Session, key: str) -> Incident:
    number = key.upper().removeprefix("INC-")
    if not number.isdigit():
        raise NotFound(f"{key!r} is not an incident id; use INC-<number>")
    incident = session.get(Incident, int(number)) if 0 < int(number) <= MAX_ID else None
    if incident is None:
        raise NotFound(f"incident {key} does not exist")
    return incident


def recent(session: Session, limit: int = 50) -> list[Incident]:
    return list(session.scalars(select(Incident).order_by(Incident.id.desc()).limit(limit)))
