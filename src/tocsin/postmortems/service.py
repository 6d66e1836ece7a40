"""Post-mortem use cases: draft, edit, move through review, read, search and export.

Every function takes the caller's session first and never commits. Each
change writes an incident timeline entry (kind `postmortem`), an audit row
(object type `postmortem`, the incident's key as its id) and one log line.

Decisions (docs/postmortems.md):
- One post-mortem per incident. Drafting is idempotent: asking again
  returns the one there is, whoever asks and however it was drafted.
- Draft and in-review post-mortems may be edited (a reviewer fixes what
  they find); a published one is read-only until someone moves it back to
  draft, which keeps what readers found by search stable.
- An edit may say which version it was made on (`expected_version`, a
  number every change increments); when someone saved in between, even in
  the same second, it is refused (409) rather than silently overwriting
  their words.
- A private incident's post-mortem is as private as the incident: anyone
  who may not see the incident is told it does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.config.model import Config
from tocsin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tocsin.incidents import records, severities
from tocsin.incidents import service as incidents
from tocsin.incidents.store import Incident, IncidentMember
from tocsin.logs import event
from tocsin.postmortems import blame, edits, rules
from tocsin.postmortems.store import ActionItem, Postmortem

log = logging.getLogger(__name__)

LIST_LIMIT = 200


def default_template() -> str:
    return resources.files("tocsin.postmortems").joinpath("template.md").read_text("utf-8")


def template_of(config: Config) -> str:
    return config.postmortems.template or default_template()


def find(session: Session, incident: Incident, *, lock: bool = False) -> Postmortem | None:
    query = select(Postmortem).where(Postmortem.incident_id == incident.id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def get(session: Session, key: str, *, viewer: str | None, admin: bool,
        lock: bool = False) -> tuple[Incident, Postmortem]:
    """The incident and its post-mortem; NotFound when either is missing or hidden."""
    incident = records.get(session, key, viewer=viewer, admin=admin, lock=lock)
    found = find(session, incident, lock=lock)
    if found is None:
        raise NotFound(f"{incident.key} has no post-mortem yet; draft one first")
    return incident, found


def draft(session: Session, *, config: Config, key: str, actor: str, surface: str,
          now: datetime, admin: bool = False) -> Postmortem:
    """The incident's post-mortem, drafted from its timeline when it has none."""
    incident = records.get(session, key, viewer=actor, admin=admin, lock=True)
    return draft_for(session, config=config, incident=incident, actor=actor, surface=surface,
                     now=now)


def draft_for(session: Session, *, config: Config, incident: Incident, actor: str,
              surface: str, now: datetime) -> Postmortem:
    """As `draft`, for an incident the caller has already found and locked."""
    existing = find(session, incident)
    if existing is not None:
        return existing
    made = rules.draft(incident, incidents.timeline(session, incident))
    severity = severities.settings_of(config, incident)
    due = None
    if severity is not None and severity.postmortem_required:
        due = rules.due_at(incident.resolved_at, severity.postmortem_due_days)
    postmortem = Postmortem(
        incident_id=incident.id, status=rules.DRAFT, title=made.title, summary=made.summary,
        users_affected=made.users_affected, root_cause=made.root_cause,
        timeline=[item.to_json() for item in made.timeline], whys=made.whys, due_at=due,
        created_at=now, created_by=actor, updated_at=now, updated_by=actor, version=1)
    session.add(postmortem)
    session.flush()
    due_text = f" (due {rules.when(due)})" if due is not None else ""
    _changed(session, incident, action="draft", text=f"post-mortem drafted{due_text}",
             actor=actor, surface=surface, now=now, before={},
             after={"status": rules.DRAFT, "due_at": rules.stamp(due) if due else None})
    return postmortem


def date(session: Session, *, config: Config, incident: Incident, actor: str, surface: str,
         now: datetime) -> bool:
    """Give a post-mortem drafted before its incident was resolved the due time its
    severity asks for; whether it got one."""
    postmortem = find(session, incident, lock=True)
    severity = severities.settings_of(config, incident)
    if postmortem is None or postmortem.due_at is not None or severity is None \
            or not severity.postmortem_required:
        return False
    due = rules.due_at(incident.resolved_at, severity.postmortem_due_days)
    if due is None:
        return False
    postmortem.due_at = due
    postmortem.version += 1
    _changed(session, incident, action="due", text=f"post-mortem due {rules.when(due)}",
             actor=actor, surface=surface, now=now, before={"due_at": None},
             after={"due_at": rules.stamp(due)})
    return True


