"""Stored maintenance windows on SQLite and PostgreSQL: rows, times, ending, deleting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts import maintenance
from tocsin.config.model import Config, MaintenanceWindow
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.errors import Conflict, InvalidInput, NotFound

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
CONFIG = Config(path="test.yaml", maintenance=(MaintenanceWindow(
    name="freeze", start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1),
    match={"env": "prod"}),))


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def create(sessions: sessionmaker[Session], start: datetime = NOW,
           end: datetime = NOW + timedelta(hours=2), **fields: object) -> int:
    values: dict[str, object] = {"services": ["payment"], "match": {}, "match_re": {},
                                 "reason": "upgrade", **fields}
    with transaction(sessions) as session:
        row = maintenance.create_window(session, start=start, end=end, actor="ann",
                                        surface="api", now=NOW, **values)  # type: ignore[arg-type]
        return row.id


def test_a_row_comes_back_whole_with_aware_utc_times(sessions):
    window_id = create(sessions, match={"env": "prod", "note": "ünïcode ✓"},
                       match_re={"host": "db-[0-9]+"}, services=["payment", "payment"])

    with sessions() as session:
        row = maintenance.get_window(session, window_id)

    assert row.start_at == NOW and row.start_at.tzinfo is not None
    assert row.services == ["payment"]  # once each
    assert row.match == {"env": "prod", "note": "ünïcode ✓"}
    assert row.match_re == {"host": "db-[0-9]+"}
    assert (row.created_by, row.surface, row.reason) == ("ann", "api", "upgrade")


def test_windows_in_force_at_an_instant_include_the_files(sessions):
    inside = create(sessions)
    create(sessions, start=NOW + timedelta(hours=1), end=NOW + timedelta(hours=3))

    with sessions() as session:
        found = maintenance.windows_at(session, config=CONFIG, at=NOW)
        at_end = maintenance.windows_at(session, config=CONFIG, at=NOW + timedelta(hours=2))

    assert [w.key for w in found] == ["config:freeze", str(inside)]
    assert [w.key for w in at_end] == [str(inside + 1)]


def test_ending_early_moves_the_effective_end_and_keeps_the_plan(sessions):
    window_id = create(sessions)
    later = NOW + timedelta(minutes=30)

    with transaction(sessions) as session:
        maintenance.end_window(session, window=window_id, actor="ben", surface="cli", now=later)
    with sessions() as session:
        row = maintenance.get_window(session, window_id)
        found = maintenance.windows_at(session, config=Config(path="x"), at=later)

    assert (row.end_at, row.ended_at, row.ended_by) == (NOW + timedelta(hours=2), later, "ben")
    assert row.effective_end == later
    assert found == []


def test_a_window_made_in_the_session_is_seen_by_the_next_question(sessions):
    with transaction(sessions) as session:
        assert maintenance.windows_at(session, config=Config(path="x"), at=NOW) == []
        maintenance.create_window(session, services=["payment"], match={}, match_re={},
                                  start=NOW, end=NOW + timedelta(hours=1), reason="r",
                                  actor="ann", surface="api", now=NOW)

        assert len(maintenance.windows_at(session, config=Config(path="x"), at=NOW)) == 1


def test_listing_leaves_out_what_is_over_or_deleted_unless_asked(sessions):
    over = create(sessions, start=NOW - timedelta(hours=2), end=NOW + timedelta(minutes=1))
    gone = create(sessions, start=NOW + timedelta(hours=1))
    kept = create(sessions, start=NOW + timedelta(minutes=30))
    with transaction(sessions) as session:
        maintenance.delete_window(session, window=gone, actor="ann", surface="api", now=NOW)
    later = NOW + timedelta(minutes=5)

    with sessions() as session:
        current = maintenance.list_windows(session, config=CONFIG, include_all=False, now=later)
        everything = maintenance.list_windows(session, config=CONFIG, include_all=True,
                                              now=later)

    assert [w["id"] for w in current] == ["config:freeze", kept]
    assert [(w["id"], w["status"]) for w in everything] == [
        (over, "ended"), ("config:freeze", "in_force"), (kept, "scheduled"),
        (gone, "cancelled")]


def test_ending_and_deleting_follow_the_rules(sessions):
    over = create(sessions, end=NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=20)

    with transaction(sessions) as session:
        ended = maintenance.end_window(session, window=over, actor="ben", surface="api",
                                       now=later)
        assert ended.ended_at is None  # already over: nothing to end
        with pytest.raises(Conflict):
            maintenance.delete_window(session, window=over, actor="ben", surface="api",
                                      now=later)
    with sessions() as session, pytest.raises(NotFound):
        maintenance.get_window(session, 2**40)
    with pytest.raises(Conflict):
        maintenance.window_id("config:freeze")
    with pytest.raises(NotFound):
        maintenance.window_id("#3")


def test_every_problem_is_named_at_once(sessions):
    with transaction(sessions) as session, pytest.raises(InvalidInput) as caught:
        maintenance.create_window(
            session, services=[""], match={"": "x", "env": "a" * 2000},
            match_re={"host": "db-("}, start=NOW, end=NOW - timedelta(minutes=1),
            reason="", actor="ann", surface="api", now=NOW)

    assert [f.path for f in caught.value.fields] == [
        "services[0]", "match", "match.env", "match_re.host", "reason", "end"]
