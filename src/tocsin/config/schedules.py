"""Schedules built from what the loader read: layers, restrictions, overrides.

A schedule is written either with its rotation keys at the top (one layer,
named "rotation") or with `layers`, each holding those keys. Overrides
belong to the schedule. Their times may be written without an offset, in
the schedule's own zone, so they are placed on the UTC line only here,
once the zone is known.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.config.convert import local_to_utc
from tocsin.config.model import (
    WEEKDAYS,
    Layer,
    Override,
    OverrideKind,
    Restriction,
    Schedule,
)
from tocsin.config.names import USER, Names, listed
from tocsin.config.schema import Fields, Items, Problems, Spot

# The keys a layer holds, which a single-layer schedule writes at its top.
ROTATION_KEYS = ("rotation", "start_day", "start_time", "start_date", "participants")
_TOP_LEVEL_KEYS = (*ROTATION_KEYS, "restrictions")
SINGLE_LAYER_NAME = "rotation"


def build_schedules(top: Fields, names: Names, problems: Problems) -> dict[str, Schedule]:
    schedules: dict[str, Schedule] = {}
    default_zone = top.get("timezone", "UTC")
    for entry in listed(top, "schedules"):
        schedule = _ScheduleBuilder(entry, names, problems).build(default_zone)
        if schedule is not None:
            schedules.setdefault(schedule.name, schedule)
    return schedules


class _ScheduleBuilder:
    def __init__(self, entry: Fields, names: Names, problems: Problems) -> None:
        self.entry = entry
        self.names = names
        self.problems = problems

    def build(self, default_zone: str) -> Schedule | None:
        """The schedule, or None once a problem has been recorded for it."""
        zone = self.entry.get("timezone", default_zone)
        built = [self._layer(fields, name) for fields, name in self._layer_entries()]
        layers = tuple(layer for layer in built if layer is not None)
        # Warn about a `replaces` nobody rotates in only when every layer is known.
        complete = bool(built) and len(layers) == len(built)
        in_rotation = {user for layer in layers for user in layer.participants}
        overrides = self._overrides(ZoneInfo(zone), in_rotation if complete else None)
        name = self.entry.get("name")
        team = self.names.ref(self.entry, "team", ("team",), "a schedule's team")
        if name is None or not complete or overrides is None:
            return None
        notice_days = self.entry.get("gap_notice_days", Schedule.gap_notice_days)
        return Schedule(name, zone, layers, overrides, team=team, gap_notice_days=notice_days,
                        line=self.entry.spot.line)

    def _layer_entries(self) -> list[tuple[Fields, str]]:
        """Each layer's fields with its name: the schedule itself when it has no layers."""
        if not self.entry.written("layers"):
            return [(self.entry, SINGLE_LAYER_NAME)]
        self._check_not_both()
        entries = [
            (layer, layer.get("name") or f"layer {position}")
            for position, layer in enumerate(listed(self.entry, "layers"), start=1)
        ]
        firsts: dict[str, Fields] = {}
        for layer, name in entries:
            first = firsts.setdefault(name, layer)
            if first is not layer:
                default = "" if layer.written("name") else " (its default name, by position)"
                self.problems.error(
                    layer.at("name") if layer.written("name") else layer.spot,
                    f"duplicate layer name '{name}'{default}: the layer at line "
                    f"{first.spot.line} has it",
                    "give each layer of the schedule its own name",
                )
        return entries

    def _check_not_both(self) -> None:
        written = [key for key in _TOP_LEVEL_KEYS if self.entry.written(key)]
        if not written:
            return
        # Read for its own problems too, though the both-error already refuses the file.
        _restrictions(self.entry, self.problems)
        first_line = min(self.entry.at(key).line for key in written)
        layers_line = self.entry.at("layers").line
        self.problems.error(
            self.entry.at("layers"),
            f"the schedule has both layers (line {layers_line}) and top-level rotation keys "
            f"({', '.join(written)}; line {first_line})",
            "use layers or top-level rotation keys, not both: move those keys into a layer",
        )

    def _layer(self, fields: Fields, name: str) -> Layer | None:
        participants = self._participants(fields)
        rotation, every = _rotation_kind(fields.get("rotation"))
        if rotation not in (None, "weekly", "weeks") and fields.written("start_day"):
            self.problems.warning(
                fields.at("start_day"),
                f"start_day has no effect on {_UNIT_WORDS[rotation]}",
                "remove start_day, or make the rotation weekly or {every: Nw}",
            )
        restrictions = _restrictions(fields, self.problems)
        if rotation == "hours" and restrictions:
            self.problems.error(
                fields.at("restrictions"),
                "restrictions cannot be combined with a rotation by hours, whose handoffs "
                "drift against the wall clock across daylight-saving changes",
                "use a daily rotation with restrictions, or one layer per window",
            )
            return None
        if rotation is None or not participants or restrictions is None:
            return None
        return Layer(
            rotation=rotation,
            participants=participants,
            start_time=fields.get("start_time", time(0, 0)),
            start_day=fields.get("start_day", "mon"),
            start_date=fields.get("start_date"),
            name=name,
            restrictions=restrictions,
            every=every,
        )

    def _participants(self, fields: Fields) -> tuple[str, ...]:
        """The layer's users in order; one listed twice is warned about, not refused."""
        found = self.names.users_at(fields.get("participants"), "a participant")
        user_ids = tuple(user_id for _, _, user_id in found)
        firsts: dict[str, Spot] = {}
        for spot, name, user_id in found:
            first = firsts.setdefault(user_id, spot)
            if first is spot:
                continue
            who = f"'{name}'" if name == user_id else f"'{name}' (user {user_id})"
            turns = user_ids.count(user_id)
            self.problems.warning(
                spot,
                f"{who} is already a participant of this rotation ({first.path}, line "
                f"{first.line}): listed {turns} times, they take {turns} of every "
                f"{len(user_ids)} turns instead of one, which changes the rotation order",
                "list each person once, unless the extra turns are meant",
            )
        return user_ids

    def _overrides(
        self, zone: ZoneInfo, in_rotation: set[str] | None
    ) -> tuple[Override, ...] | None:
        """Every override, or None when one of them could not be built."""
        items: Items | None = self.entry.get("overrides")
        if self.entry.written("overrides") and items is None:
            return None
        # Items that did not read are left out of `items` after an error, so
        # positions only shift in a file that is refused anyway.
        found = [
            self._override(item, index, zone, in_rotation)
            for index, item in enumerate(items.values if items is not None else ())
        ]
        overrides = tuple(override for override in found if override is not None)
        return overrides if len(overrides) == len(found) else None

    def _override(
        self, item: Fields, index: int, zone: ZoneInfo, in_rotation: set[str] | None
    ) -> Override | None:
        user = self.names.ref(item, "user", USER, "an override's user")
        # An unlisted address here pages nobody; _check_replaces warns if it is in no layer.
        replaces = self.names.ref(item, "replaces", USER, "the user an override replaces",
                                  unlisted=None)
        add: bool = item.get("add", False)
        combined = add and item.written("replaces")
        if combined:
            self.problems.error(
                item.at("add"),
                "add: true cannot be combined with replaces: an added user is on call "
                "beside whoever holds the shift, replacing nobody",
                "remove add to cover for the replaced user, or remove replaces to add the user",
            )
        self._check_replaces(item, user, replaces, in_rotation)
        start, end = _instant(item.get("start"), zone), _instant(item.get("end"), zone)
        backwards = start is not None and end is not None and end <= start
        if start is not None and end is not None and backwards:
            self.problems.error(
                item.at("end"),
                f"end ({_shown(end, zone)}) is not after start ({_shown(start, zone)})",
                "make end later than start; both are in the schedule's zone unless they "
                "carry an offset",
            )
        if user is None or start is None or end is None or combined or backwards:
            return None
        if item.written("replaces") and replaces is None:
            return None
        kind: OverrideKind = "replace" if replaces is not None else "add" if add else "whole"
        schedule = self.entry.get("name")
        return Override(user, start, end, kind, replaces, f"config:{schedule}:{index}")

    def _check_replaces(
        self, item: Fields, user: str | None, replaces: str | None, in_rotation: set[str] | None
    ) -> None:
        if replaces is None:
            return
        if replaces == user:
            self.problems.warning(
                item.at("replaces"),
                f"'{replaces}' replaces themselves, so this override changes nothing",
                "name the user who is covered for in replaces, and the cover in user",
            )
        elif in_rotation is not None and replaces not in in_rotation:
            self.problems.warning(
                item.at("replaces"),
                f"'{replaces}' is not a participant of any layer of this schedule, "
                "so this override never takes effect",
                "name a participant in replaces, or remove replaces to take the whole schedule",
            )


