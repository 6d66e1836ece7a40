"""The report's two heavy figures from per-day rollups: the same numbers, a year in a
fraction of the time.

A year holds a million alerts and as many pages; reading them all for every
report took seconds. Each whole UTC day of a window that ended before `now` is
read from its rollup instead (`metrics.store`: `AlertDay`, `PageDay`,
`FirstPages`, `RepeatPage`), made the first time a report needs it; the window's
partial days at either end are read from the rows as before (`metrics.queries`).

A rollup is never stale: triggers on `alerts` and `deliveries` (migration 0027)
delete the day's mark whenever a row it was computed from is written, and the
next report makes it again. Rollups are made with the writers to those tables
held off (SQLite: the report's transaction holds the write lock already;
PostgreSQL: `LOCK TABLE ... IN SHARE MODE NOWAIT`, a week at a time), so no write
can land between the reading and the storing. The lock is only taken when no
writer holds one, tried again for up to `LOCK_TRIES` x `LOCK_PAUSE`: a report
never waits in the lock queue, where writers would queue behind it, nor in a
deadlock with the engine. If the lock cannot be had the report reads the rows
instead. Each month made is
committed at once: `build_report` commits its session when it makes rollups.

First pages: a page counts for a window if no page of the same alert reached the
same person earlier in the window. For a whole day of the window that is: the
page is the first of it to the person that day, and either the first ever
(`FirstPages`) or the latest earlier one (`RepeatPage.previous`) was before the
window's start.
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Date, Engine, String, cast, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tocsin.alerts.store import Alert
from tocsin.logs import event
from tocsin.metrics import queries
from tocsin.metrics.store import AlertDay, FirstPages, PageDay, RepeatPage
from tocsin.notify.store import SENT, Delivery

log = logging.getLogger(__name__)
T = TypeVar("T")

DAY = timedelta(days=1)
MIDNIGHT = datetime.min.time()
# Days made in one transaction: on PostgreSQL writers to alerts and deliveries wait
# while they are made (a week of a million-alert year: under a tenth of a second).
DAYS_AT_ONCE = 7
# PostgreSQL: how often, and how far apart, the report tries for the lock.
LOCK_TRIES = 20
LOCK_PAUSE = 0.05
# Reads of rollups that a late change forgot meanwhile, each made again first.
READ_ATTEMPTS = 3
_TABLES = ("report_alert_days", "report_page_days", "report_first_pages",
           "report_repeat_pages")


def whole_days(since: datetime, until: datetime, now: datetime,
               ) -> tuple[datetime, datetime] | None:
    """The whole UTC days inside [since, until) that ended by `now`, as [start, stop);
    None if there is none."""
    start = _midnight(since)
    if start < since:
        start += DAY
    stop = _midnight(min(until, now))
    return (start, stop) if start < stop else None


def _midnight(when: datetime) -> datetime:
    return datetime.combine(when.astimezone(UTC).date(), MIDNIGHT, tzinfo=UTC)


def alert_figures(session: Session, since: datetime, until: datetime, *, now: datetime,
                  ) -> queries.AlertFigures:
    """`queries.alert_figures` for [since, until), its whole days from their rollups."""
    days = whole_days(since, until, now)
    kept = None if days is None else _kept(session, AlertDay, days, _make_alert_days,
                                           _read_alert_days)
    if days is None or kept is None:
        return queries.alert_figures(session, since, until)
    start, stop = days
    counts, ordered = kept
    for edge in ((since, start), (stop, until)):
        if edge[0] < edge[1]:
            counts = [a + b for a, b in zip(counts, queries.alert_counts(session, *edge),
                                            strict=True)]
            ordered += queries.ack_durations(session, *edge)
    # Each day's run is sorted: sorting their concatenation merges runs.
    ordered.sort()
    total, paged, escalated, marked, sourced, acked, sourced_acked = counts
    return queries.figures_from((total, paged, escalated, marked, sourced, acked,
                                 sourced_acked), *queries.nearest_ranks(ordered))


def _read_alert_days(reader: Connection, start: date, stop: date, since: datetime,
                     ) -> tuple[list[int], list[float]] | None:
    """The days' summed counts and their times to acknowledge; None if a day has none."""
    counts = [0] * 7
    durations = array("d")
    rows = reader.execute(select(
        AlertDay.total, AlertDay.paged, AlertDay.escalated, AlertDay.marked,
        AlertDay.sourced, AlertDay.acked, AlertDay.sourced_acked, AlertDay.ack_seconds,
    ).where(AlertDay.day >= start, AlertDay.day < stop)).all()
    if len(rows) != (stop - start).days:
        return None
    for *day_counts, seconds in rows:
        counts = [a + b for a, b in zip(counts, day_counts, strict=True)]
        durations.frombytes(seconds)
    return counts, list(durations)


