"""What the incident pages draw, and how their forms are read.

Times on the pages and in the forms are the reader's: their own zone, else
the config's; the page names it. A time typed into a form without an
offset is a wall-clock time in that zone, read by the same rule as the CLI.
Problems are kept per form field, so the page shows each beside its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.maintenance_rules import unstorable
from tocsin.alerts.responders import IMPLICIT_PREFIX
from tocsin.alerts.store import Alert
from tocsin.config.model import Config
from tocsin.errors import FieldProblem
from tocsin.incidents import rules, service
from tocsin.incidents.rules import Clocks, TimelineEntry
from tocsin.incidents.store import Incident, IncidentAlert
from tocsin.oncall.rules import local_to_utc, parse_time
from tocsin.web.ui_alert_views import who

STATUS_CHOICES = (("open", "Open (not resolved)"), *((s, s.capitalize()) for s in rules.STATUSES),
                  ("all", "All"))
# The kinds a person wrote; the rest record what Tocsin did.
KIND_LABELS = {
    rules.DECLARED: "declared", rules.ROLE: "role", rules.PAGED: "paged",
    rules.NOT_PAGED: "not paged", rules.ALERT_LINKED: "alert linked", rules.STATUS: "status",
    rules.MITIGATED: "mitigated", rules.SEVERITY: "severity", rules.IMPACT: "impact",
    rules.RESPONDER: "responder", rules.ACKNOWLEDGED: "acknowledged", rules.NOTE: "note",
    rules.UPDATE: "update", rules.PAGES_RESOLVED: "pages resolved",
    "postmortem": "post-mortem",
}
_TIME_HINT = "use the form 2026-03-02T09:30"
# Times typed into a form stay inside these years, far from the calendar's edges.
EARLIEST_YEAR, LATEST_YEAR = 1970, 9000


def local(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return ""
    try:
        return f"{at.astimezone(zone):%a %d %b %Y %H:%M:%S}"
    except OverflowError:  # a time at the calendar's edge, stored through another surface
        return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def form_time(at: datetime | None, zone: ZoneInfo) -> str:
    """A value for a datetime-local input, in the reader's zone."""
    if at is None:
        return ""
    try:
        return f"{at.astimezone(zone):%Y-%m-%dT%H:%M}"
    except OverflowError:
        return ""


def span(delta: timedelta | None) -> str:
    return rules.describe_duration(delta)


# -- reading forms ----------------------------------------------------------------------


@dataclass
class Problems:
    """What is wrong with a form, by its field."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def take(self, found: list[FieldProblem], fields: tuple[str, ...], fallback: str) -> None:
        """The service's problems, each on the form field its path names."""
        for problem in found:
            head = problem.path.split(".")[0].split("[")[0]
            self.add(head if head in fields else fallback, problem.message)


def text_field(values: dict[str, str], name: str, problems: Problems, *,
               required: bool = False) -> str:
    # Browsers send a textarea's line breaks as CRLF; the timeline keeps plain LF.
    text = values.get(name, "").replace("\r\n", "\n")
    why = unstorable(text)
    if why is not None:
        problems.add(name, why)
    elif required and not text.strip():
        problems.add(name, "is empty; write some text")
    return text


def time_field(values: dict[str, str], name: str, zone: ZoneInfo,
               problems: Problems) -> datetime | None:
    text = values.get(name, "").strip()
    if not text:
        return None
    try:
        found = parse_time(text, zone)
    except (ValueError, OverflowError):
        problems.add(name, f"{text[:40]!r} is not a date and time; {_TIME_HINT}")
        return None
    if found.year < EARLIEST_YEAR:
        problems.add(name, f"is before {EARLIEST_YEAR}; give when it happened")
        return None
    return found


def count_field(values: dict[str, str], name: str, problems: Problems) -> int | None:
    text = values.get(name, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) >= 2**31:
        problems.add(name, "give a whole number, 0 or more")
        return None
    return int(text)


