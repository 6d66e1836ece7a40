"""Maintenance windows written in the file, built once the services are known.

A window's `start` and `end` without an offset are wall-clock times in the
config's `timezone`, placed on the UTC line here (a time in a DST gap moves
to the gap's end, a repeated one takes its first occurrence, as everywhere).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tocsin.config.convert import local_to_utc
from tocsin.config.model import MAX_MAINTENANCE, MaintenanceWindow, Service
from tocsin.config.names import listed
from tocsin.config.schema import Fields, Items, Problems

_MATCHERS = ("services", "match", "match_re")


def build_maintenance(
    top: Fields, problems: Problems, services: dict[str, Service],
) -> tuple[MaintenanceWindow, ...]:
    zone = ZoneInfo(top.get("timezone", "UTC"))
    found: list[MaintenanceWindow] = []
    firsts: dict[str, Fields] = {}
    for entry in listed(top, "maintenance"):
        name = entry.get("name")
        first = firsts.setdefault(name, entry) if name is not None else entry
        if first is not entry:
            problems.error(
                entry.at("name"),
                f"duplicate name '{name}': the maintenance window at line {first.at('name').line} "
                "has it",
                "give each maintenance window its own name",
            )
        window = _window(entry, zone, problems, services)
        if window is not None and first is entry:
            found.append(window)
    return tuple(found)


def _window(
    entry: Fields, zone: ZoneInfo, problems: Problems, services: dict[str, Service],
) -> MaintenanceWindow | None:
    matched = _check_matchers(entry, problems)
    items: Items | None = entry.get("services")
    for spot, service in items.each() if items is not None else ():
        if service not in services:
            problems.warning(
                spot,
                f"no service '{service}' is defined under services",
                "check the spelling; the window still holds alerts whose service label is "
                f"{service}",
            )
    start, end = _instant(entry.get("start"), zone), _instant(entry.get("end"), zone)
    spanned = start is not None and end is not None and _check_span(entry, start, end, zone,
                                                                     problems)
    name = entry.get("name")
    if name is None or start is None or end is None or not matched or not spanned:
        return None
    return MaintenanceWindow(
        name=name, start=start, end=end,
        services=tuple(items.values) if items is not None else (),
        match=entry.get("match", {}), match_re=entry.get("match_re", {}),
        reason=entry.get("reason", ""), line=entry.spot.line,
    )


def _check_matchers(entry: Fields, problems: Problems) -> bool:
    written = [key for key in _MATCHERS if entry.written(key)]
    if not written:
        problems.error(
            entry.spot,
            "a maintenance window needs at least one matcher; one that held every alert "
            "would silence all paging",
            "add services: [payment], or match: {env: staging}, or match_re: {host: 'db-.*'}",
        )
        return False
    if all(entry.get(key) == {} for key in written):
        problems.error(
            entry.at(written[0]),
            "every matcher of this maintenance window is empty, so it would hold every alert",
            "name at least one label, such as match: {env: staging}",
        )
        return False
    return True


def _check_span(
    entry: Fields, start: datetime, end: datetime, zone: ZoneInfo, problems: Problems,
) -> bool:
    if end <= start:
        problems.error(
            entry.at("end"),
            f"end ({_shown(end, zone)}) is not after start ({_shown(start, zone)})",
            "make end later than start; both are in the config's timezone unless they carry "
            "an offset",
        )
        return False
    if end - start > MAX_MAINTENANCE:
        problems.error(
            entry.at("end"),
            f"the window lasts {(end - start).days} days; a maintenance window lasts at most "
            f"{MAX_MAINTENANCE.days}",
            "shorten it, or split it into several windows",
        )
        return False
    return True


def _instant(written: datetime | None, zone: ZoneInfo) -> datetime | None:
    if written is None or written.tzinfo is not None:
        return written
    return local_to_utc(written, zone)


def _shown(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).isoformat(timespec="minutes")
