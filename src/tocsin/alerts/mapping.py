"""Where each of an alert's fields comes from in the source's own JSON.

`DEFAULTS` is the whole mapping of every source type, as data: the parsers
read their fields through it, and docs/integrations.md prints it (a test
holds the two together). An integration's `fields:` replaces the paths of
the fields it names; the others keep their defaults. Paths are tried in
order and the first with a value wins:

- a string counts unless it is empty or only spaces;
- a number becomes its decimal text (2.0 is "2"), true and false "true"
  and "false";
- null, an object or a list counts as no value, so the next path is tried.

A plan is made once per integration (and cached), never per alert: a storm
of thousands of alerts in one webhook walks ready-made key tuples.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, NamedTuple

from tocsin.config.fields import GROUP_ROOTS, MAPPABLE, split_path
from tocsin.config.model import FieldMap, Integration

_ALERTMANAGER: dict[str, tuple[str, ...]] = {
    "title": ("annotations.summary", "labels.alertname"),
    "description": ("annotations.description",),
    "severity": ("labels.severity", "commonLabels.severity"),
    "service": ("labels.service",),
    "runbook_url": ("annotations.runbook_url", "annotations.runbook"),
    "source_url": ("generatorURL",),
    "source": ("labels.instance", "labels.job"),
}

# Type -> Tocsin field -> the source paths it is read from, in order.
DEFAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "alertmanager": _ALERTMANAGER,
    "grafana": {**_ALERTMANAGER, "source_url": ("generatorURL", "panelURL", "dashboardURL")},
    "pagerduty": {
        "title": ("payload.summary",),
        "description": (),
        "severity": ("payload.severity",),
        "service": (),
        "runbook_url": (),
        "source_url": ("links.0.href", "client_url"),
        "source": ("payload.source",),
    },
    "generic": {
        "title": ("summary",),
        "description": ("description",),
        "severity": ("severity",),
        "service": ("service",),
        "runbook_url": ("runbook_url",),
        "source_url": ("links.0.href",),
        "source": ("source",),
    },
    "opsgenie": {
        "title": ("message",),
        "description": ("description",),
        "severity": ("priority",),
        "service": ("details.service",),
        "runbook_url": ("details.runbook_url", "details.runbook"),
        "source_url": ("details.source_url", "details.url"),
        "source": ("source",),
    },
}

# One key of a path, and the list index it means when it is a number.
_Key = tuple[str, int | None]


class Found(NamedTuple):
    value: str
    path: str  # as written, for messages: "labels.service"
    group: bool  # read from the webhook around the alert (commonLabels, ...)


class _Path(NamedTuple):
    keys: tuple[_Key, ...]
    text: str
    group: bool


class FieldPlan:
    """The paths of every mappable field for one integration, split once."""

    def __init__(self, kind: str, fields: FieldMap = ()) -> None:
        chosen = {**DEFAULTS[kind], **dict(fields)}
        self.kind = kind
        grouped = kind in ("alertmanager", "grafana")
        self._fields = tuple(
            (name, tuple(_compile(text, grouped) for text in chosen[name])) for name in MAPPABLE)

    def pick(self, item: Any, group: Any = None) -> dict[str, Found]:
        """Each field with a value: from `item` (one alert), or `group` for its webhook."""
        # Runs for every alert of a storm: the walk is inlined, strings take the short way.
        found: dict[str, Found] = {}
        for name, paths in self._fields:
            for keys, text, from_group in paths:
                value = group if from_group else item
                for key, index in keys:
                    if isinstance(value, dict):
                        value = value.get(key)
                    elif index is not None and isinstance(value, list) and index < len(value):
                        value = value[index]
                    else:
                        value = None
                        break
                if value is None:
                    continue
                if not isinstance(value, str):
                    value = as_text(value)
                elif value.isspace() or not value:
                    value = None
                if value is not None:
                    found[name] = Found(value, text, from_group)
                    break
        return found


def _compile(text: str, grouped: bool) -> _Path:
    keys = split_path(text)
    if keys is None:
        raise ValueError(f"not a path: {text!r}")
    indexed = tuple((key, int(key) if key.isascii() and key.isdigit() else None) for key in keys)
    return _Path(indexed, text, grouped and keys[0] in GROUP_ROOTS)


def as_text(value: Any) -> str | None:
    """A value as an alert field's text, or None for no value (see the module's rules)."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return None


def default_plan(kind: str) -> FieldPlan:
    return _plan(kind, ())


def plan_for(integration: Integration) -> FieldPlan:
    """The plan of an integration; the same object for every webhook it sends."""
    return _plan(integration.type, integration.fields)


@lru_cache(maxsize=256)
def _plan(kind: str, fields: FieldMap) -> FieldPlan:
    return FieldPlan(kind, fields)
