"""The demo's incidents: declared from their alerts, worked, told on the status page.

Each incident is a script of timed actions on the walk (`demo_walk`), all
through the incident and status page services, so its timeline, clocks and
status history read as a real one would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.cli.demo_data import INC_142_TIMELINE, AlertKind, StoryIncident
from tocsin.cli.demo_walk import Walk
from tocsin.incidents import changes
from tocsin.incidents.service import declare_from_alert
from tocsin.statuspage import service as status_page
from tocsin.statuspage.store import for_incident

# How bad each severity looks to customers: the public impact and the component's status.
PUBLIC = {"SEV1": ("critical", "major_outage"), "SEV2": ("major", "partial_outage"),
          "SEV3": ("minor", "degraded_performance"), "SEV4": ("minor", "degraded_performance")}
SURFACE = "ui"


@dataclass
class Worked:
    """An incident as the demo ran it: its key once declared, and who did what."""

    story: StoryIncident
    start: datetime
    alert_id: int | None = None
    key: str | None = None
    acked_by: str | None = None
    moments: dict[str, datetime] = field(default_factory=dict)


def minutes_of(story: StoryIncident) -> dict[str, float]:
    """When each step happens, in minutes after the first alert.

    Chosen so that INC-142 follows the seed's post-mortem to the minute
    (acknowledged 2, channel 5, cause 7, mitigated 10, dropping 15, resolved 25).
    """
    total = float(story.duration_minutes)
    return {"ack": 2, "declare": 5, "public": 6, "identified": max(7, 0.28 * total),
            "mitigated": max(10, 0.4 * total), "monitoring": max(15, 0.6 * total),
            "resolved": total}


def component_of(walk: Walk, service: str) -> str | None:
    for component in walk.config.components:
        if component.service == service:
            return component.name
    return None


def plan(walk: Walk, worked: Worked, kind: AlertKind, *, seed_timeline: bool) -> None:
    """Put the incident's actions on the walk."""
    story, t0 = worked.story, worked.start
    at = {name: t0 + timedelta(minutes=m) for name, m in minutes_of(story).items()}
    worked.moments = at
    component = component_of(walk, story.service)
    impact, broken = PUBLIC[story.severity]
    alert_title = INC_142_TIMELINE[0][1].removeprefix("Alert: ") if seed_timeline else None

    def fire(now: datetime) -> None:
        worked.alert_id = walk.fire(kind, now, title=alert_title)

    def ack(now: datetime) -> None:
        assert worked.alert_id is not None
        worked.acked_by = walk.acknowledge(worked.alert_id, now, surface="link")

    def declare(now: datetime) -> None:
        assert worked.alert_id is not None
        incident = declare_from_alert(
            walk.session, config=walk.config, alert_id=worked.alert_id,
            severity=story.severity, actor=story.commander, surface=SURFACE, now=now,
            title=story.title, commander=story.commander)
        worked.key = incident.key
        if story.severity in ("SEV1", "SEV2"):
            changes.assign_role(walk.session, config=walk.config, key=incident.key,
                                role="Communicator", user=_teammate(walk, story), now=now,
                                actor=story.commander, surface=SURFACE)

    def public(now: datetime) -> None:
        if component is None:
            return
        _publish(walk, worked, now, status="investigating", impact=impact,
                 body=f"We are investigating problems with {component}.",
                 components={component: broken})

    def identified(now: datetime) -> None:
        key = _key(worked)
        note = (INC_142_TIMELINE[3][1] if seed_timeline
                else f"Cause found: {story.root_cause}")
        changes.set_status(walk.session, config=walk.config, key=key, status="identified",
                           actor=story.commander, surface=SURFACE, now=now, note=note)
        changes.set_impact(walk.session, config=walk.config, key=key, actor=story.commander,
                           surface=SURFACE, now=now, users_affected=story.users_affected,
                           root_cause=story.root_cause,
                           summary=f"{story.title}; about {story.users_affected:,} users "
                                   "affected.")
        if component is not None:
            _publish(walk, worked, now, status="identified",
                     body="We have found the cause and are working on a fix.")

    def mitigated(now: datetime) -> None:
        key = _key(worked)
        changes.mark_mitigated(walk.session, config=walk.config, key=key,
                               actor=story.commander, surface=SURFACE, now=now)
        note = INC_142_TIMELINE[4][1] if seed_timeline else "Mitigation applied"
        changes.add_note(walk.session, config=walk.config, key=key, text=note,
                         actor=story.commander, surface=SURFACE, now=now)

    def monitoring(now: datetime) -> None:
        key = _key(worked)
        note = INC_142_TIMELINE[5][1] if seed_timeline else "Metrics back to normal"
        changes.set_status(walk.session, config=walk.config, key=key, status="monitoring",
                           actor=story.commander, surface=SURFACE, now=now, note=note)
        changes.post_update(walk.session, config=walk.config, key=key, actor=story.commander,
                            surface=SURFACE, now=now,
                            text=f"Mitigated; {story.users_affected:,} users were affected. "
                                 "Watching before we close.")
        if component is not None:
            _publish(walk, worked, now, status="monitoring",
                     body="A fix is in place and we are watching the results.",
                     components={component: "degraded_performance"})

    def resolved(now: datetime) -> None:
        assert worked.alert_id is not None
        walk.source_resolves(worked.alert_id, now - timedelta(minutes=1))
        note = INC_142_TIMELINE[6][1] if seed_timeline else "Resolved"
        changes.set_status(walk.session, config=walk.config, key=_key(worked),
                           status="resolved", actor=story.commander, surface=SURFACE, now=now,
                           note=note)
        if component is not None:
            _publish(walk, worked, now, status="resolved",
                     body=f"{component} is working normally again.")

    walk.at(t0, fire)
    for name, action in (("ack", ack), ("declare", declare), ("public", public),
                         ("identified", identified), ("mitigated", mitigated),
                         ("monitoring", monitoring), ("resolved", resolved)):
        walk.at(at[name], action)


