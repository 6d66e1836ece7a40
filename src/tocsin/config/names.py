"""One set of names for users, schedules, escalation policies and teams.

A user is known by id and by e-mail. A bare e-mail address that names no
user is a user of its own (implicit), so the seed's participants work with
no `users` section. Everything else that names nothing is reported with
what could have been meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from tocsin.config.model import Target, TargetKind, User
from tocsin.config.schema import Fields, Items, Problems, Spot, closest, or_list

Kind = Literal["user", "schedule", "escalation_policy", "team"]
ANY_TARGET: tuple[Kind, ...] = ("escalation_policy", "schedule", "user")
STEP_TARGET: tuple[Kind, ...] = ("schedule", "user")
USER: tuple[Kind, ...] = ("user",)
_NAMED: tuple[Kind, ...] = ("schedule", "escalation_policy", "team")

NOUN: dict[Kind, str] = {
    "user": "user",
    "schedule": "schedule",
    "escalation_policy": "escalation policy",
    "team": "team",
}
_SECTION: dict[Kind, str] = {
    "user": "users",
    "schedule": "schedules",
    "escalation_policy": "escalation_policies",
    "team": "teams",
}


def listed(fields: Fields | None, key: str) -> list[Fields]:
    """The mappings listed under `key`, or none."""
    items: Items | None = None if fields is None else fields.get(key)
    return [] if items is None else list(items.values)


def _a(kind: Kind) -> str:
    return f"an {NOUN[kind]}" if kind == "escalation_policy" else f"a {NOUN[kind]}"


@dataclass(frozen=True)
class _Definition:
    kind: Kind
    spot: Spot
    user_id: str = ""  # for users, named by id or e-mail: the id


class Names:
    def __init__(self, top: Fields, problems: Problems) -> None:
        self.problems = problems
        self.defined: dict[str, _Definition] = {}
        self.implicit_users: dict[str, User] = {}
        # Names defined twice: already reported, so uses of them are not reported again.
        self.clashing: set[str] = set()
        found = _user_names(top)
        for kind in _NAMED:
            for entry in listed(top, _SECTION[kind]):
                if entry.get("name") is not None:
                    found.append((entry.get("name"), _Definition(kind, entry.at("name"))))
        # In file order, so the later of two clashing definitions is the one reported.
        for name, definition in sorted(found, key=lambda pair: pair[1].spot.line):
            self._define(name, definition)

    def _define(self, name: str, definition: _Definition) -> None:
        first = self.defined.setdefault(name, definition)
        if first is not definition:
            self.clashing.add(name)
            self.problems.error(
                definition.spot,
                f"duplicate name '{name}': {_a(first.kind)} at line {first.spot.line} has it",
                "rename one of them: users, schedules, escalation policies and teams "
                "share one set of names",
            )

    def resolve(
        self, name: str, spot: Spot, allowed: tuple[Kind, ...], role: str
    ) -> tuple[Kind, str] | None:
        """What `name` refers to, as (kind, name); a user comes back by id."""
        found = self.defined.get(name)
        if name in self.clashing:
            return None
        if found is None:
            if "user" in allowed and "@" in name:
                return "user", self._implicit_user(name)
            self._unknown(name, spot, allowed)
            return None
        if found.kind not in allowed:
            nested = allowed == STEP_TARGET and found.kind == "escalation_policy"
            self.problems.error(
                spot,
                f"'{name}' is {_a(found.kind)} (line {found.spot.line}); {role} must be "
                f"{or_list([_a(kind) for kind in allowed])}",
                f"name {or_list([NOUN[kind] + 's' for kind in allowed])} here"
                + (": policies do not nest" if nested else ""),
            )
            return None
        return found.kind, found.user_id or name

    def target(self, name: str, spot: Spot, allowed: tuple[Kind, ...], role: str) -> Target | None:
        found = self.resolve(name, spot, allowed, role)
        return None if found is None else Target(cast(TargetKind, found[0]), found[1])

    def ref(self, entry: Fields, key: str, allowed: tuple[Kind, ...], role: str) -> str | None:
        """The name (a user's id) that `entry[key]` refers to, if it is set and defined."""
        name = entry.get(key)
        found = None if name is None else self.resolve(name, entry.at(key), allowed, role)
        return None if found is None else found[1]

    def user_ids(self, items: Items | None, role: str) -> tuple[str, ...]:
        ids = []
        for spot, name in items.each() if items is not None else ():
            found = self.resolve(name, spot, USER, role)
            if found is not None:
                ids.append(found[1])
        return tuple(ids)

    def _implicit_user(self, address: str) -> str:
        if address not in self.implicit_users:
            self.implicit_users[address] = User(
                id=address, email=address, contacts={"email": address}, implicit=True
            )
        return address

    def _unknown(self, name: str, spot: Spot, allowed: tuple[Kind, ...]) -> None:
        noun = NOUN[allowed[0]] if len(allowed) == 1 else "target"
        candidates = [known for known, found in self.defined.items() if found.kind in allowed]
        match = closest(name, candidates)
        known = f"did you mean '{match}'?" if match else self._summary(allowed)
        nouns = or_list([NOUN[kind] for kind in allowed])
        self.problems.error(
            spot,
            f"unknown {noun} '{name}': no {nouns} has that name",
            f"define it under {or_list([_SECTION[kind] for kind in allowed])}, "
            f"or use a defined name ({known})",
        )

    def _summary(self, kinds: tuple[Kind, ...]) -> str:
        parts = []
        for kind in kinds:
            found = self.defined.items()
            names = sorted({d.user_id or name for name, d in found if d.kind == kind})
            if names:
                more = f", +{len(names) - 5} more" if len(names) > 5 else ""
                parts.append(f"{_SECTION[kind]} {', '.join(names[:5])}{more}")
        return "defined: " + "; ".join(parts) if parts else "none is defined yet"


def _user_names(top: Fields) -> list[tuple[str, _Definition]]:
    found: list[tuple[str, _Definition]] = []
    for entry in listed(top, "users"):
        user_id, email = entry.get("id"), entry.get("email")
        if user_id is None:
            continue
        found.append((user_id, _Definition("user", entry.at("id"), user_id)))
        if email is not None and email != user_id:
            found.append((email, _Definition("user", entry.at("email"), user_id)))
    return found
