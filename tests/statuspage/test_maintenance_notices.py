"""Subscribers hear of maintenance: scheduled, started, completed; once each."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.statuspage.conftest import CONFIG, NOW, window, with_windows
from tests.support.server import wait_until
from tocsin.alerts import maintenance
from tocsin.clock import FakeClock
from tocsin.config.model import Config
from tocsin.db import transaction
from tocsin.engine.status_notices import StatusNotices
from tocsin.statuspage import maintenance_notices as notices
from tocsin.statuspage import subscribers
from tocsin.statuspage import subscribers_store as db

MINUTE = timedelta(minutes=1)


def subscribe(sessions: sessionmaker[Session], email: str, components: list[str] | None = None
              ) -> int:
    with transaction(sessions) as session:
        row = subscribers.subscribe(session, config=CONFIG, now=NOW, email=email,
                                    components=components)
        subscribers.confirm(session, row.id, now=NOW)
        return row.id


def store_window(sessions: sessionmaker[Session], services: list[str], start: timedelta,
                 end: timedelta, *, at: datetime = NOW, match: dict[str, str] | None = None
                 ) -> int:
    with transaction(sessions) as session:
        row = maintenance.create_window(session, services=services, match=match or {},
                                        match_re={},
                                        start=NOW + start, end=NOW + end,
                                        reason="Database upgrade", actor="ann", surface="api",
                                        now=at)
        return row.id


def pass_at(sessions: sessionmaker[Session], at: datetime, config: Config = CONFIG
            ) -> list[tuple[int, str | None]]:
    """One fan-out at `at`: (subscriber, notice) for each maintenance notice it queued."""
    with transaction(sessions) as session:
        before = set(session.scalars(select(db.StatusNotice.id)))
        notices.fan_out(session, config=config, now=at)
        rows = session.scalars(select(db.StatusNotice).where(
            db.StatusNotice.kind == db.MAINTENANCE).order_by(db.StatusNotice.id))
        return [(row.subscriber_id, notices.notice_of(row.update_id or 0))
                for row in rows if row.id not in before]


def next_due(sessions: sessionmaker[Session], at: datetime, config: Config = CONFIG
             ) -> datetime | None:
    with sessions() as session:
        return notices.next_due(session, config=config, now=at)


def test_a_stored_window_is_told_when_scheduled_started_and_completed_once_each(
    sessions: sessionmaker[Session]
) -> None:
    everything = subscribe(sessions, "a@example.com")
    api = subscribe(sessions, "b@example.com", ["API"])
    subscribe(sessions, "c@example.com", ["Web"])  # Web has no service: never in maintenance
    store_window(sessions, ["payment"], timedelta(hours=1), timedelta(hours=2))

    assert next_due(sessions, NOW) == NOW  # owed now: a pass must not sleep over it
    assert pass_at(sessions, NOW) == [(everything, "scheduled"), (api, "scheduled")]
    assert pass_at(sessions, NOW + MINUTE) == []
    assert next_due(sessions, NOW + MINUTE) == NOW + timedelta(hours=1)

    start = NOW + timedelta(hours=1)
    assert pass_at(sessions, start) == [(everything, "in_progress"), (api, "in_progress")]
    assert pass_at(sessions, start + MINUTE) == []
    assert next_due(sessions, start + MINUTE) == NOW + timedelta(hours=2)

    end = NOW + timedelta(hours=2)
    assert pass_at(sessions, end) == [(everything, "completed"), (api, "completed")]
    assert pass_at(sessions, end + timedelta(hours=3)) == []
    assert next_due(sessions, end + MINUTE) is None


def test_a_window_on_internal_components_or_labels_only_is_not_told(
    sessions: sessionmaker[Session]
) -> None:
    subscribe(sessions, "a@example.com")
    store_window(sessions, ["billing"], timedelta(hours=1), timedelta(hours=2))  # internal
    store_window(sessions, [], timedelta(hours=1), timedelta(hours=2), match={"team": "db"})

    assert pass_at(sessions, NOW) == []
    assert pass_at(sessions, NOW + timedelta(hours=1)) == []
    assert next_due(sessions, NOW) is None


def test_a_window_made_running_starts_without_a_schedule_notice_and_a_missed_one_is_silent(
    sessions: sessionmaker[Session]
) -> None:
    who = subscribe(sessions, "a@example.com")
    store_window(sessions, ["payment"], timedelta(0), timedelta(hours=1))
    # Recorded after the fact: it started and ended before anyone could be told.
    store_window(sessions, ["checkout"], -timedelta(hours=3), -timedelta(hours=2),
                 at=NOW - timedelta(hours=4))

    assert pass_at(sessions, NOW) == [(who, "in_progress")]
    assert pass_at(sessions, NOW + timedelta(hours=1)) == [(who, "completed")]


def test_an_engine_down_for_the_whole_window_still_says_it_completed(
    sessions: sessionmaker[Session]
) -> None:
    who = subscribe(sessions, "a@example.com")
    store_window(sessions, ["payment"], timedelta(hours=1), timedelta(hours=2))
    assert pass_at(sessions, NOW) == [(who, "scheduled")]

    assert pass_at(sessions, NOW + timedelta(hours=5)) == [(who, "completed")]


def test_a_window_ended_early_completes_then_and_a_cancelled_one_sends_nothing_more(
    sessions: sessionmaker[Session]
) -> None:
    who = subscribe(sessions, "a@example.com")
    early = store_window(sessions, ["payment"], timedelta(0), timedelta(hours=2))
    cancelled = store_window(sessions, ["checkout"], timedelta(hours=1), timedelta(hours=2))
    assert sorted(pass_at(sessions, NOW)) == [(who, "in_progress"), (who, "scheduled")]

    with transaction(sessions) as session:
        maintenance.end_window(session, window=early, actor="ann", surface="api",
                               now=NOW + timedelta(minutes=30))
        maintenance.end_window(session, window=cancelled, actor="ann", surface="api",
                               now=NOW + timedelta(minutes=30))

    assert pass_at(sessions, NOW + timedelta(minutes=30)) == [(who, "completed")]
    assert pass_at(sessions, NOW + timedelta(hours=3)) == []


def test_a_file_window_is_told_by_its_name_and_verifying_delays_completed(
    sessions: sessionmaker[Session]
) -> None:
    who = subscribe(sessions, "a@example.com")
    config = with_windows(window("db-upgrade", ("checkout",), timedelta(hours=1),
                                 timedelta(hours=2)))
    config = replace(config, status_page=replace(config.status_page, verifying_minutes=30))
    end = NOW + timedelta(hours=2)

    assert pass_at(sessions, NOW, config) == [(who, "scheduled")]
    assert pass_at(sessions, NOW + timedelta(hours=1), config) == [(who, "in_progress")]
    assert pass_at(sessions, end, config) == []  # verifying: not completed yet
    assert next_due(sessions, end, config) == end + timedelta(minutes=30)
    assert pass_at(sessions, end + timedelta(minutes=30), config) == [(who, "completed")]
    with sessions() as session:
        found = notices.find(session, config=config,
                             number=notices.notice_number("config:db-upgrade", "completed"),
                             now=end + timedelta(minutes=30))
    assert found is not None and [c.name for c in found.components] == ["Checkout"]


def test_notice_numbers_never_meet_an_update_id_nor_each_other() -> None:
    numbers = {notices.notice_number(key, notice)
               for key in ("1", "2", "268435455", "config:a", "config:b")
               for notice in ("scheduled", "in_progress", "completed")}
    assert len(numbers) == 15
    assert all(-(2**31) <= number < 0 for number in numbers)  # fits a 32-bit column
    assert notices.notice_of(notices.notice_number("7", "in_progress")) == "in_progress"
    assert notices.notice_of(7) is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # one engine on SQLite
def test_two_engines_fanning_out_at_once_queue_each_notice_once(
    sessions: sessionmaker[Session]
) -> None:
    who = subscribe(sessions, "a@example.com")
    store_window(sessions, ["payment"], timedelta(hours=1), timedelta(hours=2))
    first = sessions()
    assert notices.fan_out(first, config=CONFIG, now=NOW) == 1  # queued, not committed yet
    second = StatusNotices(sessions=sessions, config=lambda: CONFIG, clock=FakeClock(NOW),
                           notifiers=dict, lease=timedelta(minutes=1), rng=random.Random(7))
    finished: list[int] = []
    worker = threading.Thread(target=lambda: finished.append(second.run_due()))
    worker.start()
    # The second engine read no mark, so it writes the same one and waits on the first.
    wait_until(lambda: waiting_on_a_lock(sessions), timeout=10,
               message="the second engine to wait for the first one's mark")
    first.commit()
    first.close()
    worker.join(10)

    assert len(finished) == 1  # the losing engine's pass ended normally, not with an error
    with sessions() as session:
        rows = list(session.scalars(select(db.StatusNotice).where(
            db.StatusNotice.kind == db.MAINTENANCE)))
    assert [(row.subscriber_id, notices.notice_of(row.update_id or 0)) for row in rows] == [
        (who, "scheduled")]


def waiting_on_a_lock(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return bool(session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")))
