"""What the post-mortem editor shows, and how its form is read back.

The editor is one plain form: every section, the why-chain as numbered
pairs of boxes, the incident's own timeline as checkboxes, and the
category as a select. "Add a step" and "Remove step N" are submit buttons
of the same form, so the words typed so far are saved with the change and
no JavaScript is needed. The form carries the version it was opened on
(`version`), so a save over someone else's newer words is refused. A form
with more steps than the why-chain holds is answered with the editor and a
problem on `whys`, never cut short in silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.incidents.rules import TimelineEntry
from tocsin.postmortems import edits, rules
from tocsin.postmortems.blame import Suggestion
from tocsin.postmortems.store import Postmortem
from tocsin.web.ui_incident_views import Problems, local

TEXT_FIELDS = ("title", "summary", "estimated_cost", *edits.TEXTS)
MOVES = {  # the state buttons each status shows: (to, label)
    rules.DRAFT: ((rules.IN_REVIEW, "Request review"),),
    rules.IN_REVIEW: ((rules.PUBLISHED, "Publish"), (rules.DRAFT, "Back to draft")),
    rules.PUBLISHED: ((rules.DRAFT, "Reopen as draft"),),
}
STATUS_LABELS = {rules.DRAFT: "Draft", rules.IN_REVIEW: "In review",
                 rules.PUBLISHED: "Published"}


@dataclass(frozen=True)
class Posted:
    values: dict[str, str]
    chosen: list[str]  # the timeline checkboxes ticked


def shown(postmortem: Postmortem) -> dict[str, Any]:
    """The editor's values as saved."""
    values: dict[str, Any] = {name: getattr(postmortem, name) or "" for name in TEXT_FIELDS}
    values |= {name: "" if getattr(postmortem, name) is None else str(getattr(postmortem, name))
               for name in edits.COUNTS}
    values["root_cause_category"] = postmortem.root_cause_category or ""
    values["whys"] = [dict(step) for step in postmortem.whys or []]
    values["chosen"] = [item.key for item in edits.timeline_of(postmortem)]
    return values


def typed(posted: Posted) -> dict[str, Any]:
    """The editor's values as typed, to show again beside their problems."""
    values: dict[str, Any] = {name: posted.values.get(name, "") for name in
                              (*TEXT_FIELDS, *edits.COUNTS, "root_cause_category")}
    values["whys"] = _whys(posted.values)
    values["chosen"] = list(posted.chosen)
    return values


_HUGE = 10**9


def _given_steps(values: dict[str, str], *, typed_only: bool = False) -> int:
    """How many steps the form holds: its count, or past it the last step it has words of
    (`typed_only`: the last step it has boxes for, to show again)."""
    count = values.get("whys_count", "0")
    steps = 0
    if count.isascii() and count.isdigit():
        steps = int(count) if len(count) <= 9 else _HUGE
    numbers = [int(number) + 1 for name, value in values.items()
               if name.startswith(("why_", "because_")) and (typed_only or value.strip())
               for number in [name.split("_", 1)[1]]
               if number.isascii() and number.isdigit() and len(number) <= 9]
    if typed_only:
        return min(steps, max(numbers, default=0))
    return max([steps, *numbers])


def whys_problem(values: dict[str, str]) -> str | None:
    """Why the form's why-chain cannot be saved as it is; None when it can."""
    count = values.get("whys_count", "0")
    if not (count.isascii() and count.isdigit()):
        return f"the step count {count[:20]!r} is not a number; reload the editor"
    steps = _given_steps(values)
    if steps > rules.MAX_WHYS:
        return (f"the form holds {steps:,} steps; a why-chain holds at most "
                f"{rules.MAX_WHYS}: remove steps or join them")
    if values.get("add_why") and steps >= rules.MAX_WHYS:
        return (f"the why-chain already has {rules.MAX_WHYS} steps, the most it holds; "
                "remove or join steps before adding one")
    return None


def _whys(values: dict[str, str]) -> list[dict[str, str]]:
    steps = _given_steps(values)
    if steps > rules.MAX_WHYS:  # refused (whys_problem); shown with the boxes it has
        steps = _given_steps(values, typed_only=True)
    found = [{"why": values.get(f"why_{n}", "").replace("\r\n", "\n"),
              "because": values.get(f"because_{n}", "").replace("\r\n", "\n")}
             for n in range(min(steps, rules.MAX_WHYS))]
    remove = values.get("remove_why", "")
    if remove.isascii() and remove.isdigit() and int(remove) < len(found):
        del found[int(remove)]
    if values.get("add_why") and len(found) < rules.MAX_WHYS:
        found.append({"why": "", "because": ""})
    return found


def changes(posted: Posted, postmortem: Postmortem, entries: Sequence[TimelineEntry],
            problems: Problems) -> dict[str, Any]:
    """The fields to save; counts that are not numbers are noted in `problems`."""
    fields: dict[str, Any] = {name: posted.values.get(name, "").replace("\r\n", "\n")
                              for name in TEXT_FIELDS}
    for name in edits.COUNTS:
        text = posted.values.get(name, "").strip()
        if text and not (text.isascii() and text.isdigit() and len(text) <= 10):
            problems.add(name, "give a whole number, 0 or more, or leave it empty")
        else:
            fields[name] = int(text) if text else None
    category = posted.values.get("root_cause_category", "")
    # A category the file no longer lists is offered as it was; left so, it is kept.
    if category.casefold() != (postmortem.root_cause_category or "").casefold():
        fields["root_cause_category"] = category or None
    whys = whys_problem(posted.values)
    if whys is not None:
        problems.add("whys", whys)
    fields["whys"] = _whys(posted.values)
    fields["timeline"] = _timeline(posted.chosen, postmortem, entries)
    return fields


def _timeline(chosen: Sequence[str], postmortem: Postmortem,
              entries: Sequence[TimelineEntry]) -> list[rules.TimelineItem]:
    wanted = set(chosen)
    found = {rules.entry_key(e.id, e.occurred_at, e.text): rules.item_of(e) for e in entries}
    # Lines added by hand (API) have no incident entry; they stay while ticked.
    for item in edits.timeline_of(postmortem):
        found.setdefault(item.key, item)
    return sorted((item for key, item in found.items() if key in wanted),
                  key=lambda item: item.at)


def timeline_choices(postmortem: Postmortem, entries: Sequence[TimelineEntry],
                     chosen: Sequence[str], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every entry the editor offers: the incident's own (not the post-mortem's own
    changes), then lines added by hand."""
    offered: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry.kind == rules.POSTMORTEM:
            continue
        item = rules.item_of(entry)
        offered[item.key] = {"key": item.key, "at": local(item.at, zone), "text": item.text,
                             "kind": entry.kind, "by_hand": False}
    for item in edits.timeline_of(postmortem):
        offered.setdefault(item.key, {"key": item.key, "at": local(item.at, zone),
                                      "text": item.text, "kind": "", "by_hand": True})
    return [{**choice, "checked": choice["key"] in chosen} for choice in offered.values()]


def by_field(found: Sequence[Suggestion]) -> dict[str, list[Suggestion]]:
    grouped: dict[str, list[Suggestion]] = {}
    for suggestion in found:
        grouped.setdefault(suggestion.field, []).append(suggestion)
    return grouped


NOTICES = {"drafted": "Post-mortem drafted from the incident's timeline.",
           "saved": "Post-mortem saved.",
           "in_review": "Review requested.", "published": "Post-mortem published.",
           "draft": "Moved back to draft."}
