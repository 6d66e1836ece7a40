"""Which maintenance windows hold an alert at an instant: pure matching.

A maintenance window (a silence is the same thing made ad hoc) is in force
over [start, end) and holds an alert when every matcher it has agrees: the
alert's service is one of `services` (when it lists any), every `match`
label is equal and every `match_re` label fully matches its expression.
The labels are the ones routes see (the alert's own plus its severity and
service), so a route and a window read an alert alike.

A window needs at least one matcher: one that would hold every alert is
refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tocsin.config.model import MAX_MAINTENANCE
from tocsin.config.patterns import full_match, pattern_problem

NO_MATCHER = (
    "a maintenance window needs at least one matcher: services, match or match_re; "
    "one that held every alert would silence all paging"
)
CONFIG_PREFIX = "config:"


@dataclass(frozen=True)
class Window:
    """One window, from the file or the database, as matching sees it."""

    key: str  # "config:<name>" for the file's windows, the row id for stored ones
    label: str  # how messages name it: the file's name, or "#<id>"
    start: datetime  # aware UTC
    end: datetime  # when it stops holding: its planned end, or when it was ended early
    services: tuple[str, ...] = ()
    match: dict[str, str] = field(default_factory=dict)
    match_re: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def config_key(name: str) -> str:
    return CONFIG_PREFIX + name


def in_force(window: Window, at: datetime) -> bool:
    return window.start <= at < window.end


def matches(window: Window, labels: Mapping[str, str]) -> bool:
    """Whether every matcher of `window` agrees with `labels`."""
    if window.services and labels.get("service") not in window.services:
        return False
    for name, wanted in window.match.items():
        if labels.get(name) != wanted:
            return False
    for name, pattern in window.match_re.items():
        have = labels.get(name)
        if have is None or not full_match(pattern, have):
            return False
    return has_matcher(window.services, window.match, window.match_re)


def holding(windows: Iterable[Window], labels: Mapping[str, str], at: datetime) -> Window | None:
    """The window that holds an alert with `labels` at `at`, or None.

    Of the windows in force that match, the one that ends last (the first
    listed on a tie): the alert then waits once, for the whole maintenance,
    instead of being released into the next window at each end.
    """
    found: Window | None = None
    for window in windows:
        later = found is None or window.end > found.end
        if later and in_force(window, at) and matches(window, labels):
            found = window
    return found


def has_matcher(
    services: Iterable[str], match: Mapping[str, str], match_re: Mapping[str, str],
) -> bool:
    return bool(tuple(services)) or bool(match) or bool(match_re)


def span_problem(start: datetime, end: datetime) -> str | None:
    """What is wrong with [start, end) as a window's span, or None."""
    if end <= start:
        return "must be after start"
    if end - start > MAX_MAINTENANCE:
        return "a maintenance window lasts at most 366 days; split it or shorten it"
    return None


def regex_problem(pattern: str) -> str | None:
    """Why RE2 cannot run `pattern` and the fix, in one sentence, or None."""
    found = pattern_problem(pattern)
    return None if found is None else f"{found[0]}; {found[1]}"


def unstorable(text: str) -> str | None:
    """Why no database can keep `text` (NUL, lone surrogates), or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        return "contains a lone UTF-16 surrogate; send valid UTF-8"
    return None


def describe_matchers(
    services: Iterable[str], match: Mapping[str, str], match_re: Mapping[str, str],
) -> str:
    """Matchers in words: `service in (payment), env=prod, alertname=~/Disk.*/`."""
    parts: list[str] = []
    listed = tuple(services)
    if listed:
        parts.append(f"service in ({', '.join(listed)})")
    parts += [f"{name}={wanted}" for name, wanted in match.items()]
    parts += [f"{name}=~/{pattern}/" for name, pattern in match_re.items()]
    return ", ".join(parts)