def _teammate(walk: Walk, story: StoryIncident) -> str:
    """Someone of the commander's team (or anyone on call) to talk to customers."""
    for team in walk.config.teams.values():
        if story.service in team.services:
            others = [m for m in team.members if m != story.commander]
            if others:
                return others[0]
    return next(u for u in ("alice", "bob", "carol", "dave") if u != story.commander)


def _key(worked: Worked) -> str:
    assert worked.key is not None
    return worked.key


def _publish(walk: Walk, worked: Worked, now: datetime, *, status: str, body: str,
             impact: str | None = None, components: dict[str, str] | None = None) -> None:
    """A public update, and its copy on the incident's timeline (as the UI writes both)."""
    key = _key(worked)
    number = int(key.removeprefix("INC-"))
    actor = worked.story.commander
    face = for_incident(walk.session, number)
    if face is None:
        status_page.create_incident(
            walk.session, config=walk.config, name=worked.story.title, impact=impact,
            status=status, body=body, components=components, incident_id=number,
            actor=actor, surface=SURFACE, now=now)
    else:
        status_page.post_update(walk.session, config=walk.config, incident=face.id,
                                status=status, body=body, components=components, actor=actor,
                                surface=SURFACE, now=now)
    changes.add_note(walk.session, config=walk.config, key=key,
                     text=f"Status page update ({status}): {body}", actor=actor,
                     surface=SURFACE, now=now, source="status_page")


def local_start(day: datetime, zone: str, rng: random.Random) -> datetime:
    """A moment in the working day (09:00 to 20:00) of `day` in `zone`, as UTC."""
    local = day.astimezone(ZoneInfo(zone))
    start = local.replace(hour=rng.randrange(9, 20), minute=rng.randrange(0, 60), second=0,
                          microsecond=0)
    return start.astimezone(day.tzinfo)
