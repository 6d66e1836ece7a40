"""The report: the seed's five dashboards computed from stored rows.

`build_report` runs inside a session the caller passes and only reads, but for
the per-day rollups it makes (and commits) the first time a window needs them
(`metrics.rollups`). The SQL lives in `metrics.queries`, the maths in `metrics.rules`; this
module joins them with the configuration (severities and their targets,
people's zones, working hours, services and their components).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tocsin.config.model import Config
from tocsin.errors import FieldProblem, InvalidInput
from tocsin.incidents import records
from tocsin.incidents.store import RESOLVED, Incident
from tocsin.logs import event
from tocsin.metrics import queries, rollups, rules
from tocsin.metrics.rules import Interruptions, Spread
from tocsin.oncall import service as oncall_service
from tocsin.oncall.rules import parse_time
from tocsin.postmortems.store import PUBLISHED

log = logging.getLogger(__name__)

RECENT_INCIDENTS = 10
ACTION_ROWS = 20
SCHEDULE_AHEAD = timedelta(days=28)
UNKNOWN_CAUSE = "unknown"
DEFAULT_WINDOW = timedelta(days=30)
# A report over more than a year is a different question (and a slow one).
MAX_WINDOW = timedelta(days=366)


# The report looks back its own length and the recurrence window before `since`, so
# the earliest `since` leaves room for both above the calendar's first day.
EARLIEST = (datetime.min.replace(tzinfo=UTC) + MAX_WINDOW + rules.RECURRENCE_WINDOW
            + timedelta(days=2))
FORMS = ("use ISO 8601: 2026-03-08T09:00:00Z, 2026-03-08T09:00+07:00, 2026-03-08T09:00 "
         "(in the file's zone) or 2026-03-08 (00:00 in the file's zone)")


def window(since: str | None, until: str | None, *, zone: ZoneInfo, now: datetime,
           ) -> tuple[datetime, datetime]:
    """The report's [since, until) from the caller's text: until defaults to now, since
    to 30 days before until. Times without an offset are in `zone`. An until after now
    is cut to now: nothing that has not happened yet is measured."""
    problems: list[FieldProblem] = []
    parsed: dict[str, datetime] = {}
    for name, text in (("since", since), ("until", until)):
        if text is None:
            continue
        try:
            parsed[name] = parse_time(text, zone)
        except ValueError:
            problems.append(FieldProblem(name, f"not a time: {text!r}; {FORMS}"))
            continue
        except OverflowError:  # before the first instant in UTC
            parsed[name] = EARLIEST - timedelta(days=1)
        if parsed[name] < EARLIEST:
            problems.append(FieldProblem(name, f"must be on or after {day(EARLIEST)}; "
                                         f"give a later {name}"))
    if problems:
        raise InvalidInput("the report's window is invalid", problems)
    end = min(parsed.get("until", now), now)
    start = parsed.get("since", end - DEFAULT_WINDOW)
    if start >= now:
        raise InvalidInput("the report's window is invalid", [FieldProblem(
            "since", f"is not in the past (now is {day(now)} {now:%H:%M} UTC); "
                     "give an earlier since")])
    if end <= start:
        raise InvalidInput("the report's window is invalid", [FieldProblem(
            "until", "must be after since; give a later until or an earlier since")])
    if end - start > MAX_WINDOW:
        raise InvalidInput("the report's window is too long", [FieldProblem(
            "since", f"a report covers at most {MAX_WINDOW.days} days; give a later since")])
    return start, end


def day(when: datetime) -> str:
    """The UTC date as YYYY-MM-DD, four-digit year even before the year 1000."""
    return when.astimezone(UTC).date().isoformat()


@dataclass(frozen=True)
class RecentIncident:
    key: str
    title: str
    severity: str
    status: str
    commander: str | None
    declared_at: datetime
    duration: timedelta | None  # impact start to resolve; None while open
    users_affected: int | None
    root_cause: str | None


@dataclass(frozen=True)
class ShiftRow:
    schedule: str
    user: str
    name: str
    start: datetime
    end: datetime
    state: str  # "active" or "upcoming"
    pages: int  # alerts that paged this person during the shift, within the window


@dataclass(frozen=True)
class SeverityMttr:
    severity: str
    target: timedelta | None
    mttr: Spread
    within_target: int


@dataclass(frozen=True)
class PersonLoad:
    user: str
    name: str
    timezone: str
    pages: Interruptions
    survey_answers: int
    survey_mean: float | None


@dataclass(frozen=True)
class ServiceUptime:
    service: str
    uptime: float | None  # None: nothing recorded for it before the window's end
    basis: str  # "components" or "incidents"
    # Outage incidents of the service in the window its status page never showed
    # (components basis only: they do not lower its uptime).
    unreflected: int = 0


@dataclass(frozen=True)
class ActionRow:
    id: int
    incident: str
    title: str
    owner: str
    due: date | None
    priority: str
    status: str


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    incidents: int  # declared in the window
    incidents_per_week: float
    by_severity: dict[str, int]
    recent: list[RecentIncident]
    schedule: list[ShiftRow]
    alerts: queries.AlertFigures
    escalation_rate: float | None  # of alerts that paged
    transient_rate: float | None  # of alerts
    not_actionable_rate: float | None  # of alerts
    response: Spread  # incident declared to first response
    mttr: Spread  # every severity together
    mttr_by_severity: list[SeverityMttr]
    people: list[PersonLoad]
    survey_answers: int
    survey_mean: float | None
    uptime: float | None  # the share of the window no service was in outage
    services: list[ServiceUptime]
    postmortems_required: int
    postmortems_published: int
    postmortems_in_progress: int  # required, begun, not published
    actions: queries.ActionFigures
    action_rows: list[ActionRow]
    recurring: list[str]  # incident keys the viewer may see
    recurring_count: int  # every recurring incident, private ones too
    recurring_before: int  # in the window of the same length just before


def settings_from(config: Config) -> rules.Settings:
    """The metrics settings a file gives: its outage severities (`metrics:`), and its
    post-mortem root-cause categories for recurring incidents, less "unknown" (not
    knowing the cause of two incidents does not make them the same cause)."""
    categories = tuple(c for c in config.postmortems.root_cause_categories
                       if c.casefold() != UNKNOWN_CAUSE)
    return rules.Settings(outage_severities=dict(config.metrics.outage_severities),
                          recurring_categories=categories)


def build_report(
    session: Session, *, config: Config, since: datetime, until: datetime, now: datetime,
    settings: rules.Settings | None = None, viewer: str | None = None, admin: bool = True,
    use_rollups: bool = True,
) -> Report:
    """Every figure of `tocsin report` for [since, until); `now` places the schedule.

    Private incidents count in every figure, but the lists (recent incidents, action
    items, recurring incidents) name them only to their members and admins (`viewer`
    is the reader's user id; `admin` sees everything). `use_rollups=False` reads every
    alert and page of the window instead of the days' rollups (the same figures)."""
    if until <= since:
        raise ValueError("the report's window must end after it starts")
    chosen = settings or settings_from(config)
    overlapping = queries.incidents_overlapping(session, since, until)
    declared = [row for row in overlapping if since <= row.declared_at < until]
    resolved = [row for row in overlapping if row.status == RESOLVED
                and row.resolved_at is not None and since <= row.resolved_at < until]
    if use_rollups:
        alerts = rollups.alert_figures(session, since, until, now=now)
        pages = rollups.first_pages(session, since, until, now=now)
    else:
        alerts = queries.alert_figures(session, since, until)
        pages = queries.first_pages(session, since, until)
    responses = queries.first_responses(session, since, until)
    surveys = queries.survey_figures(session, since, until)
    states = queries.postmortem_states(session, [row.id for row in resolved])
    required = {row.id for row in resolved if _requires_postmortem(config, row.severity)}
    recurring, before = _recurring(session, chosen, since, until)
    services = _uptimes(session, config, chosen, overlapping, since, until)
    hidden = _hidden(session, [r.id for r in declared if r.private] + recurring,
                     viewer=viewer, admin=admin)
    shown = [row for row in declared if row.id not in hidden]
    report = Report(
        since=since, until=until, incidents=len(declared),
        incidents_per_week=rules.per_week(len(declared), since, until),
        by_severity=dict(sorted(Counter(row.severity for row in declared).items())),
        recent=[_recent(row) for row in
                sorted(shown, key=lambda r: (r.declared_at, r.id), reverse=True)
                [:RECENT_INCIDENTS]],
        schedule=_schedule(session, config, pages, since, until, now),
        alerts=alerts,
        escalation_rate=rules.rate(alerts.escalated, alerts.paged),
        transient_rate=rules.rate(alerts.transient, alerts.total),
        not_actionable_rate=rules.rate(alerts.not_actionable, alerts.total),
        response=rules.spread(responses[row.id] - row.declared_at for row in declared
                              if row.id in responses),
        mttr=rules.spread(_repair_time(row) for row in resolved),
        mttr_by_severity=_mttr_by_severity(config, resolved),
        people=_people(config, pages, surveys, since, until),
        survey_answers=surveys.answered, survey_mean=surveys.mean,
        uptime=services[0], services=services[1],
        postmortems_required=len(required),
        postmortems_published=sum(1 for i in required if states.get(i) == PUBLISHED),
        postmortems_in_progress=sum(1 for i in required if i in states and states[i] != PUBLISHED),
        actions=queries.action_figures(session, since, until),
        action_rows=[ActionRow(item.id, f"INC-{item.incident_id}", item.title, item.owner,
                               item.due_date, item.priority, item.status)
                     for item in queries.action_items(session, since, until, limit=ACTION_ROWS,
                                                      viewer=viewer, admin=admin)],
        recurring=[f"INC-{number}" for number in recurring if number not in hidden],
        recurring_count=len(recurring), recurring_before=before,
    )
    # Reading changes nothing, so not an INFO event; /metrics builds one a minute.
    event(log, "report.built", level=logging.DEBUG, since=since.isoformat(),
          until=until.isoformat(), incidents=report.incidents, alerts=alerts.total)
    return report


def _repair_time(row: queries.IncidentRow) -> timedelta:
    # Only resolved rows come here; a backdated impact start never makes it negative.
    assert row.resolved_at is not None
    return max(timedelta(0), row.resolved_at - row.impact_start)


def _requires_postmortem(config: Config, severity: str) -> bool:
    found = config.severity(severity)
    return found is not None and found.postmortem_required


def _hidden(session: Session, ids: list[int], *, viewer: str | None, admin: bool,
            ) -> set[int]:
    """Which of these incidents the reader may not see: private ones they are not a
    member of (the incidents API's own rule, `records.visible`)."""
    if admin or not ids:
        return set()
    return {number for number in queries.private_among(session, ids)
            if not records.visible(session, session.get_one(Incident, number),
                                   viewer=viewer, admin=admin)}


def _recent(row: queries.IncidentRow) -> RecentIncident:
    duration = None
    if row.status == RESOLVED and row.resolved_at is not None:
        duration = _repair_time(row)
    return RecentIncident(
        key=f"INC-{row.id}", title=row.title, severity=row.severity, status=row.status,
        commander=row.commander, declared_at=row.declared_at, duration=duration,
        users_affected=row.users_affected, root_cause=row.root_cause,
    )


def _mttr_by_severity(config: Config, resolved: list[queries.IncidentRow],
                      ) -> list[SeverityMttr]:
    names = [s.name for s in config.severities]
    names += sorted({row.severity for row in resolved} - set(names))
    # Each incident's repair time once, grouped by severity in one pass.
    by_severity: dict[str, list[tuple[queries.IncidentRow, timedelta]]] = {}
    for row in resolved:
        by_severity.setdefault(row.severity, []).append((row, _repair_time(row)))
    found: list[SeverityMttr] = []
    for name in names:
        mine = by_severity.get(name, [])
        configured = config.severity(name)
        # The incident keeps the target it was declared with; the file's is the fallback.
        targets = {row.target_mttr_minutes for row, _took in mine if row.target_mttr_minutes}
        minutes = (max(targets) if len(targets) == 1 else None) or (
            configured.target_mttr_minutes if configured else None)
        within = sum(1 for row, took in mine if row.target_mttr_minutes
                     and took <= timedelta(minutes=row.target_mttr_minutes))
        found.append(SeverityMttr(
            severity=name, target=timedelta(minutes=minutes) if minutes else None,
            mttr=rules.spread(took for _row, took in mine), within_target=within))
    return found


def _people(config: Config, pages: dict[str, list[float]],
            surveys: queries.SurveyFigures, since: datetime, until: datetime,
            ) -> list[PersonLoad]:
    found: list[PersonLoad] = []
    for user_id in sorted(set(pages) | set(surveys.by_user)):
        user = config.users.get(user_id)
        zone = (user.timezone if user else None) or config.timezone
        answers, mean = surveys.by_user.get(user_id, (0, None))
        found.append(PersonLoad(
            user=user_id, name=user.display if user else user_id, timezone=zone,
            pages=rules.interruptions(pages.get(user_id, []), zone=ZoneInfo(zone),
                                      hours=config.working_hours, start=since, end=until),
            survey_answers=answers, survey_mean=mean))
    return found


def _uptimes(
    session: Session, config: Config, settings: rules.Settings,
    incidents: list[queries.IncidentRow], since: datetime, until: datetime,
) -> tuple[float | None, list[ServiceUptime]]:
    """Each service's uptime, and the share of the window no service was down. A service
    with nothing recorded before the window's end (no status change of its components;
    no incident at all, for one measured from incidents) has no uptime, not 100%."""
    components: dict[str, list[str]] = {}
    for component in config.components:
        if component.service:
            components.setdefault(component.service, []).append(component.name)
    histories = queries.component_histories(
        session, [n for names in components.values() for n in names], until)
    tracked = queries.any_incident_before(session, until)
    outages = _outages(incidents, settings)
    found: list[ServiceUptime] = []
    every: list[list[tuple[datetime, str]]] = []
    for name in sorted(config.services):
        mine = [histories[c] for c in components.get(name, [])]
        theirs = outages.get(name, [])
        if mine:
            history = rules.worst_history(mine)
            recorded = bool(history)
            missed = rules.unreflected(history, theirs, start=since, end=until)
        else:
            history, recorded, missed = rules.outage_history(theirs), tracked, 0
        if recorded:
            every.append(history)
        found.append(ServiceUptime(
            name, rules.service_uptime(component_histories=[history], outages=(),
                                       start=since, end=until) if recorded else None,
            "components" if mine else "incidents", missed))
    overall = rules.service_uptime(component_histories=every, outages=(), start=since,
                                   end=until) if every else None
    return overall, found


def _outages(incidents: list[queries.IncidentRow], settings: rules.Settings,
             ) -> dict[str, list[rules.Outage]]:
    """Per service, the outages its incidents imply, in the incidents' order: one pass
    over the incidents for every service."""
    statuses: dict[str, str | None] = {}
    found: dict[str, list[rules.Outage]] = {}
    for row in incidents:
        if row.severity not in statuses:
            statuses[row.severity] = rules.outage_of(row.severity, settings.outage_severities)
        status = statuses[row.severity]
        if status is None:
            continue
        outage = rules.Outage(row.impact_start, row.mitigated_at or row.resolved_at, status)
        for service in dict.fromkeys(row.services):
            found.setdefault(service, []).append(outage)
    return found


def _recurring(session: Session, settings: rules.Settings, since: datetime, until: datetime,
               ) -> tuple[list[int], int]:
    length = until - since
    earliest = since - length - settings.recurrence_window
    causes = [rules.Cause(incident, start, services, category)
              for incident, start, services, category
              in queries.recorded_categories(session, earliest, until)]
    now = rules.recurring(causes, start=since, end=until, window=settings.recurrence_window,
                          categories=settings.recurring_categories)
    before = rules.recurring(causes, start=since - length, end=since,
                             window=settings.recurrence_window,
                             categories=settings.recurring_categories)
    return now, len(before)


def _schedule(session: Session, config: Config, pages: dict[str, list[float]],
              since: datetime, until: datetime, now: datetime) -> list[ShiftRow]:
    """Per schedule: who is on call now, and the next shift after each current one."""
    rows: list[ShiftRow] = []
    for schedule in config.schedules.values():
        shifts = oncall_service.final_shifts(session, schedule, now, now + SCHEDULE_AHEAD)
        active = [s for s in shifts if s.start <= now < s.end]
        later = [s for s in shifts if s.start > now]
        upcoming = [min(later, key=lambda s: s.start)] if later else []
        for shift, state in [*((s, "active") for s in active),
                             *((s, "upcoming") for s in upcoming)]:
            user = config.users.get(shift.user)
            start = max(shift.start, since).timestamp()
            end = min(shift.end, until).timestamp()
            count = sum(1 for at in pages.get(shift.user, []) if start <= at < end)
            rows.append(ShiftRow(schedule.name, shift.user, user.display if user else shift.user,
                                 shift.start, shift.end, state, count))
    return rows
