"""Editing a rotation's participants never rewrites the recorded past.

`primary` hands over daily at 00:00 UTC: alice on Monday 2026-03-02, bob on
the 3rd, alice on the 4th. The clock starts at 2026-03-02 03:00; the
engine records final shifts once a minute from its first pass on.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.support.harness import Harness
from tests.support.scenarios import ONE_STEP, utc
from tocsin.cli.main import app
from tocsin.oncall import history_store, service


def reload_with(harness: Harness, old: str, new: str) -> None:
    text = harness.config_path.read_text(encoding="utf-8")
    assert old in text
    harness.config_path.write_text(text.replace(old, new, 1), encoding="utf-8")
    harness.runtime.config.reload()


def final(harness: Harness, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    schedule = harness.config.schedules["primary"]
    with harness.runtime.sessions() as session:
        return [(s.user, s.start) for s in service.final_shifts(session, schedule, start, end)]


def test_shifts_before_an_edit_are_unchanged_by_it(make_harness):
    harness = make_harness(ONE_STEP)
    harness.clock.set(utc(2))
    harness.runtime.engine.run_due()  # the first pass sets the watermark: history starts here
    harness.clock.set(utc(3, 12))
    harness.runtime.engine.run_due()
    before = final(harness, utc(2), utc(3, 12))

    reload_with(harness, "participants: [alice, bob]", "participants: [erin, carol]")
    harness.advance(1)

    assert before == [("alice", utc(2)), ("bob", utc(3))]
    assert final(harness, utc(2), utc(3, 12)) == before


def test_the_cli_answers_the_recorded_past_after_an_edit(make_harness, db_url):
    harness = make_harness(ONE_STEP)
    harness.clock.set(utc(2))
    harness.advance(1)
    harness.clock.set(utc(4, 12))
    harness.advance(1)
    reload_with(harness, "participants: [alice, bob]", "participants: [erin, carol]")

    result = CliRunner().invoke(app, [
        "shifts", "primary", "--from", "2026-03-02T06:00:00Z", "--to", "2026-03-04T00:00:00Z",
        "--config", str(harness.config_path), "--db", db_url, "--json"])

    assert result.exit_code == 0, result.stderr
    users = [s["user"] for s in json.loads(result.stdout)["shifts"]]
    assert users == ["alice", "bob"]


def test_after_a_reload_the_engine_pages_per_the_new_rotation(make_harness):
    harness = make_harness(ONE_STEP)
    harness.advance(1)
    harness.clock.set(utc(4, 3))
    reload_with(harness, "participants: [alice, bob]", "participants: [erin, carol]")
    harness.advance(1)

    harness.fire("after-edit")

    # The 4th is the third day from the anchor: erin, carol, erin.
    assert [user for _minute, user, _step in harness.paged()] == ["erin"]


def test_two_engines_recording_at_once_store_each_piece_once(make_harness):
    first = make_harness(ONE_STEP)
    second = Harness(first.config_path.parent, str(first.runtime.db.url.render_as_string(
        hide_password=False)), first.clock, first.config_path.read_text(encoding="utf-8"))
    try:
        first.advance(1)
        second.runtime.engine.run_due()
        first.clock.set(utc(3, 12))
        first.runtime.engine.run_due()
        second.runtime.engine.run_due()

        with first.runtime.sessions() as session:
            pieces = session.scalar(
                select(func.count()).select_from(history_store.RecordedShift)
                .where(history_store.RecordedShift.schedule == "primary"))
        assert pieces == 2  # alice to midnight, bob since
        assert final(first, utc(2, 6), utc(3, 6)) == [("alice", utc(2)), ("bob", utc(3))]
    finally:
        second.close()
