"""An integration's `fields:`: which of Tocsin's fields it takes from where in the source.

    fields: {service: [labels.app, labels.service], runbook_url: annotations.runbook}

Each value is a path into the source's own JSON for one alert, or a list of
paths tried in order. A path is keys joined by dots; a key holding a dot is
written in double quotes (`labels."app.kubernetes.io/name"`) and a number
picks an item of a list (`links.0.href`). The roots each type sends are
listed here, so `tocsin check` can refuse a path no sender of that type
could ever fill. The defaults a path replaces are in `alerts.mapping`.
"""

from __future__ import annotations

import re
from typing import Literal

import yaml

from tocsin.config.model import FieldMap
from tocsin.config.schema import (
    Items,
    Problems,
    Reader,
    Spot,
    closest,
    is_null,
    join,
    line_of,
    or_list,
)

# The fields a config may map. The dedup key is left out on purpose: see _DEDUP_KEY.
MAPPABLE: tuple[str, ...] = (
    "title", "description", "severity", "service", "runbook_url", "source_url", "source",
)

# What sits at a root: a single value, a map of single values (one more key
# picks one), or anything (objects, lists, values at any depth).
RootKind = Literal["value", "map", "any"]

_ALERTMANAGER: dict[str, RootKind] = {
    # One alert of the webhook's `alerts` list...
    "status": "value", "labels": "map", "annotations": "map", "startsAt": "value",
    "endsAt": "value", "generatorURL": "value", "fingerprint": "value",
    # ...and the webhook around it, shared by every alert it carries.
    "commonLabels": "map", "commonAnnotations": "map", "groupLabels": "map",
    "externalURL": "value", "receiver": "value", "groupKey": "value",
}

SOURCE_ROOTS: dict[str, dict[str, RootKind]] = {
    "alertmanager": _ALERTMANAGER,
    "grafana": {
        **_ALERTMANAGER,
        "silenceURL": "value", "dashboardURL": "value", "panelURL": "value",
        "imageURL": "value", "values": "map", "valueString": "value",
        "orgId": "value", "title": "value", "state": "value", "message": "value",
    },
    # The event body; routing_key is left out: it is the integration's secret.
    "pagerduty": {
        "payload": "any", "dedup_key": "value", "links": "any", "images": "any",
        "client": "value", "client_url": "value",
    },
    "generic": {
        "summary": "value", "description": "value", "severity": "value", "service": "value",
        "source": "value", "dedup_key": "value", "runbook_url": "value",
        "timestamp": "value", "action": "value", "labels": "map", "details": "any",
        "links": "any",
    },
    # The create body (POST /v2/alerts).
    "opsgenie": {
        "message": "value", "alias": "value", "description": "value", "priority": "value",
        "entity": "value", "source": "value", "user": "value", "note": "value",
        "details": "map", "tags": "any", "responders": "any", "actions": "any",
        "visibleTo": "any",
    },
}

# Roots an Alertmanager or Grafana webhook holds once for all of its alerts.
GROUP_ROOTS = frozenset({
    "commonLabels", "commonAnnotations", "groupLabels", "externalURL", "receiver", "groupKey",
    "orgId", "title", "state", "message",
})

_KEY = re.compile(r'"([^"]+)"|([^."]+)')
_PATH_FIX = ('write keys joined by dots, such as labels.service or links.0.href; put a key '
             'that holds a dot in double quotes: labels."app.kubernetes.io/name"')
_DEDUP_KEY = (
    "dedup_key cannot be mapped: it is an alert's identity, so a key taken from another "
    "field would merge alerts that differ (one resolve closing them all) or part an alert "
    "from its own resolve",
    "remove it; Tocsin keeps the source's own key (Alertmanager's and Grafana's "
    "fingerprint, the dedup_key of PagerDuty and generic events, Opsgenie's alias)",
)


