"""Rows for the reliability dashboard's tests, placed from the Monday of a first week.

Four weeks from `monday` (00:00 UTC): what each row adds to the figures is
written beside it, and the tests repeat the arithmetic. Severities are the
default ones (SEV1 target 30 min and a post-mortem required, SEV2 1 h).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.alerts.store import Alert, AlertEvent
from tocsin.incidents.store import Incident
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.store import Delivery
from tocsin.postmortems.store import ActionItem, Postmortem

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SECRET_TITLE = "Secret merger outage"


def _incident(session: Session, title: str, severity: str, declared: datetime,
              repaired: timedelta | None, *, private: bool = False) -> Incident:
    incident = Incident(
        title=title, severity=severity, status="resolved" if repaired else "investigating",
        declared_at=declared, declared_by="alice", impact_start=declared,
        resolved_at=declared + repaired if repaired else None, services=["payment"],
        target_mttr_minutes={"SEV1": 30, "SEV2": 60}.get(severity, 240), commander="alice",
        private=private)
    session.add(incident)
    session.flush()
    return incident


def _alert(session: Session, number: int, triggered: datetime, *, step: int = 0,
           ack_after: timedelta | None = None, by_source: bool = False,
           not_actionable: bool = False) -> Alert:
    resolved = by_source or not_actionable
    alert = Alert(integration="prometheus", dedup_key=f"dash-{number}", title=f"alert {number}",
                  status="resolved" if resolved else "triggered", triggered_at=triggered,
                  last_event_at=triggered, step=step, pass_number=0,
                  resolved_at=triggered + 5 * MIN if resolved else None,
                  resolved_by="integration:prometheus" if resolved else None,
                  not_actionable=not_actionable)
    session.add(alert)
    session.flush()
    session.add(AlertEvent(alert_id=alert.id, at=triggered, kind="triggered"))
    if ack_after is not None:
        session.add(AlertEvent(alert_id=alert.id, at=triggered + ack_after,
                               kind="acknowledged", actor="alice"))
        alert.first_acknowledged_at = triggered + ack_after  # as the service keeps it
    return alert


def _page(session: Session, alert: Alert, user: str, when: datetime) -> None:
    session.add(Delivery(alert_id=alert.id, user_id=user, channel="webhook", address="x",
                         step=0, status="sent", due_at=when, created_at=when, finished_at=when,
                         idempotency_key=f"dash-page-{alert.id}-{user}"))


def seed(session: Session, monday: datetime) -> None:
    """Week 0 starts at `monday`; nothing is placed after week 3."""
    week = [monday + 7 * DAY * n for n in range(4)]
    # Incidents: 4 declared (SEV1 2, SEV2 1, SEV3 1); three resolved: 20 min, 60 min, 30 min.
    first = _incident(session, "Checkout down", "SEV1", week[0] + DAY + 10 * HOUR, 20 * MIN)
    _incident(session, SECRET_TITLE, "SEV1", week[1] + DAY + 9 * HOUR, 60 * MIN, private=True)
    _incident(session, "Slow search", "SEV2", week[1] + DAY + 12 * HOUR, 30 * MIN)
    _incident(session, "Flaky export", "SEV3", week[3] + 2 * DAY, None)
    # Alerts: 5, all paged; one escalated; acknowledged after 5 and 20 min (MTTA 12m 30s);
    # two resolved by their source (transient) and one marked not actionable.
    a1 = _alert(session, 1, week[0] + DAY + 9 * HOUR, ack_after=5 * MIN)
    a2 = _alert(session, 2, week[1] + DAY + 8 * HOUR, step=1, ack_after=20 * MIN)
    a3 = _alert(session, 3, week[1] + 2 * DAY + 3 * HOUR, by_source=True)
    a4 = _alert(session, 4, week[1] + 5 * DAY + 12 * HOUR, by_source=True)
    _alert(session, 5, week[2], not_actionable=True)
    # Pages (UTC people; business 08-18 Mon-Fri, sleep 22-08): alice business 1 (Tue 09:00),
    # off-awake 1 (Tue 20:00), sleep 1 (Wed 03:00); bob off-awake 1 (Saturday noon).
    _page(session, a1, "alice", week[0] + DAY + 9 * HOUR)
    _page(session, a2, "alice", week[1] + DAY + 20 * HOUR)
    _page(session, a3, "alice", week[1] + 2 * DAY + 3 * HOUR)
    _page(session, a4, "bob", week[1] + 5 * DAY + 12 * HOUR)
    # Post-mortems: the three resolved SEV1 and SEV2 need one; the first is published.
    made = week[0] + 2 * DAY
    session.add(Postmortem(incident_id=first.id, status="published", title="Checkout down",
                           timeline=[], whys=[], created_at=made, created_by="alice",
                           updated_at=made, updated_by="alice", published_at=made))
    # Action items: 3 made, 1 done.
    for number, status in enumerate(("done", "planned", "in_progress")):
        session.add(ActionItem(incident_id=first.id, title=f"item {number}", owner="bob",
                               due_date=date(2100, 1, 1), priority="P1", status=status,
                               created_at=made, created_by="alice", updated_at=made,
                               completed_at=made + HOUR if status == "done" else None))
    # Survey: scores 4 and 2, a mean of 3.0.
    for user, score in (("alice", 4), ("bob", 2)):
        end = week[1]
        session.add(ShiftSurvey(user_id=user, schedule="primary", shift_start=end - 7 * DAY,
                                shift_end=end, due_at=end, sent_at=end, score=score,
                                answered_at=end + MIN))