# -- the list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    """The list's query as typed; dates are days in the reader's zone, both included."""

    status: str = "open"
    severity: str = ""
    service: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def read(cls, *, status: str, severity: str, service: str, since: str,
             until: str) -> ListFilter:
        return cls(status.strip()[:40], severity.strip()[:80], service.strip()[:200],
                   since.strip()[:40], until.strip()[:40])

    def query(self, zone: ZoneInfo, problems: Problems) -> dict[str, Any]:
        """Keyword arguments for `service.listing`; a date that cannot be read is left out."""
        first, last = _day(self.since, "since", problems), _day(self.until, "until", problems)
        if first is not None and last is not None and last < first:
            problems.add("until", "is before From; give a later day")
        # No store can hold NUL or a lone surrogate, so neither can match; say so.
        for name, value in (("severity", self.severity), ("service", self.service)):
            why = unstorable(value)
            if why is not None:
                problems.add(name, why)
        status = self.status or "open"
        if status not in dict(STATUS_CHOICES):
            problems.add("status", f"unknown status {status!r}; use "
                         f"{', '.join(value for value, _ in STATUS_CHOICES)}")
            status = "open"
        return {
            "status": None if status == "all" else status,
            "severity": None if problems.by_field.get("severity") else self.severity or None,
            "service": None if problems.by_field.get("service") else self.service or None,
            "since": None if first is None else local_to_utc(_midnight(first), zone),
            "until": None if last is None else
            local_to_utc(_midnight(last + timedelta(days=1)), zone),
        }

    def params(self) -> str:
        values = {"status": self.status, "severity": self.severity, "service": self.service,
                  "since": self.since, "until": self.until}
        return urlencode({k: v for k, v in values.items() if v})


