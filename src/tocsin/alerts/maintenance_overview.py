"""Maintenance as a person reads it: windows in force, upcoming and recently over,
with how many open alerts each holds, and which window holds a given alert.

Windows from the file and stored ones are listed together, as `list_windows`
does; deleted windows are left out, as from every listing. Times stay
datetimes here, so each surface shows them in its reader's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from tocsin.alerts import maintenance
from tocsin.alerts import maintenance_store as store
from tocsin.alerts.maintenance_rules import Window, in_force
from tocsin.alerts.store import RESOLVED, Alert
from tocsin.config.model import Config, MaintenanceWindow

# How far back "recently ended" reaches.
RECENT = timedelta(days=7)


@dataclass(frozen=True)
class Listed:
    key: str  # a stored window's id, or config:<name>
    label: str  # "#12", or the file's name
    window: Window  # its end is when it stops holding (ended early, or as planned)
    planned_end: datetime
    status: str  # scheduled | in_force | ended | cancelled
    surface: str  # config, api, cli, ui, web
    created_by: str | None
    created_at: datetime | None
    ended_by: str | None
    ended_at: datetime | None
    line: int | None  # the file's line, for a window from the file
    holding: int  # open alerts it holds now

    @property
    def endable(self) -> bool:
        """Whether "end now" changes anything: a stored window not over yet."""
        return self.surface != "config" and self.status in ("scheduled", "in_force")


@dataclass
class Overview:
    in_force: list[Listed] = field(default_factory=list)
    upcoming: list[Listed] = field(default_factory=list)
    ended: list[Listed] = field(default_factory=list)  # most recent end first


def overview(session: Session, *, config: Config, now: datetime,
             recent: timedelta = RECENT) -> Overview:
    """Every window not deleted whose end is after `now - recent`, sorted into three lists."""
    since = now - recent
    counts = _holding_counts(session)
    found = [_from_config(w, now, counts) for w in config.maintenance if w.end > since]
    found += [_from_row(row, now, counts) for row in _recent_rows(session, since)]
    shown = Overview()
    for item in sorted(found, key=lambda i: (i.window.start, i.key)):
        if item.status == "in_force":
            shown.in_force.append(item)
        elif item.status == "scheduled":
            shown.upcoming.append(item)
        else:
            shown.ended.append(item)
    shown.ended.sort(key=lambda i: i.window.end, reverse=True)
    return shown


def listed_row(session: Session, *, window: int, now: datetime) -> Listed:
    """One stored window as the overview shows it; NotFound if there is none."""
    row = maintenance.get_window(session, window)
    return _from_row(row, now, _holding_counts(session, str(row.id)))


def _recent_rows(session: Session, since: datetime) -> list[store.StoredWindow]:
    query = select(store.StoredWindow).where(
        store.StoredWindow.deleted_at.is_(None), store.StoredWindow.end_at > since,
        or_(store.StoredWindow.ended_at.is_(None), store.StoredWindow.ended_at > since))
    return list(session.scalars(query.order_by(store.StoredWindow.start_at,
                                               store.StoredWindow.id)))


def _holding_counts(session: Session, only: str | None = None) -> dict[str, int]:
    """Open alerts held now, by window key (an alert counts once, however many of
    its escalation chains the window holds)."""
    hold = store.MaintenanceHold
    query = (select(hold.window, func.count(distinct(hold.alert_id)))
             .join(Alert, Alert.id == hold.alert_id)
             .where(hold.state == store.HELD, Alert.status != RESOLVED)
             .group_by(hold.window))
    if only is not None:
        query = query.where(hold.window == only)
    return {key: int(count) for key, count in session.execute(query)}


def _from_config(window: MaintenanceWindow, now: datetime, counts: dict[str, int]) -> Listed:
    seen = maintenance.from_config(window)
    return Listed(key=seen.key, label=window.name, window=seen, planned_end=window.end,
                  status=maintenance.status(seen, now), surface="config", created_by=None,
                  created_at=None, ended_by=None, ended_at=None, line=window.line,
                  holding=counts.get(seen.key, 0))


def _from_row(row: store.StoredWindow, now: datetime, counts: dict[str, int]) -> Listed:
    seen = maintenance.from_row(row)
    cancelled = row.ended_at is not None and row.ended_at <= row.start_at
    return Listed(key=seen.key, label=seen.label, window=seen, planned_end=row.end_at,
                  status=maintenance.status(seen, now, cancelled), surface=row.surface,
                  created_by=row.created_by, created_at=row.created_at, ended_by=row.ended_by,
                  ended_at=row.ended_at, line=None, holding=counts.get(seen.key, 0))


@dataclass(frozen=True)
class HeldBy:
    """The window keeping an open alert from paging, as it is now."""

    key: str
    label: str
    reason: str
    until: datetime  # when it stops holding; in the past when release is due
    over: bool  # the window no longer holds it: the engine's next pass releases it


def held_by(session: Session, *, config: Config, alert_id: int, now: datetime) -> HeldBy | None:
    """Which window holds the alert now, or None when none does.

    An alert whose escalation chains are held by different windows waits
    for the one that ends last; a window gone from the file counts as over.
    """
    holds = [h for h in store.holds_of(session, alert_id) if h.state == store.HELD]
    if not holds:
        return None
    windows = maintenance.windows_by_key(session, config=config, keys={h.window for h in holds})
    found = [_held(hold, windows.get(hold.window), now) for hold in holds]
    return max(found, key=lambda held: (not held.over, held.until))


def _held(hold: store.MaintenanceHold, window: Window | None, now: datetime) -> HeldBy:
    if window is None:  # removed from the file: released on the engine's next pass
        return HeldBy(hold.window, hold.label, "", hold.until, over=True)
    return HeldBy(window.key, window.label, window.reason, window.end,
                  over=not in_force(window, now))
