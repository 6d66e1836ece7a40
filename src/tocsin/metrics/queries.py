"""The SQL behind the report: counts and durations summed in the database.

Alerts can number in the millions, so no query here hands back a row per
alert: the alert figures are two aggregates, the percentiles of the time to
acknowledge ranked in the database (SQLite hands back one number per
acknowledged alert instead). Incidents (thousands) come back as light
tuples, and first pages as one row per person holding one number per alert
they were paged for, for the pure maths in `metrics.rules`.

Durations are computed in seconds by the database: `julianday` on SQLite
(which keeps UTC text), `date_part('epoch', ...)` on PostgreSQL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tocsin.alerts.store import Alert, AlertEvent
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.store import Incident, IncidentAlert, IncidentMember, TimelineRow
from tocsin.metrics.store import ShiftSurvey
from tocsin.notify.store import SENT, Delivery
from tocsin.postmortems.store import DONE, ActionItem, Postmortem
from tocsin.statuspage.store import ComponentChange

ACKNOWLEDGED = "acknowledged"
SOURCE_ACTOR_PREFIX = "integration:"
# Timeline entries that show a person working on an incident (docs/metrics.md).
RESPONSE_KINDS = (incident_rules.STATUS, incident_rules.MITIGATED, incident_rules.NOTE,
                  incident_rules.UPDATE, incident_rules.ROLE, incident_rules.SEVERITY,
                  incident_rules.IMPACT)
# Actors that are Tocsin itself or a monitoring source, never a responder.
MACHINE_ACTORS = ("tocsin",)


def _seconds(session: Session, column: Any) -> ColumnElement[float]:
    """The instant as seconds on a fixed scale, for durations (good to well under a
    millisecond; see `_span`)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(column) * 86400.0, Float)
    return _epoch(column)


def page_epoch(column: Any) -> ColumnElement[float]:
    """PostgreSQL: an instant as the seconds `first_pages` gives."""
    return _epoch(column)


def _epoch(column: Any) -> ColumnElement[float]:
    """PostgreSQL: POSIX seconds as a double, exact to the microsecond's rounding, so an
    instant on a window's edge (08:00:00) lands on the right side of it. `date_part`
    gives the double directly, the same value as `extract(epoch ...)::float8`;
    `extract` computes a numeric first and takes twice as long over a year's alerts
    (bench/report.py)."""
    return func.date_part("epoch", column, type_=Float)


def real_alerts(since: datetime, until: datetime) -> ColumnElement[bool]:
    """Alerts triggered in the window, less resolves received for alerts never seen
    (stored for audit, resolved the instant they were made, never routed)."""
    unseen = and_(Alert.step == -1, Alert.resolved_at == Alert.triggered_at,
                  Alert.resolved_by.like(f"{SOURCE_ACTOR_PREFIX}%"))
    return and_(Alert.triggered_at >= since, Alert.triggered_at < until, not_(unseen))


@dataclass(frozen=True)
class AlertFigures:
    total: int
    paged: int  # an escalation step ran for it
    escalated: int  # went past its policy's first step
    acknowledged: int
    transient: int  # resolved by the source, never acknowledged, not marked
    not_actionable: int
    ack_mean: timedelta | None
    ack_median: timedelta | None
    ack_p90: timedelta | None


def alert_figures(session: Session, since: datetime, until: datetime) -> AlertFigures:
    """Two passes over the window's alerts: one counts, one ranks the times to first
    acknowledgement (kept on the alert, `Alert.first_acknowledged_at`, so no join).
    PostgreSQL ranks them with `percentile_disc`, one sort for both percentiles;
    SQLite has no such aggregate and its window functions take longer than handing
    the durations over and sorting them here (a year's 600,000: 1.5 s against 0.6 s,
    bench/report.py). `metrics.rollups` gives the same figures from per-day rollups."""
    counts = alert_counts(session, since, until)
    durations = select(ack_seconds(session)).where(real_alerts(since, until), ACKED)
    if session.get_bind().dialect.name == "sqlite":
        mean, median, p90 = _ranked_here(session, durations)
    else:
        mean, median, p90 = _ranked_in_database(session, durations)
    return figures_from(counts, mean, median, p90)