def update(session: Session, *, config: Config, key: str, fields: Mapping[str, Any],
           actor: str, surface: str, now: datetime, admin: bool = False,
           expected_version: int | None = None) -> Postmortem:
    """Change the sections given in `fields` (by column name); the others stay."""
    values = edits.read(fields, config.postmortems.root_cause_categories)
    incident, postmortem = get(session, key, viewer=actor, admin=admin, lock=True)
    if postmortem.status == rules.PUBLISHED:
        raise Conflict(f"the post-mortem of {incident.key} is published and read-only; "
                       "move it back to draft to edit it")
    if expected_version is not None and postmortem.version != expected_version:
        raise Conflict(f"the post-mortem of {incident.key} was changed by "
                       f"{postmortem.updated_by} at {rules.when(postmortem.updated_at)} after "
                       f"you opened it (version {expected_version}, now {postmortem.version}); "
                       "reload it and make your change again")
    before = edits.snapshot(postmortem)
    for name, value in values.items():
        setattr(postmortem, name, value)
    after = edits.snapshot(postmortem)
    changed = [name for name in values if before[name] != after[name]]
    if not changed:
        return postmortem
    postmortem.updated_at, postmortem.updated_by = now, actor
    postmortem.version += 1
    _changed(session, incident, action="update",
             text="post-mortem edited: " + ", ".join(name.replace("_", " ") for name in changed),
             actor=actor, surface=surface, now=now,
             before={name: before[name] for name in changed},
             after={name: after[name] for name in changed})
    return postmortem


def set_state(session: Session, *, key: str, status: str, actor: str, surface: str,
              now: datetime, admin: bool = False) -> Postmortem:
    """Move through draft -> in_review -> published; review and published go back to draft."""
    wanted = status.strip().lower()
    incident, postmortem = get(session, key, viewer=actor, admin=admin, lock=True)
    before = postmortem.status
    problem = rules.move_problem(before, wanted)
    if problem is not None:
        if wanted not in rules.STATES:
            raise InvalidInput(problem, [edits.problem("status", problem)])
        raise Conflict(problem)
    if before == wanted:
        return postmortem
    postmortem.status, postmortem.updated_at, postmortem.updated_by = wanted, now, actor
    postmortem.version += 1
    if wanted == rules.IN_REVIEW:
        postmortem.review_requested_at = now
    if wanted == rules.PUBLISHED:
        postmortem.published_at, postmortem.published_by = now, actor
    _changed(session, incident, action="state", text=f"post-mortem {before} -> {wanted}",
             actor=actor, surface=surface, now=now, before={"status": before},
             after={"status": wanted})
    return postmortem


def _changed(session: Session, incident: Incident, *, action: str, text: str, actor: str,
             surface: str, now: datetime, before: dict[str, Any],
             after: dict[str, Any]) -> None:
    records.add_entry(session, incident, kind=rules.POSTMORTEM, text=text, actor=actor,
                      surface=surface, now=now, data={"action": action, **after})
    audit.record(session, now=now, actor=actor, surface=surface,
                 action=f"postmortem.{action}", object_type="postmortem",
                 object_id=incident.key, before=before, after=after)
    event(log, f"postmortem.{action}", incident=incident.key, actor=actor, surface=surface)


# -- reading -------------------------------------------------------------------------


