"""When an alert key flaps, and when its next page may go: pure arithmetic on times.

A change of a key (its integration plus dedup key) is a new alert opened
for it after an earlier one resolved, a resolve, or a severity change. The
key is flapping while more than `changes` of them fall within the last
`minutes` by our clock. While it flaps, a new escalation of the key starts
no sooner than `minutes` after the key's last page: paging is delayed to
once a window, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tocsin.config.model import Flapping


def within(times: Sequence[datetime], *, now: datetime, minutes: float) -> list[datetime]:
    """The change times inside the window of `minutes` that ends at `now`, in order."""
    start = now - timedelta(minutes=minutes)
    return [at for at in times if at > start]


def kept(times: Sequence[datetime], *, now: datetime, setting: Flapping | None) -> list[datetime]:
    """What a key's record keeps: changes inside the window, at most one more than allowed.

    One past `changes` is all the verdict ever needs, so the record stays small
    however fast the key flips.
    """
    if setting is None:
        return []
    return within(times, now=now, minutes=setting.minutes)[-(setting.changes + 1):]


def count(times: Sequence[datetime], *, now: datetime, setting: Flapping | None) -> int:
    """How many changes the window ending at `now` holds; 0 with detection off."""
    if setting is None:
        return 0
    return len(within(times, now=now, minutes=setting.minutes))


def is_flapping(changes: int, setting: Flapping | None) -> bool:
    return setting is not None and changes > setting.changes


def first_page_at(*, now: datetime, last_page: datetime | None, minutes: float) -> datetime:
    """When a flapping key's new escalation starts: a window after its last page, or now."""
    if last_page is None:
        return now
    return max(now, last_page + timedelta(minutes=minutes))


def describe(changes: int, setting: Flapping) -> str:
    """The timeline's words for a key that flaps."""
    window = _minutes(setting.minutes)
    return (f"flapping: {changes} changes in {window}; pages at most once per "
            f"{window}")


def describe_end(changes: int, minutes: float | None) -> str:
    if minutes is None:
        return "no longer flapping: flapping detection is off for this alert's route"
    noun = "change" if changes == 1 else "changes"
    return f"no longer flapping: {changes} {noun} in the last {_minutes(minutes)}"


def _minutes(minutes: float) -> str:
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"
