"""Heartbeats: a missed ping raises one alert that pages, the next ping resolves it.

The clock starts at 03:00 UTC on Monday 2026-03-02; alice holds `primary`
that day and carol `secondary`. The `backup` heartbeat expects a ping every
10 minutes with 2 minutes of grace, so it is missed 12 minutes after its
last ping, or 12 minutes after the engine started watching it.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.support.harness import Harness
from tocsin.alerts.heartbeats import PingResult
from tocsin.alerts.store import Alert
from tocsin.engine import heartbeats
from tocsin.engine.runtime import build_runtime

SETUP = """
escalation_policies:
  - name: critical
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 0}
routes:
  - {notify: critical}
heartbeats:
  - {name: backup, interval_minutes: 10, grace_minutes: 2, service: payment, key: hb-backup}
"""


def ping(harness: Harness, name: str = "backup") -> PingResult:
    result = heartbeats.ping(harness.runtime.sessions, config=harness.config,
                             heartbeat=harness.config.heartbeats[name], now=harness.clock.now())
    harness.runtime.engine.run_due()
    return result


def heartbeat_alerts(harness: Harness, name: str = "backup") -> list[Alert]:
    with harness.runtime.sessions() as session:
        query = select(Alert).where(Alert.integration == f"heartbeat:{name}").order_by(Alert.id)
        return list(session.scalars(query))


def test_a_missed_heartbeat_raises_one_alert_and_pages_by_the_routes(make_harness):
    harness = make_harness(SETUP)
    ping(harness)

    harness.advance(11)
    assert heartbeat_alerts(harness) == []

    harness.advance(1)
    [alert] = heartbeat_alerts(harness)
    assert alert.title == "Heartbeat backup missed: no ping since 2026-03-02T03:00:00Z"
    assert (alert.status, alert.dedup_key, alert.service, alert.severity) == (
        "triggered", "backup", "payment", "critical")
    assert alert.labels == {"heartbeat": "backup"}
    assert harness.paged() == [(12, "alice", 1)]

    harness.advance(30)
    assert len(heartbeat_alerts(harness)) == 1
    assert harness.paged() == [(12, "alice", 1), (17, "carol", 2)]


def test_the_next_ping_resolves_the_alert_and_stops_the_escalation(make_harness):
    harness = make_harness(SETUP)
    ping(harness)
    harness.advance(13)
    [alert] = heartbeat_alerts(harness)

    result = ping(harness)

    assert (result.recovered, result.resolved, result.alert_id) == (True, True, alert.id)
    resolved = harness.alert(alert.id)
    assert resolved.status == "resolved"
    assert resolved.resolved_by == "integration:heartbeat:backup"
    assert "resolved: resolved by integration:heartbeat:backup via source" in (
        harness.timeline(alert.id))
    harness.advance(11)
    assert harness.paged() == [(12, "alice", 1)]  # step 2 was cancelled


def test_a_ping_resolves_an_acknowledged_heartbeat_alert_too(make_harness):
    harness = make_harness(SETUP)
    harness.advance(12)
    [alert] = heartbeat_alerts(harness)
    harness.ack(alert.id)

    ping(harness)

    assert harness.alert(alert.id).status == "resolved"


def test_a_heartbeat_never_pinged_is_missed_a_full_interval_after_the_start(make_harness):
    harness = make_harness(SETUP)

    harness.advance(11.5)
    assert heartbeat_alerts(harness) == []
    harness.advance(0.5)

    [alert] = heartbeat_alerts(harness)
    assert alert.title == "Heartbeat backup missed: no ping since 2026-03-02T03:00:00Z"
    assert alert.description is not None and "never pinged" in alert.description


def test_after_downtime_heartbeats_get_a_full_interval_and_grace(make_harness):
    first = make_harness(SETUP)
    ping(first)
    first.close()
    first.clock.advance(minutes=60)  # Tocsin was down; the pings stopped meanwhile

    harness = make_harness(SETUP)  # started at 04:00 on the same database
    harness.advance(11)
    assert heartbeat_alerts(harness) == []

    harness.advance(1)
    [alert] = heartbeat_alerts(harness)
    # The title still tells when the last ping really came.
    assert alert.title == "Heartbeat backup missed: no ping since 2026-03-02T03:00:00Z"
    assert alert.triggered_at == harness.clock.now()


def test_a_heartbeat_missed_before_a_restart_stays_one_alert(make_harness):
    first = make_harness(SETUP)
    first.advance(12)
    [alert] = heartbeat_alerts(first)
    first.close()

    harness = make_harness(SETUP)
    harness.advance(30)

    assert [a.id for a in heartbeat_alerts(harness)] == [alert.id]
    ping(harness)
    assert harness.alert(alert.id).status == "resolved"


def test_a_miss_after_recovery_raises_a_new_alert(make_harness):
    harness = make_harness(SETUP)
    harness.advance(12)
    ping(harness)
    [old] = heartbeat_alerts(harness)

    harness.advance(12)

    old_again, new = heartbeat_alerts(harness)
    assert (old_again.id, old_again.status) == (old.id, "resolved")
    assert new.id != old.id and new.status == "triggered"
    assert new.title == "Heartbeat backup missed: no ping since 2026-03-02T03:12:00Z"
    assert harness.paged() == [(12, "alice", 1), (24, "alice", 1)]


def test_a_person_resolving_the_alert_does_not_make_a_new_one_until_the_next_miss(
    make_harness,
):
    harness = make_harness(SETUP)
    harness.advance(12)
    [alert] = heartbeat_alerts(harness)
    harness.resolve(alert.id)

    harness.advance(25)
    assert len(heartbeat_alerts(harness)) == 1

    result = ping(harness)
    assert (result.recovered, result.resolved) == (True, False)
    assert harness.alert(alert.id).resolved_by == "alice"
    harness.advance(12)
    assert len(heartbeat_alerts(harness)) == 2


def test_a_heartbeat_added_by_a_reload_counts_from_the_reload(make_harness):
    harness = make_harness(SETUP)
    ping(harness)
    harness.advance(5)
    harness.config_path.write_text(
        harness.config_path.read_text(encoding="utf-8")
        + "  - {name: export, interval_minutes: 3, grace_minutes: 0}\n", encoding="utf-8")
    harness.runtime.config.reload()
    harness.runtime.engine.run_due()  # the engine's next pass sees it

    harness.advance(2.5)
    assert heartbeat_alerts(harness, "export") == []
    harness.advance(0.5)
    assert len(heartbeat_alerts(harness, "export")) == 1


def test_the_engine_wakes_at_the_next_deadline(make_harness):
    harness = make_harness(SETUP)
    ping(harness)
    harness.advance(3)

    assert harness.runtime.engine.next_due() == harness.clock.now().replace(minute=12)


def test_routes_can_match_the_heartbeat_label(make_harness):
    routed = SETUP.replace("routes:\n", "routes:\n  - {match: {heartbeat: backup}, "
                           "notify: secondary}\n")
    harness = make_harness(routed)

    harness.advance(12)

    assert harness.paged() == [(12, "carol", 1)]


def test_each_state_change_is_logged_once_with_name_and_alert(make_harness, caplog):
    harness = make_harness(SETUP)
    caplog.set_level(logging.INFO, logger="tocsin.engine.heartbeats")
    harness.advance(20)
    ping(harness)
    ping(harness)
    [alert] = heartbeat_alerts(harness)

    changes = [(r.getMessage(), r.tocsin_fields) for r in caplog.records
               if r.getMessage().startswith("heartbeat.")]
    assert changes == [
        ("heartbeat.expired", {"heartbeat": "backup", "alert_id": alert.id,
                               "last_ping": "never"}),
        ("heartbeat.recovered", {"heartbeat": "backup", "alert_id": alert.id,
                                 "resolved": True}),
    ]


@pytest.mark.parametrize("engines", [2, 4])
def test_engines_sharing_a_database_raise_one_alert(make_harness, db_url, engines):
    harness = make_harness(SETUP)
    others = [build_runtime(config_path=harness.config_path, db_url=db_url, clock=harness.clock,
                            notifiers=lambda _config: dict(harness.channels))
              for _ in range(engines - 1)]
    harness.clock.advance(minutes=12)
    start = threading.Barrier(engines)
    failures: list[BaseException] = []

    def run(engine) -> None:
        try:
            start.wait()
            engine.run_due()
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(e,))
               for e in [harness.runtime.engine, *(o.engine for o in others)]]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for other in others:
        other.engine.stop()
        other.db.dispose()

    assert not failures and time.monotonic() - began < 60
    assert len(heartbeat_alerts(harness)) == 1
    assert [user for _, user, _ in harness.paged()] == ["alice"]


def test_a_ping_racing_the_miss_leaves_one_consistent_answer(make_harness):
    harness = make_harness(SETUP)
    harness.clock.advance(minutes=12)
    start = threading.Barrier(2)
    results: list[object] = []

    def pinger() -> None:
        start.wait()
        results.append(heartbeats.ping(harness.runtime.sessions, config=harness.config,
                                       heartbeat=harness.config.heartbeats["backup"],
                                       now=harness.clock.now()))

    def engine() -> None:
        start.wait()
        try:
            results.append(harness.runtime.engine.run_due())
        except OperationalError:
            # On PostgreSQL the two can deadlock; the database aborts one and
            # the engine's loop runs its pass again, as here.
            results.append(harness.runtime.engine.run_due())

    threads = [threading.Thread(target=pinger), threading.Thread(target=engine)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2
    # Either the ping came first (no alert) or the miss did (its alert resolved by the ping).
    assert [a.status for a in heartbeat_alerts(harness)] in ([], ["resolved"])
    harness.advance(11)
    assert len(heartbeat_alerts(harness)) <= 1


def test_a_failed_check_is_logged_and_tried_again_without_stopping_paging(
    make_harness, monkeypatch, caplog,
):
    harness = make_harness(SETUP)
    real = heartbeats.service.expire_if_due
    calls: list[str] = []

    def flaky(*args, **kwargs):
        calls.append("called")
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real(*args, **kwargs)

    monkeypatch.setattr(heartbeats.service, "expire_if_due", flaky)
    other = harness.fire("api-500s")  # an ordinary alert keeps paging meanwhile
    harness.advance(12)

    assert heartbeat_alerts(harness) == []
    assert "heartbeat.check_failed" in caplog.messages
    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2)]
    assert harness.alert(other).status == "triggered"

    harness.clock.advance(seconds=heartbeats.RETRY_AFTER.total_seconds())
    harness.runtime.engine.run_due()
    assert len(heartbeat_alerts(harness)) == 1
