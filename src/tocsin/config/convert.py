"""Converters: each reads one node as the type its key expects.

A converter takes (reader, node, path) and answers the value, or None after
recording a problem. Values that are strings get ${NAME} variables replaced
(through `Reader.string`); numbers never do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import yaml

from tocsin.config.model import WEEKDAYS, Weekday
from tocsin.config.schema import (
    Convert,
    Fields,
    Items,
    Reader,
    Shape,
    Spot,
    closest,
    is_null,
    is_quoted,
    join,
    line_of,
    or_list,
)


def text(reader: Reader, node: yaml.Node, path: str) -> str | None:
    return reader.string(node, path)


def nonblank(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is not None and not value.strip():
        reader.error(node, path, "must not be empty", "write a value, or remove the key")
        return None
    return value


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_WHOLE = re.compile(r"[-+]?\d+")


def number(
    minimum: float = 0, *, above: bool = False, whole: bool = False,
    maximum: float | None = None,
) -> Convert:
    """A number of at least `minimum` (or `above` it), at most `maximum`; `whole` for counts."""
    kind = "a whole number" if whole else "a number"
    bound = f"more than {minimum:g}" if above else f"{minimum:g} or more"

    def convert(reader: Reader, node: yaml.Node, path: str) -> int | float | None:
        value = _plain_number(reader, node, path, kind, whole)
        if value is None:
            return None
        if value < minimum or (above and value == minimum):
            reader.error(node, path, f"must be {bound}, got {value:g}", f"write {kind}, {bound}")
            return None
        if maximum is not None and value > maximum:
            reader.error(node, path, f"must be at most {maximum:g}, got {value:g}",
                         f"write {kind} up to {maximum:g}")
            return None
        return value

    return convert


def _plain_number(
    reader: Reader, node: yaml.Node, path: str, kind: str, whole: bool
) -> int | float | None:
    pattern = _WHOLE if whole else _NUMBER
    if not isinstance(node, yaml.ScalarNode):
        reader.wrong_type(node, path, kind, "write a number such as 5")
        return None
    raw = str(node.value)
    if is_quoted(node) or not pattern.fullmatch(raw):
        reader.wrong_type(node, path, kind, _number_fix(raw, path, kind, pattern))
        return None
    return int(raw) if _WHOLE.fullmatch(raw) else float(raw)


# Seconds in each unit a duration may be written in by mistake ("1h", "90 s").
_SECONDS_IN = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400),
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_DURATION = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[a-z]+)+\s*")
# The unit a key counts in, from its name: timeout_minutes, timeout_seconds, flapping's minutes.
_KEY_UNIT = re.compile(r"(?:^|_)(minutes|seconds|days)$")


def _number_fix(raw: str, path: str, kind: str, pattern: re.Pattern[str]) -> str:
    """What to write instead of `raw`: never "remove the quotes" unless that would read."""
    text = raw.strip()
    if "${" in text:
        return "write the number itself: variables are replaced only inside strings"
    if pattern.fullmatch(text):
        return f"remove the quotes: {text}"
    key = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]
    unit = _KEY_UNIT.search(key)
    if unit is None:
        return "write a number such as 5"
    converted = _in_unit(text, unit.group(1))
    if converted is not None and pattern.fullmatch(f"{converted:g}"):
        return f"write {key}: {converted:g} ({text} as a plain number of {unit.group(1)})"
    return f"write {kind} of {unit.group(1)}, like 5"


def _in_unit(text: str, unit: str) -> float | None:
    """A duration such as 1h or 1h 30m counted in `unit`, or None when it is not one."""
    lowered = text.lower()
    if not _DURATION.fullmatch(lowered):
        return None
    seconds = 0.0
    for amount, word in _DURATION_PART.findall(lowered):
        if word not in _SECONDS_IN:
            return None
        seconds += float(amount) * _SECONDS_IN[word]
    return seconds / _SECONDS_IN[unit]


def boolean(reader: Reader, node: yaml.Node, path: str) -> bool | None:
    """true or false, any case. YAML 1.1's yes/no/on/off are refused: they read as words."""
    if is_quoted(node):
        unquoted = str(node.value).strip()
        fix = (f"remove the quotes: {unquoted}" if unquoted.lower() in ("true", "false")
               else "write true or false")
        reader.wrong_type(node, path, "true or false", fix)
        return None
    value = str(node.value).lower() if isinstance(node, yaml.ScalarNode) else None
    if value in ("true", "false"):
        return value == "true"
    reader.wrong_type(node, path, "true or false", "write true or false")
    return None


