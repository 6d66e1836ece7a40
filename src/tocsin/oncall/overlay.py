"""Interval maths for on-call pieces: cutting, overrides and joining.

Pure and clock-free like `rules`, which builds the pieces of each rotation
and calls in here to stack them. A piece is one user on call for [start,
end) from one source; several pieces may overlap (an "add" override puts
two people on call at once).

Overrides apply after the layers, in list order, each to the result of the
ones before it:

    whole    `user` is the only one on call for [start, end): everyone's
             pieces are cut there and one override piece is laid in.
    add      `user` is on call for [start, end) beside whoever is.
    replace  each piece of `replaces` inside [start, end) goes to `user`;
             where `replaces` is not on call nothing changes.

Every piece that comes out lies inside one piece that went in (or inside
the override that made it), so computing on the whole pieces that overlap a
range and keeping what still overlaps it gives whole answers whatever the
range asked about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tocsin.config.model import Override

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Piece:
    user: str
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, exclusive
    source: str  # the layer's name, or "override:<id>"
    layer: int | None = None  # position of the rotation layer; None for an override

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same time; touching ones merge."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covers(cover: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """Whether `cover` (sorted, disjoint, as `union` makes it) holds all of [start, end)."""
    return any(low <= start and end <= high for low, high in cover)


def subtract(piece: Piece, cover: Sequence[Interval]) -> list[Piece]:
    """What is left of `piece` outside `cover` (sorted, disjoint), in pieces."""
    left: list[Piece] = []
    cursor = piece.start
    for start, end in cover:
        if end <= cursor or start >= piece.end:
            continue
        if start > cursor:
            left.append(replace(piece, start=cursor, end=start))
        cursor = max(cursor, end)
    if cursor < piece.end:
        left.append(replace(piece, start=cursor))
    return left


def apply_overrides(
    pieces: list[Piece], overrides: Iterable[Override], start: datetime, end: datetime
) -> list[Piece]:
    """Apply `overrides` in order to `pieces`, the whole pieces overlapping
    [start, end). An override's own piece is added only where it overlaps the
    range; its cuts apply everywhere, since they shape pieces that do."""
    for override in overrides:
        if override.end <= override.start:
            continue
        source = f"override:{override.id}"
        own = Piece(override.user, override.start, override.end, source)
        if override.kind == "replace":
            pieces = [part for piece in pieces for part in _replace(piece, override, source)]
            continue
        if override.kind == "whole":
            cut = [(override.start, override.end)]
            pieces = [part for piece in pieces for part in subtract(piece, cut)]
        if own.overlaps(start, end):
            pieces.append(own)
    return pieces


def _replace(piece: Piece, override: Override, source: str) -> list[Piece]:
    if piece.user != override.replaces or not piece.overlaps(override.start, override.end):
        return [piece]
    middle = (max(piece.start, override.start), min(piece.end, override.end))
    covering = Piece(override.user, *middle, source)
    return sorted([*subtract(piece, [middle]), covering], key=lambda p: p.start)


def joins(first: Piece, second: Piece) -> bool:
    """Whether two pieces read as one shift: the same person and source,
    `first` ending where `second` starts, and either pieces of one override
    or a lower layer handing over to a higher one.

    Consecutive periods of one layer never join, even with the same person:
    a one-person rotation would otherwise be a single endless shift, and a
    "whole" shift would depend on the range asked about. For the same
    reason a higher layer handing back to a lower one (its window closes)
    never joins: with one person in both, restricted and unrestricted, the
    pieces would chain without end. So a joined shift holds at most one
    piece per layer. Pieces of one override that touch (it replaced
    someone across a handoff) do join; they lie inside the override.
    """
    if first.end != second.start or (first.user, first.source) != (second.user, second.source):
        return False
    if first.layer is None or second.layer is None:
        return first.layer is None and second.layer is None
    return first.layer < second.layer


def join(pieces: Iterable[Piece]) -> list[Piece]:
    """Join touching pieces per `joins`; sorted by start, then user."""
    joined: list[Piece] = []
    # With several people on call at once the piece to join need not be the
    # last one: look it up by where it ends, whose it is and where from.
    open_ends: dict[tuple[datetime, str, str], list[int]] = {}
    for piece in sorted(set(pieces), key=_order):
        candidates = open_ends.get((piece.start, piece.user, piece.source), [])
        for position, index in enumerate(candidates):
            if joins(joined[index], piece):
                joined[index] = replace(piece, start=joined[index].start)
                del candidates[position]
                break
        else:
            index = len(joined)
            joined.append(piece)
        open_ends.setdefault((piece.end, piece.user, piece.source), []).append(index)
    return sorted(joined, key=_order)


def _order(piece: Piece) -> tuple[datetime, str, datetime, str]:
    return (piece.start, piece.user, piece.end, piece.source)