def _day(text: str, name: str, problems: Problems) -> date | None:
    if not text:
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        problems.add(name, f"{text!r} is not a day; use the form 2026-03-02")
        return None
    if not EARLIEST_YEAR <= found.year <= LATEST_YEAR:
        problems.add(name, f"give a day between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return None
    return found


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a wall-clock time, zoned next


def row(config: Config, incident: Incident, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """One line of the list. An open incident's duration runs to now."""
    end = incident.resolved_at if not incident.is_open else now
    running = max(timedelta(0), (end or now) - incident.impact_start)
    return {
        "key": incident.key, "title": incident.title, "severity": incident.severity,
        "status": incident.status, "open": incident.is_open, "private": incident.private,
        "commander": who(config, incident.commander),
        "declared": local(incident.declared_at, zone),
        "declared_by": who(config, incident.declared_by),
        "declared_iso": incident.declared_at.isoformat(),
        "duration": span(running), "services": ", ".join(incident.services or []),
    }


# -- the incident's page ----------------------------------------------------------------


def detail(session: Session, config: Config, incident: Incident, now: datetime,
           zone: ZoneInfo) -> dict[str, Any]:
    entries = service.timeline(session, incident)
    held = service.roles_of(session, incident)
    return {
        "incident": incident, "row": row(config, incident, now, zone),
        "clocks": clock_items(service.clocks(incident, entries), incident, now, zone),
        "roles": role_items(config, held),
        "impact": {"start": local(incident.impact_start, zone),
                   "users_affected": incident.users_affected,
                   "services": list(incident.services or []),
                   "summary": incident.summary or "", "root_cause": incident.root_cause or ""},
        "timeline": [entry_item(config, entry, zone) for entry in entries],
        "alerts": linked_alerts(session, config, incident, zone),
        "members": [who(config, m) for m in service.members_of(session, incident)]
        if incident.private else [],
    }


def clock_items(found: Clocks, incident: Incident, now: datetime,
                zone: ZoneInfo) -> list[dict[str, str]]:
    running = "" if found.duration is not None else (
        f"{span(max(timedelta(0), now - found.started_at))} so far (open)")
    target = incident.target_mttr_minutes
    return [
        {"name": "Impact start", "value": local(found.started_at, zone), "id": "start"},
        {"name": "Duration", "value": span(found.duration) or running, "id": "duration",
         "note": f"target {span(timedelta(minutes=target))}" if target else ""},
        {"name": "Time to acknowledge", "value": span(found.time_to_acknowledge)
         or "not acknowledged yet", "id": "tta", "note": local(found.acknowledged_at, zone)},
        {"name": "Time to mitigate", "value": span(found.time_to_mitigate)
         or "not mitigated yet", "id": "ttm", "note": local(found.mitigated_at, zone)},
    ]


def role_items(config: Config, held: dict[str, str]) -> list[dict[str, str]]:
    """Every role of the config, held or not, then any held role since removed from it."""
    items = [{"name": role.name, "duty": role.duty, "who": who(config, held.get(role.name)),
              "user": held.get(role.name, "")} for role in config.incidents.roles]
    known = {role.name for role in config.incidents.roles}
    items += [{"name": name, "duty": "(no longer in the config)", "who": who(config, user),
               "user": user} for name, user in held.items() if name not in known]
    return items


def entry_item(config: Config, entry: TimelineEntry, zone: ZoneInfo) -> dict[str, Any]:
    # A note written after the fact: the time it is about differs from when it was written.
    backdated = abs(entry.recorded_at - entry.occurred_at) >= timedelta(seconds=1)
    return {
        "id": entry.id, "kind": entry.kind, "kind_label": KIND_LABELS.get(entry.kind, entry.kind),
        "text": entry.text, "actor": who(config, entry.actor), "surface": entry.surface or "",
        "at": local(entry.occurred_at, zone), "iso": entry.occurred_at.isoformat(),
        "recorded": local(entry.recorded_at, zone) if backdated else "",
        "edited": local(entry.edited_at, zone),
        "edited_by": who(config, entry.edited_by), "editable": entry.editable,
        "alert_id": entry.data.get("alert_id") if entry.kind == rules.ACKNOWLEDGED else None,
    }


def linked_alerts(session: Session, config: Config, incident: Incident,
                  zone: ZoneInfo) -> list[dict[str, Any]]:
    links = service.alerts_of(session, incident)
    found = {a.id: a for a in session.scalars(
        select(Alert).where(Alert.id.in_([link.alert_id for link in links])))}
    items = []
    for link in links:
        alert = found.get(link.alert_id)
        items.append({"id": link.alert_id, "title": alert.title if alert else "",
                      "status": alert.status if alert else "",
                      "reason": "paged for the incident" if link.reason == "page" else "linked",
                      "linked": local(link.linked_at, zone), "by": who(config, link.linked_by)})
    return items


def incidents_of_alert(session: Session, alert_id: int, *, viewer: str,
                       admin: bool) -> list[dict[str, str]]:
    """The incidents an alert is linked to that the viewer may see, for the alert's page."""
    query = (select(Incident).join(IncidentAlert, IncidentAlert.incident_id == Incident.id)
             .where(IncidentAlert.alert_id == alert_id).order_by(Incident.id))
    return [{"key": i.key, "title": i.title, "status": i.status}
            for i in session.scalars(query)
            if service.visible(session, i, viewer=viewer, admin=admin)]


def entry_of(session: Session, incident: Incident, entry_id: str) -> TimelineEntry | None:
    """One stored entry of the incident's timeline, by the id in a path."""
    if not (entry_id.isascii() and entry_id.isdigit()) or len(entry_id) > 10:
        return None
    number = int(entry_id)
    return next((e for e in service.timeline(session, incident) if e.id == number), None)


def choices(config: Config) -> dict[str, Any]:
    """What the forms offer: from the config, as `tocsin check` accepted it."""
    users = sorted(({"id": u.id, "label": u.display if u.display == u.id
                     else f"{u.display} ({u.id})"} for u in config.users.values()),
                   key=lambda u: u["label"].casefold())
    targets = [u["id"] for u in users]
    targets += sorted(n for n in config.schedules if not n.startswith(IMPLICIT_PREFIX))
    targets += sorted(n for n in config.escalation_policies
                      if not n.startswith(IMPLICIT_PREFIX))
    return {
        "severities": [{"name": s.name, "description": s.description,
                        "mttr": span(timedelta(minutes=s.target_mttr_minutes))
                        if s.target_mttr_minutes else "", "urgency": s.urgency}
                       for s in config.severities],
        "services": sorted(config.services), "status_names": rules.STATUSES,
        "role_names": [{"name": r.name, "duty": r.duty} for r in config.incidents.roles],
        "users": users, "targets": targets,
    }