# Total, paged, escalated, marked not actionable, resolved by the source, acknowledged,
# resolved by the source and acknowledged.
AlertCounts = tuple[int, int, int, int, int, int, int]
ACKED = Alert.first_acknowledged_at.is_not(None)


def alert_count_columns() -> list[ColumnElement[int]]:
    """The columns of `AlertCounts`, over the alerts a query selects."""
    from_source = and_(Alert.status == "resolved",
                       Alert.resolved_by.like(f"{SOURCE_ACTOR_PREFIX}%"),
                       Alert.not_actionable.is_(False))
    return [
        func.count(), _counted(Alert.step >= 0),
        _counted(or_(Alert.step >= 1, Alert.pass_number >= 1)),
        _counted(Alert.not_actionable.is_(True)), _counted(from_source), _counted(ACKED),
        _counted(and_(from_source, ACKED)),
    ]


def alert_counts(session: Session, since: datetime, until: datetime) -> AlertCounts:
    row = session.execute(select(*alert_count_columns()).where(
        real_alerts(since, until))).one()
    total, paged, escalated, marked, sourced, acked, sourced_acked = (int(v) for v in row)
    return total, paged, escalated, marked, sourced, acked, sourced_acked


def ack_seconds(session: Session) -> ColumnElement[float]:
    """An alert's time to first acknowledgement in seconds (NULL if never acknowledged)."""
    return (_seconds(session, Alert.first_acknowledged_at)
            - _seconds(session, Alert.triggered_at)).label("seconds")


def ack_durations(session: Session, since: datetime, until: datetime) -> list[float]:
    """The times to first acknowledgement of the window's alerts, in no order."""
    query = select(ack_seconds(session)).where(real_alerts(since, until), ACKED)
    result = session.connection().execute(query)
    found = [row[0] for row in result.cursor.fetchall()]
    result.close()
    return found


def figures_from(counts: AlertCounts, mean: float | None, median: float | None,
                 p90: float | None) -> AlertFigures:
    total, paged, escalated, marked, sourced, acknowledged, sourced_acked = counts
    return AlertFigures(
        total=total, paged=paged, escalated=escalated, acknowledged=acknowledged,
        transient=sourced - sourced_acked, not_actionable=marked, ack_mean=_span(mean),
        ack_median=_span(median), ack_p90=_span(p90),
    )


def _ranked_in_database(session: Session, durations: Any,
                        ) -> tuple[float | None, float | None, float | None]:
    """`percentile_disc(f)` is the value at rank ceil(f * n): the nearest rank of
    `_ranked_here`. 0.5 is exact in binary and 0.9 * n rounds to the integer 9n/10
    when there is one (its error is under half a unit in the last place), so the
    ranks are those of the integer sums there, for any n."""
    first = durations.subquery()
    mean, ranks = session.execute(select(
        func.avg(first.c.seconds),
        func.percentile_disc(postgresql.array([0.5, 0.9])).within_group(first.c.seconds),
    )).one()
    median, p90 = ranks if ranks is not None else (None, None)
    return mean, median, p90


def _ranked_here(session: Session, durations: Any,
                 ) -> tuple[float | None, float | None, float | None]:
    result = session.connection().execute(durations)
    # The driver's own rows (one float each): building a result row apiece costs more.
    ordered = sorted(row[0] for row in result.cursor.fetchall())
    result.close()
    return nearest_ranks(ordered)


