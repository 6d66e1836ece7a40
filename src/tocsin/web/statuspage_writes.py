"""Public updates written from an incident's own surfaces: its UI page and its Slack channel.

The Communicator writes for customers on purpose: the first write makes the
incident's public face (its own title, impact and components), each later
one posts an update to that face. Both go through `statuspage.service` in
the caller's transaction and are put on the incident's timeline too
("Status page update (monitoring): ..."), so the post-mortem reads what
customers were told. Nothing else of the incident (notes, roles,
responders) is copied: only the text typed here is public.

From Slack only a status and a text are typed, so the first use takes the
face's title from the incident's, its components from the incident's
services tied to components, and their status and the impact from the
incident's severity (the first configured severity is the worst):

    first severity  -> impact critical, components major_outage
    second          -> impact major,    components partial_outage
    any other       -> impact minor,    components degraded_performance

A private incident's title is internal: its first public post must give a
public title of its own (Slack: `title="..."`), or is refused.

Later Slack updates change no component, except that a resolve returns the
ones this incident set to operational (`statuspage.service`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.incidents import changes as incident_changes
from tocsin.incidents.store import Incident
from tocsin.logs import event
from tocsin.statuspage import rules, service
from tocsin.statuspage import store as status_store

log = logging.getLogger(__name__)

_BY_RANK = (("critical", rules.MAJOR), ("major", rules.PARTIAL))
_OTHERWISE = ("minor", rules.DEGRADED)


@dataclass(frozen=True)
class Published:
    status_incident: int
    created: bool
    status: str


def public_face(session: Session, incident: Incident) -> status_store.StatusIncident | None:
    return status_store.for_incident(session, incident.id)


def components_of(config: Config, incident: Incident) -> list[str]:
    """The components tied to the incident's services, in the page's order."""
    services = set(incident.services or [])
    return [c.name for c in config.components if c.service is not None and c.service in services]


def first_impact(config: Config, incident: Incident) -> tuple[str, str]:
    """The impact and component status a first Slack write shows, from the severity."""
    names = [s.name for s in config.severities]
    rank = names.index(incident.severity) if incident.severity in names else len(names)
    return _BY_RANK[rank] if rank < len(_BY_RANK) else _OTHERWISE


def _public_title(incident: Incident, name: Any) -> None:
    """A private incident's title is internal: its first public post must bring its own."""
    if incident.private and (not isinstance(name, str) or not name.strip()):
        raise InvalidInput(f"{incident.key} is private: its title must not reach the page", [
            FieldProblem("name", "give the public incident a title of its own (Slack: "
                                 '`/incident statuspage title="..." STATUS TEXT`)')])


def publish(
    session: Session, *, config: Config, incident: Incident, status: Any, body: Any,
    components: dict[str, str] | None = None, name: Any = None, impact: Any = None,
    actor: str, surface: str, now: datetime, admin: bool = False,
) -> Published:
    """Create the incident's public face with this update, or add the update to it."""
    # The incident's row is the lock: two first writes at once make one public face.
    session.refresh(incident, with_for_update=True)
    face = status_store.for_incident(session, incident.id)
    if face is None:
        _public_title(incident, name)
        if impact is None or components is None:
            shown_impact, shown_status = first_impact(config, incident)
            impact = impact if impact is not None else shown_impact
            if components is None and status not in (rules.RESOLVED, rules.POSTMORTEM):
                components = {c: shown_status for c in components_of(config, incident)}
        row = service.create_incident(
            session, config=config, name=incident.title if name is None else name,
            impact=impact, status=status, body=body, components=components or None,
            incident_id=incident.id, actor=actor, surface=surface, now=now)
        face_id, created = row.id, True
    else:
        service.post_update(session, config=config, incident=face.id, status=status,
                            body=body, components=components or None, actor=actor,
                            surface=surface, now=now)
        face_id, created = face.id, False
    incident_changes.add_note(
        session, config=config, key=incident.key,
        text=f"Status page update ({status}): {str(body).strip()}", actor=actor,
        surface=surface, now=now, source="status_page", admin=admin)
    face = status_store.get_incident(session, face_id)
    assert face is not None
    event(log, "status_incident.published", incident=incident.key,
          status_incident_id=face_id, created=created, actor=actor, surface=surface)
    return Published(face_id, created, face.status)
