"""Marking an alert not actionable (a page nobody could or should act on), and back.

A responder's judgement, kept on the alert for the metrics (the share of
not-actionable pages is counted apart from transient ones). Any status may
be marked: the judgement usually comes after the resolve. Marking an alert
that is already so marked changes nothing and writes nothing; a change
writes an alert timeline row (kind "not_actionable" or "actionable") and an
audit row. Runs inside the caller's session and never commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin import audit
from tocsin.alerts.service import add_timeline, get_alert
from tocsin.alerts.store import Alert
from tocsin.logs import event

log = logging.getLogger(__name__)

NOT_ACTIONABLE, ACTIONABLE = "not_actionable", "actionable"


@dataclass(frozen=True)
class Marked:
    alert: Alert
    changed: bool


def mark(session: Session, *, alert_id: int, not_actionable: bool, actor: str, surface: str,
         now: datetime) -> Marked:
    """Set the alert's not-actionable mark; `changed` is False when it already held."""
    alert = get_alert(session, alert_id, lock=True)
    if alert.not_actionable == not_actionable:
        return Marked(alert, changed=False)
    alert.not_actionable = not_actionable
    kind = NOT_ACTIONABLE if not_actionable else ACTIONABLE
    audit.record(session, now=now, actor=actor, surface=surface, action=f"alert.{kind}",
                 object_type="alert", object_id=alert.id,
                 before={"not_actionable": not not_actionable},
                 after={"not_actionable": not_actionable})
    said = "Marked not actionable" if not_actionable else "Marked actionable again"
    add_timeline(session, alert, kind=kind, now=now, actor=actor, surface=surface,
                 message=f"{said} by {actor} via {surface}")
    event(log, f"alert.{kind}", alert_id=alert.id, actor=actor, surface=surface)
    return Marked(alert, changed=True)
