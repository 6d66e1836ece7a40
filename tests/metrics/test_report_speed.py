"""The report's speed-ups, on both databases: the first acknowledgement kept on the alert
(migration 0026 fills it from the timeline), and first pages read as the driver's rows,
exact to the microsecond at a working-hours edge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.harness import Harness
from tests.support.migrations import downgraded, schema_differences, upgrade_to_head
from tocsin.alerts import actions
from tocsin.alerts.store import Alert, AlertEvent
from tocsin.clock import FakeClock
from tocsin.config.loader import load_config
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.metrics import queries
from tocsin.metrics.service import build_report
from tocsin.notify.store import Delivery

MIN = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _alert(session: Session, number: int, triggered: datetime) -> Alert:
    alert = Alert(integration="prom", dedup_key=f"key-{number}", title=f"alert {number}",
                  status="triggered", triggered_at=triggered, last_event_at=triggered,
                  step=0, pass_number=0)
    session.add(alert)
    session.flush()
    return alert


# --- The first acknowledgement -------------------------------------------------------


def test_migration_0026_fills_the_first_acknowledgement_from_the_timeline(
        db_url: str, sessions: sessionmaker[Session]):
    with transaction(sessions) as session:
        # Acknowledged, unacknowledged, acknowledged again: the first time is the one.
        twice = _alert(session, 1, at("2026-03-02 10:00"))
        for kind, when in (("acknowledged", "10:04"), ("unacknowledged", "10:06"),
                           ("acknowledged", "10:30")):
            session.add(AlertEvent(alert_id=twice.id, at=at(f"2026-03-02 {when}"), kind=kind))
        never = _alert(session, 2, at("2026-03-02 11:00"))
        session.add(AlertEvent(alert_id=never.id, at=at("2026-03-02 11:00"), kind="triggered"))
        ids = (twice.id, never.id)
    mine = [d for d in schema_differences(db_url) if "first_acknowledged_at" in repr(d)]

    with downgraded(db_url, "0025") as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("alerts")}
        upgrade_to_head(connection)

    with sessions() as session:
        found = {a.id: a.first_acknowledged_at for a in session.scalars(select(Alert))}
    assert mine == []
    assert "first_acknowledged_at" not in columns
    assert [found[i] for i in ids] == [at("2026-03-02 10:04"), None]


HARNESS_CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, contacts: {webhook: "http://hooks.test/alice"}}
escalation_policies:
  - name: critical
    steps:
      - {targets: [alice], timeout_minutes: 5}
routes:
  - {notify: critical}
integrations:
  - {name: prom, type: generic, key: generic-key-9a8b7c6d}
notifications:
  webhook: {secret: report-speed-webhook-secret}
"""


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, db_url, clock, HARNESS_CONFIG)
    yield made
    made.close()


def test_the_first_acknowledgement_stays_through_unacknowledge_and_a_second_ack(
        harness: Harness):
    alert_id = harness.fire("disk")
    assert alert_id is not None
    harness.advance(2)
    harness.ack(alert_id)  # 03:02
    harness.advance(3)
    with transaction(harness.runtime.sessions) as session:
        actions.unacknowledge(session, config=harness.config, alert_id=alert_id,
                              actor="alice", surface="api", now=harness.clock.now())
    harness.advance(4)
    harness.ack(alert_id)  # 03:09

    alert = harness.alert(alert_id)
    assert (alert.first_acknowledged_at, alert.acknowledged_at) == (
        at("2026-03-02 03:02"), at("2026-03-02 03:09"))


# --- First pages --------------------------------------------------------------------

CONFIG = """
timezone: UTC
users:
  - {id: alice, name: Alice, timezone: Europe/Berlin}
"""


