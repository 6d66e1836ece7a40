"""Who an alert can be reassigned to, or paged beside it: the choices a page offers.

Reassign takes a person or a schedule; add responder takes a person, a
schedule or an escalation policy. Slack menus and the link page carry a
target as a short code (`u:bob`, `s:primary`, `p:critical`); a text reply
names it bare (`bob`, `bob@example.com`, `primary`), looked up in that order.

Pure functions of the loaded config; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tocsin.config.model import Config, Target

REASSIGN_KINDS = ("user", "schedule")
RESPONDER_KINDS = ("user", "schedule", "escalation_policy")

_CODES = {"user": "u", "schedule": "s", "escalation_policy": "p"}
_KINDS = {code: kind for kind, code in _CODES.items()}
_NOUNS = {"user": "person", "schedule": "schedule", "escalation_policy": "escalation policy"}
# Policies made for a reassignment or a direct page are not named in the file.
_IMPLICIT = "implicit:"


@dataclass(frozen=True)
class Choice:
    target: Target
    label: str  # "Alice", "primary"

    @property
    def code(self) -> str:
        return code_of(self.target)


def code_of(target: Target) -> str:
    return f"{_CODES[target.kind]}:{target.name}"


def from_code(config: Config, text: str, kinds: Sequence[str]) -> Target | None:
    """The target a code names, if the config defines it with one of `kinds`; else None.

    A menu sent before a reload can name a target the config no longer has.
    """
    code, sep, name = text.partition(":")
    kind = _KINDS.get(code)
    if not sep or not name or kind is None or kind not in kinds:
        return None
    wanted = Target(kind, name)  # type: ignore[arg-type]
    return wanted if any(c.target == wanted for c in choices(config, kinds)) else None


def noun(kind: str) -> str:
    return _NOUNS[kind]


def nouns(kinds: Sequence[str]) -> str:
    """"person or schedule", "person, schedule or escalation policy"."""
    words = [_NOUNS[kind] for kind in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def choices(config: Config, kinds: Sequence[str]) -> list[Choice]:
    """Every target of `kinds` in the config: people by name, then schedules, then policies."""
    found: list[Choice] = []
    if "user" in kinds:
        people = sorted(config.users.values(), key=lambda u: (u.display.lower(), u.id))
        found += [Choice(Target("user", u.id), u.display) for u in people]
    if "schedule" in kinds:
        found += [Choice(Target("schedule", name), name) for name in sorted(config.schedules)]
    if "escalation_policy" in kinds:
        found += [Choice(Target("escalation_policy", name), name)
                  for name in sorted(config.escalation_policies)
                  if not name.startswith(_IMPLICIT)]
    return found


def named(config: Config, text: str, kinds: Sequence[str]) -> Target | None:
    """The target a person typed: a user id or e-mail, a schedule, a policy (case-blind)."""
    wanted = text.strip().lower()
    if not wanted:
        return None
    for choice in choices(config, kinds):
        user = config.users.get(choice.target.name) if choice.target.kind == "user" else None
        spellings = {choice.target.name.lower()}
        if user is not None and user.email:
            spellings.add(user.email.lower())
        if wanted in spellings:
            return choice.target
    return None


def grouped(config: Config, kinds: Sequence[str]) -> list[tuple[str, list[Choice]]]:
    """The choices under a heading per kind ("People", ...), empty kinds left out."""
    headings = {"user": "People", "schedule": "Schedules", "escalation_policy": "Policies"}
    found = choices(config, kinds)
    return [(headings[kind], [c for c in found if c.target.kind == kind]) for kind in kinds
            if any(c.target.kind == kind for c in found)]


def valid_names(config: Config, kinds: Sequence[str], limit: int = 6) -> str:
    """A few names a reply could use, for a message saying what is valid."""
    names = [c.target.name for c in choices(config, kinds)]
    shown = ", ".join(names[:limit])
    return shown + (", ..." if len(names) > limit else "") if names else "(none defined)"
