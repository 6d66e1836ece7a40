"""Who an alert pages when its sender names the responders itself.

Opsgenie's `responders` name users, schedules, escalation policies and
teams. Each is looked up in the config when the alert arrives (an unknown
name is refused, naming it); a team becomes the escalation policy of its
first service that has one, or else its members. When the alert's steps
run, the targets are read against the config of that moment, like a
route's policy:

- without an escalation policy among them, one step pages every target;
- with one, that policy runs and the other targets join its first step;
- with several, the first named sets the steps, their timeouts, the
  repeats and the ack timeout, and step N of each other policy joins
  step N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from tocsin.alerts.sources import FieldError
from tocsin.config.model import Config, EscalationPolicy, Step, Target, Team

IMPLICIT_PREFIX = "implicit:"
MAX_LABEL = 200  # the width of an alert's policy column

_NOUN = {"user": "user", "schedule": "schedule", "escalation_policy": "escalation policy"}
_KIND_WORD = {"user": "user", "team": "team", "schedule": "schedule",
              "escalation": "escalation policy"}

ResponderType = Literal["user", "team", "schedule", "escalation"]


@dataclass(frozen=True)
class ResponderRef:
    """One entry of `responders` as sent: a type and how it was named."""

    type: ResponderType
    by: str  # the field that named it: id, name or username
    value: str
    path: str  # where it sat in the body, for error messages


@dataclass(frozen=True)
class Resolved:
    targets: tuple[Target, ...]
    notes: tuple[str, ...]  # one line per responder: what it named and what that pages


def resolve(config: Config, refs: Sequence[ResponderRef]) -> tuple[Resolved, list[FieldError]]:
    """The targets `refs` name in `config`, and an error for each that names nothing."""
    targets: list[Target] = []
    notes: list[str] = []
    errors: list[FieldError] = []
    for ref in refs:
        found = _lookup(config, ref)
        if found is None:
            errors.append(FieldError(ref.path, f"No {_KIND_WORD[ref.type]} exists with "
                                               f"{ref.by} {ref.value!r}."))
            continue
        named, note = found
        targets += [target for target in named if target not in targets]
        notes.append(note)
    return Resolved(tuple(targets), tuple(notes)), errors


def policy_for(config: Config, targets: Sequence[Target]) -> EscalationPolicy | None:
    """The policy an alert with these targets runs now; None when none remain."""
    policies = [config.escalation_policies[t.name] for t in targets
                if t.kind == "escalation_policy" and t.name in config.escalation_policies]
    direct = tuple(t for t in targets if (t.kind == "user" and t.name in config.users)
                   or (t.kind == "schedule" and t.name in config.schedules))
    if not policies:
        if not direct:
            return None
        step = Step(targets=direct, timeout_minutes=0)
        return EscalationPolicy(name=label(targets), steps=(step,), implicit=True)
    lead, others = policies[0], policies[1:]
    steps: list[Step] = []
    for index, step in enumerate(lead.steps):
        joined = list(step.targets) + (list(direct) if index == 0 else [])
        for other in others:
            if index < len(other.steps):
                joined += other.steps[index].targets
        steps.append(replace(step, targets=tuple(dict.fromkeys(joined))))
    return replace(lead, steps=tuple(steps))


def policy_name(targets: Sequence[Target]) -> str:
    """What the alert's policy column shows: the leading policy, or the targets."""
    for target in targets:
        if target.kind == "escalation_policy":
            return target.name
    return label(targets)


def label(targets: Sequence[Target]) -> str:
    text = "responders: " + ", ".join(f"{_NOUN[t.kind]} {t.name}" for t in targets)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def to_json(targets: Sequence[Target]) -> list[dict[str, str]]:
    return [{"kind": t.kind, "name": t.name} for t in targets]


def from_json(stored: Any) -> tuple[Target, ...]:
    """Targets as an alert row stores them; anything unreadable is left out."""
    if not isinstance(stored, list):
        return ()
    found: list[Target] = []
    for item in stored:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        kind = item.get("kind")
        if kind == "user" or kind == "schedule" or kind == "escalation_policy":
            found.append(Target(kind, item["name"]))
    return tuple(found)


def _lookup(config: Config, ref: ResponderRef) -> tuple[tuple[Target, ...], str] | None:
    if ref.type == "user":
        user_id = _user_id(config, ref.value)
        return None if user_id is None else ((Target("user", user_id),), f"user {user_id}")
    if ref.type == "schedule":
        name = _named(config.schedules, ref.value)
        return None if name is None else ((Target("schedule", name),), f"schedule {name}")
    if ref.type == "escalation":
        policies = {k: v for k, v in config.escalation_policies.items()
                    if not k.startswith(IMPLICIT_PREFIX)}
        name = _named(policies, ref.value)
        if name is None:
            return None
        return (Target("escalation_policy", name),), f"escalation policy {name}"
    name = _named(config.teams, ref.value)
    if name is None:
        return None
    return _team(config, config.teams[name])


def _team(config: Config, team: Team) -> tuple[tuple[Target, ...], str]:
    services = list(team.services) + [s.name for s in config.services.values()
                                      if s.team == team.name and s.name not in team.services]
    for service_name in services:
        service = config.services.get(service_name)
        policy = service.escalation_policy if service is not None else None
        if policy is not None and policy in config.escalation_policies:
            note = f"team {team.name}: escalation policy {policy} of service {service_name}"
            return (Target("escalation_policy", policy),), note
    members = tuple(Target("user", member) for member in team.members)
    return members, f"team {team.name}: its members {', '.join(team.members) or '(none)'}"


def _user_id(config: Config, value: str) -> str | None:
    if value in config.users:
        return value
    wanted = value.casefold()
    by_email = [u.id for u in config.users.values() if (u.email or "").casefold() == wanted]
    if by_email:
        return by_email[0]
    by_name = [u.id for u in config.users.values() if (u.name or "").casefold() == wanted]
    return by_name[0] if len(by_name) == 1 else None


def _named(defined: dict[str, Any], value: str) -> str | None:
    """An exact name, or the one name equal to it ignoring case."""
    if value in defined:
        return value
    folded = [name for name in defined if name.casefold() == value.casefold()]
    return folded[0] if len(folded) == 1 else None