def first_pages(session: Session, since: datetime, until: datetime, *, now: datetime,
                ) -> dict[str, list[float]]:
    """`queries.first_pages` for [since, until), its whole days from their rollups."""
    days = whole_days(since, until, now)
    gathered = None if days is None else _kept(session, PageDay, days, _make_page_days,
                                               _read_page_days, since)
    if days is None or gathered is None:
        return queries.first_pages(session, since, until)
    start, stop = days
    if since < start:
        for user_id, times in queries.first_pages(session, since, start).items():
            gathered.setdefault(user_id, array("d")).extend(times)
    if stop < until:
        last = queries.first_pages_by_alert(session, stop, until)
        earlier = queries.paged_between(session, since, stop, [a for _u, a in last])
        for key, at in last.items():
            if key not in earlier:
                gathered.setdefault(key[0], array("d")).append(at)
    return {user_id: sorted(times) for user_id, times in gathered.items()}


def _read_page_days(reader: Connection, start: date, stop: date, since: datetime,
                    ) -> dict[str, array[float]] | None:
    """Per person, the days' pages that count for a window from `since`; None if a day
    has no rollup."""
    marks = reader.scalar(select(func.count()).select_from(PageDay).where(
        PageDay.day >= start, PageDay.day < stop))
    if marks != (stop - start).days:
        return None
    gathered: dict[str, array[float]] = {}
    # All at once: a row at a time costs a driver call each (a year: 7,300 rows).
    for user_id, seconds in reader.execute(
            select(FirstPages.user_id, FirstPages.seconds)
            .where(FirstPages.day >= start, FirstPages.day < stop)
            .order_by(FirstPages.day)).all():
        gathered.setdefault(user_id, array("d")).frombytes(seconds)
    repeats = select(RepeatPage.user_id, RepeatPage.seconds).where(
        RepeatPage.day >= start, RepeatPage.day < stop, RepeatPage.previous < since)
    for user_id, at in reader.execute(repeats):
        gathered.setdefault(user_id, array("d")).append(at)
    return gathered


def _kept(session: Session, mark: type[AlertDay] | type[PageDay],
          days: tuple[datetime, datetime], make: Any, read: Callable[..., T | None],
          since: datetime | None = None) -> T | None:
    """The rollups of the days in [start, stop), made where missing, read in one snapshot
    (so that no day is half made again); None if they could not be made, or a late change
    forgot a day again each time they were."""
    for _attempt in range(READ_ATTEMPTS):
        if not _ready(session, mark, days, make):
            return None
        with _snapshot(session) as reader:
            found = read(reader, days[0].date(), days[1].date(), since)
        if found is not None:
            return found
    return None


