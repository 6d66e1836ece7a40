"""Choose the route an alert takes through the routing tree, and say why.

A route matches when it is active at the time (its `active` window on the
config's wall clock, if it has one), every `match` label is equal and every
`match_re` label fully matches its regular expression. A route with no
conditions is a catch-all. Labels include the alert's severity and service.

The tree is walked in order, depth first, and the first route that takes
the alert wins: a matching route with nested routes offers the alert to
them first and takes it itself only when none of them does (and only if it
notifies someone; a route that just groups others passes it on). Every
route looked at leaves a line in the explanation, so `tocsin route test`
and the API can show the way an alert went, rule by rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.config.model import WEEKDAYS, Restriction, Route, Target


@dataclass(frozen=True)
class RouteChoice:
    index: int  # position of its top-level route in the config's list
    route: Route
    notify: Target
    why: str
    explanation: tuple[str, ...] = ()  # one line per route looked at, in order


def route_matches(route: Route, labels: Mapping[str, str]) -> tuple[bool, str]:
    """Whether `route`'s labels take an alert with `labels`, and the reason in words."""
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


def in_window(window: Restriction, local: datetime) -> bool:
    """Whether the naive wall-clock time `local` is inside `window`.

    `days` are the days a window starts on, so an overnight window that
    starts on Friday still holds at 02:00 on Saturday.
    """
    for day in (local.date() - timedelta(days=1), local.date()):
        if window.days and WEEKDAYS[day.weekday()] not in window.days:
            continue
        opens = datetime.combine(day, window.start)
        closes = datetime.combine(day, window.end)
        if closes <= opens:  # runs past midnight
            closes += timedelta(days=1)
        if opens <= local < closes:
            return True
    return False


def choose_route(
    routes: Sequence[Route], labels: Mapping[str, str], *,
    at: datetime | None = None, timezone: str = "UTC",
) -> RouteChoice | None:
    """The route that takes an alert with `labels` at instant `at`, or None.

    Without `at`, `active` windows are not looked at (every route is active).
    """
    local = None if at is None else at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    lines: list[str] = []
    for index, route in enumerate(routes):
        taken = _walk(route, labels, local, lines, depth=0)
        if taken is not None:
            chosen, why = taken
            assert chosen.notify is not None  # _walk only takes routes that notify
            return RouteChoice(index, chosen, chosen.notify, why, tuple(lines))
    return None


def explain_route(
    routes: Sequence[Route], labels: Mapping[str, str], *, at: datetime, timezone: str,
) -> tuple[RouteChoice | None, tuple[str, ...]]:
    """`choose_route` with its explanation, also when nothing takes the alert."""
    choice = choose_route(routes, labels, at=at, timezone=timezone)
    if choice is not None:
        return choice, choice.explanation
    local = at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    lines: list[str] = []
    for route in routes:
        _walk(route, labels, local, lines, depth=0)
    return None, (*lines, "no route takes the alert: it goes to the fallback contact")


def _walk(
    route: Route, labels: Mapping[str, str], local: datetime | None, lines: list[str],
    *, depth: int,
) -> tuple[Route, str] | None:
    where = f"{'  ' * depth}{route.path or 'route'} (line {route.line})"
    if route.active is not None and local is not None and not in_window(route.active, local):
        lines.append(f"{where}: inactive at {local:%a %H:%M} "
                     f"(active {_describe(route.active)})")
        return None
    matched, why = route_matches(route, labels)
    if not matched:
        lines.append(f"{where}: no, {why}")
        return None
    lines.append(f"{where}: yes, {why}")
    for nested in route.routes:
        taken = _walk(nested, labels, local, lines, depth=depth + 1)
        if taken is not None:
            return taken
    if route.notify is None:
        lines.append(f"{where}: no nested route took it and this route notifies nobody")
        return None
    lines.append(f"{where}: takes the alert, notify {route.notify.name}")
    return route, why


def _describe(window: Restriction) -> str:
    days = ",".join(window.days) if window.days else "every day"
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M}"


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
