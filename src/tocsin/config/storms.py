"""The `storm:` key, at the top of the file and on a route.

    storm: {alerts_per_minute: 20}   # more new alerts a minute than this: a storm
    storm: off                       # never bundle this route's pages

A route without the key takes the route it sits in, else the top level;
the top level's default is `DEFAULT_STORM_PER_MINUTE`. What a storm does is
in docs/routing.md ("Storms").
"""

from __future__ import annotations

import yaml

from tocsin.config.convert import number
from tocsin.config.model import Route
from tocsin.config.schema import Fields, Key, Reader, Shape

# Past this a route never storms in practice: a typo, or `storm: off` meant.
MAX_STORM_PER_MINUTE = 100_000
OFF = "off"  # what the converter answers for `storm: off`

_FIX = "write storm: {alerts_per_minute: 20}, or storm: off to page every alert on its own"

_STORM: Shape = {
    "alerts_per_minute": Key(
        number(0, whole=True, maximum=MAX_STORM_PER_MINUTE),
        required=True,
        example="alerts_per_minute: 20",
    ),
}


def storm_setting(reader: Reader, node: yaml.Node, path: str) -> int | str | None:
    """`{alerts_per_minute: N}` as N, `off` as OFF; None after recording a problem."""
    if isinstance(node, yaml.MappingNode):
        fields = reader.shape(node, path, _STORM)
        found: int | None = None if fields is None else fields.get("alerts_per_minute")
        return found
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.value.isdigit():
        reader.error(node, path, f"a bare number ({node.value}) is not a storm setting",
                     f"write storm: {{alerts_per_minute: {node.value}}}")
        return None
    value = reader.string(node, path)
    if value is None:
        return None
    if value.strip().lower() == OFF:
        return OFF
    reader.error(node, path, f"bad value '{value}': must be a mapping or off", _FIX)
    return None


def storm_limit(entry: Fields, inherited: int | None) -> int | None:
    """The limit `entry` sets (None for off), or `inherited` when it sets none.

    A value written but invalid was reported already; `inherited` stands in.
    """
    value = entry.get("storm")
    if value is None:
        return inherited
    return None if value == OFF else int(value)


def parent_storm(parent: Route | None, top: int | None) -> int | None:
    return parent.storm if parent is not None else top
