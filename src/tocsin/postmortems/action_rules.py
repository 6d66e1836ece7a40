"""Action item maths: when an owner is reminded, what a team's digest lists, and
what a tracker's status means for an item. Plain values in and out.

Reminders fall at one local time of day (`remind_at`, 09:00 by default) in
the owner's own zone: `remind_before_days` before the due date, on the due
date, then every `remind_every_days_overdue` days after it until the item
is done. A reminder is planned one at a time: the next one after the last
planned. After downtime only the latest missed one is sent, late, never a
burst of stale ones.

A local time that a daylight-saving change skips is read with the offset
before the change (02:30 on a spring-forward night is sent at 03:30).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PLANNED, IN_PROGRESS, DONE = "planned", "in_progress", "done"
STATUSES = (PLANNED, IN_PROGRESS, DONE)
PRIORITIES = ("P0", "P1", "P2")
BEFORE, DUE, OVERDUE = "before", "due", "overdue"
MAX_TITLE = 500
# Due dates outside these are typos (a year 20260, a 1970 from a zero timestamp).
FIRST_DUE, LAST_DUE = date(2000, 1, 1), date(2100, 12, 31)
# A reminder planned this long ago still goes out as planned; an older one
# means the engine was down, and only the latest missed reminder is sent.
GRACE = timedelta(hours=1)
DIGEST_DONE_WINDOW = timedelta(days=7)
# A digest whose time passed longer ago than this (a long outage) waits for next week.
DIGEST_GRACE = timedelta(hours=12)
_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def unprintable(title: str) -> str | None:
    """What keeps `title` from being one line of text (a line break, a control
    character), in words; None when it is fine."""
    for char in title:
        if char in "\r\n" or unicodedata.category(char) in ("Zl", "Zp"):
            return "line break"
        if unicodedata.category(char) == "Cc":
            return f"control character U+{ord(char):04X}"
    return None


@dataclass(frozen=True)
class ReminderPlan:
    """How reminders are spaced (the config's `action_items:`)."""

    before_days: int = 2
    every_days_overdue: int = 2
    at: time = time(9, 0)


@dataclass(frozen=True)
class Reminder:
    kind: str  # before | due | overdue
    slot: datetime  # UTC: the planned reminder time
    due_at: datetime  # UTC: when to send it (the slot, or now when it is late)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`, in UTC."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def is_overdue(due: date | None, status: str, now: datetime, zone: ZoneInfo) -> bool:
    """Open and past its due date in the owner's zone (the due date itself is not overdue)."""
    return due is not None and status != DONE and local_today(now, zone) > due


def _slots_from(due: date, plan: ReminderPlan, zone: ZoneInfo,
                start: date) -> Iterable[tuple[str, datetime]]:
    """(kind, UTC slot) in time order, from the first on or after local date `start`."""
    if plan.before_days > 0 and due - timedelta(days=plan.before_days) >= start:
        yield BEFORE, local_instant(due - timedelta(days=plan.before_days), plan.at, zone)
    if due >= start:
        yield DUE, local_instant(due, plan.at, zone)
    step = plan.every_days_overdue
    if step <= 0:
        return
    # Jump straight to the overdue reminders near `start`: an item a year late
    # must not walk through every reminder before it.
    k = max(1, (start - due).days // step)
    while True:
        yield OVERDUE, local_instant(due + timedelta(days=k * step), plan.at, zone)
        k += 1


def reminder_slots(due: date, plan: ReminderPlan, zone: ZoneInfo,
                   after: datetime) -> Iterable[tuple[str, datetime]]:
    """Every reminder slot strictly after `after`, in order (endless when overdue repeats)."""
    # Two local days back covers every offset between UTC and the zone.
    start = after.astimezone(zone).date() - timedelta(days=2)
    for kind, slot in _slots_from(due, plan, zone, start):
        if slot > after:
            yield kind, slot


def is_slot(due: date, plan: ReminderPlan, zone: ZoneInfo, slot: datetime) -> str | None:
    """The kind of reminder `slot` is for an item due on `due`, or None if it is none."""
    for kind, found in reminder_slots(due, plan, zone, slot - timedelta(seconds=1)):
        return kind if found == slot else None
    return None


def next_reminder(due: date, plan: ReminderPlan, zone: ZoneInfo, *,
                  last: datetime | None, now: datetime) -> Reminder | None:
    """The reminder to plan after `last` (the latest planned one, if any), seen at `now`.

    Slots older than `GRACE` are missed ones: only the latest of them is
    sent, at once. None when no reminder is left (no overdue repeats).
    """
    after = last if last is not None else now - GRACE
    first = next(iter(reminder_slots(due, plan, zone, after)), None)
    if first is None:
        return None
    kind, slot = first
    if slot < now - GRACE:
        for later_kind, later in reminder_slots(due, plan, zone, slot):
            if later > now:
                break
            kind, slot = later_kind, later
    return Reminder(kind=kind, slot=slot, due_at=max(slot, now))


def reminder_text(kind: str, *, item_id: int, title: str, due: date, incident: str,
                  now: datetime, zone: ZoneInfo, url: str) -> str:
    today = local_today(now, zone)
    days = (due - today).days
    if kind == BEFORE or days > 0:
        when = "tomorrow" if days == 1 else f"in {days} days"
        head = f"Action item #{item_id} is due {when} ({due.isoformat()})"
    elif days == 0:
        head = f"Action item #{item_id} is due today"
    else:
        late = "1 day" if days == -1 else f"{-days} days"
        head = f"Action item #{item_id} is overdue by {late} (due {due.isoformat()})"
    return f"{head}: {title} [{incident}] {url}"


def digest_slot(now: datetime, zone: ZoneInfo, day: str, at: time) -> datetime:
    """The latest weekly digest time at or before `now` (UTC), `day` and `at` local."""
    local = now.astimezone(zone)
    back = (local.weekday() - _WEEKDAY_INDEX[day]) % 7
    slot = local_instant(local.date() - timedelta(days=back), at, zone)
    return slot if slot <= now else local_instant(
        local.date() - timedelta(days=back + 7), at, zone)


def far_status_value(done: bool, label: str) -> str:
    """What is stored as an item's tracker_status: done-ness, then the far side's word."""
    return f"{'done' if done else 'open'}/{label}"[:80]


def far_label(stored: str | None) -> str | None:
    """The far side's word, as shown to people."""
    if stored is None:
        return None
    return stored.split("/", 1)[1] if "/" in stored else stored


def far_is_done(stored: str | None) -> bool:
    return stored is not None and stored.startswith("done/")


def status_from_tracker(*, item_status: str, was_done: bool, now_done: bool) -> str | None:
    """The item's new status when its tracker status changed, or None to leave it.

    Closed far away closes the item; reopened far away reopens it (in
    progress) only when the far side had been closed: an item a person
    marked done here while its issue is still open stays done.
    """
    if now_done and not was_done and item_status != DONE:
        return DONE
    if was_done and not now_done and item_status == DONE:
        return IN_PROGRESS
    return None


@dataclass(frozen=True)
class DigestItem:
    id: int
    title: str
    owner: str
    due: date | None
    priority: str
    status: str
    completed_at: datetime | None
    incident: str  # INC-12


@dataclass(frozen=True)
class Digest:
    overdue: list[DigestItem]
    open: list[DigestItem]
    done: list[DigestItem]

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.open or self.done)


def team_digest(items: Iterable[DigestItem], members: Iterable[str], *, now: datetime,
                zone: ZoneInfo) -> Digest:
    """A team's week: open items of its members (overdue first), done in the last 7 days."""
    owners = set(members)
    mine = [item for item in items if item.owner in owners]
    overdue = [i for i in mine if is_overdue(i.due, i.status, now, zone)]
    still_open = [i for i in mine if i.status != DONE and i not in overdue]
    done = [i for i in mine if i.status == DONE and i.completed_at is not None
            and now - DIGEST_DONE_WINDOW <= i.completed_at <= now]
    return Digest(
        overdue=sorted(overdue, key=lambda i: (i.due or date.max, i.priority, i.id)),
        open=sorted(still_open, key=lambda i: (i.due or date.max, i.priority, i.id)),
        done=sorted(done, key=lambda i: (i.completed_at or now, i.id)),
    )


def digest_text(team: str, digest: Digest, *, url: str) -> str:
    lines = [f"Weekly action items for {team}: {len(digest.overdue)} overdue, "
             f"{len(digest.open)} open, {len(digest.done)} done in the last 7 days"]
    for heading, items in (("Overdue", digest.overdue), ("Open", digest.open),
                           ("Done", digest.done)):
        if items:
            lines.append(f"{heading}:")
            lines += [f"- #{i.id} [{i.priority}] {i.title} ({i.owner}, "
                      f"due {i.due.isoformat() if i.due else 'no date'}, {i.incident})"
                      for i in items]
    lines.append(url)
    return "\n".join(lines)
