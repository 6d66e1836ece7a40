"""Draft the post-mortems that severities require, once their incidents are resolved.

The incidents package sits below post-mortems, so resolving cannot draft
one itself; this pass does, on the engine's full passes (runner's
FULL_PASS_EVERY, five minutes, apart at most; sooner when other work is
due): each incident resolved in the last LOOKBACK whose severity has
`postmortem_required` and that has no post-mortem gets a draft, due
`postmortem_due_days` after the resolve.
A post-mortem drafted by hand while the incident was open gets its due
time here when the incident is resolved. An incident reopened and resolved
again keeps its one post-mortem and its first due time.

The lookback keeps an upgrade (or a severity newly marked as requiring a
post-mortem) from filling the list with overdue drafts of old incidents;
anyone may still draft those by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.store import Incident
from tocsin.postmortems import rules, service
from tocsin.postmortems.store import Postmortem

LOOKBACK = timedelta(days=30)
ACTOR = "tocsin"
SURFACE = "engine"
BATCH = 50


def run_due(session: Session, *, config: Config, now: datetime, batch: int = BATCH) -> int:
    """Draft or date what is missing; how many post-mortems were drafted or dated."""
    required = [s.name.lower() for s in config.severities if s.postmortem_required]
    if not required:
        return 0
    dated = [s.name.lower() for s in config.severities
             if s.postmortem_required and s.postmortem_due_days is not None]
    resolved = (Incident.status == incident_rules.RESOLVED,
                Incident.resolved_at >= now - LOOKBACK)
    missing = list(session.scalars(select(Incident.id).where(
        *resolved, func.lower(Incident.severity).in_(required),
        Incident.id.not_in(select(Postmortem.incident_id)))
        .order_by(Incident.id).limit(batch)))
    undated = list(session.scalars(select(Incident.id).join(
        Postmortem, Postmortem.incident_id == Incident.id).where(
        *resolved, func.lower(Incident.severity).in_(dated), Postmortem.due_at.is_(None),
        Postmortem.status != rules.PUBLISHED)
        .order_by(Incident.id).limit(batch)))
    done = 0
    for incident_id in [*missing, *undated]:
        incident = session.get(Incident, incident_id, with_for_update=True,
                               populate_existing=True)
        if incident is None or incident.status != incident_rules.RESOLVED:
            continue  # reopened meanwhile: drafted at its next resolve
        if incident_id in missing:
            service.draft_for(session, config=config, incident=incident, actor=ACTOR,
                              surface=SURFACE, now=now)
            done += 1
        else:
            done += service.date(session, config=config, incident=incident, actor=ACTOR,
                                 surface=SURFACE, now=now)
    return done
