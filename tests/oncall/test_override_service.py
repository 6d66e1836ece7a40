"""The override service on both backends: validation, audit, listing, deletion,
and what `service.on_call` answers once an override is stored.

The rotation: ann and ben take turns daily at 00:00 UTC from Monday
2026-03-02 (ann on the 2nd, ben on the 3rd, ...). "Now" is 2026-03-02 03:00.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.audit import AuditEntry
from tocsin.config.loader import load_config
from tocsin.config.model import Config
from tocsin.db import make_engine, make_sessionmaker, transaction
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.oncall import overrides, service

CONFIG = """
timezone: UTC
users:
  - {id: ann, email: ann@example.test}
  - {id: ben, email: ben@example.test}
  - {id: cat, email: cat@example.test}
schedules:
  - name: days
    rotation: daily
    start_time: "00:00"
    start_date: 2026-03-02
    participants: [ann, ben]
  - name: other
    rotation: weekly
    start_date: 2026-03-02
    participants: [cat]
"""
NOW = datetime(2026, 3, 2, 3, tzinfo=UTC)


def utc(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "tocsin.yaml"
    path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    loaded, _warnings = load_config(path)
    return loaded


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def create(sessions: sessionmaker[Session], config: Config, **given: Any) -> int:
    fields: dict[str, Any] = {
        "schedule": "days", "user": "cat", "start": utc(2, 6), "end": utc(2, 12),
        "kind": "whole", "replaces": None, "actor": "alice", "surface": "cli", "now": NOW,
    }
    fields.update(given)
    with transaction(sessions) as session:
        return overrides.create_override(session, config=config, **fields).id


def delete(sessions: sessionmaker[Session], override_id: int, now: datetime = NOW) -> Any:
    with transaction(sessions) as session:
        return overrides.describe(overrides.delete_override(
            session, override_id=override_id, actor="bob", surface="api", now=now))


def on_call(sessions: sessionmaker[Session], config: Config, at: datetime) -> list[str]:
    with sessions() as session:
        return sorted(s.user for s in service.on_call(session, config.schedules["days"], at))


def audit_rows(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_creating_stores_the_override_with_an_audit_row_and_a_log_event(
    sessions, config, caplog
):
    caplog.set_level(logging.INFO, logger="tocsin.oncall.overrides")

    override_id = create(sessions, config, user="cat@example.test")

    (entry,) = audit_rows(sessions)
    assert (entry.actor, entry.surface, entry.action) == ("alice", "cli", "override.create")
    assert entry.object_type == "override"
    assert entry.object_id == str(override_id)
    assert entry.before == {}
    assert entry.after["user"] == "cat"  # the e-mail address resolved to the user id
    assert entry.after["start"] == "2026-03-02T06:00:00Z"
    (record,) = [r for r in caplog.records if r.getMessage() == "override.created"]
    assert record.tocsin_fields["override_id"] == override_id  # type: ignore[attr-defined]


@pytest.mark.parametrize(("given", "path"), [
    ({"schedule": "nights"}, "schedule"),
    ({"user": "zed"}, "user"),
    ({"end": utc(2, 6)}, "end"),  # not after start
    ({"end": utc(2, 5)}, "end"),  # before start
    ({"start": utc(2, 6), "end": utc(2, 6) + timedelta(days=367)}, "end"),
    ({"start": utc(1), "end": utc(2, 2)}, "end"),  # over before now: history
    ({"kind": "replace"}, "replaces"),
    ({"kind": "add", "replaces": "ann"}, "replaces"),
    ({"kind": "whole", "replaces": "ann"}, "replaces"),
    ({"kind": "replace", "replaces": "nobody"}, "replaces"),
    ({"kind": "replace", "replaces": "cat"}, "replaces"),  # cat is not in "days"
    ({"kind": "replace", "user": "ann", "replaces": "ann"}, "replaces"),
    ({"kind": "swap"}, "kind"),
])
def test_an_invalid_override_names_the_field_and_stores_nothing(sessions, config, given, path):
    with pytest.raises(InvalidInput) as raised:
        create(sessions, config, **given)

    assert [problem.path for problem in raised.value.fields] == [path]
    assert raised.value.fields[0].message
    assert audit_rows(sessions) == []
    with sessions() as session:
        assert overrides.list_overrides(session, include_past=True, now=NOW) == []


def test_every_problem_is_reported_at_once(sessions, config):
    with pytest.raises(InvalidInput) as raised:
        create(sessions, config, user="zed", kind="replace", end=utc(2, 5))

    assert sorted(p.path for p in raised.value.fields) == ["end", "replaces", "user"]


def test_a_whole_override_takes_the_schedule_for_its_range_only(sessions, config):
    create(sessions, config, user="cat", start=utc(2, 6), end=utc(2, 12))

    assert on_call(sessions, config, utc(2, 5)) == ["ann"]
    assert on_call(sessions, config, utc(2, 6)) == ["cat"]
    assert on_call(sessions, config, utc(2, 12)) == ["ann"]


def test_replace_applies_only_while_the_replaced_person_is_on_call(sessions, config):
    create(sessions, config, user="cat", kind="replace", replaces="ann@example.test",
           start=utc(2, 6), end=utc(4, 12))

    assert on_call(sessions, config, utc(2, 18)) == ["cat"]  # ann's day
    assert on_call(sessions, config, utc(3, 18)) == ["ben"]  # ben's day: unchanged
    assert on_call(sessions, config, utc(4, 6)) == ["cat"]  # ann's again
    with sessions() as session:
        found = service.final_shifts(session, config.schedules["days"], utc(2), utc(5))
    assert [(s.user, s.start, s.end) for s in found] == [
        ("ann", utc(2), utc(2, 6)), ("cat", utc(2, 6), utc(3)), ("ben", utc(3), utc(4)),
        ("cat", utc(4), utc(4, 12)), ("ann", utc(4, 12), utc(5)),
    ]


def test_add_puts_two_people_on_call_at_once(sessions, config):
    override_id = create(sessions, config, user="cat", kind="add")

    assert on_call(sessions, config, utc(2, 8)) == ["ann", "cat"]
    with sessions() as session:
        (added,) = [s for s in service.on_call(session, config.schedules["days"], utc(2, 8))
                    if s.user == "cat"]
    assert added.source == f"override:{override_id}"


def test_deleting_an_override_not_started_restores_the_rotation(sessions, config):
    override_id = create(sessions, config)

    shown = delete(sessions, override_id)

    assert shown["deleted_at"] == "2026-03-02T03:00:00Z"
    assert shown["deleted_by"] == "bob"
    assert on_call(sessions, config, utc(2, 8)) == ["ann"]
    _created, deleted = audit_rows(sessions)
    assert (deleted.action, deleted.actor, deleted.surface) == ("override.delete", "bob", "api")
    assert deleted.before["deleted_at"] is None
    assert deleted.after["deleted_at"] == "2026-03-02T03:00:00Z"
    with sessions() as session:
        assert overrides.list_overrides(session, include_past=True, now=NOW) == []


def test_deleting_twice_is_a_no_op(sessions, config):
    override_id = create(sessions, config)
    delete(sessions, override_id)

    again = delete(sessions, override_id, now=NOW + timedelta(hours=1))

    assert again["deleted_at"] == "2026-03-02T03:00:00Z"
    assert [row.action for row in audit_rows(sessions)] == ["override.create", "override.delete"]


def test_deleting_a_running_override_ends_it_now_and_keeps_what_was_served(sessions, config):
    override_id = create(sessions, config, start=utc(2, 6), end=utc(2, 12))

    shown = delete(sessions, override_id, now=utc(2, 8))

    assert (shown["end"], shown["deleted_at"]) == ("2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z")
    assert shown["deleted_by"] == "bob"
    assert on_call(sessions, config, utc(2, 7)) == ["cat"]  # history stays as it was
    assert on_call(sessions, config, utc(2, 8)) == ["ann"]
    with sessions() as session:
        # Still in force for the part it served, so listed without asking for deleted ones.
        listed = overrides.list_overrides(session, include_past=True, now=utc(2, 9))
    assert [row.id for row in listed] == [override_id]


def test_deleted_overrides_are_listed_only_when_asked_with_who_and_when(sessions, config):
    kept = create(sessions, config, start=utc(3), end=utc(3, 5))
    gone = create(sessions, config, start=utc(4), end=utc(4, 5))
    delete(sessions, gone, now=NOW + timedelta(minutes=5))

    with sessions() as session:
        default = overrides.list_overrides(session, now=NOW)
        everything = overrides.list_overrides(session, include_deleted=True, now=NOW)
        shown = [overrides.describe(row) for row in everything]

    assert [row.id for row in default] == [kept]
    assert [(item["id"], item["deleted_by"], item["deleted_at"]) for item in shown] == [
        (kept, None, None), (gone, "bob", "2026-03-02T03:05:00Z")]


def test_an_ended_override_cannot_be_deleted(sessions, config):
    override_id = create(sessions, config, start=utc(2, 6), end=utc(2, 12))

    with pytest.raises(Conflict):
        delete(sessions, override_id, now=utc(2, 12))


@pytest.mark.parametrize("override_id", [999, 0, -1, 2**40])
def test_deleting_an_unknown_override_is_not_found(sessions, override_id):
    with pytest.raises(NotFound):
        delete(sessions, override_id)


def test_listing_hides_ended_overrides_unless_asked_and_filters_by_schedule(sessions, config):
    early = create(sessions, config, start=utc(2, 4), end=utc(2, 5))
    late = create(sessions, config, start=utc(3), end=utc(3, 5))
    other = create(sessions, config, schedule="other", user="ann")
    later_now = utc(2, 6)

    with sessions() as session:
        current = overrides.list_overrides(session, now=later_now)
        everything = overrides.list_overrides(session, include_past=True, now=later_now)
        days_only = overrides.list_overrides(session, schedule="days", include_past=True,
                                             now=later_now)

    assert [row.id for row in current] == [other, late]
    assert [row.id for row in everything] == [early, other, late]
    assert [row.id for row in days_only] == [early, late]
