"""Reading a post-mortem edit: every field checked, every problem named at once.

The API, the CLI and the web editor hand `read` the fields they were given
by column name; it answers the values to store, or raises one InvalidInput
naming each bad field (`whys[2].because`, `timeline[0].at`) and its fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tocsin.alerts.maintenance_rules import unstorable
from tocsin.db import MAX_ID
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.incidents.rules import one_line
from tocsin.postmortems import rules
from tocsin.postmortems.store import Postmortem

TEXTS = ("summary", "root_cause", "contributing_factors", "went_well", "went_badly", "lessons")
COUNTS = ("users_affected", "support_tickets")
EDITABLE = ("title", *TEXTS, *COUNTS, "estimated_cost", "root_cause_category", "whys",
            "timeline")
MAX_COST = 200


def problem(path: str, message: str) -> FieldProblem:
    return FieldProblem(path, message)


def read(fields: Mapping[str, Any], categories: Sequence[str]) -> dict[str, Any]:
    found: list[FieldProblem] = []
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            found.append(problem(name, f"not a post-mortem field; use {', '.join(EDITABLE)}"))
            continue
        converted = _convert(name, value, categories, found)
        if converted is not _BAD:
            values[name] = converted
    if found:
        raise InvalidInput("the post-mortem cannot be saved", found)
    return values


_BAD = object()


def _convert(name: str, value: Any, categories: Sequence[str],
             found: list[FieldProblem]) -> Any:
    if name == "title":
        text = _text(name, value, found, limit=rules.MAX_TITLE)
        if text is not None and not one_line(text):
            found.append(problem(name, "is empty; give the post-mortem a title"))
            return _BAD
        return _BAD if text is None else one_line(text)
    if name in TEXTS:
        text = _text(name, "" if value is None else value, found)
        return _BAD if text is None else text.strip()
    if name in COUNTS:
        return _count(name, value, found)
    if name == "estimated_cost":
        text = _text(name, "" if value is None else value, found, limit=MAX_COST)
        return _BAD if text is None else (one_line(text) or None)
    if name == "root_cause_category":
        return _category(value, categories, found)
    if name == "whys":
        return _whys(value, found)
    return _timeline(value, found)


def _text(path: str, value: Any, found: list[FieldProblem],
          limit: int = rules.MAX_TEXT) -> str | None:
    if not isinstance(value, str):
        found.append(problem(path, "give text"))
        return None
    why = unstorable(value)
    if why is not None:
        found.append(problem(path, why))
        return None
    if len(value) > limit:
        found.append(problem(path, f"is {len(value):,} characters; keep it to {limit:,}"))
        return None
    return value.replace("\r\n", "\n")


def _count(path: str, value: Any, found: list[FieldProblem]) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        found.append(problem(path, f"give a whole number from 0 to {MAX_ID}, or null"))
        return _BAD
    return value


def _category(value: Any, categories: Sequence[str], found: list[FieldProblem]) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        match = next((c for c in categories if c.casefold() == value.strip().casefold()), None)
        if match is not None:
            return match
    found.append(problem("root_cause_category",
                         f"use one of {', '.join(categories)} (postmortems."
                         "root_cause_categories in the config), or leave it empty"))
    return _BAD


def _whys(value: Any, found: list[FieldProblem]) -> Any:
    if not isinstance(value, list):
        found.append(problem("whys", 'give a list of {"why": ..., "because": ...}'))
        return _BAD
    if len(value) > rules.MAX_WHYS:
        found.append(problem("whys", f"{len(value)} steps; keep it to {rules.MAX_WHYS}"))
        return _BAD
    steps: list[dict[str, str]] = []
    before = len(found)
    for index, step in enumerate(value):
        if not isinstance(step, Mapping) or set(step) - {"why", "because"}:
            found.append(problem(f"whys[{index}]", 'give {"why": ..., "because": ...}'))
            continue
        texts = {part: _text(f"whys[{index}].{part}", step.get(part) or "", found)
                 for part in ("why", "because")}
        steps.append({part: (text or "").strip() for part, text in texts.items()})
    return _BAD if len(found) > before else steps


def _timeline(value: Any, found: list[FieldProblem]) -> Any:
    if not isinstance(value, list):
        found.append(problem("timeline", 'give a list of {"at": time, "text": ...}'))
        return _BAD
    if len(value) > rules.MAX_TIMELINE:
        found.append(problem("timeline", f"{len(value)} entries; keep it to "
                                         f"{rules.MAX_TIMELINE}"))
        return _BAD
    items: list[dict[str, Any]] = []
    before = len(found)
    for index, item in enumerate(value):
        if isinstance(item, rules.TimelineItem):
            items.append(item.to_json())
            continue
        at = item.get("at") if isinstance(item, Mapping) else None
        if isinstance(at, str):
            at = _parse_time(at)
        if not isinstance(at, datetime) or at.tzinfo is None:
            found.append(problem(f"timeline[{index}].at",
                                 "give a time with an offset or Z, e.g. 2026-03-02T09:30:00Z"))
            continue
        text = _text(f"timeline[{index}].text", item.get("text") if isinstance(item, Mapping)
                     else None, found)
        entry_id = item.get("entry_id") if isinstance(item, Mapping) else None
        if entry_id is not None and (isinstance(entry_id, bool) or not isinstance(entry_id, int)):
            found.append(problem(f"timeline[{index}].entry_id",
                                 "give the incident entry's id (a whole number), or null"))
            continue
        if text is not None:
            items.append(rules.TimelineItem(at, one_line(text), entry_id).to_json())
    items.sort(key=lambda item: str(item["at"]))
    return _BAD if len(found) > before else items


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def snapshot(postmortem: Postmortem) -> dict[str, Any]:
    """The editable columns as plain values, for the audit row and the blame reader."""
    return {name: _plain(getattr(postmortem, name)) for name in EDITABLE} | {
        "status": postmortem.status}


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [dict(item) if isinstance(item, Mapping) else item for item in value]
    return value


def timeline_of(postmortem: Postmortem) -> list[rules.TimelineItem]:
    return [rules.TimelineItem.from_json(item) for item in postmortem.timeline or []]