def test_a_page_half_a_millisecond_before_eight_is_still_off_hours(
        sessions: sessionmaker[Session], tmp_path: Path):
    config_path = tmp_path / "tocsin.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config, _warnings = load_config(str(config_path))
    eight = at("2026-03-02 07:00")  # Monday 08:00 in Berlin (UTC+1): business opens
    with transaction(sessions) as session:
        sent = [eight - timedelta(microseconds=500), eight, eight + timedelta(seconds=1)]
        for number, when in enumerate(sent):
            alert = _alert(session, number, when - MIN)
            # The first two also went out by a second channel later: still one page each.
            finishes = [when, when + 90 * SECOND] if number < 2 else [when]
            for extra, finished in enumerate(finishes):
                session.add(Delivery(alert_id=alert.id, user_id="alice", channel="sms",
                                     address="x", step=1, status="sent", due_at=when,
                                     idempotency_key=f"p{number}-{extra}", created_at=when,
                                     finished_at=finished))
    since, until = at("2026-03-01"), at("2026-03-08")
    with sessions() as session:
        pages = queries.first_pages(session, since, until)
        report = build_report(session, config=config, since=since, until=until, now=until)

    assert pages == {"alice": [t.timestamp() for t in sent]}
    (alice,) = report.people
    # SQLite's strftime would round 07:59:59.9995 up to 08:00:00: it must not.
    assert (alice.pages.total, alice.pages.business, alice.pages.off, alice.pages.sleep) == (
        3, 2, 1, 1)


def _sent(session: Session, alert: Alert, user: str, finished: datetime, key: str,
          status: str = "sent") -> None:
    session.add(Delivery(alert_id=alert.id, user_id=user, channel="sms", address="x", step=1,
                         status=status, due_at=finished, idempotency_key=key,
                         created_at=finished, finished_at=finished))


def test_each_alert_counts_at_its_earliest_page_in_the_window_whatever_the_row_order(
        sessions: sessionmaker[Session]):
    since, until = at("2026-03-02 00:00"), at("2026-03-03 00:00")
    with transaction(sessions) as session:
        disk = _alert(session, 1, at("2026-03-02 10:00"))
        # Written in this order: the later page first (a retry recorded before the
        # first channel's answer), then the earlier one; a failed try before both.
        _sent(session, disk, "alice", at("2026-03-02 10:05"), "a-late")
        _sent(session, disk, "alice", at("2026-03-02 10:01"), "a-early")
        _sent(session, disk, "alice", at("2026-03-02 09:59"), "a-failed", status="failed")
        _sent(session, disk, "bob", at("2026-03-02 10:03"), "b")
        # Paged before the window and again inside it: the page inside counts.
        night = _alert(session, 2, at("2026-03-01 23:50"))
        _sent(session, night, "alice", at("2026-03-01 23:55"), "n-before")
        _sent(session, night, "alice", at("2026-03-02 00:10"), "n-inside")
        # Inside the window only at `until`: not in it.
        _sent(session, _alert(session, 3, at("2026-03-02 23:59")), "bob", until, "edge")
    with sessions() as session:
        pages = queries.first_pages(session, since, until)

    assert pages == {"alice": [at("2026-03-02 00:10").timestamp(),
                               at("2026-03-02 10:01").timestamp()],
                     "bob": [at("2026-03-02 10:03").timestamp()]}


@pytest.mark.parametrize(("acknowledged", "median", "p90"), [(10, 5, 9), (11, 6, 10)])
def test_ack_median_and_p90_are_the_nearest_ranks(
        sessions: sessionmaker[Session], acknowledged: int, median: int, p90: int):
    triggered = at("2026-03-02 10:00")
    with transaction(sessions) as session:
        # Written largest first, so the ranks come from sorting, not from row order.
        for minutes in range(acknowledged, 0, -1):
            alert = _alert(session, minutes, triggered)
            alert.first_acknowledged_at = triggered + minutes * MIN
    with sessions() as session:
        figures = queries.alert_figures(session, at("2026-03-02"), at("2026-03-03"))

    mean = sum(range(1, acknowledged + 1)) / acknowledged
    assert (figures.acknowledged, figures.ack_mean, figures.ack_median, figures.ack_p90) == (
        acknowledged, timedelta(minutes=mean), median * MIN, p90 * MIN)
