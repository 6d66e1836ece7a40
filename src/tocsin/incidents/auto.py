"""Incidents declared by routes: `declare_incident: SEV2` on the route an alert took.

Routing (in `alerts`, which sits below incidents) writes a timer of kind
`declare_incident` for the alert in the transaction that routes it; the
engine claims those timers here, apart from escalation timers, and declares.
The route is read again against the config of that moment. An alert already
linked to an incident is left alone, and an alert whose group already has
an open incident is linked to it rather than opening another.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.routes import RouteDecision, decide_route
from tocsin.alerts.service import get_alert
from tocsin.alerts.store import RESOLVED, Alert
from tocsin.config.model import Config
from tocsin.escalation import store as timers
from tocsin.incidents import records, service
from tocsin.incidents.store import Incident, IncidentAlert
from tocsin.logs import event

log = logging.getLogger(__name__)

ACTOR = "tocsin"
SURFACE = "route"


def severity_for(decision: RouteDecision) -> str | None:
    """The severity the first route that took the alert declares, if any does."""
    routes = [decision.choice.route] if decision.choice is not None else []
    routes += [found.choice.route for found in decision.also]
    return next((r.declare_incident for r in routes if r.declare_incident), None)


def run_due(session: Session, *, config: Config, now: datetime, limit: int = 50) -> int:
    """Declare for each due timer; how many were applied."""
    due = timers.claim_due(session, now=now, limit=limit, kinds=(timers.DECLARE_INCIDENT,))
    for timer in due:
        alert_id = timer.alert_id
        try:
            with session.begin_nested():
                declare_for(session, config=config,
                            alert=get_alert(session, alert_id, lock=True), now=now)
            timer.state = timers.DONE
        except Exception:
            # The alert still pages through its route; only the incident is missing,
            # and retrying a declaration that fails would fail again every pass.
            log.exception("incident.route_declare_failed")
            timer.state = timers.FAILED
        timer.done_at = now
    return len(due)


def declare_for(session: Session, *, config: Config, alert: Alert,
                now: datetime) -> Incident | None:
    if alert.status == RESOLVED:
        return None  # resolved before the engine got to it: nothing left to run
    if session.scalars(select(IncidentAlert).where(
            IncidentAlert.alert_id == alert.id)).first() is not None:
        return None
    decision = decide_route(config, alert.labels, severity=alert.severity,
                            service=alert.service, at=now)
    severity = severity_for(decision)
    if severity is None or config.severity(severity) is None:
        return None
    joined = _open_incident_of_group(session, alert)
    if joined is not None:
        records.link_alert_row(session, joined, alert.id, actor=ACTOR, surface=SURFACE,
                               now=now)
        event(log, "incident.alert_joined", incident=joined.key, alert_id=alert.id)
        return joined
    incident = service.declare_from_alert(session, config=config, alert_id=alert.id,
                                          severity=severity, actor=ACTOR, surface=SURFACE,
                                          now=now)
    event(log, "incident.declared_by_route", incident=incident.key, alert_id=alert.id,
          route=alert.route)
    return incident


def _open_incident_of_group(session: Session, alert: Alert) -> Incident | None:
    if alert.group_id is None:
        return None
    query = (select(Incident)
             .join(IncidentAlert, IncidentAlert.incident_id == Incident.id)
             .join(Alert, Alert.id == IncidentAlert.alert_id)
             .where(Alert.group_id == alert.group_id, Incident.status != "resolved")
             .order_by(Incident.id).limit(1))
    return session.scalars(query).first()
