"""The UI's maintenance form: read what a person typed into the API's body, and name
each problem by the form field it belongs to.

The form only turns text into the body `POST /api/v1/maintenance` takes
(lines of `name=value` into objects, "1h30m" into minutes); every check of
the window itself is the API's (`maintenance_api.window_fields`) and the
service's (`maintenance.create_window`), so the UI cannot accept what the
API would refuse, and says so in the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tocsin.errors import FieldProblem

# The body's field each form field becomes, and how the page names it.
LABELS = {
    "services": "Services", "match": "Labels equal to", "match_re": "Labels matching",
    "start": "Start", "end": "End", "duration": "Duration", "reason": "Reason",
}
_BODY_TO_FORM = {"duration_minutes": "duration"}
_DURATION = re.compile(
    r"(?:(?P<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h)?"
    r"\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in)?)?", re.IGNORECASE)
_LONGEST_INPUT = 20_000


@dataclass(frozen=True)
class Problem:
    field: str  # the form field: a key of LABELS
    message: str

    @property
    def text(self) -> str:
        return f"{LABELS[self.field]}: {self.message}"


@dataclass(frozen=True)
class MaintenanceForm:
    services: str = ""
    match: str = ""
    match_re: str = ""
    start: str = ""
    end: str = ""
    duration: str = ""
    reason: str = ""

    def body(self) -> tuple[dict[str, Any], list[Problem]]:
        """The API body this form describes, and what in it could not be read."""
        problems: list[Problem] = []
        body: dict[str, Any] = {
            "services": [s.strip() for s in self.services.split(",") if s.strip()],
            "match": _labels(self.match, "match", problems),
            "match_re": _labels(self.match_re, "match_re", problems),
            "reason": self.reason,
        }
        if self.start.strip():
            body["start"] = self.start.strip()
        if self.end.strip():
            body["end"] = self.end.strip()
        if self.duration.strip():
            minutes = duration_minutes(self.duration)
            if minutes is None:
                problems.append(Problem("duration", "write minutes, hours or days, such as "
                                                    "90m, 2h, 1h30m or 1d"))
            else:
                body["duration_minutes"] = minutes
        return body, problems


def _labels(text: str, field: str, problems: list[Problem]) -> dict[str, str]:
    """`name=value` lines into an object; blank lines are skipped."""
    found: dict[str, str] = {}
    for number, line in enumerate(text[:_LONGEST_INPUT].splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not name:
            problems.append(Problem(field, f"line {number}: write name=value, such as "
                                           "env=prod"))
        elif name in found:
            problems.append(Problem(field, f"line {number}: {name} is given twice"))
        else:
            found[name] = value.strip()
    return found


def duration_minutes(text: str) -> float | None:
    """Minutes from "90", "90m", "2h", "1h30m", "1d" or "1.5h"; None if unreadable.

    Zero is read as zero: whether a length will do is the API's question.
    """
    written = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", written):
        minutes = float(written)
    else:
        found = _DURATION.fullmatch(written)
        if found is None or not any(found.groupdict().values()):
            return None
        days, hours, mins = (float(found.group(k) or 0) for k in ("d", "h", "m"))
        minutes = days * 1440 + hours * 60 + mins
    return minutes


def named(problems: list[FieldProblem]) -> list[Problem]:
    """The API's field problems, each on the form field it came from.

    `match.env` stays on "Labels equal to" and names the label; a problem
    with no form field of its own (none is expected) goes on Reason.
    """
    found: list[Problem] = []
    for problem in problems:
        head, _, rest = problem.path.partition(".")
        head = _BODY_TO_FORM.get(head.split("[")[0], head.split("[")[0])
        field = head if head in LABELS else "reason"
        detail = f"{rest}: {problem.message}" if rest and field in ("match", "match_re") else (
            problem.message)
        found.append(Problem(field, detail))
    return found
