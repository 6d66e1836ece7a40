"""Alert grouping: alerts a route's `group_by` puts together page once.

The clock starts Monday 2026-03-02 03:00 UTC; `primary` has alice on call
that day and `secondary` has carol. The policy pages primary, then
secondary five minutes later, then dave (the fallback contact) after ten.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.harness import Harness
from tocsin.alerts import service, views
from tocsin.alerts.batch import ingest_batch
from tocsin.alerts.group_store import AlertGroup
from tocsin.alerts.rules import IncomingEvent
from tocsin.alerts.service import get_alert
from tocsin.audit import AuditEntry
from tocsin.db import transaction
from tocsin.errors import Conflict
from tocsin.escalation.store import PENDING, Timer
from tocsin.logs import record_fields

GROUPED = """
escalation_policies:
  - name: critical
    ack_timeout_minutes: 20
    steps:
      - {targets: [primary], timeout_minutes: 5}
      - {targets: [secondary], timeout_minutes: 10}
      - {targets: [dave], timeout_minutes: 0}
  - name: urgent
    steps:
      - {targets: [erin], timeout_minutes: 0}
routes:
  - match: {severity: critical}
    notify: urgent
  - notify: critical
    group_by: [alertname, service]
"""

@pytest.fixture
def harness(make_harness: Callable[[str], Harness]) -> Harness:
    return make_harness(GROUPED)


def fire(harness: Harness, key: str, alertname: str = "DiskFull", **labels: str) -> int:
    alert_id = harness.fire(key, labels={"alertname": alertname, **labels}, severity="warning")
    assert alert_id is not None
    return alert_id


def group_of(harness: Harness, alert_id: int) -> dict[str, Any] | None:
    """The alert's `group` as `GET /api/v1/alerts/{id}` shows it."""
    with harness.runtime.sessions() as session:
        detail = views.alert_detail(session, get_alert(session, alert_id))
        found: dict[str, Any] | None = detail["group"]
        return found


def group_info(harness: Harness, alert_id: int) -> dict[str, Any]:
    """The alert's group, which it must have."""
    found = group_of(harness, alert_id)
    assert found is not None, f"alert {alert_id} is in no group"
    return found


def test_three_alerts_of_one_group_page_once(harness: Harness) -> None:
    first = fire(harness, "disk-db1", instance="db1")
    fire(harness, "disk-db2", instance="db2")
    third = fire(harness, "disk-db3", instance="db3")
    harness.advance(6)

    # One escalation for the three: alice at once, carol five minutes later.
    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2)]
    assert "joined group" in " ".join(harness.timeline(third))
    assert any("joined group 1: 3 alerts, 3 firing" in line for line in harness.timeline(third))
    group = group_of(harness, third)
    assert group is not None
    assert {name: group[name] for name in ("id", "key", "alerts", "firing", "status")} == {
        "id": 1, "key": {"alertname": "DiskFull", "service": "payment"}, "alerts": 3,
        "firing": 3, "status": "triggered"}
    assert (group["route"], group["lead_alert_id"]) == ("routes[1]", first)
    assert harness.alert(third).status == "triggered"


def test_different_key_values_make_different_groups(harness: Harness) -> None:
    disk = fire(harness, "disk-db1")
    cpu = fire(harness, "cpu-db1", alertname="HighCPU")
    other_service = harness.fire("disk-search", labels={"alertname": "DiskFull"},
                                 severity="warning", service="search")
    assert other_service is not None
    no_name = harness.fire("no-name", labels={}, severity="warning")
    also_no_name = harness.fire("no-name-2", labels={"instance": "x"}, severity="warning")
    assert no_name is not None and also_no_name is not None

    # Four groups page four times; a missing label counts as empty, so the
    # two alerts without an alertname are one group.
    assert [user for _, user, _ in harness.paged()] == ["alice"] * 4
    ids = {group_info(harness, a)["id"] for a in (disk, cpu, other_service, no_name)}
    assert len(ids) == 4
    assert group_info(harness, also_no_name)["id"] == group_info(harness, no_name)["id"]
    assert group_info(harness, no_name)["key"] == {"alertname": "", "service": "payment"}


