"""Report benchmark: `tocsin report` over a year of 1 million alerts and 10,000 incidents.

Builds the year with bulk inserts into a new database (an SQLite file in a
temporary folder, or with --db a new database on that PostgreSQL server,
dropped afterwards), then times the report over the last 30 days (the
default window) and over the whole year, and each of its queries alone: the
report reading every alert and page, then from the per-day rollups
(metrics.rollups): cold (the report makes them) and warm (kept), and the
rollups of one day made again (as after a late change to that day).

The year: alerts spread evenly, 80% paged (one in eight of those escalated
past step 1), 60% acknowledged (a few minutes after), a third of the rest
resolved by their source, 3% marked not actionable; one page (a sent
delivery) per paged alert to one of 20 people in six zones; incidents of
SEV1-SEV4 on ten services (five with a status page component), each with
a linked alert, three timeline rows, a post-mortem for one in three with
two action items; a weekly survey answer per person.

Run from the repository root:

    .venv/bin/python bench/report.py
    .venv/bin/python bench/report.py --alerts 100000 --incidents 1000
    .venv/bin/python bench/report.py --db postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/report.py --keep /tmp/year.db   # build once, time again later
    .venv/bin/python bench/report.py --db postgresql://postgres@127.0.0.1:5432/postgres \
        --keep tocsin_bench_year   # PostgreSQL: keep that database, reuse it if it exists
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, delete, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tocsin.alerts.store import Alert, AlertEvent
from tocsin.config.loader import load_config
from tocsin.config.model import Config
from tocsin.db import make_engine, make_sessionmaker
from tocsin.incidents.store import Incident, IncidentAlert, TimelineRow
from tocsin.metrics import queries, rollups
from tocsin.metrics.service import build_report
from tocsin.metrics.store import AlertDay, FirstPages, PageDay, RepeatPage, ShiftSurvey
from tocsin.migrate import upgrade
from tocsin.notify.store import Delivery
from tocsin.postmortems.store import ActionItem, Postmortem
from tocsin.statuspage.store import ComponentChange

END = datetime(2026, 12, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Bangkok",
         "Australia/Sydney")
USERS = [f"user{n:02d}" for n in range(20)]
SERVICES = [f"svc{n}" for n in range(10)]
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
CATEGORIES = ("capacity", "deployment", "dependency", "software bug")
BATCH = 50_000


def config_text() -> str:
    users = "\n".join(f"  - {{id: {u}, name: User {u[4:]}, timezone: {ZONES[n % len(ZONES)]}}}"
                      for n, u in enumerate(USERS))
    services = "\n".join(f"  - {{name: {s}}}" for s in SERVICES)
    components = "\n".join(f"  - {{name: Component {s}, service: {s}}}" for s in SERVICES[:5])
    return f"""timezone: UTC
users:
{users}
services:
{services}
components:
{components}
schedules:
  - name: primary
    rotation: weekly
    start_day: monday
    start_time: "09:00"
    participants: [{", ".join(USERS[:8])}]
