"""Converters: each reads one node as the type its key expects.

A converter takes (reader, node, path) and answers the value, or None after
recording a problem. Values that are strings get ${NAME} variables replaced
(through `Reader.string`); numbers never do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

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


def number(minimum: float = 0, *, above: bool = False, whole: bool = False) -> Convert:
    """A number of at least `minimum` (or `above` it); `whole` for counts."""
    kind = "a whole number" if whole else "a number"
    bound = f"more than {minimum:g}" if above else f"{minimum:g} or more"

    def convert(reader: Reader, node: yaml.Node, path: str) -> int | float | None:
        value = _plain_number(reader, node, path, kind, whole)
        if value is None:
            return None
        if value < minimum or (above and value == minimum):
            reader.error(node, path, f"must be {bound}, got {value:g}", f"write {kind}, {bound}")
            return None
        return value

    return convert


def _plain_number(
    reader: Reader, node: yaml.Node, path: str, kind: str, whole: bool
) -> int | float | None:
    if is_quoted(node):
        reader.wrong_type(node, path, kind, f"remove the quotes: {node.value}")
        return None
    pattern = _WHOLE if whole else _NUMBER
    if not isinstance(node, yaml.ScalarNode) or not pattern.fullmatch(str(node.value)):
        fix = "write a number such as 5"
        if isinstance(node, yaml.ScalarNode) and "${" in str(node.value):
            fix = "write the number itself: variables are replaced only inside strings"
        reader.wrong_type(node, path, kind, fix)
        return None
    raw = str(node.value)
    return int(raw) if _WHOLE.fullmatch(raw) else float(raw)


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


def seq(item: Convert, *, non_empty: bool = False) -> Convert:
    def convert(reader: Reader, node: yaml.Node, path: str) -> Items | None:
        if not isinstance(node, yaml.SequenceNode):
            written = node.value if isinstance(node, yaml.ScalarNode) else "..."
            reader.wrong_type(node, path, "a list", f"write it as a list: [{written}]")
            return None
        if non_empty and not node.value:
            reader.error(node, path, "the list is empty", "list at least one item")
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
