"""Telling status page subscribers of planned maintenance.

A maintenance window that shows on the page (a service it names is tied to
a public component) sends its subscribers a notice when it is scheduled
(while still ahead), when it starts and when it completes; once each,
whatever the number of passes, engines or restarts (`rules.maintenance_notice`
decides which is due).

Each (window, notice) has a number of its own, kept where a public update's
id goes in `status_fanout` (the mark that it was queued) and `status_notices`
(one row per subscriber): below zero, so it never meets an update's id. A
stored window's number comes from its id; a file window's from a checksum of
its name. The mark's primary key makes a second engine's fan-out of the same
notice fail instead of sending twice. Functions run in the caller's session
and never commit.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import maintenance
from tocsin.alerts import maintenance_store as windows_store
from tocsin.alerts.maintenance_rules import Window
from tocsin.config.model import Component, Config
from tocsin.logs import event
from tocsin.statuspage import rules
from tocsin.statuspage import subscribers_store as db

log = logging.getLogger(__name__)

# How long after its completion a window is still looked at: an engine down
# longer than this does not send the completed notice.
LOOKBACK = timedelta(days=7)
_STORED_LIMIT = 2**28  # stored window ids below this; file windows above
_FILE_SPAN = 2**28 - 1
_PHASES = len(rules.MAINTENANCE_NOTICES) + 1


@dataclass(frozen=True)
class Shown:
    """A window as its subscribers hear of it."""

    window: Window
    components: list[Component]  # public ones tied to its services, in the file's order
    announced_at: datetime  # when it was made (a file window: when first seen)

    @property
    def name(self) -> str:
        return rules.maintenance_name(c.name for c in self.components)

    @property
    def public_id(self) -> str:
        return rules.public_id("maintenance", self.window.key)


def notice_number(key: str, notice: str) -> int:
    """The number standing for `notice` of the window `key` (below zero)."""
    if key.isdigit() and int(key) < _STORED_LIMIT:
        base = int(key)
    else:
        base = _STORED_LIMIT + zlib.crc32(key.encode()) % _FILE_SPAN
    return -(base * _PHASES + rules.MAINTENANCE_NOTICES.index(notice) + 1)


def notice_of(number: int) -> str | None:
    """Which notice a number stands for; None for a public update's id."""
    if number >= 0:
        return None
    return rules.MAINTENANCE_NOTICES[(-number - 1) % _PHASES]


def shown_windows(session: Session, *, config: Config, now: datetime) -> list[Shown]:
    """Windows on the public page, not deleted nor cancelled, ended within `LOOKBACK`."""
    since = now - LOOKBACK - verifying(config)
    public = [c for c in config.components if c.public and c.service is not None]
    if not public:
        return []  # no window can show on the page: no read
    found = [Shown(maintenance.from_config(w), [], now) for w in config.maintenance
             if w.end > since]
    stored = windows_store.StoredWindow
    rows = session.scalars(select(stored).where(
        stored.deleted_at.is_(None), stored.end_at > since,
        (stored.ended_at.is_(None)) | (stored.ended_at > stored.start_at))
        .order_by(stored.start_at, stored.id))
    found += [Shown(maintenance.from_row(row), [], row.created_at) for row in rows]
    shown: list[Shown] = []
    for item in found:
        touched = [c for c in public if c.service in item.window.services]
        if touched and item.window.end > since:
            shown.append(Shown(item.window, touched, item.announced_at))
    return shown


def verifying(config: Config) -> timedelta:
    return timedelta(minutes=config.status_page.verifying_minutes)


def _told(session: Session, shown: list[Shown]) -> dict[str, set[str]]:
    numbers = {notice_number(item.window.key, notice): (item.window.key, notice)
               for item in shown for notice in rules.MAINTENANCE_NOTICES}
    if not numbers:
        return {}
    marked = session.scalars(select(db.StatusFanout.update_id).where(
        db.StatusFanout.update_id.in_(list(numbers))))
    told: dict[str, set[str]] = {}
    for number in marked:
        key, notice = numbers[number]
        told.setdefault(key, set()).add(notice)
    return told


def _owed(item: Shown, told: set[str], now: datetime, config: Config
          ) -> tuple[str, datetime] | None:
    return rules.maintenance_notice(start=item.window.start, end=item.window.end,
                                    announced_at=item.announced_at, now=now, told=told,
                                    verifying=verifying(config))


def fan_out(session: Session, *, config: Config, now: datetime) -> int:
    """Queue each notice owed now for every matching subscriber; how many windows."""
    shown = shown_windows(session, config=config, now=now)
    told = _told(session, shown)
    owed = [(item, found[0]) for item in shown
            if (found := _owed(item, told.get(item.window.key, set()), now, config))]
    if not owed:
        return 0
    active = list(session.scalars(select(db.StatusSubscriber).where(
        db.StatusSubscriber.confirmed_at.is_not(None),
        db.StatusSubscriber.unsubscribed_at.is_(None))))
    for item, notice in owed:
        number = notice_number(item.window.key, notice)
        names = {c.name for c in item.components}
        queued = 0
        for subscriber in active:
            if subscriber.components and not names & set(subscriber.components):
                continue
            session.add(db.StatusNotice(subscriber_id=subscriber.id, kind=db.MAINTENANCE,
                                        update_id=number, state=db.PENDING, attempts=0,
                                        due_at=now, created_at=now))
            queued += 1
        session.add(db.StatusFanout(update_id=number, at=now))
        event(log, "status_maintenance.fanned_out", window=item.window.key, notice=notice,
              notices=queued)
    session.flush()
    return len(owed)


def next_due(session: Session, *, config: Config, now: datetime) -> datetime | None:
    """When the next maintenance notice is due: in the past when one is owed now."""
    shown = shown_windows(session, config=config, now=now)
    told = _told(session, shown)
    times: list[datetime] = []
    for item in shown:
        owed = _owed(item, told.get(item.window.key, set()), now, config)
        if owed is not None:
            times.append(owed[1])
            continue
        change = rules.next_maintenance_change(item.window.start, item.window.end, now,
                                               verifying(config))
        if change is not None:
            times.append(change)
    return min(times, default=None)


def find(session: Session, *, config: Config, number: int, now: datetime) -> Shown | None:
    """The window a notice's number stands for, as it is now; None when it is gone."""
    notice = notice_of(number)
    if notice is None:
        return None
    for item in shown_windows(session, config=config, now=now):
        if notice_number(item.window.key, notice) == number:
            return item
    return None