def test_a_member_joining_an_acknowledged_group_pages_nobody(harness: Harness) -> None:
    first = fire(harness, "disk-db1")
    harness.advance(1)
    harness.ack(first, actor="alice")
    later = fire(harness, "disk-db2")
    harness.advance(15)

    assert harness.paged() == [(0, "alice", 1)]
    joined = harness.alert(later)
    assert (joined.status, joined.acknowledged_by) == ("acknowledged", "alice")
    assert any("joined group 1: 2 alerts, 2 firing; the group is acknowledged by alice" in line
               for line in harness.timeline(later))
    assert group_of(harness, later)["status"] == "acknowledged"  # type: ignore[index]


def test_acknowledging_any_member_acknowledges_every_firing_member(harness: Harness) -> None:
    first = fire(harness, "disk-db1")
    second = fire(harness, "disk-db2")
    third = fire(harness, "disk-db3")

    harness.ack(third, actor="bob")  # not the lead
    harness.advance(15)

    assert harness.paged() == [(0, "alice", 1)]  # carol's step 2 never comes
    assert {harness.alert(a).status for a in (first, second, third)} == {"acknowledged"}
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "alert.acknowledge").order_by(AuditEntry.id)).all()
    # One audit row per alert acknowledged, each naming the group.
    assert sorted(int(r.object_id) for r in rows) == [first, second, third]
    assert {r.actor for r in rows} == {"bob"}
    assert all(r.after == {"status": "acknowledged", "group_id": 1} for r in rows)


def test_the_groups_acknowledgement_lapses_for_all_and_pages_once(harness: Harness) -> None:
    first = fire(harness, "disk-db1")
    second = fire(harness, "disk-db2")
    harness.ack(second, actor="alice")

    harness.advance(21)  # ack_timeout_minutes: 20

    # The lead's escalation restarts from its step; the other member re-triggers silently.
    assert harness.paged() == [(0, "alice", 1), (20, "alice", 1)]
    assert {harness.alert(a).status for a in (first, second)} == {"triggered"}
    assert group_of(harness, second)["status"] == "triggered"  # type: ignore[index]


