"""One set of names for users, schedules, escalation policies and teams.

A user is known by id and by e-mail. A bare e-mail address that names no
user is a user of its own (implicit), so the seed's participants work with
no `users` section. Once `users` lists people, such an address is more
likely a typo of one of theirs than a new person, so each use is warned
about (a team may still page an address on purpose). Everything else that
names nothing is reported with what could have been meant.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, cast

from tocsin.config.model import Target, TargetKind, User
from tocsin.config.schema import Fields, Items, Problems, Spot, closest, or_list

Kind = Literal["user", "schedule", "escalation_policy", "team"]
ANY_TARGET: tuple[Kind, ...] = ("escalation_policy", "schedule", "user")
STEP_TARGET: tuple[Kind, ...] = ("schedule", "user")
USER: tuple[Kind, ...] = ("user",)
_NAMED: tuple[Kind, ...] = ("schedule", "escalation_policy", "team")
# What becomes of an address no listed user has, where a person is paged.
PAGED = "it will be paged as an e-mail-only person"
# How alike (difflib's ratio) each part of an address must be to be offered as meant.
_NEAR = 0.6

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
        # E-mail -> id of each listed user; an address outside it is warned about
        # once any user is listed (README: "With no `users:` section ...").
        self.user_emails = {
            email or user_id: user_id
            for user_id, email in _listed_users(top)
            if email or "@" in user_id
        }
        self.listed_user_ids = [user_id for user_id, _ in _listed_users(top)]
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
        self, name: str, spot: Spot, allowed: tuple[Kind, ...], role: str,
        *, unlisted: str | None = PAGED,
    ) -> tuple[Kind, str] | None:
        """What `name` refers to, as (kind, name); a user comes back by id.

        `unlisted` says what becomes of an address no listed user has (None: say
        nothing, for a role whose own check covers it).
        """
        found = self.defined.get(name)
        if name in self.clashing:
            return None
        if found is None:
            if "user" in allowed and "@" in name:
                if unlisted is not None:
                    self._check_unlisted(name, spot, unlisted)
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

    def ref(
        self, entry: Fields, key: str, allowed: tuple[Kind, ...], role: str,
        *, unlisted: str | None = PAGED,
    ) -> str | None:
        """The name (a user's id) that `entry[key]` refers to, if it is set and defined."""
        name = entry.get(key)
        found = None if name is None else self.resolve(
            name, entry.at(key), allowed, role, unlisted=unlisted)
        return None if found is None else found[1]

    def user_ids(self, items: Items | None, role: str) -> tuple[str, ...]:
        return tuple(user_id for _, _, user_id in self.users_at(items, role))

    def users_at(self, items: Items | None, role: str) -> list[tuple[Spot, str, str]]:
        """Each listed name that is a user, as (spot, name as written, user id)."""
        found = []
        for spot, name in items.each() if items is not None else ():
            resolved = self.resolve(name, spot, USER, role)
            if resolved is not None:
                found.append((spot, name, resolved[1]))
        return found

    def _implicit_user(self, address: str) -> str:
        if address not in self.implicit_users:
            self.implicit_users[address] = User(
                id=address, email=address, contacts={"email": address}, implicit=True
            )
        return address

    def _check_unlisted(self, address: str, spot: Spot, unlisted: str) -> None:
        """Warn of an address that is no listed user's: a typo pages the wrong inbox."""
        if not self.listed_user_ids:
            return  # no users listed: every address is a person, as documented
        email = _closest_email(address, list(self.user_emails))
        if email is not None:
            user_id = self.user_emails[email]
            self.problems.warning(
                spot,
                f"'{address}' is not the e-mail of any user (closest: {email}, user "
                f"{user_id}), so {unlisted} instead of {user_id}",
                f"correct it to {email}, or add {address} under users: if it is meant",
            )
            return
        named = closest(address.split("@")[0], self.listed_user_ids)
        hint = f"write {named} if user {named} is meant, or " if named else ""
        self.problems.warning(
            spot,
            f"'{address}' is not the e-mail of any user under users:, so {unlisted}",
            f"{hint}add it under users: or correct it",
        )

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


def _closest_email(address: str, emails: list[str]) -> str | None:
    """The e-mail nearest to `address`, ignoring case, when both its parts are near.

    Comparing the parts apart keeps ops@company.com from matching bob@company.com
    on the strength of the shared domain alone.
    """
    local, _, domain = address.lower().partition("@")
    best, best_score = None, 0.0
    for email in emails:
        their_local, _, their_domain = email.lower().partition("@")
        scores = (_likeness(local, their_local), _likeness(domain, their_domain))
        if min(scores) >= _NEAR and sum(scores) > best_score:
            best, best_score = email, sum(scores)
    return best


def _likeness(one: str, other: str) -> float:
    return difflib.SequenceMatcher(None, one, other).ratio()


def _listed_users(top: Fields) -> list[tuple[str, str | None]]:
    """(id, e-mail) of each user with an id, in file order."""
    return [
        (entry.get("id"), entry.get("email"))
        for entry in listed(top, "users")
        if entry.get("id") is not None
    ]


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