def listing(session: Session, *, now: datetime, q: str | None = None,
            status: str | None = None, service: str | None = None,
            severity: str | None = None, overdue: bool = False, viewer: str | None = None,
            admin: bool = False, limit: int = LIST_LIMIT,
            config: Config | None = None) -> list[tuple[Postmortem, Incident]]:
    """Newest first. `q` searches published post-mortems (title, summary, root cause,
    why-chain, lessons) unless `status` names another state; letters ignore case. Given
    the `config`, a severity or service it does not name is refused, as a typo would
    otherwise list nothing."""
    records.check_storable(q=q, service=service, severity=severity, status=status)
    found: list[FieldProblem] = []
    if status is not None and status not in rules.STATES:
        found.append(edits.problem("status", f"unknown status {status!r}; use one of "
                                             f"{', '.join(rules.STATES)}"))
    if config is not None:
        found += _unknown_filters(config, severity, service)
    if found:
        raise InvalidInput("the post-mortems cannot be listed: "
                           + ", ".join(f.path for f in found), found)
    query = select(Postmortem, Incident).join(Incident, Incident.id == Postmortem.incident_id)
    wanted = status or (rules.PUBLISHED if q and q.strip() else None)
    if wanted is not None:
        query = query.where(Postmortem.status == wanted)
    if q and q.strip():
        query = query.where(_matches(q.strip()))
    if severity:
        query = query.where(func.lower(Incident.severity) == severity.strip().lower())
    if overdue:
        query = query.where(Postmortem.status != rules.PUBLISHED, Postmortem.due_at < now)
    if not admin:
        member_of = select(IncidentMember.incident_id).where(IncidentMember.user_id == viewer)
        query = query.where(or_(Incident.private.is_(false()), Incident.id.in_(member_of)))
    query = query.order_by(Postmortem.updated_at.desc(), Postmortem.id.desc())
    rows = [(row[0], row[1]) for row in session.execute(query)]
    if service:
        rows = [row for row in rows if service in (row[1].services or [])]
    return rows[:limit]


def _unknown_filters(config: Config, severity: str | None,
                     service: str | None) -> list[FieldProblem]:
    found: list[FieldProblem] = []
    names = [s.name for s in config.severities]
    if severity and severity.strip().casefold() not in {n.casefold() for n in names}:
        found.append(edits.problem("severity", f"unknown severity {severity!r}; use one of "
                                               f"{', '.join(names)}"))
    if service and service not in config.services:
        known = ", ".join(sorted(config.services)) or "(none defined)"
        found.append(edits.problem("service", f"unknown service {service!r}; use one of "
                                              f"{known}"))
    return found


def _matches(q: str) -> Any:
    columns = [Postmortem.title, Postmortem.summary, Postmortem.root_cause,
               Postmortem.lessons, Postmortem.whys_text]
    # SQLite's lower() changes ASCII letters only, PostgreSQL's every letter its locale
    # knows: a pattern of each kind, so "Ärger" typed as written is found on both.
    patterns = {_pattern(q.lower()), _pattern(_ascii_lower(q))}
    return or_(*(func.lower(column).like(pattern, escape="\\")
                 for column in columns for pattern in sorted(patterns)))


def _ascii_lower(q: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in q)


def _pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def action_items(session: Session, incident: Incident) -> list[ActionItem]:
    return list(session.scalars(select(ActionItem).where(
        ActionItem.incident_id == incident.id).order_by(ActionItem.id)))


def suggestions(config: Config, postmortem: Postmortem) -> list[blame.Suggestion]:
    people = [blame.Person(user.id, user.name, user.email) for user in config.users.values()]
    return blame.suggestions(blame.sections(edits.snapshot(postmortem)), people)


def export(session: Session, *, config: Config, incident: Incident,
           postmortem: Postmortem) -> str:
    """The post-mortem as Markdown through the configured template."""
    head = rules.header(incident.key, incident, incidents.timeline(session, incident))
    document = {**edits.snapshot(postmortem), "due_at": postmortem.due_at,
                "published_at": postmortem.published_at,
                "published_by": postmortem.published_by,
                "timeline": edits.timeline_of(postmortem)}
    items = [{"title": item.title, "owner": item.owner, "priority": item.priority,
              "status": item.status,
              "due_date": item.due_date.isoformat() if item.due_date else ""}
             for item in action_items(session, incident)]
    url = config.public_url.rstrip("/") + "/ui/action-items"
    try:
        return rules.render(template_of(config), rules.context(head, document, items, url))
    except rules.TemplateFailed as exc:
        event(log, "postmortem.export_failed", level=logging.WARNING, incident=incident.key,
              reason=str(exc))
        raise Conflict(f"the post-mortem template failed ({exc}); fix it and run "
                       "`tocsin check`") from None