@contextmanager
def _snapshot(session: Session) -> Iterator[Connection]:
    """SQLite: the session's own transaction, which holds the write lock. PostgreSQL: a
    connection of its own in one REPEATABLE READ snapshot."""
    if session.get_bind().dialect.name == "sqlite":
        yield session.connection()
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _ready(session: Session, mark: type[AlertDay] | type[PageDay],
           days: tuple[datetime, datetime], make: Any) -> bool:
    """Make the rollups of the days in [start, stop) that have none; False if they
    could not be made (PostgreSQL: the writers did not finish within LOCK_WAIT)."""
    start, stop = days
    missing = _missing(session, mark, start.date(), stop.date())
    if not missing:
        return True
    for first, end in _runs(missing):
        began = time.perf_counter()
        if not _hold_writers(session):
            event(log, "report.rollups_skipped", level=logging.WARNING,
                  table=mark.__tablename__)
            return False
        # Another report may have made them while this one waited.
        still = _missing(session, mark, first, end)
        for made_first, made_end in _runs(still) if still else ():
            make(session, made_first, made_end)
        session.commit()
        event(log, "report.rollups_made", level=logging.DEBUG, table=mark.__tablename__,
              days=len(still), first=first.isoformat(),
              ms=round((time.perf_counter() - began) * 1000))
    return True


def _missing(session: Session, mark: type[AlertDay] | type[PageDay], first: date,
             end: date) -> list[date]:
    kept = {_as_date(day) for day in session.scalars(
        select(mark.day).where(mark.day >= first, mark.day < end))}
    found: list[date] = []
    day = first
    while day < end:
        if day not in kept:
            found.append(day)
        day += DAY
    return found


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as [first, end) ranges of at most DAYS_AT_ONCE days."""
    first = previous = days[0]
    for day in days[1:]:
        if day != previous + DAY or (day - first).days >= DAYS_AT_ONCE:
            yield first, previous + DAY
            first = day
        previous = day
    yield first, previous + DAY


def _hold_writers(session: Session) -> bool:
    """PostgreSQL: hold off writers to the rows rollups are made from until the commit,
    and other reports making rollups; False if some writer kept its lock all along.
    SQLite's transactions hold the write lock."""
    if session.get_bind().dialect.name == "sqlite":
        return True
    for attempt in range(LOCK_TRIES):
        if attempt:
            time.sleep(LOCK_PAUSE)
        try:
            # A failed try rolls back to the savepoint, which lets go of what it took.
            with session.begin_nested():
                session.execute(text("LOCK TABLE alerts, deliveries IN SHARE MODE NOWAIT"))
                session.execute(text(f"LOCK TABLE {', '.join(_TABLES)} "
                                     "IN SHARE ROW EXCLUSIVE MODE NOWAIT"))
        except DBAPIError:
            continue
        return True
    return False


def _day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a stored instant: SQLite's text starts with it (`date()` would
    round to the millisecond first)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 10, type_=String)
    return cast(func.timezone("UTC", column), Date)


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _bounds(first: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, MIDNIGHT, tzinfo=UTC),
            datetime.combine(end, MIDNIGHT, tzinfo=UTC))


def _make_alert_days(session: Session, first: date, end: date) -> None:
    """The alert figures of each day in [first, end), from the alerts."""
    since, until = _bounds(first, end)
    day = _day_of(session, Alert.triggered_at)
    # A count per day: one range of the triggered_at index each, where grouping by the
    # day's text would sort the range (a month: 60 ms against 190 ms on SQLite).
    counts = {when: queries.alert_counts(session, *_bounds(when, when + DAY))
              for when in _each_day(first, end)}
    durations: dict[date, list[float]] = {}
    query = select(day, queries.ack_seconds(session)).where(
        queries.real_alerts(since, until), queries.ACKED)
    result = session.connection().execute(query)
    for stored_day, seconds in result.cursor.fetchall():
        durations.setdefault(_as_date(stored_day), []).append(seconds)
    result.close()
    rows: list[dict[str, Any]] = []
    for when in _each_day(first, end):
        total, paged, escalated, marked, sourced, acked, sourced_acked = counts[when]
        mine = sorted(durations.get(when, []))
        rows.append({"day": when, "total": total, "paged": paged, "escalated": escalated,
                     "marked": marked, "sourced": sourced, "acked": acked,
                     "sourced_acked": sourced_acked, "ack_sum": math.fsum(mine),
                     "ack_seconds": array("d", mine).tobytes()})
    session.execute(insert(AlertDay), rows)


