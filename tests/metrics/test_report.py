"""The report over stored rows, on both databases, against figures worked out by hand.

The window is March 2026 up to the 31st, 00:00 UTC: 30 days, 43,200 minutes.
Every row below carries the reason it counts (or does not) beside it; the
assertions repeat the arithmetic. Incidents INC-3 and INC-6 are reopened
through the real status change; INC-2 spans midnight and INC-3 the night New
York's clocks went forward (2026-03-08 07:00 UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tocsin.alerts.store import Alert, AlertEvent
from tocsin.config.loader import load_config
from tocsin.config.model import Config
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.incidents import changes
from tocsin.incidents.store import Incident, IncidentAlert, TimelineRow
from tocsin.metrics.service import Report, build_report
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.store import Delivery
from tocsin.postmortems.store import ActionItem, Postmortem
from tocsin.statuspage.store import ComponentChange

MIN = timedelta(minutes=1)
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
WINDOW_MINUTES = 30 * 24 * 60

CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, timezone: Asia/Bangkok}
  - {id: bob, name: Bob, timezone: America/New_York}
services:
  - {name: billing}
  - {name: payment}
  - {name: search}
components:
  - {name: Payments API, service: payment}
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [alice, bob]
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _alert(session: Session, number: int, triggered: str, *, step: int = 0,
           pass_number: int = 0, acks: tuple[str, ...] = (), resolved: str | None = None,
           by_source: bool = False, not_actionable: bool = False) -> Alert:
    alert = Alert(integration="prom", dedup_key=f"key-{number}", title=f"alert {number}",
                  status="resolved" if resolved else "triggered", triggered_at=at(triggered),
                  last_event_at=at(triggered), step=step, pass_number=pass_number,
                  resolved_at=at(resolved) if resolved else None,
                  resolved_by=("integration:prom" if by_source else "alice") if resolved
                  else None, not_actionable=not_actionable,
                  # As the alerts service keeps it: the first acknowledgement's time.
                  first_acknowledged_at=at(acks[0]) if acks else None)
    session.add(alert)
    session.flush()
    session.add(AlertEvent(alert_id=alert.id, at=at(triggered), kind="triggered"))
    for when in acks:
        session.add(AlertEvent(alert_id=alert.id, at=at(when), kind="acknowledged",
                               actor="alice"))
    return alert


def _alerts(session: Session) -> dict[str, Alert]:
    return {
        # Acknowledged 4 min after trigger; paged at step 1.
        "a1": _alert(session, 1, "2026-03-02 10:00", acks=("2026-03-02 10:04",),
                     resolved="2026-03-02 10:30"),
        # Went to step 2: escalated. First ack 10 min; the re-ack after an unack is ignored.
        "a2": _alert(session, 2, "2026-03-02 11:00", step=1,
                     acks=("2026-03-02 11:10", "2026-03-02 11:30")),
        # Resolved by its source, never acknowledged: transient.
        "a3": _alert(session, 3, "2026-03-03 09:00", resolved="2026-03-03 09:05",
                     by_source=True),
        # The same, but a responder marked it not actionable: counted there only.
        "a4": _alert(session, 4, "2026-03-03 09:30", resolved="2026-03-03 09:35",
                     by_source=True, not_actionable=True),
        # Never paged (held in maintenance), then resolved by its source: transient.
        "a5": _alert(session, 5, "2026-03-04 12:00", step=-1, resolved="2026-03-04 12:20",
                     by_source=True),
        # A resolve for an alert never seen: kept for audit, not an alert for the metrics.
        "a6": _alert(session, 6, "2026-03-05 00:00", step=-1, resolved="2026-03-05 00:00",
                     by_source=True),
        # Triggered before the window: not counted though acknowledged in it.
        "a7": _alert(session, 7, "2026-02-27 00:00", acks=("2026-03-01 00:10",)),
        # A second pass of its policy: escalated. Acknowledged after 30 min.
        "a8": _alert(session, 8, "2026-03-06 08:00", pass_number=1,
                     acks=("2026-03-06 08:30",)),
        # Linked to INC-5, acknowledged 4 min after trigger, 2 min after the declaration.
        "a10": _alert(session, 10, "2026-03-20 09:58", acks=("2026-03-20 10:02",)),
    }


def _incident(session: Session, title: str, severity: str, *, declared: str,
              impact: str | None = None, resolved: str | None = None,
              services: tuple[str, ...] = ("payment",), mitigated: str | None = None,
              target: float = 0) -> Incident:
    incident = Incident(
        title=title, severity=severity, status="resolved" if resolved else "investigating",
        declared_at=at(declared), declared_by="alice", impact_start=at(impact or declared),
        resolved_at=at(resolved) if resolved else None, services=list(services),
        mitigated_at=at(mitigated) if mitigated else None, target_mttr_minutes=target,
        commander="alice")
    session.add(incident)
    session.flush()
    return incident


def _entry(session: Session, incident: Incident, kind: str, actor: str, recorded: str,
           ) -> None:
    session.add(TimelineRow(incident_id=incident.id, kind=kind, text=kind, actor=actor,
                            occurred_at=at(recorded), recorded_at=at(recorded)))


def _reopen_and_resolve(session: Session, config: Config, incident: Incident,
                        times: tuple[str, ...]) -> None:
    """Resolve, reopen, resolve... at `times` through the real status change."""
    for number, when in enumerate(times):
        status = "resolved" if number % 2 == 0 else "investigating"
        changes.set_status(session, config=config, key=incident.key, status=status,
                           actor="bob", surface="cli", now=at(when), admin=True)


def _incidents(session: Session, config: Config, alerts: dict[str, Alert]) -> None:
    # INC-1: before the window; the earlier deployment incident INC-2 repeats.
    old = _incident(session, "Old deploy", "SEV1", declared="2026-01-20 10:00",
                    resolved="2026-01-20 11:00", target=30)
    # INC-2: impact moved 5 min before the declaration, resolved past midnight: 35 min.
    midnight = _incident(session, "Checkout 500s", "SEV1", declared="2026-03-10 23:50",
                         impact="2026-03-10 23:45", mitigated="2026-03-11 00:10",
                         resolved="2026-03-11 00:20", target=30)
    _entry(session, midnight, "note", "alice", "2026-03-10 23:53")  # response: 3 min
    # INC-3: 01:30 EST to 03:30 EDT on the wall clock, one real hour.
    dst = _incident(session, "Card auth slow", "SEV1", declared="2026-03-08 06:30",
                    resolved="2026-03-08 07:30", target=30)
    session.add(IncidentAlert(incident_id=dst.id, alert_id=alerts["a8"].id, reason="linked",
                              linked_at=at("2026-03-08 06:31"), linked_by="bob"))
    _entry(session, dst, "status", "tocsin", "2026-03-08 06:31")  # Tocsin itself: ignored
    _entry(session, dst, "status", "bob", "2026-03-08 06:35")  # response: 5 min
    # INC-4: resolved, then reopened: open, out of MTTR; search down to the window's end.
    reopened = _incident(session, "Search empty", "SEV2", declared="2026-03-15 10:00",
                         services=("search",), target=60)
    _reopen_and_resolve(session, config, reopened, ("2026-03-15 11:00", "2026-03-15 12:00"))
    # INC-5: 20 min, within its 30 min target; its linked alert a10 answered it.
    quick = _incident(session, "Payments blip", "SEV1", declared="2026-03-20 10:00",
                      resolved="2026-03-20 10:20", target=30)
    session.add(IncidentAlert(incident_id=quick.id, alert_id=alerts["a10"].id,
                              reason="page", linked_at=at("2026-03-20 10:00"),
                              linked_by="tocsin"))
    # INC-6: resolved at 10:00, reopened, resolved for good at 12:00: 3 h from impact.
    again = _incident(session, "Search slow", "SEV2", declared="2026-03-16 09:00",
                      mitigated="2026-03-16 10:00", services=("search",), target=60)
    _reopen_and_resolve(session, config, again,
                        ("2026-03-16 10:00", "2026-03-16 11:00", "2026-03-16 12:00"))
    _postmortems(session, old, midnight, dst, again)


def _postmortems(session: Session, old: Incident, midnight: Incident, dst: Incident,
                 again: Incident) -> None:
    made = at("2026-03-25 00:00")
    for incident, status, category in ((old, "published", "deployment"),
                                       (midnight, "published", "deployment"),
                                       (dst, "draft", None),
                                       (again, "in_review", "capacity")):
        session.add(Postmortem(incident_id=incident.id, status=status, title=incident.title,
                               root_cause_category=category, timeline=[], whys=[],
                               created_at=made, created_by="alice", updated_at=made,
                               updated_by="alice"))
    items = [  # (created, status, due)
        ("2026-03-12", "done", date(2026, 3, 14)),
        ("2026-03-12", "done", date(2026, 3, 20)),
        ("2026-03-17", "in_progress", date(2026, 3, 20)),  # overdue at the window's end
        ("2026-03-17", "planned", date(2026, 4, 10)),
        ("2026-02-01", "done", date(2026, 2, 5)),  # created before the window
    ]
    for number, (created, status, due) in enumerate(items):
        session.add(ActionItem(incident_id=midnight.id, title=f"item {number}", owner="bob",
                               due_date=due, priority="P1", status=status,
                               created_at=at(created), created_by="alice",
                               updated_at=at(created),
                               completed_at=at(created) + MIN if status == "done" else None))


def _pages(session: Session, alerts: dict[str, Alert]) -> None:
    sent = [
        # alice, Asia/Bangkok: 17:00:30 Mon, business; the SMS 90 s later is the same page.
        ("alice", "a1", "slack", "2026-03-02 10:00:30"),
        ("alice", "a1", "sms", "2026-03-02 10:02:00"),
        ("alice", "a2", "slack", "2026-03-02 11:00:30"),  # 18:00:30: off hours, awake
        ("alice", "a8", "slack", "2026-03-09 01:00:00"),  # 08:00:00 Mon: business, just
        # bob, America/New_York: 06:05 EST, asleep; 08:30 EST Friday, business.
        ("bob", "a2", "sms", "2026-03-02 11:05:00"),
        ("bob", "a8", "sms", "2026-03-06 13:30:00"),
        ("bob", "a7", "sms", "2026-02-27 00:01:00"),  # before the window
    ]
    for number, (user, alert, channel, when) in enumerate(sent):
        session.add(Delivery(alert_id=alerts[alert].id, user_id=user, channel=channel,
                             address="x", step=1, status="sent", due_at=at(when),
                             idempotency_key=f"page-{number}", created_at=at(when),
                             finished_at=at(when)))
    session.add(Delivery(alert_id=alerts["a3"].id, user_id="alice", channel="sms",
                         address="x", step=1, status="failed", due_at=at("2026-03-03 09:00"),
                         idempotency_key="failed-1", created_at=at("2026-03-03 09:00"),
                         finished_at=at("2026-03-03 09:01")))  # never reached her


def _surveys(session: Session) -> None:
    answers = [("alice", "2026-03-09", 4), ("alice", "2026-03-16", 2), ("bob", "2026-03-09", 5),
               ("bob", "2026-03-23", None),  # not answered
               ("bob", "2026-02-23", 1)]  # a shift that ended before the window
    for user, ended, score in answers:
        end = at(ended)
        session.add(ShiftSurvey(user_id=user, schedule="primary", shift_start=end - 7 * 1440 * MIN,
                                shift_end=end, due_at=end, sent_at=end, score=score,
                                answered_at=end + MIN if score else None))


def _status_history(session: Session) -> None:
    changes_ = [("2026-03-10 23:45", "major_outage"), ("2026-03-11 00:05", "operational"),
                ("2026-03-20 10:00", "partial_outage"),
                ("2026-03-20 10:10", "degraded_performance"),  # not an outage
                ("2026-03-20 10:20", "operational")]
    for when, status in changes_:
        session.add(ComponentChange(component="Payments API", status=status, at=at(when),
                                    recorded_at=at(when)))


@pytest.fixture
def report(db_url: str, tmp_path: Path) -> Iterator[Report]:
    path = tmp_path / "tocsin.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config, _warnings = load_config(str(path))
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        alerts = _alerts(session)
        _incidents(session, config, alerts)
        _pages(session, alerts)
        _surveys(session)
        _status_history(session)
    with sessions() as session:
        yield build_report(session, config=config, since=SINCE, until=UNTIL, now=UNTIL)
    engine.dispose()


def test_alert_figures(report: Report):
    alerts = report.alerts
    # a1 a2 a3 a4 a5 a8 a10; a6 was never seen, a7 came before the window.
    assert alerts.total == 7
    assert (alerts.paged, alerts.escalated) == (6, 2)  # a5 never paged; a2 and a8 escalated
    assert report.escalation_rate == pytest.approx(2 / 6)
    assert (alerts.transient, report.transient_rate) == (2, pytest.approx(2 / 7))  # a3, a5
    assert (alerts.not_actionable, report.not_actionable_rate) == (1, pytest.approx(1 / 7))
    # First acks: a1 4, a10 4, a2 10, a8 30 min: mean 48/4 = 12, median rank 2, p90 rank 4.
    assert alerts.acknowledged == 4
    assert (alerts.ack_mean, alerts.ack_median, alerts.ack_p90) == (12 * MIN, 4 * MIN,
                                                                    30 * MIN)


def test_mttr_counts_only_resolved_incidents_from_impact_start_to_final_resolve(
        report: Report):
    by_severity = {row.severity: row for row in report.mttr_by_severity}
    sev1, sev2 = by_severity["SEV1"], by_severity["SEV2"]
    # SEV1: INC-5 20 min, INC-2 35 min (across midnight), INC-3 60 min (across the DST
    # change, 2 h on New York's wall clock). Mean 115/3 min; median 35; p90 rank 3.
    assert (sev1.mttr.count, sev1.mttr.mean, sev1.mttr.median, sev1.mttr.p90) == (
        3, timedelta(minutes=115 / 3), 35 * MIN, 60 * MIN)
    assert (sev1.target, sev1.within_target) == (30 * MIN, 1)
    # SEV2: only INC-6, 09:00 to its final resolve at 12:00; reopened INC-4 is still open.
    assert (sev2.mttr.count, sev2.mttr.mean, sev2.within_target) == (1, 180 * MIN, 0)
    assert by_severity["SEV3"].mttr.count == 0
    # All four: 20, 35, 60, 180; mean 73.75 min; median rank 2; p90 rank 4.
    assert (report.mttr.mean, report.mttr.median, report.mttr.p90) == (
        timedelta(minutes=73.75), 35 * MIN, 180 * MIN)


def test_incident_counts_and_response_time(report: Report):
    assert report.incidents == 5  # INC-2..6; INC-1 was declared in January
    assert report.incidents_per_week == pytest.approx(5 / (30 / 7))
    assert report.by_severity == {"SEV1": 3, "SEV2": 2}
    assert [row.key for row in report.recent] == ["INC-5", "INC-6", "INC-4", "INC-2", "INC-3"]
    assert [row.duration for row in report.recent] == [20 * MIN, 180 * MIN, None, 35 * MIN,
                                                       60 * MIN]
    # INC-2 a note after 3 min; INC-3 bob's status after 5 min (a8's ack came before the
    # declaration and Tocsin's own entry is not a response); INC-5 a10's ack after 2 min;
    # INC-4 and INC-6 bob's first resolve, 60 min each. Sorted 2, 3, 5, 60, 60: mean
    # 130/5 = 26 min, median rank 3, p90 rank ceil(4.5) = 5.
    assert (report.response.count, report.response.mean, report.response.median,
            report.response.p90) == (5, 26 * MIN, 5 * MIN, 60 * MIN)


def test_uptime_from_components_or_from_outage_incidents(report: Report):
    services = {row.service: (row.uptime, row.basis) for row in report.services}
    # payment: its component was in outage 23:45-00:05 and 10:00-10:10 (degraded after).
    assert services["payment"] == (pytest.approx(1 - 30 / WINDOW_MINUTES), "components")
    # search: reopened SEV2 INC-4 (partial outage) open from 03-15 10:00 to the end:
    # 15 days 14 h = 22,440 min; INC-6 (09:00-10:00 on 03-16) lies inside it.
    assert services["search"] == (pytest.approx(1 - 22_440 / WINDOW_MINUTES), "incidents")
    assert services["billing"] == (1.0, "incidents")
    # SEV1 INC-3 (03-08 06:30-07:30) touched payment while its component stayed
    # operational: its uptime ignores it, and the report says so. INC-2 and INC-5 showed.
    assert {row.service: row.unreflected for row in report.services} == {
        "billing": 0, "payment": 1, "search": 0}
    # Some service down: search's 22,440 min plus payment's 20 min on 03-10/11 (payment's
    # 03-20 minutes fall inside search's outage).
    assert report.uptime == pytest.approx(1 - 22_460 / WINDOW_MINUTES)


def test_pages_per_person_in_their_own_hours_and_the_survey(report: Report):
    people = {person.user: person for person in report.people}
    alice, bob = people["alice"], people["bob"]
    assert (alice.pages.total, alice.pages.business, alice.pages.off, alice.pages.sleep) == (
        3, 2, 1, 0)
    assert (bob.pages.total, bob.pages.business, bob.pages.off, bob.pages.sleep) == (
        2, 1, 1, 1)
    assert (alice.survey_answers, alice.survey_mean) == (2, 3.0)
    assert (bob.survey_answers, bob.survey_mean) == (1, 5.0)
    assert (report.survey_answers, report.survey_mean) == (3, pytest.approx(11 / 3))


def test_postmortems_action_items_and_recurring_incidents(report: Report):
    # Required (SEV1 and SEV2 by default) for those resolved in the window: INC-2, 3, 5, 6.
    # Published: INC-2. Begun: INC-3 (draft) and INC-6 (in review). INC-5 has none.
    assert (report.postmortems_required, report.postmortems_published,
            report.postmortems_in_progress) == (4, 1, 2)
    assert (report.actions.total, report.actions.done, report.actions.overdue) == (4, 2, 1)
    assert [row.status for row in report.action_rows] == [
        "in_progress", "planned", "done", "done"]
    # INC-2 repeats INC-1: payment and "deployment", 49 days apart.
    assert (report.recurring, report.recurring_before) == (["INC-2"], 0)


def test_the_schedule_shows_who_is_on_call_now_and_next(report: Report):
    # Weekly from Monday 03-02: alice, bob, alice, bob, alice (03-30), bob (04-06).
    assert [(row.state, row.user, row.start, row.end) for row in report.schedule] == [
        ("active", "alice", at("2026-03-30 00:00"), at("2026-04-06 00:00")),
        ("upcoming", "bob", at("2026-04-06 00:00"), at("2026-04-13 00:00")),
    ]
