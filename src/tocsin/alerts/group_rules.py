"""Which group an alert belongs to, and how a group is described. Pure.

A route with `group_by` groups the alerts it takes: alerts that took the
same route (its path in the tree) with equal values of those labels, while
that group is open, are one group. A missing label counts as empty, so
alerts without it group together rather than one by one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache


def group_key(group_by: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
    """The values of the `group_by` labels, in that order; a missing label is ""."""
    return {name: str(labels.get(name, "")) for name in group_by}


def open_key(route: str, key: Mapping[str, str]) -> str:
    """A fixed-length name for (route, key values), unique among open groups.

    Label values may be long, so the stored name is a digest of them.
    """
    return _digest(route, tuple(sorted(key.items())))


@lru_cache(maxsize=4096)  # a storm's alerts share a few keys: each is worked out once
def _digest(route: str, items: tuple[tuple[str, str], ...]) -> str:
    text = json.dumps([route, items], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def describe_key(key: Mapping[str, str]) -> str:
    """`service=payment, alertname=DiskFull`, for timelines and pages."""
    if not key:
        return "(no labels)"
    return ", ".join(f"{name}={value or '(empty)'}" for name, value in key.items())


def describe_counts(alerts: int, firing: int) -> str:
    """`7 alerts, 5 firing`."""
    return f"{alerts} alert{'' if alerts == 1 else 's'}, {firing} firing"
