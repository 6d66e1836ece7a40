"""Release the alerts maintenance held, once no window holds them any more.

A hold is over when its window has ended (at its end, or ended early),
was removed from the file, or was shortened so that it no longer covers
now. The engine asks `over` each pass and releases each hold it names in a
transaction of its own.

Releasing locks the alert, then the hold, and checks the hold again, so
with several engines on PostgreSQL each hold is released exactly once:
whoever comes second finds it no longer held. An alert still triggered
starts paging at that moment: one held before it was routed is routed
now, as if it had just triggered; one whose escalation was paused runs the
step that was due. If another window holds it by then, that path holds it
again. An acknowledged or resolved alert pages nobody.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from tocsin.alerts import maintenance
from tocsin.alerts import maintenance_store as store
from tocsin.alerts.maintenance_rules import Window, in_force
from tocsin.alerts.service import add_timeline, get_alert, paging_fallback, route_alert
from tocsin.alerts.store import TRIGGERED
from tocsin.config.model import Config
from tocsin.escalation import store as timers
from tocsin.logs import event
from tocsin.oncall.rules import format_utc

log = logging.getLogger(__name__)

Outcome = Literal["released", "closed", "held", "gone"]


def _ends(session: Session, config: Config, holds: list[store.MaintenanceHold]
          ) -> dict[int, Window | None]:
    windows = maintenance.windows_by_key(session, config=config, keys={h.window for h in holds})
    return {hold.id: windows.get(hold.window) for hold in holds}


def over(session: Session, *, config: Config, now: datetime) -> list[int]:
    """Ids of the holds whose window no longer holds anything at `now`."""
    holds = store.held(session)
    if not holds:
        return []
    windows = _ends(session, config, holds)
    return [hold.id for hold in holds if not _holds(windows[hold.id], now)]


def next_due(session: Session, *, config: Config, now: datetime) -> datetime | None:
    """When the next hold is due for release; `now` for one that is due already."""
    holds = store.held(session)
    if not holds:
        return None
    windows = _ends(session, config, holds)
    return min(window.end if window is not None and in_force(window, now) else now
               for window in windows.values())


def _holds(window: Window | None, now: datetime) -> bool:
    return window is not None and in_force(window, now)


def release(session: Session, *, config: Config, hold_id: int, now: datetime) -> Outcome:
    """Release one hold if its window no longer holds it; see the module docstring."""
    found = session.get(store.MaintenanceHold, hold_id)
    if found is None or found.state != store.HELD:
        return "gone"
    alert = get_alert(session, found.alert_id, lock=True)  # the alert first, as everywhere
    hold = store.lock_hold(session, hold_id)
    if hold is None or hold.state != store.HELD:
        return "gone"
    window = maintenance.windows_by_key(session, config=config, keys=[hold.window]).get(
        hold.window)
    if _holds(window, now):
        return "held"  # a reload moved its end since the engine looked
    hold.finished_at = now
    if alert.status != TRIGGERED:
        hold.state = store.CLOSED
        event(log, "alert.release_skipped", alert_id=alert.id, maintenance=hold.window,
              status=alert.status)
        return "closed"
    hold.state = store.RELEASED
    ended = "was removed" if window is None else f"ended at {format_utc(window.end)}"
    add_timeline(session, alert, kind="released", now=now,
                 message=f"maintenance {hold.label} {ended}; paging starts",
                 data={"maintenance": hold.window})
    event(log, "alert.released", alert_id=alert.id, maintenance=hold.window,
          step=None if hold.step is None else hold.step + 1, policy=hold.policy)
    if hold.step is None:
        route_alert(session, config=config, alert=alert, now=now)
    else:
        timers.schedule(session, kind=timers.ESCALATE, alert_id=alert.id, due_at=now, now=now,
                        step=hold.step, pass_number=hold.pass_number, policy=hold.policy)
    return "released"


def give_up(session: Session, *, config: Config, hold_id: int, now: datetime) -> None:
    """After releasing raised: mark the hold failed and page the fallback contact,
    so an alert is never left silenced for good by an internal error."""
    found = session.get(store.MaintenanceHold, hold_id)
    if found is None:
        return
    alert = get_alert(session, found.alert_id, lock=True)
    hold = store.lock_hold(session, hold_id)
    if hold is None or hold.state != store.HELD:
        return
    hold.state, hold.finished_at = store.FAILED, now
    if alert.status == TRIGGERED:
        paging_fallback(session, config=config, alert=alert, now=now,
                        why=f"releasing the alert from maintenance {hold.label} failed with an "
                            "internal error")