def _restrictions(fields: Fields, problems: Problems) -> tuple[Restriction, ...] | None:
    """The layer's windows, or None when one of them is unusable."""
    items: Items | None = fields.get("restrictions")
    if fields.written("restrictions") and items is None:
        return None
    windows: list[Restriction] = []
    for window in items.values if items is not None else ():
        start, end, days = window.get("from"), window.get("to"), window.get("days")
        if start is not None and start == end:
            problems.error(
                window.at("to"),
                f"from and to are both {start:%H:%M}, so the window is either empty or the "
                "whole day",
                "remove the restriction to be on call all day, or pick different times "
                '(to before from runs overnight: from: "22:00", to: "06:00")',
            )
            continue
        if start is None or end is None or (window.written("days") and days is None):
            continue
        # Week order, once each: the same windows however the days were listed.
        chosen = set(days.values) if days is not None else set()
        windows.append(Restriction(start, end, tuple(d for d in WEEKDAYS if d in chosen)))
    if items is not None and len(windows) < len(items.values):
        return None
    return tuple(windows)


def _instant(written: datetime | None, zone: ZoneInfo) -> datetime | None:
    """An override's time on the UTC line; a naive one is wall-clock time in `zone`."""
    if written is None or written.tzinfo is not None:
        return written
    return local_to_utc(written, zone)


def _shown(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).isoformat(timespec="minutes")


_UNIT_WORDS = {"daily": "a daily rotation", "hours": "a rotation by hours",
               "days": "a rotation by days"}


def _rotation_kind(value: str | tuple[str, int] | None) -> tuple[Any, int]:
    """`daily` or `weekly` as they are, `{every: N}` as its unit and N."""
    if isinstance(value, tuple):
        return value
    return value, 1
