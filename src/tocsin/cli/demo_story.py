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
    script = Script(walk, worked, kind, seed_timeline)
    worked.moments = {name: worked.start + timedelta(minutes=m)
                      for name, m in minutes_of(worked.story).items()}
    walk.at(worked.start, script.fire)
    # The monitoring sees the fix a minute before the commander closes the incident.
    walk.at(worked.moments["resolved"] - timedelta(minutes=1), script.clears)
    for name, action in (("ack", script.ack), ("declare", script.declare),
                         ("public", script.public), ("identified", script.identified),
                         ("mitigated", script.mitigated), ("monitoring", script.monitoring),
                         ("resolved", script.resolved)):
        walk.at(worked.moments[name], action)


class Script:
    """One incident's actions, each run by the walk at its moment."""

    def __init__(self, walk: Walk, worked: Worked, kind: AlertKind, seed_timeline: bool
                 ) -> None:
        self.walk, self.worked, self.kind = walk, worked, kind
        self.story = worked.story
        # INC-142 speaks the seed's words; the others say what happened plainly.
        self.seed = seed_timeline
        self.component = component_of(walk, self.story.service)
        self.impact, self.broken = PUBLIC[self.story.severity]

    def _said(self, minute: int, plain: str) -> str:
        if not self.seed:
            return plain
        return next(text for at, text in INC_142_TIMELINE if at == minute)

    def fire(self, now: datetime) -> None:
        title = self._said(0, self.kind.title).removeprefix("Alert: ")
        self.worked.alert_id = self.walk.fire(self.kind, now, title=title)

    def ack(self, now: datetime) -> None:
        assert self.worked.alert_id is not None
        self.worked.acked_by = self.walk.acknowledge(self.worked.alert_id, now, surface="link")

    def declare(self, now: datetime) -> None:
        assert self.worked.alert_id is not None
        story, walk = self.story, self.walk
        incident = declare_from_alert(
            walk.session, config=walk.config, alert_id=self.worked.alert_id,
            severity=story.severity, actor=story.commander, surface=SURFACE, now=now,
            title=story.title, commander=story.commander)
        self.worked.key = incident.key
        if story.severity in ("SEV1", "SEV2"):
            changes.assign_role(walk.session, config=walk.config, key=incident.key,
                                role="Communicator", user=_teammate(walk, story), now=now,
                                actor=story.commander, surface=SURFACE)

    def public(self, now: datetime) -> None:
        if self.component is not None:
            _publish(self.walk, self.worked, now, status="investigating", impact=self.impact,
                     body=f"We are investigating problems with {self.component}.",
                     components={self.component: self.broken})

    def identified(self, now: datetime) -> None:
        story, walk, key = self.story, self.walk, _key(self.worked)
        changes.set_status(walk.session, config=walk.config, key=key, status="identified",
                           actor=story.commander, surface=SURFACE, now=now,
                           note=self._said(7, f"Cause found: {story.root_cause}"))
        changes.set_impact(walk.session, config=walk.config, key=key, actor=story.commander,
                           surface=SURFACE, now=now, users_affected=story.users_affected,
                           root_cause=story.root_cause,
                           summary=f"{story.title}; about {story.users_affected:,} users "
                                   "affected.")
        if self.component is not None:
            _publish(walk, self.worked, now, status="identified",
                     body="We have found the cause and are working on a fix.")

    def mitigated(self, now: datetime) -> None:
        story, walk, key = self.story, self.walk, _key(self.worked)
        changes.mark_mitigated(walk.session, config=walk.config, key=key,
                               actor=story.commander, surface=SURFACE, now=now)
        changes.add_note(walk.session, config=walk.config, key=key,
                         text=self._said(10, "Mitigation applied"), actor=story.commander,
                         surface=SURFACE, now=now)

    def monitoring(self, now: datetime) -> None:
        story, walk, key = self.story, self.walk, _key(self.worked)
        changes.set_status(walk.session, config=walk.config, key=key, status="monitoring",
                           actor=story.commander, surface=SURFACE, now=now,
                           note=self._said(15, "Metrics back to normal"))
        changes.post_update(walk.session, config=walk.config, key=key, actor=story.commander,
                            surface=SURFACE, now=now,
                            text=f"Mitigated; {story.users_affected:,} users were affected. "
                                 "Watching before we close.")
        if self.component is not None:
            _publish(walk, self.worked, now, status="monitoring",
                     body="A fix is in place and we are watching the results.",
                     components={self.component: "degraded_performance"})

    def clears(self, now: datetime) -> None:
        assert self.worked.alert_id is not None
        self.walk.source_resolves(self.worked.alert_id, now)

    def resolved(self, now: datetime) -> None:
        story, walk = self.story, self.walk
        changes.set_status(walk.session, config=walk.config, key=_key(self.worked),
                           status="resolved", actor=story.commander, surface=SURFACE, now=now,
                           note=self._said(25, "Resolved"))
        if self.component is not None:
            _publish(walk, self.worked, now, status="resolved",
                     body=f"{self.component} is working normally again.")


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