def test_the_escalation_carries_on_when_its_lead_resolves_while_others_fire(
    harness: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    lead = fire(harness, "disk-db1")
    member = fire(harness, "disk-db2")
    harness.advance(2)

    caplog.set_level(logging.INFO, logger="tocsin")
    harness.fire("disk-db1", action="resolve")
    harness.advance(4)

    # Carol is paged at minute 5, on time, for the member still firing.
    assert harness.paged() == [(0, "alice", 1), (5, "carol", 2)]
    assert harness.alert(lead).status == "resolved"
    assert harness.alert(member).step == 1  # step 2, counted from 0
    assert any(f"alert #{lead} stopped firing at step 1; its escalation carries on here" in line
               for line in harness.timeline(member))
    changed = [record_fields(r) for r in caplog.records if r.getMessage() == "group.lead_changed"]
    assert changed and changed[0]["alert_id"] == member and changed[0]["timers"] == 1
    harness.advance(10)
    assert harness.paged()[-1] == (15, "dave", 3)


def test_a_group_resolves_only_after_its_last_member(
    harness: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tocsin")
    first = fire(harness, "disk-db1")
    second = fire(harness, "disk-db2")

    harness.fire("disk-db1", action="resolve")
    assert group_of(harness, second)["status"] == "triggered"  # type: ignore[index]
    assert group_of(harness, second)["firing"] == 1  # type: ignore[index]
    third = fire(harness, "disk-db3")  # joins the group still open
    assert group_of(harness, third)["id"] == 1  # type: ignore[index]

    harness.fire("disk-db2", action="resolve")
    assert group_of(harness, third)["status"] == "triggered"  # type: ignore[index]
    harness.fire("disk-db3", action="resolve")

    final = group_of(harness, first)
    assert final is not None
    assert (final["status"], final["alerts"], final["firing"]) == ("resolved", 3, 0)
    assert [record_fields(r)["group_id"] for r in caplog.records
            if r.getMessage() == "group.resolved"] == [1]
    assert [record_fields(r)["group_id"] for r in caplog.records
            if r.getMessage() == "group.opened"] == [1]

    # The same key values after that open a new group, which pages again.
    fourth = fire(harness, "disk-db4")
    assert group_of(harness, fourth)["id"] == 2  # type: ignore[index]
    assert [user for _, user, _ in harness.paged()] == ["alice", "alice"]


def test_a_person_resolving_one_member_resolves_the_group(harness: Harness) -> None:
    first = fire(harness, "disk-db1")
    second = fire(harness, "disk-db2")
    third = fire(harness, "disk-db3")
    harness.fire("disk-db3", action="resolve")

    harness.resolve(second, actor="bob")
    harness.advance(30)

    assert harness.paged() == [(0, "alice", 1)]
    assert [harness.alert(a).resolved_by for a in (first, second, third)] == [
        "bob", "bob", "integration:prom"]
    assert group_of(harness, first)["status"] == "resolved"  # type: ignore[index]
    with pytest.raises(Conflict):
        harness.ack(first)


def test_nested_routes_inherit_group_by_and_an_empty_list_turns_it_off(make_harness: Any) -> None:
    harness = make_harness(GROUPED.replace(
        "  - notify: critical\n    group_by: [alertname, service]\n",
        "  - notify: critical\n    group_by: [alertname]\n    routes:\n"
        "      - {match: {team: db}}\n      - {match: {team: web}, group_by: []}\n"))
    db_one = fire(harness, "db-1", team="db")
    db_two = fire(harness, "db-2", team="db")
    web_one = fire(harness, "web-1", team="web")
    web_two = fire(harness, "web-2", team="web")
    top = fire(harness, "top-1")

    # The nested db route inherits group_by; web turns it off; the parent
    # route's own alerts are a group of their own (another route).
    assert group_of(harness, db_one)["id"] == group_of(harness, db_two)["id"]  # type: ignore[index]
    assert group_of(harness, db_one)["route"] == "routes[1].routes[0]"  # type: ignore[index]
    assert group_of(harness, web_one) is None and group_of(harness, web_two) is None
    assert group_of(harness, top)["route"] == "routes[1]"  # type: ignore[index]
    assert len(harness.paged()) == 4


def test_a_raised_severity_takes_a_member_out_of_its_group_and_pages(harness: Harness) -> None:
    fire(harness, "disk-db1")
    member = fire(harness, "disk-db2")

    # critical goes to another route (urgent, erin), which does not group.
    harness.fire("disk-db2", labels={"alertname": "DiskFull"}, severity="critical")

    assert [user for _, user, _ in harness.paged()] == ["alice", "erin"]
    assert group_of(harness, member) is None
    assert any("left group 1: its route changed" in line for line in harness.timeline(member))
    assert group_of(harness, fire(harness, "disk-db3"))["alerts"] == 2  # type: ignore[index]


def test_a_webhook_of_a_thousand_alerts_in_two_groups_pages_twice(make_harness: Any) -> None:
    # Storm bundling would put the groups' two pages in one bundle; grouping alone is tested.
    harness = make_harness(GROUPED + "storm: off\n")
    events = [
        IncomingEvent("trigger", f"fp-{n:04d}", title=f"disk {n}", instance="i1",
                      labels={"alertname": "DiskFull" if n % 2 else "HighCPU",
                              "instance": f"host-{n}"}, severity="warning")
        for n in range(1000)
    ]
    prom = next(i for i in harness.config.integrations if i.name == "prom")
    with transaction(harness.runtime.sessions) as session:
        results = ingest_batch(session, config=harness.config, integration=prom, events=events,
                               now=harness.clock.now())
    harness.runtime.engine.run_due()
    harness.advance(6)

    assert {r.outcome for r in results} == {"open"}
    assert harness.paged() == [(0, "alice", 1), (0, "alice", 1), (5, "carol", 2),
                               (5, "carol", 2)]
    with harness.runtime.sessions() as session:
        groups = session.scalars(select(AlertGroup).order_by(AlertGroup.id)).all()
        assert [(g.alert_count, g.firing_count, g.status) for g in groups] == [
            (500, 500, "triggered"), (500, 500, "triggered")]
        pending = session.scalars(select(Timer).where(Timer.state == PENDING)).all()
        assert len(pending) == 2  # one escalation per group

    # The storm resolves in one webhook: both groups resolve, nobody else is paged.
    resolves = [IncomingEvent("resolve", e.dedup_key, labels=e.labels) for e in events]
    with transaction(harness.runtime.sessions) as session:
        ingest_batch(session, config=harness.config, integration=prom, events=resolves,
                     now=harness.clock.now())
    # One pass half an hour on: a page due any time before then would go in it.
    harness.clock.advance(minutes=30)
    harness.runtime.engine.run_due()
    assert len(harness.paged()) == 4
    with harness.runtime.sessions() as session:
        groups = session.scalars(select(AlertGroup).order_by(AlertGroup.id)).all()
        assert [(g.firing_count, g.status, g.open_key) for g in groups] == [
            (0, "resolved", None), (0, "resolved", None)]


def test_a_lead_resolving_in_an_acknowledged_group_hands_on_the_lapse(harness: Harness) -> None:
    fire(harness, "disk-db1")
    member = fire(harness, "disk-db2")
    harness.ack(member, actor="alice")
    harness.advance(3)
    harness.fire("disk-db1", action="resolve")

    harness.advance(18)  # the acknowledgement (20 minutes) lapses at minute 20

    assert harness.paged() == [(0, "alice", 1), (20, "alice", 1)]
    assert harness.alert(member).status == "triggered"


def test_a_held_step_of_a_resolved_lead_pages_for_the_group_when_maintenance_ends(
    make_harness: Any,
) -> None:
    harness = make_harness(GROUPED + """
maintenance:
  - name: db-upgrade
    services: [payment]
    start: 2026-03-02T03:03
    end: 2026-03-02T03:30
""")
    fire(harness, "disk-db1")
    member = fire(harness, "disk-db2")
    harness.advance(10)  # step 2, due at minute 5, waits for the window's end
    harness.fire("disk-db1", action="resolve")

    harness.advance(21)

    assert harness.paged() == [(0, "alice", 1), (30, "carol", 2)]
    assert harness.alert(member).step == 1


def test_two_requests_opening_the_same_group_at_once_make_one_group(harness: Harness) -> None:
    prom = next(i for i in harness.config.integrations if i.name == "prom")
    first_open = threading.Event()
    results: list[int | None] = []

    def ingest(key: str, hold: threading.Event | None) -> None:
        incoming = IncomingEvent("trigger", key, title=key, severity="warning",
                                 labels={"alertname": "DiskFull"})
        with transaction(harness.runtime.sessions) as session:
            result = service.ingest(session, config=harness.config, integration=prom,
                                    incoming=incoming, now=harness.clock.now())
            if hold is not None:
                first_open.set()
                hold.wait(timeout=2)  # the second request arrives before this one commits
        results.append(result.alert_id)

    release = threading.Event()
    first = threading.Thread(target=ingest, args=("disk-db1", release))
    first.start()
    assert first_open.wait(timeout=10)
    second = threading.Thread(target=ingest, args=("disk-db2", None))
    second.start()
    second.join(timeout=0.5)  # it waits for the first to commit, on either backend
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    harness.runtime.engine.run_due()

    assert len(results) == 2
    with harness.runtime.sessions() as session:
        groups = session.scalars(select(AlertGroup)).all()
        assert [(g.alert_count, g.firing_count) for g in groups] == [(2, 2)]
    assert harness.paged() == [(0, "alice", 1)]


def test_alerts_released_from_maintenance_join_their_group_and_page_once(
    make_harness: Any,
) -> None:
    harness = make_harness(GROUPED + """
maintenance:
  - name: db-upgrade
    services: [payment]
    start: 2026-03-02T02:00
    end: 2026-03-02T03:10
""")
    first = fire(harness, "disk-db1")
    second = fire(harness, "disk-db2")
    assert group_of(harness, first) is None  # held alerts are not routed yet

    harness.advance(11)

    assert harness.paged() == [(10, "alice", 1)]
    assert group_of(harness, second)["alerts"] == 2  # type: ignore[index]
