"""Maintenance windows: held alerts page nobody, and page when the window ends.

The clock starts Monday 2026-03-02 03:00 UTC; `primary` has alice on call
that day, `secondary` has carol. The file's window `db-upgrade` holds the
`payment` service from 03:30 to 04:30.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import select

from tests.support.harness import Harness
from tests.support.scenarios import utc
from tocsin.alerts import maintenance
from tocsin.alerts import maintenance_store as store
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import ingest
from tocsin.db import transaction
from tocsin.engine.runtime import build_runtime
from tocsin.escalation.store import PENDING, Timer
from tocsin.logs import record_fields
from tocsin.notify.store import Delivery

POLICY = """
escalation_policies:
  - name: critical
    ack_timeout_minutes: 10
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 5}
routes:
  - {match: {team: nobody}, notify: critical}
  - {match_re: {service: "pay.*"}, notify: critical}
"""

WINDOW = """
maintenance:
  - name: db-upgrade
    services: [payment]
    start: 2026-03-02T03:30
    end: 2026-03-02T04:30
    reason: database upgrade
"""


def at(hour: int, minute: int = 0) -> datetime:
    return utc(2, hour).replace(minute=minute)


def minutes_to(harness: Harness, when: datetime) -> None:
    harness.advance((when - harness.clock.now()).total_seconds() / 60)


def store_window(harness: Harness, start: datetime, end: datetime, **matchers: object) -> int:
    with transaction(harness.runtime.sessions) as session:
        row = maintenance.create_window(
            session, services=matchers.get("services", ["payment"]),  # type: ignore[arg-type]
            match=matchers.get("match", {}), match_re={},  # type: ignore[arg-type]
            start=start, end=end, reason="silence for a test", actor="test", surface="api",
            now=harness.clock.now())
        return row.id


def end_window(harness: Harness, window_id: int) -> None:
    with transaction(harness.runtime.sessions) as session:
        maintenance.end_window(session, window=window_id, actor="test", surface="api",
                               now=harness.clock.now())
    harness.runtime.engine.run_due()


def pending_timers(harness: Harness, alert_id: int) -> int:
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(Timer).where(Timer.alert_id == alert_id,
                                                   Timer.state == PENDING))
        return len(list(rows))


def deliveries(harness: Harness, alert_id: int) -> int:
    with harness.runtime.sessions() as session:
        return len(list(session.scalars(select(Delivery).where(Delivery.alert_id == alert_id))))


def holds(harness: Harness, alert_id: int) -> list[str]:
    with harness.runtime.sessions() as session:
        return [row.state for row in store.holds_of(session, alert_id)]


def test_an_alert_during_the_window_pages_nobody_and_says_why(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))

    alert_id = harness.fire("db-slow")
    harness.advance(30)

    assert harness.paged() == []
    assert pending_timers(harness, alert_id) == 0
    assert deliveries(harness, alert_id) == 0  # no fallback page either
    assert harness.runtime.engine.next_due() == at(4, 30)  # the engine wakes at the end
    assert harness.runtime.engine.lag_seconds() == 0  # a hold is not work running late
    assert harness.alert(alert_id).status == "triggered"
    assert harness.timeline(alert_id) == [
        "triggered: triggered: alert db-slow",
        "silenced: silenced by maintenance db-upgrade (database upgrade) until "
        "2026-03-02T04:30:00Z; nobody is paged",
    ]


def test_when_the_window_ends_a_held_alert_escalates_as_usual(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))
    alert_id = harness.fire("db-slow")

    minutes_to(harness, at(4, 29))
    assert harness.paged() == []
    harness.advance(1)
    harness.advance(5)

    # The harness counts minutes from 03:00: 04:30 is 90, step 2 five minutes later.
    assert harness.paged() == [(90, "alice", 1), (95, "carol", 2)]
    assert harness.timeline(alert_id)[2:4] == [
        "released: maintenance db-upgrade ended at 2026-03-02T04:30:00Z; paging starts",
        "routed: routes[1] matched (matched service=~/pay.*/); policy critical",
    ]
    assert holds(harness, alert_id) == ["released"]


def test_an_alert_the_window_does_not_match_pages_at_once(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))

    harness.fire("other", service="payroll")

    assert harness.paged() == [(40, "alice", 1)]


def test_alerts_before_and_after_the_window_are_not_held(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.fire("before")
    harness.clock.set(at(4, 30))
    harness.fire("after")

    assert [user for _minute, user, step in harness.paged() if step == 1] == ["alice", "alice"]


def test_an_acknowledged_or_resolved_alert_is_not_released(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))
    acked = harness.fire("acked")
    resolved = harness.fire("resolved")
    harness.ack(acked)
    harness.resolve(resolved)

    minutes_to(harness, at(5))

    assert harness.paged() == []
    assert holds(harness, acked) == ["closed"]
    assert holds(harness, resolved) == ["closed"]


def test_an_ack_that_lapses_during_the_window_waits_for_its_end(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 20))
    alert_id = harness.fire("lapsing")
    harness.ack(alert_id)  # lapses at 03:30, as the window starts

    minutes_to(harness, at(4, 30))

    assert harness.paged() == [(20, "alice", 1), (90, "alice", 1)]
    assert "silenced: step 1 held" in "\n".join(harness.timeline(alert_id))


def test_ending_a_window_early_releases_at_once(make_harness):
    harness = make_harness(POLICY)
    window_id = store_window(harness, at(3), at(6))
    harness.clock.set(at(3, 10))
    alert_id = harness.fire("held")
    harness.advance(5)
    assert harness.paged() == []

    end_window(harness, window_id)

    assert harness.paged() == [(15, "alice", 1)]
    assert "released: maintenance #1 ended at 2026-03-02T03:15:00Z; paging starts" in (
        harness.timeline(alert_id))


def test_an_escalation_running_when_a_window_starts_holds_later_steps(make_harness):
    harness = make_harness(POLICY)
    alert_id = harness.fire("running")  # step 1 at 03:00, step 2 due 03:05
    window_id = store_window(harness, at(3, 2), at(4))
    minutes_to(harness, at(3, 20))
    assert harness.paged() == [(0, "alice", 1)]

    end_window(harness, window_id)
    harness.advance(10)

    assert harness.paged() == [(0, "alice", 1), (20, "carol", 2)]
    assert any(line.startswith("silenced: step 2 held: silenced by maintenance #1 ")
               for line in harness.timeline(alert_id))


def test_overlapping_windows_hold_until_the_last_ends(make_harness):
    harness = make_harness(POLICY + WINDOW)
    store_window(harness, at(3, 20), at(4), services=[], match={"service": "payment"})
    store_window(harness, at(4, 15), at(5), services=["payment"])
    harness.clock.set(at(3, 40))
    alert_id = harness.fire("long")

    minutes_to(harness, at(4, 59))
    assert harness.paged() == []
    harness.advance(1)

    assert harness.paged() == [(120, "alice", 1)]
    silenced = [line for line in harness.timeline(alert_id) if line.startswith("silenced")]
    assert len(silenced) == 2 and "until 2026-03-02T05:00:00Z" in silenced[-1]


def test_an_unrouted_alert_held_by_a_window_reaches_the_fallback_when_it_ends(make_harness):
    harness = make_harness(POLICY.replace('"pay.*"', '"nothing"') + WINDOW)
    harness.clock.set(at(3, 40))
    harness.config_path.write_text(
        harness.config_path.read_text().replace("escalation_policy: critical", ""))
    harness.runtime.config.reload()
    alert_id = harness.fire("unrouted")
    assert deliveries(harness, alert_id) == 0

    minutes_to(harness, at(4, 30))

    assert [user for _minute, user, _step in harness.paged()] == ["dave"]


def test_removing_a_window_from_the_file_releases_its_alerts(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))
    harness.fire("held")
    harness.advance(2)

    harness.config_path.write_text(harness.config_path.read_text().split("maintenance:")[0])
    harness.runtime.config.reload()
    harness.advance(1)

    assert harness.paged() == [(43, "alice", 1)]


def test_a_window_the_file_extends_keeps_holding_until_its_new_end(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))
    harness.fire("held")

    harness.config_path.write_text(
        harness.config_path.read_text().replace("T04:30", "T05:00"))
    harness.runtime.config.reload()
    minutes_to(harness, at(4, 59))
    assert harness.paged() == []
    harness.advance(1)

    assert harness.paged() == [(120, "alice", 1)]


def test_a_restart_in_between_still_releases_once(make_harness, tmp_path, db_url, clock):
    harness = make_harness(POLICY + WINDOW)
    clock.set(at(3, 40))
    alert_id = harness.fire("survives")
    harness.close()

    again = Harness(tmp_path, db_url, clock, harness.config_path.read_text())
    try:
        minutes_to(again, at(4, 40))
        assert [(user, step) for _minute, user, step in again.paged()] == [
            ("alice", 1), ("carol", 2)]
        assert holds(again, alert_id) == ["released"]
    finally:
        again.close()


def test_two_engines_release_a_hold_once(make_harness, db_url, clock):
    harness = make_harness(POLICY + WINDOW)
    clock.set(at(3, 40))
    alert_id = harness.fire("raced")
    second = build_runtime(config_path=harness.config_path, db_url=db_url, clock=clock,
                           notifiers=lambda _config: dict(harness.channels))
    clock.set(at(4, 30))
    try:
        threads = [threading.Thread(target=engine.run_due)
                   for engine in (harness.runtime.engine, second.engine)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        harness.runtime.engine.run_due()
        second.engine.run_due()
    finally:
        second.engine.stop()
        second.db.dispose()

    assert [(user, step) for _minute, user, step in harness.paged()] == [("alice", 1)]
    assert holds(harness, alert_id) == ["released"]


def test_a_severity_change_during_the_window_keeps_the_alert_held(make_harness):
    harness = make_harness(POLICY + WINDOW)
    harness.clock.set(at(3, 40))
    alert_id = harness.fire("changing", severity="warning")
    config = harness.config
    integration = next(i for i in config.integrations if i.name == "prom")
    with transaction(harness.runtime.sessions) as session:
        ingest(session, config=config, integration=integration, now=harness.clock.now(),
               incoming=IncomingEvent(action="trigger", dedup_key="changing",
                                      severity="critical"))
    harness.advance(10)

    assert harness.paged() == []
    assert holds(harness, alert_id) == ["held"]


def test_each_state_change_is_one_log_line_with_ids(make_harness, caplog):
    caplog.set_level(logging.INFO, logger="tocsin")
    harness = make_harness(POLICY)
    window_id = store_window(harness, at(3), at(4))
    alert_id = harness.fire("logged")
    end_window(harness, window_id)

    events = [(r.getMessage(), record_fields(r)) for r in caplog.records
              if r.getMessage().startswith(("maintenance.", "alert.silenced", "alert.released"))]

    assert [(name, fields.get("window_id", fields.get("alert_id"))) for name, fields in events] == [
        ("maintenance.created", window_id), ("alert.silenced", alert_id),
        ("maintenance.ended", window_id), ("alert.released", alert_id)]
    assert events[1][1]["maintenance"] == str(window_id)