def _make_page_days(session: Session, first: date, end: date) -> None:
    """Each day's first pages in [first, end), from the pages sent then, in time order,
    and each one's latest earlier page before `first` if it had no earlier one since."""
    since, until = _bounds(first, end)
    firsts: dict[tuple[date, str], list[float]] = {}
    repeats: list[dict[str, Any]] = []
    unseen: list[tuple[date, str, int, float]] = []  # nothing earlier since `first`
    last: dict[tuple[str, int], tuple[date, datetime]] = {}
    for user_id, alert_id, sent_at, day, seconds in _pages(session, since, until):
        earlier = last.get((user_id, alert_id))
        last[user_id, alert_id] = (day, sent_at)
        if earlier is None:
            unseen.append((day, user_id, alert_id, seconds))
        elif earlier[0] != day:
            repeats.append({"day": day, "user_id": user_id, "alert_id": alert_id,
                            "seconds": seconds, "previous": queries.aware(earlier[1])})
    before = _latest_before(session, since, until)
    for day, user_id, alert_id, seconds in unseen:
        previous = before.get((user_id, alert_id))
        if previous is None:
            firsts.setdefault((day, user_id), []).append(seconds)
        else:
            repeats.append({"day": day, "user_id": user_id, "alert_id": alert_id,
                            "seconds": seconds, "previous": previous})
    # Rows of days whose mark a trigger deleted.
    for table in (FirstPages, RepeatPage):
        session.execute(delete(table).where(table.day >= first, table.day < end))
    session.execute(insert(PageDay), [{"day": day} for day in _each_day(first, end)])
    if firsts:
        session.execute(insert(FirstPages), [
            {"day": day, "user_id": user_id, "seconds": array("d", sorted(times)).tobytes()}
            for (day, user_id), times in firsts.items()])
    if repeats:
        session.execute(insert(RepeatPage), repeats)


def _pages(session: Session, since: datetime, until: datetime,
           ) -> Iterator[tuple[str, int, datetime, date, float]]:
    """The pages sent in [since, until) in time order: person, alert, when (naive UTC on
    SQLite: made aware only where kept), its UTC day, and when as the seconds
    `queries.first_pages` gives."""
    sent = (Delivery.status == SENT, Delivery.finished_at >= since,
            Delivery.finished_at < until)
    sqlite = session.get_bind().dialect.name == "sqlite"
    columns: list[Any] = [Delivery.user_id, Delivery.alert_id, Delivery.finished_at]
    if not sqlite:
        columns.append(queries.page_epoch(Delivery.finished_at))
    result = session.connection().execute(
        select(*columns).where(*sent).order_by(Delivery.finished_at))
    parse = datetime.fromisoformat
    while rows := result.cursor.fetchmany(10_000):
        for row in rows:
            if sqlite:
                user_id, alert_id, stored = row
                sent_at = parse(stored)  # naive, UTC
                yield (user_id, alert_id, sent_at, sent_at.date(),
                       (sent_at - queries.NAIVE_EPOCH).total_seconds())
            else:
                user_id, alert_id, sent_at, seconds = row
                sent_at = sent_at.astimezone(UTC)
                yield user_id, alert_id, sent_at, sent_at.date(), seconds
    result.close()


def _latest_before(session: Session, since: datetime, until: datetime,
                   ) -> dict[tuple[str, int], datetime]:
    """(person, alert): the latest page sent before `since`, of the alerts paged in
    [since, until)."""
    paged = select(Delivery.alert_id).where(
        Delivery.status == SENT, Delivery.finished_at >= since, Delivery.finished_at < until)
    query = (select(Delivery.user_id, Delivery.alert_id, func.max(Delivery.finished_at))
             .where(Delivery.status == SENT, Delivery.finished_at < since,
                    Delivery.alert_id.in_(paged))
             .group_by(Delivery.user_id, Delivery.alert_id))
    return {(user_id, alert_id): queries.aware(latest)
            for user_id, alert_id, latest in session.execute(query)}


def _each_day(first: date, end: date) -> Iterator[date]:
    day = first
    while day < end:
        yield day
        day += DAY
