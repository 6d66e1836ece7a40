"""Routes with `continue`: one alert pages several policies, each on its own timing.

The clock starts Monday 2026-03-02 03:00 UTC; `primary` has alice on call,
`secondary` carol. A payment alert takes the payments route, which
continues; a critical one is taken by the leadership route too. (A catch-all
after the payments route would take every payment alert too, so there is none.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from tests.conftest import PG_ADMIN_URL
from tests.support.harness import Harness
from tocsin.alerts.views import alert_detail
from tocsin.db import make_engine
from tocsin.escalation.store import PENDING, Timer
from tocsin.migrate import alembic_config
from tocsin.models import Base

TWO_POLICIES = """
escalation_policies:
  - name: payments
    ack_timeout_minutes: 30
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 0}
  - name: leadership
    steps:
      - {targets: [erin], timeout_minutes: 10}
      - {targets: [dave], timeout_minutes: 0}
  - name: critical
    steps:
      - {targets: [bob], timeout_minutes: 0}
routes:
  - match: {service: payment}
    notify: payments
    continue: true
  - match: {severity: critical}
    notify: leadership
"""


def pages(harness: Harness) -> list[tuple[float, str, int]]:
    # Two chains paging in the same minute may be sent in either order.
    return sorted(harness.paged())


def pending_timers(harness: Harness, alert_id: int) -> list[Timer]:
    with harness.runtime.sessions() as session:
        return list(session.scalars(select(Timer).where(
            Timer.alert_id == alert_id, Timer.state == PENDING)))


def test_two_routes_page_two_policies_each_on_its_own_timing(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("api-500s", severity="critical")

    harness.advance(30)

    assert pages(harness) == [
        (0, "alice", 1), (0, "erin", 1), (5, "carol", 2), (10, "dave", 2)]
    alert = harness.alert(alert_id)
    assert alert.policy == "payments"  # the first route's
    timeline = "\n".join(harness.timeline(alert_id))
    assert ("routes[1] matched too (matched severity=critical), as the walk continued; "
            "policy leadership escalates beside payments") in timeline
    assert "payments, step 2 of 2: paging Carol" in timeline
    assert "leadership, step 2 of 2: paging Dave" in timeline


def test_an_alert_the_later_route_does_not_match_pages_one_policy(make_harness):
    harness = make_harness(TWO_POLICIES)
    harness.fire("slow-checkout", severity="warning")

    harness.advance(30)

    assert pages(harness) == [(0, "alice", 1), (5, "carol", 2)]


def test_an_ack_stops_both_policies(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("api-500s", severity="critical")
    harness.advance(2)

    harness.ack(alert_id, actor="alice")
    harness.advance(29)

    assert pages(harness) == [(0, "alice", 1), (0, "erin", 1)]
    assert [timer.kind for timer in pending_timers(harness, alert_id)] == ["ack_lapse"]


def test_a_resolve_stops_both_policies(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("api-500s", severity="critical")
    harness.advance(6)

    harness.resolve(alert_id)
    harness.advance(60)

    assert pages(harness) == [(0, "alice", 1), (0, "erin", 1), (5, "carol", 2)]
    assert pending_timers(harness, alert_id) == []


def test_a_lapsed_ack_restarts_every_policy_from_the_step_it_reached(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("api-500s", severity="critical")
    harness.advance(6)  # payments reached step 2 (carol), leadership is on step 1 (erin)
    harness.ack(alert_id, actor="carol")

    harness.advance(40)  # payments' ack_timeout_minutes: 30, so it lapses at minute 36

    assert pages(harness) == [
        (0, "alice", 1), (0, "erin", 1), (5, "carol", 2),
        (36, "carol", 2), (36, "erin", 1), (46, "dave", 2)]
    assert any("lapsed; re-triggered; further policies restart too: leadership" in line
               for line in harness.timeline(alert_id))


def test_the_same_policy_twice_pages_once(make_harness):
    harness = make_harness(TWO_POLICIES.replace("notify: leadership", "notify: payments"))
    alert_id = harness.fire("api-500s", severity="critical")

    harness.advance(30)

    assert pages(harness) == [(0, "alice", 1), (5, "carol", 2)]
    with harness.runtime.sessions() as session:
        assert alert_detail(session, harness.alert(alert_id))["also"] == []


def test_a_raised_severity_starts_the_policy_its_new_route_adds(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("latency", severity="warning")
    harness.advance(2)

    harness.fire("latency", severity="critical")
    harness.advance(20)

    assert pages(harness) == [
        (0, "alice", 1), (2, "erin", 1), (5, "carol", 2), (12, "dave", 2)]
    assert any(line.startswith("rerouted: routes[1] matched too") for line in
               harness.timeline(alert_id))


def test_a_lowered_severity_stops_the_policy_no_route_adds_any_more(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("latency", severity="critical")
    harness.advance(3)

    harness.fire("latency", severity="warning")
    harness.advance(20)

    # payments carries on; leadership's step 2 (due at minute 10) never runs.
    assert pages(harness) == [(0, "alice", 1), (0, "erin", 1), (5, "carol", 2)]
    assert ("rerouted: no route adds policy leadership any more; its escalation stops"
            in harness.timeline(alert_id))
    with harness.runtime.sessions() as session:
        [chain] = alert_detail(session, harness.alert(alert_id))["also"]
    assert (chain["policy"], chain["step"], chain["stopped_at"]) == (
        "leadership", 1, "2026-03-02T03:03:00Z")


def test_a_maintenance_window_holds_each_policy_and_releases_each(make_harness):
    harness = make_harness(TWO_POLICIES + """
