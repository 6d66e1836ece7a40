"""Recorded past shifts on both backends: what `service.final_shifts` reads
back once the recorder has run, and that edits never rewrite it.

The rotation: ann and ben take turns daily at 00:00 UTC from Monday
2026-03-02 (ann on the 2nd, ben on the 3rd, ann on the 4th, ...).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.config.model import Layer, Override, Schedule
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.oncall import history, history_store, service
from tocsin.oncall.rules import Shift, shifts

DAYS = Schedule(
    name="days", timezone="UTC",
    layers=(Layer(rotation="daily", participants=("ann", "ben"),
                  start_date=datetime(2026, 3, 2).date()),),
)


def utc(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def record(sessions: sessionmaker[Session], schedule: Schedule, now: datetime) -> int:
    with transaction(sessions) as session:
        return history.record(session, schedule=schedule, now=now)


def final(sessions: sessionmaker[Session], schedule: Schedule, start: datetime,
          end: datetime) -> list[tuple[str, datetime, datetime]]:
    with sessions() as session:
        return [(s.user, s.start, s.end)
                for s in service.final_shifts(session, schedule, start, end)]


def piece_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(history_store.RecordedShift)) or 0


def test_without_a_session_shifts_are_computed_from_the_file_alone():
    assert service.final_shifts(None, DAYS, utc(2), utc(5)) == shifts(DAYS, utc(2), utc(5))
    assert service.on_call(None, DAYS, utc(3, 5)) == [Shift("ben", utc(3), utc(4), "rotation")]


def test_the_first_run_only_sets_the_watermark(sessions):
    assert record(sessions, DAYS, utc(2, 3)) == 0

    with sessions() as session:
        mark = history_store.watermark(session, "days")
        assert mark is not None
        assert (mark.recorded_from, mark.recorded_until) == (utc(2, 3), utc(2, 3))
    assert piece_count(sessions) == 0


def test_recorded_pieces_read_back_as_whole_shifts(sessions):
    for hour in (3, 9, 15, 21):
        record(sessions, DAYS, utc(2, hour))
    record(sessions, DAYS, utc(3, 6))

    assert piece_count(sessions) == 5  # ann's day in four runs, then ann and ben
    expected = [("ann", utc(2), utc(3)), ("ben", utc(3), utc(4))]
    assert final(sessions, DAYS, utc(2, 10), utc(3, 1)) == expected
    assert final(sessions, DAYS, utc(3, 1), utc(3, 2)) == expected[1:]
    assert final(sessions, DAYS, utc(2, 4), utc(2, 5)) == expected[:1]
    assert final(sessions, DAYS, utc(1), utc(6)) == [
        ("ann", utc(2), utc(3)), ("ben", utc(3), utc(4)), ("ann", utc(4), utc(5)),
        ("ben", utc(5), utc(6)),
    ]


def test_a_one_person_rotation_still_hands_over_each_day(sessions):
    alone = replace(DAYS, layers=(replace(DAYS.layers[0], participants=("ann",)),))
    record(sessions, alone, utc(2, 3))
    record(sessions, alone, utc(4, 3))

    assert final(sessions, alone, utc(2, 12), utc(4, 12)) == [
        ("ann", utc(2), utc(3)), ("ann", utc(3), utc(4)), ("ann", utc(4), utc(5)),
    ]


def test_an_edit_does_not_change_recorded_shifts(sessions):
    record(sessions, DAYS, utc(2))
    record(sessions, DAYS, utc(3, 12))
    swapped = replace(DAYS, layers=(replace(DAYS.layers[0], participants=("cat", "ben")),))

    # The recorded time stays ann's and ben's; from the watermark on, the
    # edited rotation applies (cat on the 4th). Before the first watermark
    # nothing is recorded, so that time is computed like the future.
    assert final(sessions, swapped, utc(2, 1), utc(4, 1)) == [
        ("ann", utc(2), utc(3)), ("ben", utc(3), utc(4)), ("cat", utc(4), utc(5)),
    ]
    with sessions() as session:
        assert [s.user for s in service.on_call(session, swapped, utc(2, 5))] == ["ann"]
        assert [s.user for s in service.on_call(session, swapped, utc(4, 5))] == ["cat"]


def test_a_deleted_override_still_shows_where_it_was_recorded(sessions):
    cover = Override(user="cat", start=utc(2, 4), end=utc(2, 6), id="x")
    with_cover = replace(DAYS, overrides=(cover,))
    record(sessions, with_cover, utc(2, 3))
    record(sessions, with_cover, utc(2, 12))

    assert final(sessions, DAYS, utc(2, 1), utc(2, 12)) == [
        ("ann", utc(2), utc(2, 4)), ("cat", utc(2, 4), utc(2, 6)), ("ann", utc(2, 6), utc(3)),
    ]


def test_recording_the_same_instant_twice_stores_nothing_more(sessions):
    record(sessions, DAYS, utc(2, 3))
    first = record(sessions, DAYS, utc(3, 3))

    assert record(sessions, DAYS, utc(3, 3)) == 0
    assert piece_count(sessions) == first == 2


def test_two_recorders_at_once_do_not_duplicate_pieces(sessions):
    record(sessions, DAYS, utc(2, 3))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            record(sessions, DAYS, utc(4, 3))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert piece_count(sessions) == 3  # ann's rest of the 2nd, ben's 3rd, ann's 4th so far
    assert final(sessions, DAYS, utc(2, 1), utc(4, 1)) == [
        ("ann", utc(2), utc(3)), ("ben", utc(3), utc(4)), ("ann", utc(4), utc(5)),
    ]
