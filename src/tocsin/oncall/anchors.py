"""Rotation anchors: an edit to a layer's participants takes effect from now.

Decided semantics: removing a participant never changes the current shift
unless it is that person's; then the next participant takes the rest of it.
The engine's recorder compares each layer's participants with the latest
anchor's list once a minute (see `history.record_with_anchors`). On a
change it stores an anchor at the start of the current rotation period,
naming who takes that period: the holder under the old definition if still
listed, else the next person after them in the old order who is. The
service then hands the maths the layer with `start_date = anchor_date` and
the new participants rotated so that person comes first, so the current
period is period 0 and is theirs (decision 0005, part 2).

Consequences worth knowing:
- If the current period has no on-call time under restrictions, it is
  skipped like any empty period, and the named person takes the next open
  one: an empty period uses nobody's turn.
- Reordering the list keeps the current holder; the turns after them
  follow the new order.
- Until the recorder sees a change (under a minute of engine time), the
  layer is computed from the file, as it was before anchors existed.
- Anchors follow only the participants. Other edits to a layer (its
  start_date, rotation or start_time) count from the latest anchor's date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.config.model import Layer, Schedule
from tocsin.oncall import anchor_store, rules
from tocsin.oncall.anchor_store import RotationAnchor


def rotated(participants: Sequence[str], first: str) -> tuple[str, ...]:
    """`participants` in the same cyclic order, starting from `first`."""
    at = list(participants).index(first)
    return (*participants[at:], *participants[:at])


def successor(old: Sequence[str], holder: str, new: Sequence[str]) -> str:
    """`holder` if in `new`, else the next in `old` (cyclically) who is in `new`.

    When nobody of the old list remains, the new list starts from its top.
    """
    start = list(old).index(holder) if holder in old else 0
    for step in range(len(old)):
        candidate = old[(start + step) % len(old)]
        if candidate in new:
            return candidate
    return new[0]


def _unique(schedule: Schedule) -> set[str]:
    """Layer names that name one layer: only those can carry an anchor."""
    counts = Counter(layer.name for layer in schedule.layers)
    return {name for name, count in counts.items() if count == 1}


def _anchored_layer(layer: Layer, anchor: RotationAnchor | None, timezone: str) -> Layer:
    if anchor is None or anchor.from_file or anchor.first_participant is None:
        return layer
    # An anchor is for the list it was made for; a list the engine has not
    # seen yet is computed from the file until the recorder anchors it.
    if tuple(anchor.participants) != layer.participants:
        return layer
    if anchor.first_participant not in layer.participants:
        return layer
    in_order = rotated(layer.participants, anchor.first_participant)
    if layer.rotation != "hours":
        return replace(layer, start_date=anchor.anchor_date, participants=in_order)
    # Periods by elapsed hours do not start on a date at start_time, so the
    # grid stays and the list turns until the period of the edit is theirs.
    turn = rules.period_index(layer, timezone, anchor.created_at)
    back = -max(turn, 0) % len(in_order)
    return replace(layer, participants=(*in_order[back:], *in_order[:back]))


def anchored(schedule: Schedule, anchors: Mapping[str, RotationAnchor]) -> Schedule:
    """`schedule` with each layer's anchor in force applied."""
    unique = _unique(schedule)
    layers = tuple(
        _anchored_layer(layer, anchors.get(layer.name), schedule.timezone)
        if layer.name in unique else layer
        for layer in schedule.layers
    )
    return replace(schedule, layers=layers)


def as_before(schedule: Schedule, anchors: Mapping[str, RotationAnchor]) -> Schedule:
    """`schedule` with each anchored layer's participants as its anchor saw them.

    This is the definition in force until the recorder sees an edit, so time
    up to that moment is recorded as it was computed before the edit.
    """
    unique = _unique(schedule)
    layers = tuple(
        replace(layer, participants=tuple(anchors[layer.name].participants))
        if layer.name in unique and layer.name in anchors else layer
        for layer in schedule.layers
    )
    return replace(schedule, layers=layers)


def update(
    session: Session, *, schedule: Schedule, anchors: Mapping[str, RotationAnchor],
    now: datetime,
) -> int:
    """Store an anchor for each layer whose participants changed; how many stored.

    `anchors` are the ones in force, read under the schedule's watermark
    lock, so two workers cannot both store an anchor for one change.
    """
    before = {layer.name: layer for layer in anchored(as_before(schedule, anchors), anchors).layers}
    unique = _unique(schedule)
    stored = 0
    for layer in schedule.layers:
        if layer.name not in unique:
            continue
        anchor = anchors.get(layer.name)
        if anchor is not None and tuple(anchor.participants) == layer.participants:
            continue
        made = _new_anchor(schedule, layer, before[layer.name] if anchor else None, now)
        anchor_store.add(session, made)
        stored += 1
    return stored


def _new_anchor(
    schedule: Schedule, layer: Layer, old: Layer | None, now: datetime,
) -> RotationAnchor:
    """The anchor for `layer`'s new participants; `old` is the definition before.

    Without an old definition (the layer's first sight) the anchor is the
    file's own definition, which leaves the computed rotation as it is.
    """
    anchor = RotationAnchor(schedule=schedule.name, layer=layer.name,
                            participants=list(layer.participants), created_at=now)
    if old is None or not layer.participants:
        return anchor
    # Periods depend on dates only, so an old list left empty still finds the
    # current period through the new one.
    probe = old if old.participants else replace(old, participants=layer.participants)
    period = rules.turn_at(probe, schedule.timezone, now)
    if period is None:  # before the layer's first period: nothing to carry over
        return anchor
    day, holder = period
    anchor.anchor_date = day
    anchor.first_participant = (
        successor(old.participants, holder, layer.participants)
        if old.participants else layer.participants[0])
    return anchor