def choice(*allowed: str, not_built: Mapping[str, str] | None = None) -> Convert:
    """One of `allowed`, any case; `not_built` maps planned values to their feature."""
    planned = dict(not_built or {})

    def convert(reader: Reader, node: yaml.Node, path: str) -> str | None:
        value = reader.string(node, path)
        if value is None:
            return None
        if value.lower() in allowed:
            return value.lower()
        options = or_list(list(allowed))
        if value.lower() in planned:
            reader.error(
                node,
                path,
                f"'{value}' is recognised but not built yet in this release",
                f"use {options} (planned: {planned[value.lower()]})",
            )
            return None
        match = closest(value, list(allowed))
        hint = f"did you mean '{match}'? " if match else ""
        reader.error(node, path, f"bad value '{value}': must be {options}", f"{hint}use {options}")
        return None

    return convert


_TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def time_of_day(reader: Reader, node: yaml.Node, path: str) -> time | None:
    value = reader.string(node, path)
    if value is None:
        return None
    found = _TIME_OF_DAY.fullmatch(value)
    if found is None:
        reader.error(
            node,
            path,
            f"bad time of day '{value}': must be HH:MM from 00:00 to 23:59",
            'write it like "09:00"',
        )
        return None
    return time(int(found.group(1)), int(found.group(2)))


_TIME_RANGE = re.compile(r"(\S+?)\s*-\s*(\S+)")
_RANGE_FIX = 'write it like "08:00-18:00"; an end before the start runs past midnight'


def time_range(reader: Reader, node: yaml.Node, path: str) -> tuple[time, time] | None:
    """A daily window "HH:MM-HH:MM"; an end at or before the start runs past midnight."""
    value = reader.string(node, path)
    if value is None:
        return None
    found = _TIME_RANGE.fullmatch(value.strip())
    start = _clock(found.group(1)) if found else None
    end = _clock(found.group(2)) if found else None
    if start is None or end is None:
        reader.error(
            node, path, f"bad time range '{value}': must be HH:MM-HH:MM from 00:00 to 23:59",
            _RANGE_FIX,
        )
        return None
    if start == end:
        # Equal ends could mean nothing or all day; make the writer say which.
        reader.error(
            node, path, f"the range starts and ends at {start:%H:%M}, so it is empty or the "
            "whole day", 'pick different times, e.g. "08:00-18:00" or "22:00-08:00"',
        )
        return None
    return start, end


def _clock(text: str) -> time | None:
    found = _TIME_OF_DAY.fullmatch(text)
    return None if found is None else time(int(found.group(1)), int(found.group(2)))


def a_date(reader: Reader, node: yaml.Node, path: str) -> date | None:
    value = reader.string(node, path)
    if value is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    reader.error(node, path, f"bad date '{value}'", "write a real date as YYYY-MM-DD: 2026-01-05")
    return None


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS: dict[str, Weekday] = {
    **dict(zip(_WEEKDAY_NAMES, WEEKDAYS, strict=True)),
    **{day: day for day in WEEKDAYS},
}


def weekday(reader: Reader, node: yaml.Node, path: str) -> Weekday | None:
    value = reader.string(node, path)
    if value is None:
        return None
    day = _WEEKDAYS.get(value.lower())
    if day is None:
        reader.error(node, path, f"bad day '{value}'", "write a day such as monday or mon")
    return day


