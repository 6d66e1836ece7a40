"""Choose the route an alert takes: first match wins.

A route matches when every `match` label is equal and every `match_re`
label fully matches its regular expression. A route with neither is a
catch-all. Labels include the alert's severity and service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tocsin.config.model import Route


@dataclass(frozen=True)
class RouteChoice:
    index: int  # position in the config's route list
    route: Route
    why: str


def route_matches(route: Route, labels: Mapping[str, str]) -> tuple[bool, str]:
    """Whether `route` takes an alert with `labels`, and the reason in words."""
    for name, wanted in route.match.items():
        have = labels.get(name)
        if have != wanted:
            return False, f"{name}={have!r} is not {wanted!r}"
    for name, pattern in route.match_re.items():
        have = labels.get(name)
        if have is None or re.fullmatch(pattern, have) is None:
            return False, f"{name}={have!r} does not match /{pattern}/"
    if not route.match and not route.match_re:
        return True, "catch-all route"
    matched = [f"{name}={wanted}" for name, wanted in route.match.items()]
    matched += [f"{name}=~/{pattern}/" for name, pattern in route.match_re.items()]
    return True, "matched " + ", ".join(matched)


def choose_route(routes: Sequence[Route], labels: Mapping[str, str]) -> RouteChoice | None:
    for index, route in enumerate(routes):
        matched, why = route_matches(route, labels)
        if matched:
            return RouteChoice(index, route, why)
    return None


def alert_labels(
    labels: Mapping[str, str], *, severity: str | None, service: str | None,
) -> dict[str, str]:
    """The labels routes see: the alert's own, plus its severity and service."""
    merged = dict(labels)
    if severity is not None:
        merged.setdefault("severity", severity)
    if service is not None:
        merged["service"] = service
    return merged