def nearest_ranks(ordered: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """The mean, median and 90th percentile of these sorted durations: the nearest ranks,
    ceil(share/100 * n) in integers, those of percentile_disc; the mean from the
    correctly rounded sum."""
    if not ordered:
        return None, None, None
    n = len(ordered)
    return (math.fsum(ordered) / n, ordered[(n * 50 + 99) // 100 - 1],
            ordered[(n * 90 + 99) // 100 - 1])


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _span(seconds: float | None) -> timedelta | None:
    # Rounded to the millisecond: julianday arithmetic is not exact below that.
    return None if seconds is None else timedelta(seconds=round(max(0.0, seconds), 3))


class IncidentRow(NamedTuple):
    """An incident as the report reads it. A named tuple: cheaper to make than a frozen
    dataclass (a year's 10,000 incidents: 13 ms less, bench/report.py)."""

    id: int
    title: str
    severity: str
    status: str
    commander: str | None
    target_mttr_minutes: float
    declared_at: datetime
    impact_start: datetime
    mitigated_at: datetime | None
    resolved_at: datetime | None
    services: tuple[str, ...]
    users_affected: int | None
    root_cause: str | None
    private: bool


def incidents_overlapping(session: Session, since: datetime, until: datetime,
                          ) -> list[IncidentRow]:
    """Incidents whose impact overlaps the window, or declared or resolved in it."""
    query = select(
        Incident.id, Incident.title, Incident.severity, Incident.status, Incident.commander,
        Incident.target_mttr_minutes, Incident.declared_at, Incident.impact_start,
        Incident.mitigated_at, Incident.resolved_at, cast(Incident.services, Text),
        Incident.users_affected, Incident.root_cause, Incident.private,
    ).where(
        or_(Incident.impact_start < until, Incident.declared_at < until),
        or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since),
    ).order_by(Incident.id)
    services = _service_lists()
    if session.get_bind().dialect.name == "sqlite":
        rows: Sequence[Sequence[Any]] = session.execute(query).all()
        utc = _same
    else:
        # The driver's own rows: the result's processing of each value (its only work here
        # is the UTC zone) cost 15 ms over a year's incidents (bench/report.py).
        result = session.connection().execute(query)
        rows = result.cursor.fetchall()
        result.close()
        utc = _in_utc
    found: list[IncidentRow] = []
    for (number, title, severity, status, commander, target, declared, impact, mitigated,
         resolved, stored, affected, cause, private) in rows:
        found.append(IncidentRow(
            number, title, severity, status, commander, target, utc(declared), utc(impact),
            utc(mitigated), utc(resolved), services(stored), affected, cause, private))
    return found


def _service_lists() -> Callable[[str | None], tuple[str, ...]]:
    """Incidents' services from the column's JSON text (`cast(Incident.services, Text)`),
    each distinct list parsed once: a year's incidents hold a few dozen lists."""
    seen: dict[str | None, tuple[str, ...]] = {}

    def read(stored: str | None) -> tuple[str, ...]:
        listed = seen.get(stored)
        if listed is None:
            listed = seen[stored] = tuple(json.loads(stored) or ()) if stored else ()
        return listed

    return read


def _same(value: Any) -> Any:
    return value


def _in_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def first_responses(session: Session, since: datetime, until: datetime) -> dict[int, datetime]:
    """For incidents declared in the window: the first acknowledgement of a linked alert
    at or after the declaration, or the first response entry a person wrote after it,
    whichever came first."""
    declared = and_(Incident.declared_at >= since, Incident.declared_at < until)
    # Each linked alert's first acknowledgement since the declaration: one probe of
    # `ix_alert_events_first` per link, where a join scans every alert event.
    first_ack = (select(func.min(AlertEvent.at))
                 .where(AlertEvent.alert_id == IncidentAlert.alert_id,
                        AlertEvent.kind == ACKNOWLEDGED, AlertEvent.at >= Incident.declared_at)
                 .correlate(IncidentAlert, Incident).scalar_subquery())
    acks = (select(IncidentAlert.incident_id, func.min(first_ack))
            .join(Incident, Incident.id == IncidentAlert.incident_id)
            .where(declared)
            .group_by(IncidentAlert.incident_id))
    actions = (select(TimelineRow.incident_id, func.min(TimelineRow.recorded_at))
               .join(Incident, Incident.id == TimelineRow.incident_id)
               .where(declared, TimelineRow.kind.in_(RESPONSE_KINDS),
                      TimelineRow.actor.is_not(None),
                      TimelineRow.actor.not_in(MACHINE_ACTORS),
                      not_(TimelineRow.actor.like(f"{SOURCE_ACTOR_PREFIX}%")),
                      TimelineRow.recorded_at > Incident.declared_at)
               .group_by(TimelineRow.incident_id))
    found: dict[int, datetime] = {}
    for query in (acks, actions):
        for incident_id, stored in session.execute(query):
            if stored is None:  # linked alerts, none acknowledged since the declaration
                continue
            first = aware(stored)
            if incident_id not in found or first < found[incident_id]:
                found[incident_id] = first
    return found


def aware(value: datetime | str | None) -> datetime:
    # min() over a UTCDateTime column comes back through the type on PostgreSQL but as
    # text or naive on SQLite, depending on the driver; either way the value is UTC.
    if value is None:
        raise ValueError("a minimum over rows that exist is never NULL")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def recorded_categories(session: Session, since: datetime, until: datetime,
                        ) -> list[tuple[int, datetime, tuple[str, ...], str | None]]:
    """(incident id, impact start, services, root-cause category) of incidents started in
    [since, until) whose post-mortem names a category."""
    query = (select(Incident.id, Incident.impact_start, cast(Incident.services, Text),
                    Postmortem.root_cause_category)
             .join(Postmortem, Postmortem.incident_id == Incident.id)
             .where(Incident.impact_start >= since, Incident.impact_start < until,
                    Postmortem.root_cause_category.is_not(None)))
    services = _service_lists()
    return [(row[0], row[1], services(row[2]), row[3]) for row in session.execute(query)]


def postmortem_states(session: Session, incident_ids: Sequence[int]) -> dict[int, str]:
    """The post-mortem status of each of these incidents that has one."""
    found: dict[int, str] = {}
    ids = sorted(set(incident_ids))
    if ids and session.get_bind().dialect.name == "postgresql":
        # One array parameter: a year's 10,000 ids as ten IN lists of 1,000 took 70 ms
        # to render and send (bench/report.py).
        query = select(Postmortem.incident_id, Postmortem.status).where(
            Postmortem.incident_id == any_(bindparam("ids", ids, type_=ARRAY(Integer))))
        return {incident: status for incident, status in session.execute(query)}
    for chunk in range(0, len(ids), 1000):
        query = select(Postmortem.incident_id, Postmortem.status).where(
            Postmortem.incident_id.in_(ids[chunk:chunk + 1000]))
        found.update({incident: status for incident, status in session.execute(query)})
    return found


@dataclass(frozen=True)
class ActionFigures:
    total: int
    done: int
    overdue: int  # not done, due before the window's end


def action_figures(session: Session, since: datetime, until: datetime) -> ActionFigures:
    """Action items created in the window: how many, how many done, how many overdue."""
    in_window = and_(ActionItem.created_at >= since, ActionItem.created_at < until)
    due_by = until.date()
    query = select(
        func.count(), _counted(ActionItem.status == DONE),
        _counted(and_(ActionItem.status != DONE, ActionItem.due_date < due_by)),
    ).where(in_window)
    total, done, overdue = session.execute(query).one()
    return ActionFigures(int(total), int(done), int(overdue))


def action_items(session: Session, since: datetime, until: datetime, *, limit: int,
                 viewer: str | None = None, admin: bool = True) -> list[ActionItem]:
    """Items still open (due first), then those completed in the window (latest first);
    a private incident's only for its members and admins, as the action-item list."""
    seen: ColumnElement[bool] = true()
    if not admin:
        member_of = select(IncidentMember.incident_id).where(IncidentMember.user_id == viewer)
        public = select(Incident.id).where(Incident.private.is_(False))
        seen = or_(ActionItem.incident_id.in_(public), ActionItem.incident_id.in_(member_of))
    open_items = (select(ActionItem).where(ActionItem.status != DONE,
                                           ActionItem.created_at < until, seen)
                  .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
                  .limit(limit))
    found = list(session.scalars(open_items))
    if len(found) < limit:
        done = (select(ActionItem)
                .where(ActionItem.status == DONE, ActionItem.completed_at >= since,
                       ActionItem.completed_at < until, seen)
                .order_by(ActionItem.completed_at.desc(), ActionItem.id.desc())
                .limit(limit - len(found)))
        found += session.scalars(done)
    return found


def first_pages(session: Session, since: datetime, until: datetime,
                ) -> dict[str, list[float]]:
    """Per person, when each alert they were paged for first reached them in the window
    (one entry per alert: other channels, steps and repeats of it do not count again),
    as POSIX seconds, sorted. Seconds, not datetimes: a year can hold a million of
    them, and the classification only compares them.

    PostgreSQL groups the pages by person and alert and hands back one array of
    seconds per person: 20 rows for a year's 800,000 pages, not a row each. SQLite's
    grouping and date functions cost more than reading the pages in time order and
    keeping each alert's first here (a year's pages: 2.4 s against 1.1 s, bench/report.py)."""
    sent = and_(Delivery.status == SENT, Delivery.finished_at >= since,
                Delivery.finished_at < until)
    if session.get_bind().dialect.name == "sqlite":
        found = _first_pages_in_order(session, sent)
    else:
        firsts = (select(Delivery.user_id, func.min(Delivery.finished_at).label("first"))
                  .where(sent).group_by(Delivery.user_id, Delivery.alert_id).subquery())
        gathered = (select(firsts.c.user_id, func.array_agg(_epoch(firsts.c.first)))
                    .group_by(firsts.c.user_id))
        found = {user_id: times for user_id, times in session.execute(gathered)}
    for times in found.values():
        times.sort()
    return found


def _first_pages_in_order(session: Session, sent: ColumnElement[bool],
                          ) -> dict[str, list[float]]:
    """SQLite: the pages sent in the window, earliest first (the covering index
    `ix_deliveries_finished` keeps that order), so a person's first page of an alert is
    the first row of it. The driver's own rows: SQLite keeps UTC as text
    (`YYYY-MM-DD HH:MM:SS.ffffff`), read here to the microsecond, so an instant on a
    window's edge lands on the right side of it (SQLite's strftime would round
    07:59:59.9995 to 08:00:00)."""
    query = (select(Delivery.user_id, Delivery.alert_id, Delivery.finished_at)
             .where(sent).order_by(Delivery.finished_at))
    seen: dict[str, set[int]] = {}
    found: dict[str, list[float]] = {}
    parse = datetime.fromisoformat
    result = session.connection().execute(query)
    while rows := result.cursor.fetchmany(_READ_AT_ONCE):
        for user_id, alert_id, finished in rows:
            alerts = seen.get(user_id)
            if alerts is None:
                alerts = seen[user_id] = set()
                found[user_id] = []
            if alert_id not in alerts:
                alerts.add(alert_id)
                found[user_id].append((parse(finished) - NAIVE_EPOCH).total_seconds())
    result.close()
    return found


def first_pages_by_alert(session: Session, since: datetime, until: datetime,
                         ) -> dict[tuple[str, int], float]:
    """(person, alert): when that alert first reached that person in the window, as
    `first_pages` gives it (the same seconds), for a window of a few hours."""
    sent = and_(Delivery.status == SENT, Delivery.finished_at >= since,
                Delivery.finished_at < until)
    found: dict[tuple[str, int], float] = {}
    if session.get_bind().dialect.name == "sqlite":
        query = (select(Delivery.user_id, Delivery.alert_id, Delivery.finished_at)
                 .where(sent).order_by(Delivery.finished_at))
        result = session.connection().execute(query)
        for user_id, alert_id, finished in result.cursor.fetchall():
            if (user_id, alert_id) not in found:
                found[user_id, alert_id] = page_seconds(finished)
        result.close()
        return found
    firsts = (select(Delivery.user_id, Delivery.alert_id,
                     _epoch(func.min(Delivery.finished_at)))
              .where(sent).group_by(Delivery.user_id, Delivery.alert_id))
    for user_id, alert_id, seconds in session.execute(firsts):
        found[user_id, alert_id] = seconds
    return found


def paged_between(session: Session, since: datetime, until: datetime,
                  alert_ids: Sequence[int]) -> set[tuple[str, int]]:
    """(person, alert) pairs among these alerts with a page sent in [since, until)."""
    found: set[tuple[str, int]] = set()
    wanted = sorted(set(alert_ids))
    for chunk in range(0, len(wanted), 1000):
        query = (select(Delivery.user_id, Delivery.alert_id).distinct()
                 .where(Delivery.alert_id.in_(wanted[chunk:chunk + 1000]),
                        Delivery.status == SENT, Delivery.finished_at >= since,
                        Delivery.finished_at < until))
        found.update((user_id, alert_id) for user_id, alert_id in session.execute(query))
    return found


def page_seconds(stored: str) -> float:
    """SQLite: a stored UTC instant (`YYYY-MM-DD HH:MM:SS.ffffff`) as POSIX seconds, to
    the microsecond."""
    return (datetime.fromisoformat(stored) - NAIVE_EPOCH).total_seconds()


_READ_AT_ONCE = 10_000
# SQLite's stored text has no offset (it is UTC): the epoch to subtract is naive too.
NAIVE_EPOCH = datetime.fromtimestamp(0, UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class SurveyFigures:
    answered: int
    mean: float | None
    by_user: dict[str, tuple[int, float]]  # user: (answers, mean score)


def survey_figures(session: Session, since: datetime, until: datetime) -> SurveyFigures:
    """Answers to the end-of-shift survey for shifts that ended in the window."""
    query = (select(ShiftSurvey.user_id, func.count(),
                    func.avg(cast(ShiftSurvey.score, Float)))
             .where(ShiftSurvey.score.is_not(None), ShiftSurvey.shift_end >= since,
                    ShiftSurvey.shift_end < until)
             .group_by(ShiftSurvey.user_id))
    by_user = {user: (int(count), float(mean)) for user, count, mean in session.execute(query)}
    answered = sum(count for count, _mean in by_user.values())
    total = sum(count * mean for count, mean in by_user.values())
    return SurveyFigures(answered, total / answered if answered else None, by_user)


def private_among(session: Session, ids: Sequence[int]) -> list[int]:
    """Which of these incidents are private."""
    found: list[int] = []
    wanted = sorted(set(ids))
    for chunk in range(0, len(wanted), 1000):
        found += session.scalars(select(Incident.id).where(
            Incident.id.in_(wanted[chunk:chunk + 1000]), Incident.private.is_(True)))
    return found


def component_histories(session: Session, components: Sequence[str], until: datetime,
                        ) -> dict[str, list[tuple[datetime, str]]]:
    """Each component's status changes before `until` as (at, status), oldest first by
    display time then entry order (`statuspage.store.history`, as plain pairs)."""
    wanted = sorted(set(components))
    found: dict[str, list[tuple[datetime, str]]] = {name: [] for name in wanted}
    if not wanted:
        return found
    query = (select(ComponentChange.component, ComponentChange.at, ComponentChange.status)
             .where(ComponentChange.component.in_(wanted), ComponentChange.at < until)
             .order_by(ComponentChange.at, ComponentChange.id))
    for component, at, status in session.execute(query):
        found[component].append((at, status))
    return found


def any_incident_before(session: Session, until: datetime) -> bool:
    """Whether any incident was declared before `until`: incidents were being kept."""
    return session.scalars(select(Incident.id).where(Incident.declared_at < until)
                           .limit(1)).first() is not None