"""


def batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def insert(engine: Engine, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    with engine.begin() as connection:
        for chunk in batches(rows):
            connection.execute(table.insert(), chunk)
            count += len(chunk)
    return count


class Year:
    """The rows of one year, drawn from a seeded generator so runs compare."""

    def __init__(self, alerts: int, incidents: int) -> None:
        self.random = random.Random(8)
        self.alerts = alerts
        self.incidents = incidents
        self.start = END - YEAR
        # alert id -> (triggered, first ack or None), for the pages and incident links
        self.paged: list[tuple[int, datetime]] = []

    def instant(self) -> datetime:
        return self.start + timedelta(seconds=self.random.uniform(0, YEAR.total_seconds()))

    def alert_rows(self, events: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        pick = self.random.random
        for number in range(1, self.alerts + 1):
            triggered = self.start + YEAR * (number / (self.alerts + 1))
            paged = pick() < 0.8
            acked = triggered + timedelta(seconds=self.random.expovariate(1 / 240)) \
                if paged and pick() < 0.75 else None
            by_source = acked is None and pick() < 0.33
            resolved = triggered + timedelta(minutes=self.random.uniform(5, 120))
            if paged:
                self.paged.append((number, triggered))
            events.append({"alert_id": number, "at": triggered, "kind": "triggered",
                           "actor": "integration:prom", "message": "", "data": {}})
            if acked:
                events.append({"alert_id": number, "at": acked, "kind": "acknowledged",
                               "actor": "user", "message": "", "data": {}})
            yield {
                "id": number, "integration": "prom", "dedup_key": f"k{number}",
                "status": "resolved", "title": f"alert {number}", "labels": {},
                "details": {}, "urgency": "high", "step": (1 if pick() < 0.125 else 0)
                if paged else -1, "pass_number": 0, "event_count": 1, "flapping": False,
                "triggered_at": triggered, "last_event_at": resolved,
                "acknowledged_at": acked, "first_acknowledged_at": acked,
                "resolved_at": resolved,
                "resolved_by": "integration:prom" if by_source else "user00",
                "not_actionable": pick() < 0.03,
            }

    def delivery_rows(self) -> Iterator[dict[str, Any]]:
        for alert_id, triggered in self.paged:
            sent = triggered + timedelta(seconds=2)
            yield {"alert_id": alert_id, "user_id": self.random.choice(USERS),
                   "channel": "sms", "address": "+15550100", "step": 1, "status": "sent",
                   "attempts": 1, "due_at": triggered, "idempotency_key": f"d{alert_id}",
                   "created_at": triggered, "finished_at": sent, "detail": "",
                   "first_due_at": triggered}

    def incident_rows(self, extra: dict[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        pick = self.random.random
        for number in range(1, self.incidents + 1):
            impact = self.instant()
            declared = impact + timedelta(minutes=self.random.uniform(0, 10))
            severity = self.random.choices(SEVERITIES, weights=(1, 3, 5, 3))[0]
            resolved = declared + timedelta(minutes=self.random.expovariate(1 / 90))
            is_open = resolved > END or pick() < 0.01
            services = self.random.sample(SERVICES, 1 if pick() < 0.8 else 2)
            alert_id, _at = self.paged[self.random.randrange(len(self.paged))]
            extra["links"].append({"incident_id": number, "alert_id": alert_id,
                                   "reason": "linked", "linked_at": declared,
                                   "linked_by": "user00"})
            for kind, at, actor in (("declared", declared, "user00"),
                                    ("note", declared + timedelta(minutes=4), "user01"),
                                    ("status", resolved, "user01")):
                extra["timeline"].append({"incident_id": number, "kind": kind, "text": kind,
                                          "actor": actor, "occurred_at": at,
                                          "recorded_at": at, "data": {}})
            if severity in ("SEV1", "SEV2") and services[0] in SERVICES[:5]:
                component = f"Component {services[0]}"
                extra["history"].append({"component": component, "at": impact,
                                         "status": "major_outage" if severity == "SEV1"
                                         else "partial_outage", "recorded_at": impact})
                if not is_open:
                    extra["history"].append({"component": component, "at": resolved,
                                             "status": "operational", "recorded_at": resolved})
            if not is_open and pick() < 0.33:
                self._postmortem(number, resolved, extra)
            yield {
                "id": number, "title": f"incident {number}", "severity": severity,
                "status": "investigating" if is_open else "resolved", "commander": "user01",
                "target_mttr_minutes": 60.0, "declared_at": declared, "declared_by": "user00",
                "impact_start": impact, "resolved_at": None if is_open else resolved,
                "private": False, "services": services, "mitigated_at": None,
            }

    def _postmortem(self, number: int, resolved: datetime,
                    extra: dict[str, list[dict[str, Any]]]) -> None:
        extra["postmortems"].append({
            "id": number, "incident_id": number, "status": "published", "title": "pm",
            "summary": "", "timeline": [], "root_cause": "",
            "root_cause_category": self.random.choice(CATEGORIES), "whys": [],
            "contributing_factors": "", "went_well": "", "went_badly": "", "lessons": "",
            "created_at": resolved, "created_by": "user01", "updated_at": resolved,
            "updated_by": "user01"})
        for item in range(2):
            done = self.random.random() < 0.7
            extra["actions"].append({
                "incident_id": number, "postmortem_id": number, "title": f"item {item}",
                "owner": self.random.choice(USERS), "priority": "P1",
                "due_date": (resolved + timedelta(days=14)).date(),
                "status": "done" if done else "planned", "created_at": resolved,
                "created_by": "user01", "updated_at": resolved,
                "completed_at": resolved + timedelta(days=3) if done else None})

    def survey_rows(self) -> Iterator[dict[str, Any]]:
        for user in USERS:
            end = self.start + timedelta(days=7)
            while end < END:
                yield {"user_id": user, "schedule": "primary", "shift_start": end - timedelta(7),
                       "shift_end": end, "due_at": end, "sent_at": end,
                       "score": self.random.randint(1, 5), "answered_at": end}
                end += timedelta(days=7)


def build(engine: Engine, alerts: int, incidents: int) -> dict[str, int]:
    year = Year(alerts, incidents)
    events: list[dict[str, Any]] = []
    counts = {"alerts": insert(engine, Alert.__table__, year.alert_rows(events))}
    counts["alert_events"] = insert(engine, AlertEvent.__table__, iter(events))
    events.clear()
    counts["deliveries"] = insert(engine, Delivery.__table__, year.delivery_rows())
    extra: dict[str, list[dict[str, Any]]] = {
        "links": [], "timeline": [], "history": [], "postmortems": [], "actions": []}
    counts["incidents"] = insert(engine, Incident.__table__, year.incident_rows(extra))
    for name, table in (("links", IncidentAlert.__table__), ("timeline", TimelineRow.__table__),
                        ("history", ComponentChange.__table__),
                        ("postmortems", Postmortem.__table__),
                        ("actions", ActionItem.__table__)):
        counts[name] = insert(engine, table, iter(extra[name]))
    counts["surveys"] = insert(engine, ShiftSurvey.__table__, year.survey_rows())
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return counts


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def measure(engine: Engine, config: Config, days: int) -> None:
    """The report over the last `days`: reading every row, then from the per-day rollups
    made by that first report (cold) and kept for the next (warm)."""
    sessions = make_sessionmaker(engine)
    until = END
    since = until - timedelta(days=days)
    with sessions() as session:
        for table in (AlertDay, PageDay, FirstPages, RepeatPage):
            session.execute(delete(table))
        session.commit()
        # One unmeasured run: the first read of a fresh database warms the page cache.
        build_report(session, config=config, since=since, until=until, now=until,
                     use_rollups=False)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    for name, use_rollups in (("every row", False), ("rollups, cold", True),
                              ("rollups, warm", True)):
        with sessions() as session:
            seconds, report = timed(partial(
                build_report, session, config=config, since=since, until=until, now=until,
                use_rollups=use_rollups))
        print(f"report over {days} days ({name}): {seconds:.3f} s "
              f"({report.alerts.total:,} alerts, {report.incidents:,} incidents; "
              f"load average {load})")
    # A day's rollups made again, as after a late change to it (the triggers forget it).
    day = (until - timedelta(days=2)).date()

    def forget_a_day(session: Session) -> None:
        for table in (AlertDay, PageDay):
            session.execute(delete(table).where(table.day == day))

    parts: list[tuple[str, Callable[[Any], Any]]] = [
        ("alert_figures", lambda s: queries.alert_figures(s, since, until)),
        ("first_pages", lambda s: queries.first_pages(s, since, until)),
        ("alert_figures rollups", lambda s: rollups.alert_figures(s, since, until, now=until)),
        ("first_pages rollups", lambda s: rollups.first_pages(s, since, until, now=until)),
        ("forget a day", forget_a_day),
        ("alert day made again", lambda s: rollups.alert_figures(s, since, until, now=until)),
        ("page day made again", lambda s: rollups.first_pages(s, since, until, now=until)),
        ("incidents_overlapping", lambda s: queries.incidents_overlapping(s, since, until)),
        ("first_responses", lambda s: queries.first_responses(s, since, until)),
        ("recorded_categories", lambda s: queries.recorded_categories(
            s, since - timedelta(days=days + 90), until)),
        ("action_figures", lambda s: queries.action_figures(s, since, until)),
        ("action_items", lambda s: queries.action_items(s, since, until, limit=20)),
        ("survey_figures", lambda s: queries.survey_figures(s, since, until)),
        ("component_histories", lambda s: queries.component_histories(
            s, [c.name for c in config.components], until)),
    ]
    with sessions() as session:
        for name, call in parts:
            began = time.perf_counter()
            call(session)
            print(f"  {name:<22} {(time.perf_counter() - began) * 1000:8.1f} ms")


def pg_database(admin_url: str, keep: str | None) -> tuple[str, Callable[[], None], bool]:
    """A database on that server: a new one dropped afterwards, or with `keep` the one of
    that name, made if missing and kept (the bool says whether it existed)."""
    name = keep or f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        existed = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                     {"name": name}).first() is not None
        if not existed:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    if keep:
        admin.dispose()
        return url, lambda: None, existed

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--db", help="a PostgreSQL server URL; a new database is made on it")
    parser.add_argument("--keep", metavar="FILE_OR_NAME",
                        help="build into FILE (SQLite) or the database of that name (with "
                             "--db) and keep it; reuse it if it exists")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "tocsin.yaml"
        config_path.write_text(config_text(), encoding="utf-8")
        config, _warnings = load_config(str(config_path))
        reuse = bool(options.keep) and Path(options.keep).exists()
        if options.db:
            url, cleanup, reuse = pg_database(options.db, options.keep)
        else:
            url, cleanup = f"sqlite:///{options.keep or f'{folder}/bench.db'}", lambda: None
        engine = make_engine(url)
        try:
            upgrade(engine)
            print(f"database: {engine.dialect.name}")
            if not reuse:
                seconds, counts = timed(lambda: build(engine, options.alerts,
                                                      options.incidents))
                rows = ", ".join(f"{name} {count:,}" for name, count in counts.items())
                print(f"built in {seconds:.1f} s: {rows}")
            for days in (30, 365):
                measure(engine, config, days)
        finally:
            engine.dispose()
            cleanup()


if __name__ == "__main__":
    main()