# A day on either side of the instant covers every UTC offset there is (-12:00 to +14:00).
_ANY_OFFSET = timedelta(days=1)
_TIME_FORMS = (
    "write ISO 8601: 2026-03-02T09:00 (the schedule's zone), 2026-03-02T09:00Z, "
    "2026-03-02T09:00+07:00, or a date alone for 00:00"
)


def a_time(reader: Reader, node: yaml.Node, path: str) -> datetime | None:
    """A TIME as written: aware when it has an offset or Z, naive when local.

    A local time can only be placed once the schedule's zone is known, so
    `local_to_utc` finishes the job when the schedule is built. YAML may
    give an unquoted 2026-03-02T09:00 as a plain scalar; we read its text.
    """
    value = reader.string(node, path)
    if value is None:
        return None
    try:
        # RFC 3339 allows a lower-case t and z, which fromisoformat refuses.
        parsed = datetime.fromisoformat(value.strip().upper())
        # Times at the calendar's very ends fail here, not when the schedule is built.
        _ = parsed - _ANY_OFFSET, parsed + _ANY_OFFSET
    except (ValueError, OverflowError):
        reader.error(node, path, f"bad time '{value}'", _TIME_FORMS)
        return None
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC)


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `zone`, by the design's rule.

    A time that occurs twice (fall back) is its first occurrence, which is
    what fold=0 gives. A time that never occurs (spring forward) moves to
    the end of the gap: the transition instant itself. zoneinfo would
    instead shift it by the gap's length (02:30 becomes 03:30), so a gap is
    detected by the round trip failing and its transition found by halving.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap, fold=0 reads the wall time with the offset from before the
    # transition and fold=1 with the one from after, which puts the
    # transition in (earlier, first]; `first` already has the new offset.
    earlier = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    new_offset = first.astimezone(zone).utcoffset()
    low, high = earlier, first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    # Zones change offset on whole seconds, and high is within a second after it.
    return high.replace(microsecond=0)


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(reader: Reader, node: yaml.Node, path: str) -> str | None:
    value = reader.string(node, path)
    if value is None or value in known_zones():
        return value
    example = closest(value, sorted(known_zones())) or "Asia/Bangkok"
    reader.error(node, path, f"unknown time zone '{value}'", f"use an IANA name such as {example}")
    return None


def seq(
    item: Convert, *, non_empty: bool = False, empty_fix: str = "list at least one item"
) -> Convert:
    def convert(reader: Reader, node: yaml.Node, path: str) -> Items | None:
        if not isinstance(node, yaml.SequenceNode):
            written = node.value if isinstance(node, yaml.ScalarNode) else "..."
            reader.wrong_type(node, path, "a list", f"write it as a list: [{written}]")
            return None
        if non_empty and not node.value:
            reader.error(node, path, "the list is empty", empty_fix)
            return None
        items = Items(Spot(line_of(node), path))
        for index, item_node in enumerate(node.value):
            item_path = f"{path}[{index}]"
            if is_null(item_node):
                reader.error(
                    item_node, item_path, "empty list item", "write a value or remove the -"
                )
                continue
            value = item(reader, item_node, item_path)
            if value is not None:
                items.values.append(value)
                items.spots.append(Spot(line_of(item_node), item_path))
        return items

    return convert


def shape(of: Shape) -> Convert:
    def convert(reader: Reader, node: yaml.Node, path: str) -> Fields | None:
        return reader.shape(node, path, of)

    return convert


def text_map(value: Convert = text) -> Convert:
    """A mapping of free-form keys (labels, say) to converted values."""

    def convert(reader: Reader, node: yaml.Node, path: str) -> dict[str, Any] | None:
        if not isinstance(node, yaml.MappingNode):
            reader.wrong_type(node, path, "a mapping", "write label: value pairs under it")
            return None
        found: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = reader.key(key_node, path, seen)
            if key is None:
                continue
            if is_null(value_node):
                reader.error(value_node, join(path, key), "missing value", f"write {key}: value")
                continue
            converted = value(reader, value_node, join(path, key))
            if converted is not None:
                found[key] = converted
        return found

    return convert
