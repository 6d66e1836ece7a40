"""The forms of the incident pages: what each reads and which service call it makes.

Each form's handler reads the posted fields, notes what cannot be read
beside its field, and only then calls `incidents.service` as the viewer
on the surface "ui"; the service's own checks come back the same way. A
form shows the current values (status, severity, impact), so a field
submitted unchanged is passed on as "no change", never as a new value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.errors import NotFound
from tocsin.incidents import service
from tocsin.incidents.store import Incident
from tocsin.statuspage import rules as status_rules
from tocsin.web import statuspage_writes
from tocsin.web.ui_incident_views import (
    Problems,
    count_field,
    entry_of,
    form_time,
    text_field,
    time_field,
)

SURFACE = "ui"
DECLARE_FIELDS = ("title", "severity", "services", "private", "summary")


@dataclass(frozen=True)
class Act:
    """Who acts on which incident, when, and in which zone they typed times."""

    session: Session
    config: Config
    key: str
    actor: str
    now: datetime
    admin: bool
    zone: ZoneInfo

    def fields(self) -> dict[str, Any]:
        return {"config": self.config, "key": self.key, "actor": self.actor,
                "surface": SURFACE, "now": self.now, "admin": self.admin}

    def incident(self) -> Incident:
        return service.get(self.session, self.key, viewer=self.actor, admin=self.admin)


Handler = Callable[[Act, dict[str, str], list[str], Problems], str]


@dataclass(frozen=True)
class DeclareForm:
    title: str = ""
    severity: str = ""
    services: tuple[str, ...] = ()
    private: bool = False
    summary: str = ""

    @classmethod
    def read(cls, values: dict[str, str], services: list[str]) -> DeclareForm:
        return cls(values.get("title", ""), values.get("severity", ""),
                   tuple(s for s in services if s), values.get("private") == "yes",
                   values.get("summary", "").replace("\r\n", "\n"))

    def problems(self) -> Problems:
        found = Problems()
        text_field({"title": self.title}, "title", found)
        text_field({"summary": self.summary}, "summary", found)
        return found


def _status(act: Act, values: dict[str, str], services: list[str], problems: Problems) -> str:
    note = text_field(values, "note", problems)
    if problems:
        return ""
    if values.get("mitigated") == "yes":
        service.mark_mitigated(act.session, **act.fields())
    service.set_status(act.session, status=values.get("status", ""),
                       note=note.strip() or None, **act.fields())
    return "done=status"


def _severity(act: Act, values: dict[str, str], services: list[str],
              problems: Problems) -> str:
    service.set_severity(act.session, severity=values.get("severity", ""), **act.fields())
    return "done=severity"


def _role(act: Act, values: dict[str, str], services: list[str], problems: Problems) -> str:
    if not values.get("role", "").strip():
        problems.add("role", "choose a role")
    if not values.get("user", "").strip():
        problems.add("user", "choose a person")
    if problems:
        return ""
    made = service.assign_role(act.session, role=values["role"], user=values["user"],
                               **act.fields())
    return urlencode({"done": "role", "role": made.role})


def _note(act: Act, values: dict[str, str], services: list[str], problems: Problems) -> str:
    text = text_field(values, "text", problems, required=True)
    when = time_field(values, "occurred_at", act.zone, problems)
    if problems:
        return ""
    service.add_note(act.session, text=text, occurred_at=when, **act.fields())
    return "done=note"


def _responder(act: Act, values: dict[str, str], services: list[str],
               problems: Problems) -> str:
    target = text_field(values, "target", problems)
    if not problems and not target.strip():
        problems.add("target", "name a person, a schedule or an escalation policy")
    if problems:
        return ""
    service.add_responder(act.session, target=target, **act.fields())
    return "done=responder"


def _update(act: Act, values: dict[str, str], services: list[str], problems: Problems) -> str:
    text = text_field(values, "text", problems, required=True)
    if problems:
        return ""
    service.post_update(act.session, text=text, **act.fields())
    return "done=update"


def _impact(act: Act, values: dict[str, str], services: list[str], problems: Problems) -> str:
    incident = act.incident()
    start_text = values.get("impact_start", "").strip()
    unchanged_start = start_text == form_time(incident.impact_start, act.zone)
    start = None if unchanged_start else time_field(values, "impact_start", act.zone, problems)
    users = count_field(values, "users_affected", problems)
    # The box shows the number: emptied, it means "unknown" again.
    users_unknown = not values.get("users_affected", "").strip()
    summary = text_field(values, "summary", problems)
    cause = text_field(values, "root_cause", problems)
    if problems:
        return ""
    # Services the config no longer has have no box; leaving the boxes as they were
    # must not drop them.
    shown = [s for s in incident.services or [] if s in act.config.services]
    chosen = None if sorted(services) == sorted(shown) else list(services)
    service.set_impact(act.session, impact_start=start, users_affected=users, services=chosen,
                       summary=summary, root_cause=cause, users_unknown=users_unknown,
                       **act.fields())
    return "done=impact"


COMPONENT_FIELD = "component:"  # one select per component: "component:API" -> new status


def _statuspage(act: Act, values: dict[str, str], services: list[str],
                problems: Problems) -> str:
    """A public update; the first one also makes the incident's public face."""
    name = text_field(values, "name", problems)
    body = text_field(values, "body", problems, required=True)
    if problems:
        return ""
    statuspage_writes.publish(
        act.session, config=act.config, incident=act.incident(),
        status=values.get("status", ""), body=body, components=_components(values),
        name=name, impact=values.get("impact", ""), actor=act.actor, surface=SURFACE,
        now=act.now, admin=act.admin)
    return "done=statuspage"


