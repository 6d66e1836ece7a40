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

`continue: true` on a route (as in Alertmanager) lets the walk go on once
that route, or a route nested in it, has taken the alert: its later
siblings are tried too, then the walk carries on up the tree as it would.
Every route that takes the alert is kept, in order; the first one is the
primary, the others are `also`. Whether the walk goes past a route's
parent depends on the parent's own `continue`, never on a nested one's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tocsin.config.model import WEEKDAYS, Restriction, Route, Target
from tocsin.config.patterns import full_match


@dataclass(frozen=True)
class RouteChoice:
    index: int  # position of its top-level route in the config's list
    route: Route
    notify: Target
    why: str
    explanation: tuple[str, ...] = ()  # one line per route looked at, in order
    # Further routes that took the alert because the walk continued, in order.
    also: tuple[RouteChoice, ...] = ()


def route_matches(route: Route, labels: Mapping[str, str]) -> tuple[bool, str]:
    """Whether `route`'s labels take an alert with `labels`, and the reason in words."""
    for name, wanted in route.match.items():
        have = labels.get(name)
        if have != wanted:
            return False, f"{name}={have!r} is not {wanted!r}"
    for name, pattern in route.match_re.items():
        have = labels.get(name)
        if have is None or not full_match(pattern, have):
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

    Routes that take it too because the walk continued are in its `also`.
    Without `at`, `active` windows are not looked at (every route is active).
    """
    local = None if at is None else at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return _choice(*_take(routes, labels, local))


def explain_route(
    routes: Sequence[Route], labels: Mapping[str, str], *, at: datetime, timezone: str,
) -> tuple[RouteChoice | None, tuple[str, ...]]:
    """`choose_route` with its explanation, also when nothing takes the alert."""
    local = at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    taken, lines = _take(routes, labels, local)
    choice = _choice(taken, lines)
    if choice is None:
        return None, (*lines, "no route takes the alert: it goes to the fallback contact")
    return choice, choice.explanation


def _choice(taken: list[RouteChoice], lines: list[str]) -> RouteChoice | None:
    if not taken:
        return None
    first, *rest = taken
    return RouteChoice(first.index, first.route, first.notify, first.why, tuple(lines),
                       tuple(rest))


@dataclass
class _Walk:
    labels: Mapping[str, str]
    local: datetime | None
    index: int = 0  # the top-level route being walked
    taken: list[RouteChoice] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _take(
    routes: Sequence[Route], labels: Mapping[str, str], local: datetime | None,
) -> tuple[list[RouteChoice], list[str]]:
    """Every route that takes the alert, in order, and one line per route looked at."""
    walk = _Walk(labels, local)
    for index, route in enumerate(routes):
        walk.index = index
        if _walk(route, walk, depth=0) and not _goes_on(route, walk, depth=0):
            break
    return walk.taken, walk.lines


def _where(route: Route, depth: int) -> str:
    return f"{'  ' * depth}{route.path or 'route'} (line {route.line})"


def _goes_on(route: Route, walk: _Walk, *, depth: int) -> bool:
    """After `route`'s subtree took the alert: whether the routes after it are tried."""
    if route.continues:
        walk.lines.append(f"{_where(route, depth)}: continue is set, so the walk goes on")
    return route.continues


def _walk(route: Route, walk: _Walk, *, depth: int) -> bool:
    """Offer the alert to `route` and its nested routes; True when any of them took it."""
    lines = walk.lines
    where = _where(route, depth)
    local = walk.local
    if route.active is not None and local is not None and not in_window(route.active, local):
        lines.append(f"{where}: inactive at {local:%a %H:%M} "
                     f"(active {_describe(route.active)})")
        return False
    matched, why = route_matches(route, walk.labels)
    if not matched:
        lines.append(f"{where}: no, {why}")
        return False
    lines.append(f"{where}: yes, {why}")
    nested_took = False
    for nested in route.routes:
        if _walk(nested, walk, depth=depth + 1):
            nested_took = True
            if not _goes_on(nested, walk, depth=depth + 1):
                break
    if nested_took:
        return True
    if route.notify is None:
        lines.append(f"{where}: no nested route took it and this route notifies nobody")
        return False
    too = " too" if walk.taken else ""
    lines.append(f"{where}: takes the alert{too}, notify {route.notify.name}")
    walk.taken.append(RouteChoice(walk.index, route, route.notify, why))
    return True


def _describe(window: Restriction) -> str:
    days = ",".join(window.days) if window.days else "every day"
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M}"


def alert_labels(
    labels: Mapping[str, str], *, severity: str | None, service: str | None,
) -> dict[str, str]:
    """The labels routes see: the alert's own, plus its severity and service.

    The alert's severity and service win over labels of those names: they are
    what the alert shows and what set its urgency, mapped (`fields:`) or not.
    """
    merged = dict(labels)
    if severity is not None:
        merged["severity"] = severity
    if service is not None:
        merged["service"] = service
    return merged
