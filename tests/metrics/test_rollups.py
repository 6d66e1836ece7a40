"""The report from per-day rollups gives the figures of reading every alert and page,
whatever the window, and still after late changes to days already rolled up (the
triggers of migration 0027 forget those days), on both databases."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests.support.migrations import schema_differences
from tocsin.alerts.store import Alert
from tocsin.config.loader import load_config
from tocsin.config.model import Config
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.metrics import rollups
from tocsin.metrics.service import Report, build_report
from tocsin.metrics.store import AlertDay, FirstPages, PageDay, RepeatPage
from tocsin.notify.store import Delivery

START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 4
NOW = START + timedelta(days=DAYS, hours=5)  # the fifth day is still running
USERS = ("alice", "bob", "carol")
CONFIG = """timezone: UTC
users:
  - {id: alice, name: Alice, timezone: Europe/Berlin}
  - {id: bob, name: Bob, timezone: America/New_York}
  - {id: carol, name: Carol}
"""
MICROSECOND = timedelta(microseconds=1)


def _instants() -> st.SearchStrategy[datetime]:
    """Instants over the days, often on or next to a midnight."""
    midnights = [START + timedelta(days=n) for n in range(DAYS + 1)]
    near = st.sampled_from(midnights).flatmap(lambda m: st.sampled_from(
        [m - MICROSECOND, m, m + MICROSECOND, m + timedelta(hours=9)]))
    anywhere = st.integers(0, (NOW - START) // MICROSECOND - 1).map(
        lambda n: START + n * MICROSECOND)
    return st.one_of(near, anywhere)


@dataclass(frozen=True)
class AlertSpec:
    triggered: datetime
    step: int
    pass_number: int
    ack_after: timedelta | None
    resolved_by: str | None  # None: not resolved
    not_actionable: bool


@dataclass(frozen=True)
class PageSpec:
    alert: int  # index into the alerts
    user: str
    at: datetime
    status: str


ALERTS = st.builds(
    AlertSpec, triggered=_instants(), step=st.sampled_from([-1, 0, 1]),
    pass_number=st.sampled_from([0, 0, 1]),
    ack_after=st.one_of(st.none(), st.integers(0, 3 * 86400 * 10**6).map(
        lambda n: n * MICROSECOND)),
    resolved_by=st.sampled_from([None, "integration:prom", "alice"]),
    not_actionable=st.booleans())


def _pages(alerts: int) -> st.SearchStrategy[list[PageSpec]]:
    return st.lists(st.builds(PageSpec, alert=st.integers(0, alerts - 1),
                              user=st.sampled_from(USERS), at=_instants(),
                              status=st.sampled_from(["sent", "sent", "sent", "failed"])),
                    max_size=25)


def _window() -> st.SearchStrategy[tuple[datetime, datetime]]:
    return st.tuples(_instants(), _instants()).filter(lambda w: w[0] != w[1]).map(
        lambda w: (min(w), max(w)))


# Late changes: (kind, which row, an instant).
CHANGES = st.lists(st.tuples(
    st.sampled_from(["ack", "mark", "escalate", "resolve", "drop", "page", "unsend", "move",
                     "forget"]),
    st.integers(0, 1000), _instants(), st.sampled_from(USERS)), max_size=6)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "tocsin.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    loaded, _warnings = load_config(str(path))
    return loaded


_keys = itertools.count()


def _store(sessions: sessionmaker[Session], alerts: list[AlertSpec],
           pages: list[PageSpec]) -> None:
    with transaction(sessions) as session:
        for table in (Delivery, Alert, AlertDay, PageDay, FirstPages, RepeatPage):
            session.execute(delete(table))
        ids: list[int] = []
        for spec in alerts:
            # A resolve received for an alert never seen: resolved the instant it was made.
            unseen = spec.step == -1 and spec.resolved_by == "integration:prom"
            resolved = spec.triggered if unseen else spec.triggered + timedelta(hours=1)
            acked = None if spec.ack_after is None else spec.triggered + spec.ack_after
            alert = Alert(integration="prom", dedup_key=f"k{next(_keys)}", title="a",
                          status="resolved" if spec.resolved_by else "triggered",
                          triggered_at=spec.triggered, last_event_at=spec.triggered,
                          step=spec.step, pass_number=spec.pass_number,
                          first_acknowledged_at=acked, acknowledged_at=acked,
                          resolved_at=resolved if spec.resolved_by else None,
                          resolved_by=spec.resolved_by, not_actionable=spec.not_actionable)
            session.add(alert)
            session.flush()
            ids.append(alert.id)
        for page in pages:
            _page(session, ids[page.alert], page.user, page.at, page.status)


def _page(session: Session, alert_id: int, user: str, at: datetime, status: str) -> None:
    session.add(Delivery(alert_id=alert_id, user_id=user, channel="sms", address="x",
                         step=1, status=status, due_at=at, idempotency_key=f"d{next(_keys)}",
                         created_at=at, finished_at=at))


def _change(sessions: sessionmaker[Session], kind: str, pick: int, at: datetime,
            user: str) -> None:
    """One late change, as the product makes it: an UPDATE or INSERT of the row."""
    with transaction(sessions) as session:
        alert_ids = list(session.scalars(select(Alert.id).order_by(Alert.id)))
        page_ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        alert_id = alert_ids[pick % len(alert_ids)]
        alert = update(Alert).where(Alert.id == alert_id)
        if kind == "ack":
            session.execute(alert.values(first_acknowledged_at=at))
        elif kind == "mark":
            session.execute(alert.values(not_actionable=True))
        elif kind == "escalate":
            session.execute(alert.values(step=Alert.step + 1))
        elif kind == "resolve":
            session.execute(alert.values(status="resolved", resolved_at=at,
                                         resolved_by="integration:prom"))
        elif kind == "drop" and len(alert_ids) > 1:  # its pages go with it
            session.execute(delete(Alert).where(Alert.id == alert_id))
        elif kind == "page":
            _page(session, alert_id, user, at, "sent")
        elif page_ids and kind in ("unsend", "move", "forget"):
            page = update(Delivery).where(Delivery.id == page_ids[pick % len(page_ids)])
            if kind == "unsend":
                session.execute(page.values(status="failed"))
            elif kind == "move":
                session.execute(page.values(finished_at=at, status="sent"))
            else:
                session.execute(delete(Delivery).where(
                    Delivery.id == page_ids[pick % len(page_ids)]))


def _both(sessions: sessionmaker[Session], config: Config, window: tuple[datetime, datetime],
          ) -> tuple[Report, Report]:
    since, until = window
    with sessions() as session:
        rolled = build_report(session, config=config, since=since, until=until, now=NOW)
    with sessions() as session:
        raw = build_report(session, config=config, since=since, until=until, now=NOW,
                           use_rollups=False)
    return rolled, raw


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data(), alerts=st.lists(ALERTS, min_size=1, max_size=25),
       first=_window(), later=st.lists(_window(), min_size=1, max_size=2), changes=CHANGES)
def test_the_report_from_rollups_equals_the_report_from_every_row(
        sessions: sessionmaker[Session], config: Config, data: st.DataObject,
        alerts: list[AlertSpec], first: tuple[datetime, datetime],
        later: list[tuple[datetime, datetime]], changes: list[tuple[str, int, datetime, str]]):
    _store(sessions, alerts, data.draw(_pages(len(alerts))))

    rolled, raw = _both(sessions, config, first)
    assert rolled == raw
    for kind, pick, at, user in changes:
        _change(sessions, kind, pick, at, user)
    for window in [first, *later]:
        rolled, raw = _both(sessions, config, window)
        assert rolled == raw


def test_a_report_rolls_up_only_the_whole_days_that_have_ended(
        sessions: sessionmaker[Session], config: Config):
    alert = AlertSpec(START + timedelta(days=1, hours=2), 0, 0, timedelta(minutes=3), None,
                      False)
    _store(sessions, [alert], [PageSpec(0, "alice", alert.triggered, "sent")])
    with sessions() as session:
        report = build_report(session, config=config, since=START + timedelta(hours=6),
                              until=NOW, now=NOW)
    with sessions() as session:
        days = sorted(session.scalars(select(AlertDay.day)))
        paged = sorted(session.scalars(select(PageDay.day)))

    # 1, 2 and 3 March are whole and over; 28 Feb is cut by the window, 4 March running.
    whole = [(START + timedelta(days=n)).date() for n in (1, 2, 3)]
    assert (days, paged) == (whole, whole)
    assert (report.alerts.total, report.alerts.ack_median) == (1, timedelta(minutes=3))


def test_a_late_acknowledgement_forgets_only_its_day(
        sessions: sessionmaker[Session], config: Config):
    early, late = START + timedelta(hours=3), START + timedelta(days=2, hours=3)
    _store(sessions, [AlertSpec(early, 0, 0, None, None, False),
                      AlertSpec(late, 0, 0, None, None, False)], [])
    with sessions() as session:
        build_report(session, config=config, since=START, until=NOW, now=NOW)
    with transaction(sessions) as session:
        session.execute(update(Alert).where(Alert.triggered_at == early).values(
            first_acknowledged_at=early + timedelta(minutes=2)))
    with sessions() as session:
        kept = sorted(session.scalars(select(AlertDay.day)))
        report = build_report(session, config=config, since=START, until=NOW, now=NOW)
        count = session.scalar(select(func.count()).select_from(AlertDay))

    assert kept == [(START + timedelta(days=n)).date() for n in (1, 2, 3)]
    assert (report.alerts.acknowledged, report.alerts.ack_median) == (
        1, timedelta(minutes=2))
    assert count == DAYS


def test_the_rollup_tables_match_the_models(db_url: str):
    assert [d for d in schema_differences(db_url) if "report_" in repr(d)] == []


def test_the_triggers_that_forget_rollups_are_there_at_head(db_url: str):
    # A batch rebuild of alerts or deliveries on SQLite (a later migration) drops them.
    engine = make_engine(db_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = set(connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        else:
            found = set(connection.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    engine.dispose()

    assert {"report_alerts_written", "report_alerts_changed", "report_deliveries_written",
            "report_deliveries_changed"} <= found


# PostgreSQL only: on SQLite the report's transaction holds the write lock throughout.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_while_a_writer_holds_its_lock_the_report_reads_every_row_and_makes_no_rollup(
        sessions: sessionmaker[Session], config: Config, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture):
    monkeypatch.setattr(rollups, "LOCK_TRIES", 2)
    alert = AlertSpec(START + timedelta(days=1, hours=2), 0, 0, timedelta(minutes=3), None,
                      False)
    _store(sessions, [alert], [PageSpec(0, "alice", alert.triggered, "sent")])
    writer = sessions()
    writer.execute(update(Alert).values(title="being written"))  # holds its row lock open

    with sessions() as session:
        report = build_report(session, config=config, since=START, until=NOW, now=NOW)
        made = session.scalar(select(func.count()).select_from(AlertDay))
    writer.commit()  # it was never blocked: its transaction is still usable
    writer.close()

    assert (report.alerts.total, report.alerts.ack_median) == (1, timedelta(minutes=3))
    assert made == 0
    assert "report.rollups_skipped" in caplog.text


def test_late_changes_on_the_last_day_rolled_up_are_seen(
        sessions: sessionmaker[Session], config: Config):
    # Today's rows skip the triggers (nothing rolled up on or after their day); the last
    # day that is rolled up must not.
    last = START + timedelta(days=DAYS - 1, hours=3)
    _store(sessions, [AlertSpec(last, 0, 0, None, None, False)], [])
    with sessions() as session:
        build_report(session, config=config, since=START, until=NOW, now=NOW)
    with transaction(sessions) as session:
        session.execute(update(Alert).values(first_acknowledged_at=last + timedelta(minutes=4)))
        _page(session, session.scalar(select(Alert.id)), "bob", last, "sent")
    with sessions() as session:
        report = build_report(session, config=config, since=START, until=NOW, now=NOW)

    assert (report.alerts.acknowledged, report.alerts.ack_median) == (
        1, timedelta(minutes=4))
    assert [person.pages.total for person in report.people if person.user == "bob"] == [1]