def _components(values: dict[str, str]) -> dict[str, str]:
    """The components given a new status; a select left on "no change" is sent empty."""
    return {key.removeprefix(COMPONENT_FIELD): status for key, status in values.items()
            if key.startswith(COMPONENT_FIELD) and status}


def public_face(session: Session, config: Config, incident: Incident) -> dict[str, Any]:
    """What the status page form shows: the public face if made, and the choices."""
    face = statuspage_writes.public_face(session, incident)
    impact, _status = statuspage_writes.first_impact(config, incident)
    return {
        "face": None if face is None else {"id": face.id, "name": face.name,
                                           "impact": face.impact, "status": face.status},
        "components": [{"name": c.name, "public": c.public} for c in config.components],
        "impacts": status_rules.IMPACTS, "statuses": status_rules.UPDATE_STATUSES,
        "component_statuses": status_rules.COMPONENT_STATUSES, "impact": impact,
        "tied": statuspage_writes.components_of(config, incident),
    }


ACTIONS: dict[str, Handler] = {
    "status": _status, "severity": _severity, "role": _role, "note": _note,
    "responder": _responder, "update": _update, "impact": _impact, "statuspage": _statuspage,
}
# Each form's fields, and the one a problem without a field of its own is shown beside.
FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "status": (("status", "note", "mitigated"), "status"),
    "severity": (("severity",), "severity"),
    "role": (("role", "user"), "role"),
    "note": (("text", "occurred_at"), "text"),
    "responder": (("target",), "target"),
    "update": (("text",), "text"),
    "impact": (("impact_start", "users_affected", "services", "summary", "root_cause"),
               "summary"),
    "statuspage": (("name", "impact", "status", "body", "components"), "body"),
}


def edit(act: Act, entry_id: int, values: dict[str, str], problems: Problems) -> None:
    """Edit a note or update; a field left as it was is not changed."""
    entry = entry_of(act.session, act.incident(), str(entry_id))
    if entry is None:
        raise NotFound(f"{act.key} has no timeline entry {entry_id}")
    text = text_field(values, "text", problems, required=True)
    typed_time = values.get("occurred_at", "").strip()
    when = None
    if typed_time and typed_time != form_time(entry.occurred_at, act.zone):
        when = time_field(values, "occurred_at", act.zone, problems)
    if problems:
        return
    new_text = text if text.strip() != entry.text else None
    if new_text is None and when is None:
        problems.add("text", "nothing changed; change the text or the time")
        return
    service.edit_entry(act.session, entry_id=entry_id, text=new_text, occurred_at=when,
                       **act.fields())


def defaults(incident: Incident, zone: ZoneInfo) -> dict[str, dict[str, Any]]:
    """Each form's values as the page first shows them."""
    return {
        "status": {"status": incident.status, "note": "", "mitigated": ""},
        "severity": {"severity": incident.severity},
        "role": {"role": "", "user": ""},
        "note": {"text": "", "occurred_at": ""},
        "responder": {"target": ""},
        "update": {"text": ""},
        "impact": {"impact_start": form_time(incident.impact_start, zone),
                   "users_affected": "" if incident.users_affected is None
                   else str(incident.users_affected),
                   "services": list(incident.services or []),
                   "summary": incident.summary or "", "root_cause": incident.root_cause or ""},
        # A private incident's title is internal: its public title starts empty.
        "statuspage": {"name": "" if incident.private else incident.title, "impact": "",
                       "status": "investigating", "body": "", "components": {}},
    }


def typed(form: str, values: dict[str, str], services: list[str]) -> dict[str, Any]:
    """What was typed into `form`, to show it again beside its problems."""
    found: dict[str, Any] = {name: values.get(name, "") for name in FIELDS[form][0]}
    if form == "impact":
        found["services"] = services
    if form == "statuspage":
        found["components"] = _components(values)
    return found


_NOTICES = {
    "declared": "Incident declared.",
    "status": "Status saved.",
    "severity": "Severity changed.",
    "note": "Note added to the timeline.",
    "edited": "Entry edited; the timeline keeps who edited it and when.",
    "responder": "Responder paged and added to the incident.",
    "update": "Update posted.",
    "impact": "Impact saved.",
    "statuspage": "Public update posted to the status page.",
}


def notice(done: str, role: str, roles: list[dict[str, str]]) -> str:
    """The line an action leaves on the page after its redirect."""
    if done == "role":
        held = next((r for r in roles if r["name"] == role and r["who"]), None)
        return f"{held['who']} is now {held['name']}: {held['duty']}" if held else ""
    return _NOTICES.get(done, "")
