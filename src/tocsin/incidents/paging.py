"""Paging for incidents: the affected services' on-call, a severity's notify list,
added responders. Each page is a direct page (`alerts.direct`): a normal alert
with its own escalation, linked to the incident, so acknowledging it is
acknowledging the incident's page.

Alerts are seen by everyone, so a private incident's page carries only its
key and severity ("Private incident INC-4 (SEV1): you are paged as a
responder"), never its title; its description says why they were paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import direct, responders
from tocsin.alerts import service as alerts
from tocsin.alerts.paging import resolve_targets
from tocsin.alerts.store import ACKNOWLEDGED, TRIGGERED, Alert
from tocsin.config.model import Config, Severity, Target
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.incidents.store import Incident, IncidentAlert

PAGE = "page"
LINKED = "linked"
_NOUN = {"user": "user", "schedule": "schedule", "escalation_policy": "escalation policy"}


@dataclass(frozen=True)
class Paged:
    target: Target
    alert_id: int
    people: tuple[str, ...]  # user ids the first step reaches now

    @property
    def label(self) -> str:
        return f"{_NOUN[self.target.kind]} {self.target.name}"

    @property
    def started(self) -> str:
        """What was started, not who was reached: a person without a usable contact is
        skipped, and the page alert's own timeline says who was notified."""
        return f"paging through {self.label} (alert #{self.alert_id})"


def page(
    session: Session, *, config: Config, incident: Incident, target: Target,
    severity: Severity, actor: str, surface: str, now: datetime, why: str,
) -> Paged:
    alert = direct.page(
        session, target=target, title=page_title(incident), description=why, actor=actor,
        surface=surface, now=now, urgency=severity.urgency)
    link(session, incident=incident, alert_id=alert.id, reason=PAGE, actor=actor, now=now)
    return Paged(target, alert.id, first_reached(session, config, target, now))


def resolve_pages(
    session: Session, *, config: Config, incident: Incident, actor: str, surface: str,
    now: datetime,
) -> list[int]:
    """Resolve the incident's own pages still open, as the resolver; the ids resolved.

    Resolving through the alerts service cancels their queued pages and timers, as a
    person's resolve does. Alerts linked from monitoring are left to their source.
    """
    open_pages = session.scalars(
        select(Alert.id).join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(IncidentAlert.incident_id == incident.id, IncidentAlert.reason == PAGE,
               Alert.status.in_((TRIGGERED, ACKNOWLEDGED)))
        .order_by(Alert.id)).all()
    for alert_id in open_pages:
        alerts.resolve(session, config=config, alert_id=alert_id, actor=actor,
                       surface=surface, now=now)
    return list(open_pages)


def page_title(incident: Incident) -> str:
    """A page's title; a private incident's own title stays out of the alert list."""
    if incident.private:
        return (f"Private incident {incident.key} ({incident.severity}): "
                "you are paged as a responder")
    return f"{incident.key} [{incident.severity}] {incident.title}"


def first_reached(session: Session, config: Config, target: Target,
                  now: datetime) -> tuple[str, ...]:
    """Who the target's first step pages at `now` (members of a private incident)."""
    policy = responders.policy_for(config, [target])
    if policy is None or not policy.steps:
        return ()
    return tuple(u.id for u in resolve_targets(session, config, policy.steps[0].targets, now))


def link(session: Session, *, incident: Incident, alert_id: int, reason: str, actor: str,
         now: datetime) -> bool:
    """Link an alert; False when it was linked already."""
    if session.get(IncidentAlert, (incident.id, alert_id)) is not None:
        return False
    session.add(IncidentAlert(incident_id=incident.id, alert_id=alert_id, reason=reason,
                              linked_at=now, linked_by=actor))
    session.flush()
    return True


def named_target(config: Config, name: str, path: str = "target") -> Target:
    """A person (id, e-mail or name), a schedule or an escalation policy, by name."""
    wanted = name.strip().removeprefix("@")
    user = user_id(config, wanted)
    if user is not None:
        return Target("user", user)
    for kind, defined in (("schedule", config.schedules),
                          ("escalation_policy", config.escalation_policies)):
        names = [n for n in defined if not n.startswith(responders.IMPLICIT_PREFIX)]
        found = [n for n in names if n.casefold() == wanted.casefold()]
        if found:
            return Target(kind, found[0])  # type: ignore[arg-type]
    raise InvalidInput(f"nobody is named {wanted!r}", [FieldProblem(
        path, "name a user (id, e-mail or name), a schedule or an escalation policy "
              "from the config")])


def user_id(config: Config, name: str) -> str | None:
    """A user's id from their id, e-mail, Slack member id or (unique) name."""
    wanted = name.strip().removeprefix("@")
    found = config.user_by_email_or_id(wanted)
    if found is not None:
        return found.id
    by_slack = config.user_by_contact("slack", wanted)
    if by_slack is not None:
        return by_slack.id
    folded = wanted.casefold()
    matches = [u.id for u in config.users.values()
               if folded in ((u.name or "").casefold(), (u.email or "").casefold())]
    return matches[0] if len(matches) == 1 else None
