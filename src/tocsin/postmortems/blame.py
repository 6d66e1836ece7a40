"""The blameless review aid: sentences that name a person or read as blame.

A post-mortem asks how the system let a failure through, not who slipped.
This module reads the root cause, the why-chain, the contributing factors
and "what went badly" sentence by sentence and suggests a rewording where a
sentence names someone (a user of the config by id, name or first name, an
`@handle`, an e-mail address) or uses words of blame ("forgot", "should have",
"human error", "careless", "failed to"...). It only suggests: nothing is ever
refused for it, and a team may keep a sentence as written.

Names written with a capital are matched as written ("Will" is a person,
"will" is not); ids and e-mail addresses ignoring case. Pure: plain values
in, suggestions out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Each phrase, why it reads as blame, and what to write instead.
_PHRASES: tuple[tuple[str, str, str], ...] = (
    (r"forg[oe]t(?:s|ten)?|didn'?t remember", "says someone forgot",
     "say which step, check or reminder was missing, e.g. \"the runbook had no step for it\""),
    (r"should(?:n'?t| not)? have", "judges with hindsight",
     "say what was known at the time and what would have shown the problem"),
    (r"human error|user error|operator error|pilot error", "stops at a person",
     "ask why the mistake was possible: which default, guard or review let it through"),
    (r"careless(?:ly|ness)?|sloppy|lazy|negligen(?:t|ce)|incompeten(?:t|ce)|reckless(?:ly)?",
     "judges a person", "describe the conditions (load, time pressure, tooling) instead"),
    (r"(?:fault|blame[sd]?)", "assigns fault", "describe what happened and why it was possible"),
    (r"failed to|neglected to|did not bother|didn'?t bother|ignored",
     "puts the failure on a person", "say what did not happen and why the process allowed it"),
    (r"mistake (?:by|of)|messed up|screwed up|dropped the ball|misconfigured by",
     "puts the failure on a person", "name the system or step that allowed the mistake"),
)
_BLAME = [(re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), reason, hint)
          for pattern, reason, hint in _PHRASES]
_HANDLE = re.compile(r"(?<![\w.])@[A-Za-z0-9][\w.-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NAME_HINT = ("name the role or the system instead of the person, e.g. \"the on-call "
              "engineer\" or \"the deploy job\"")
MIN_NAME = 3  # shorter ids and names ("al", "vp") would match ordinary words


@dataclass(frozen=True)
class Person:
    id: str
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Suggestion:
    field: str  # "root_cause", "whys[2].because", ...
    sentence: str
    reason: str
    hint: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "sentence": self.sentence, "reason": self.reason,
                "hint": self.hint}


def sections(document: Mapping[str, object]) -> dict[str, str]:
    """The texts read for blame, by field path: root cause, whys, factors, what went badly."""
    found: dict[str, str] = {}
    for name in ("root_cause", "contributing_factors", "went_badly"):
        value = document.get(name)
        if isinstance(value, str):
            found[name] = value
    whys = document.get("whys")
    for index, step in enumerate(whys if isinstance(whys, list) else []):
        if isinstance(step, Mapping):
            for part in ("why", "because"):
                value = step.get(part)
                if isinstance(value, str):
                    found[f"whys[{index}].{part}"] = value
    return found


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def suggestions(texts: Mapping[str, str], people: Iterable[Person]) -> list[Suggestion]:
    """One suggestion per flagged sentence (the first reason found), in field order."""
    patterns = _people_patterns(people)
    found: list[Suggestion] = []
    for path, text in texts.items():
        for sentence in sentences(text):
            flagged = _flag(sentence, patterns)
            if flagged is not None:
                found.append(Suggestion(path, sentence, *flagged))
    return found


def _flag(sentence: str, people: Sequence[tuple[re.Pattern[str], str]]) -> tuple[str, str] | None:
    for pattern, _name in people:
        named = pattern.search(sentence)
        if named is not None:
            return f"names a person ({named.group(0)})", _NAME_HINT
    handle = _HANDLE.search(sentence)
    if handle is not None:
        return f"names a person ({handle.group(0)})", _NAME_HINT
    for pattern, reason, hint in _BLAME:
        said = pattern.search(sentence)
        if said is not None:
            return f"\"{said.group(0)}\" {reason}", hint
    return None


def _people_patterns(people: Iterable[Person]) -> list[tuple[re.Pattern[str], str]]:
    found: dict[str, tuple[re.Pattern[str], str]] = {}
    for person in people:
        for word in (person.id, person.email):
            if word and len(word) >= MIN_NAME:
                found.setdefault(word.casefold(), (re.compile(
                    rf"(?<![\w@.]){re.escape(word)}(?![\w@]|\.\w)", re.IGNORECASE), word))
        names = [person.name, *(person.name or "").split()[:1]]
        for name in names:
            if name and len(name) >= MIN_NAME and name[0].isupper():
                found.setdefault(name, (re.compile(rf"(?<!\w){re.escape(name)}(?!\w)"), name))
    # Longest first, so "Alice Archer" is shown rather than "Alice".
    return sorted(found.values(), key=lambda item: -len(item[1]))