maintenance:
  - {name: db-upgrade, services: [payment], start: 2026-03-02T03:03, end: 2026-03-02T03:20}
""")
    alert_id = harness.fire("api-500s", severity="critical")

    harness.advance(40)

    # Steps due at 5 (payments) and 10 (leadership) wait for the window's end.
    assert pages(harness) == [
        (0, "alice", 1), (0, "erin", 1), (20, "carol", 2), (20, "dave", 2)]
    timeline = harness.timeline(alert_id)
    assert any(line.startswith("silenced: step 2 held: silenced by maintenance db-upgrade")
               for line in timeline)
    assert any(line.startswith("silenced: step 2 of leadership held: silenced by maintenance")
               for line in timeline)


def test_the_api_view_lists_the_further_policy_and_its_step(make_harness):
    harness = make_harness(TWO_POLICIES)
    alert_id = harness.fire("api-500s", severity="critical")
    harness.advance(11)

    with harness.runtime.sessions() as session:
        detail = alert_detail(session, harness.alert(alert_id))

    assert (detail["policy"], detail["step"]) == ("payments", 2)
    assert [(c["policy"], c["step"], c["stopped_at"]) for c in detail["also"]] == [
        ("leadership", 2, None)]
    assert detail["also"][0]["route"].startswith("routes[1] (line ")


def test_the_migrated_tables_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    def mine(diff: object) -> bool:
        said = repr(diff)
        return "escalation_chains" in said or (
            "Column('policy'" in said and ("'timers'" in said or "'maintenance_holds'" in said))

    assert [diff for diff in found if mine(diff)] == []


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for walking the migrations by hand."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'walk.db'}"
        return
    request.getfixturevalue("pg_database")  # skips (or fails in CI) without PostgreSQL
    name = f"tocsin_walk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migration_0012_upgrades_and_downgrades(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    config = alembic_config()

    def walk(target: str, down: bool = False) -> set[str]:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, target)
            connection.commit()
            found = inspect(connection)
            columns = {f"timers.{c['name']}" for c in found.get_columns("timers")}
            columns |= {f"maintenance_holds.{c['name']}"
                        for c in found.get_columns("maintenance_holds")}
            return columns | set(found.get_table_names())

    try:
        before = walk("0011")
        after = walk("0012")
        back = walk("0011", down=True)
    finally:
        engine.dispose()

    added = {"timers.policy", "maintenance_holds.policy", "escalation_chains"}
    assert added & before == set()
    assert added <= after
    assert back == before