def split_path(text: str) -> tuple[str, ...] | None:
    """The keys of a dotted path, or None when it is not one."""
    keys: list[str] = []
    position = 0
    while True:
        found = _KEY.match(text, position)
        if found is None:
            return None
        keys.append(found.group(1) if found.group(1) is not None else found.group(2))
        position = found.end()
        if position == len(text):
            return tuple(keys)
        if text[position] != ".":
            return None
        position += 1


def read_field_map(reader: Reader, node: yaml.Node, path: str) -> dict[str, Items] | None:
    """The `fields:` mapping as written: Tocsin field -> its paths, each with its line.

    Which roots a path may start with depends on the integration's type,
    checked afterwards by `check_field_map`.
    """
    if not isinstance(node, yaml.MappingNode):
        reader.wrong_type(node, path, "a mapping",
                          "write field: path pairs, such as {service: labels.app}")
        return None
    found: dict[str, Items] = {}
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        name = reader.key(key_node, path, seen)
        if name is None:
            continue
        at = join(path, name)
        if name == "dedup_key":
            reader.error(key_node, at, *_DEDUP_KEY)
            continue
        if name not in MAPPABLE:
            match = closest(name, list(MAPPABLE))
            hint = f"did you mean '{match}'? " if match else ""
            reader.error(key_node, at, f"unknown field '{name}'",
                         f"{hint}map one of {or_list(list(MAPPABLE))}")
            continue
        paths = _paths(reader, value_node, at)
        if paths is not None:
            found[name] = paths
    return found


def _paths(reader: Reader, node: yaml.Node, path: str) -> Items | None:
    if is_null(node):
        reader.error(node, path, "missing value", _PATH_FIX)
        return None
    items = Items(Spot(line_of(node), path))
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            reader.error(node, path, "the list is empty",
                         "list at least one path, or remove the field to keep its default")
            return None
        for index, item in enumerate(node.value):
            _add_path(reader, item, f"{path}[{index}]", items)
    else:
        _add_path(reader, node, path, items)
    return items if items.values else None


def _add_path(reader: Reader, node: yaml.Node, path: str, items: Items) -> None:
    text = reader.string(node, path)
    if text is None:
        return
    if split_path(text) is None:
        reader.error(node, path, f"'{text}' is not a path", _PATH_FIX)
        return
    items.values.append(text)
    items.spots.append(Spot(line_of(node), path))


def check_field_map(
    written: dict[str, Items] | None, kind: str | None, problems: Problems,
) -> FieldMap:
    """The paths whose root the integration's type sends; the others are reported."""
    if not written or kind not in SOURCE_ROOTS:
        return ()
    roots = SOURCE_ROOTS[kind]
    mapped: list[tuple[str, tuple[str, ...]]] = []
    for name, items in written.items():
        good = [text for spot, text in items.each() if _fits(text, kind, roots, spot, problems)]
        if len(good) == len(items.values):
            mapped.append((name, tuple(good)))
    return tuple(mapped)


def _fits(text: str, kind: str, roots: dict[str, RootKind], spot: Spot,
          problems: Problems) -> bool:
    keys = split_path(text)
    assert keys is not None  # read_field_map kept only paths
    root, rest = keys[0], len(keys) - 1
    allowed = or_list(list(roots))
    if kind == "pagerduty" and root == "routing_key":
        problems.error(spot, "routing_key is the integration's secret key and is never "
                             "copied into an alert", f"start the path with one of {allowed}")
        return False
    if root not in roots:
        match = closest(root, list(roots))
        hint = f"did you mean '{match}'? " if match else ""
        problems.error(spot, f"'{text}' starts with '{root}', which {kind} integrations "
                             "never send", f"{hint}start the path with one of {allowed}")
        return False
    shape = roots[root]
    if shape == "value" and rest:
        problems.error(spot, f"'{root}' is a single value in {kind} alerts, so '{text}' "
                             "names nothing inside it", f"write just {root}")
        return False
    if shape == "map" and rest != 1:
        problems.error(spot, f"'{root}' is a map of values in {kind} alerts; a path names "
                             "one of them", f"write {root}.<name>")
        return False
    return True
