"""Storms, in plain values: which routes are in one, and when a bundle may go.

A route is in storm while more alerts took it in the last minute than its
limit (`storm: {alerts_per_minute: N}`, inherited down the tree; `storm:
off` never). While it is, pages for its alerts are gathered per person and
channel into bundles, and a person gets at most one bundle a minute on a
channel. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.config.model import Config, Route

# How far back "the last minute" reaches, and the least time between two
# bundles to one person on one channel.
WINDOW = timedelta(minutes=1)
BUNDLE_GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Storm:
    route: str  # the route's path, e.g. routes[0].routes[1]
    alerts: int  # alerts that took it in the last minute
    limit: int


def route_path(where: str | None) -> str | None:
    """The route's path in an alert's record of where it went.

    `RouteDecision.where` reads "routes[0] (line 3): matched service=payment",
    or "service payment" for an alert its service's policy took.
    """
    if not where:
        return None
    return where.split(" (line ", 1)[0]


def route_limits(config: Config) -> dict[str, int | None]:
    """Each route's storm limit, by path; None where storms are off."""
    found: dict[str, int | None] = {}

    def walk(routes: Iterable[Route]) -> None:
        for route in routes:
            found[route.path] = route.storm
            walk(route.routes)

    walk(config.routes)
    return found


def storms(counts: Mapping[str, int], config: Config) -> dict[str, Storm]:
    """The routes in storm, given how many alerts took each in the last minute.

    `counts` is keyed by the alerts' `route` record. Routes the file no longer
    has (since a reload) and alerts a service's policy took use the
    top-level limit.
    """
    by_path: dict[str, int] = {}
    for where, count in counts.items():
        path = route_path(where)
        if path is not None:
            by_path[path] = by_path.get(path, 0) + count
    limits = route_limits(config)
    found: dict[str, Storm] = {}
    for path, count in by_path.items():
        limit = limits.get(path, config.storm)
        if limit is not None and count > limit:
            found[path] = Storm(path, count, limit)
    return found


def bundle_due(now: datetime, last_due: datetime | None) -> datetime:
    """When a new bundle to someone may go: now, or a minute after their last one."""
    if last_due is None:
        return now
    return max(now, last_due + BUNDLE_GAP)
