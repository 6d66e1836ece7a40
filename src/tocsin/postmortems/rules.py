"""Pure post-mortem rules: the draft drawn from an incident, the states, and the export.

A draft copies what the incident already knows (title, summary, users
affected, root cause) and picks the timeline entries a reader of the
post-mortem needs: what people did and decided, not the paging machinery.
The header's duration runs from the impact start to the final resolve, as
MTTR does (incidents.rules.clocks), in UTC. The why-chain starts as five
empty steps; any number is allowed.

The Markdown export renders the team's Jinja2 template (or the one shipped
beside this module) in the same budgeted sandbox as message templates, with
one difference: what it may print grows with the post-mortem (OUTPUT_SHARE
times the characters of its values, plus the message templates' limit), as
every section may hold 10,000 characters and the why-chain fifty steps. Its
variables have the shape of config.postmortems.SAMPLE_CONTEXT, which
`tocsin check` renders every template against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from jinja2 import StrictUndefined, TemplateError

from tocsin.config.template_budget import TEXT_LIMIT, BudgetedSandbox, TemplateBudgetError
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.rules import TimelineEntry

DRAFT, IN_REVIEW, PUBLISHED = "draft", "in_review", "published"
STATES = (DRAFT, IN_REVIEW, PUBLISHED)
# The incident timeline's kind for a post-mortem's own changes.
POSTMORTEM = "postmortem"
# draft -> in_review -> published; a review or a published one goes back to draft.
MOVES = {(DRAFT, IN_REVIEW), (IN_REVIEW, PUBLISHED), (IN_REVIEW, DRAFT), (PUBLISHED, DRAFT)}
DEFAULT_WHYS = 5
MAX_WHYS = 50
MAX_TIMELINE = 500
MAX_TEXT = incident_rules.MAX_TEXT
MAX_TITLE = incident_rules.MAX_TITLE
# What people did and decided; paging, linked alerts and impact edits are left out.
CHOSEN_KINDS = frozenset({
    incident_rules.DECLARED, incident_rules.STATUS, incident_rules.SEVERITY,
    incident_rules.ROLE, incident_rules.ACKNOWLEDGED, incident_rules.MITIGATED,
    incident_rules.NOTE, incident_rules.UPDATE, incident_rules.RESPONDER,
})


class IncidentFacts(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str | None: ...
    @property
    def users_affected(self) -> int | None: ...
    @property
    def root_cause(self) -> str | None: ...


@dataclass(frozen=True)
class TimelineItem:
    """One line of the post-mortem's timeline; `entry_id` ties it to the incident's entry."""

    at: datetime
    text: str
    entry_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"at": stamp(self.at), "text": self.text, "entry_id": self.entry_id}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TimelineItem:
        at = datetime.strptime(str(value["at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        entry_id = value.get("entry_id")
        return cls(at, str(value.get("text", "")),
                   entry_id if isinstance(entry_id, int) else None)

    @property
    def key(self) -> str:
        return entry_key(self.entry_id, self.at, self.text)


@dataclass(frozen=True)
class Draft:
    title: str
    summary: str
    users_affected: int | None
    root_cause: str
    timeline: list[TimelineItem]
    whys: list[dict[str, str]]


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_key(entry_id: int | None, at: datetime, text: str) -> str:
    """What names an incident entry in the editor's checkboxes: its id, or for an entry
    read from a linked alert (no id of its own) its time and text."""
    return f"e{entry_id}" if entry_id is not None else f"a{stamp(at)}|{text}"


def item_of(entry: TimelineEntry) -> TimelineItem:
    text = f"{entry.text} ({entry.actor})" if entry.actor else entry.text
    return TimelineItem(entry.occurred_at, text, entry.id)


def chosen_entries(entries: Sequence[TimelineEntry]) -> list[TimelineItem]:
    return [item_of(e) for e in incident_rules.ordered(entries) if e.kind in CHOSEN_KINDS]


def empty_whys(count: int = DEFAULT_WHYS) -> list[dict[str, str]]:
    return [{"why": "", "because": ""} for _ in range(count)]


def draft(incident: IncidentFacts, entries: Sequence[TimelineEntry]) -> Draft:
    return Draft(title=incident.title, summary=incident.summary or "",
                 users_affected=incident.users_affected, root_cause=incident.root_cause or "",
                 timeline=chosen_entries(entries), whys=empty_whys())


def due_at(resolved_at: datetime | None, due_days: float | None) -> datetime | None:
    if resolved_at is None or due_days is None:
        return None
    return resolved_at + timedelta(days=due_days)


def move_problem(before: str, after: str) -> str | None:
    """Why a post-mortem may not go from `before` to `after`; None when it may."""
    if after not in STATES:
        return f"unknown status {after!r}; use one of {', '.join(STATES)}"
    if before == after or (before, after) in MOVES:
        return None
    if (before, after) == (DRAFT, PUBLISHED):
        return "a draft is reviewed before it is published: move it to in_review first"
    return f"a {before} post-mortem cannot move to {after}"


def is_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    return status != PUBLISHED and due is not None and due < now


# -- the export -------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    id: str
    title: str
    severity: str
    status: str
    commander: str | None
    services: list[str]
    started_at: datetime
    resolved_at: datetime | None
    duration: timedelta | None


def header(key: str, incident: Any, entries: Sequence[TimelineEntry]) -> Header:
    """The header figures; `incident` is an incidents.store.Incident (or alike)."""
    found = incident_rules.clocks(incident, entries)
    return Header(id=key, title=incident.title, severity=incident.severity,
                  status=incident.status, commander=incident.commander,
                  services=list(incident.services or []), started_at=found.started_at,
                  resolved_at=found.resolved_at, duration=found.duration)


def when(at: datetime | None) -> str:
    return "" if at is None else f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def context(head: Header, document: Mapping[str, Any], action_items: Sequence[Mapping[str, Any]],
            action_items_url: str) -> dict[str, Any]:
    """What the Markdown template sees; the shape of config.postmortems.SAMPLE_CONTEXT.

    `document` holds the post-mortem's columns by name (due_at and published_at as
    datetimes or None, timeline as TimelineItems, whys as dicts).
    """
    minutes = None if head.duration is None else head.duration.total_seconds() / 60
    texts = ("status", "title", "summary", "root_cause", "contributing_factors", "went_well",
             "went_badly", "lessons")
    return {
        "incident": {
            "id": head.id, "title": head.title, "severity": head.severity,
            "status": head.status, "commander": head.commander or "", "services": head.services,
            "date": f"{head.started_at.astimezone(UTC):%Y-%m-%d}",
            "started_at": when(head.started_at), "resolved_at": when(head.resolved_at),
            "duration": incident_rules.describe_duration(head.duration),
            "duration_minutes": minutes,
        },
        "postmortem": {
            **{name: document.get(name) or "" for name in texts},
            "root_cause_category": document.get("root_cause_category") or "",
            "due_at": when(document.get("due_at")),
            "published_at": when(document.get("published_at")),
            "published_by": document.get("published_by") or "",
        },
        "impact": {name: document.get(name) for name in
                   ("users_affected", "estimated_cost", "support_tickets")},
        "timeline": [{"at": when(item.at), "text": item.text}
                     for item in document.get("timeline", [])],
        "whys": [{"number": n, "why": step.get("why", ""), "because": step.get("because", "")}
                 for n, step in enumerate(document.get("whys", []), start=1)],
        "action_items": [dict(item) for item in action_items],
        "action_items_url": action_items_url,
    }


class TemplateFailed(Exception):
    """The template could not be rendered; the message says why, without the values."""


# A template may print each value this many times over, beside its own text.
OUTPUT_SHARE = 3


def output_limit(values: Any) -> int:
    """The characters a render of `values` may print."""
    return TEXT_LIMIT + OUTPUT_SHARE * _size(values)


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_size(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_size(item) for item in value)
    return len(str(value))


class _ExportSandbox(BudgetedSandbox):
    """The message templates' sandbox, but the whole text may be `limit` characters."""

    def __init__(self, limit: int) -> None:
        super().__init__(undefined=StrictUndefined, finalize=_finalize, autoescape=False,
                         trim_blocks=True, lstrip_blocks=True)
        self.limit = limit

    def concat(self, parts: Iterable[str]) -> str:
        texts: list[str] = []
        size = 0
        for part in parts:
            size += len(part)
            if size > self.limit:
                raise TemplateBudgetError(f"prints more than {self.limit:,} characters")
            texts.append(part)
        return "".join(texts)


def _finalize(value: object) -> object:
    return "" if value is None else value


def render(template: str, values: Mapping[str, Any]) -> str:
    environment = _ExportSandbox(output_limit(values))
    try:
        text = environment.from_string(template).render(dict(values))
    except TemplateError as exc:
        raise TemplateFailed(str(exc)) from None
    return text if text.endswith("\n") else text + "\n"
