"""Declaring an incident: commander, pages, linked alerts, first entries, Slack work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from tests.support.harness import Harness
from tests.support.incident_setup import INCIDENT_CONFIG, runner, start, tasks
from tocsin.alerts import service as alerts
from tocsin.alerts.rules import IncomingEvent
from tocsin.audit import AuditEntry
from tocsin.clock import FakeClock
from tocsin.db import transaction
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.incidents import service
from tocsin.incidents.store import Incident


@pytest.fixture
def harness(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Harness]:
    with start(tmp_path, db_url, clock) as made:
        yield made


def _declare(harness: Harness, **extra: object) -> str:
    fields: dict[str, object] = {"title": "Payment API returning 500 errors",
                                 "severity": "sev2", "actor": "bob", "surface": "slack",
                                 "services": ("payment",), **extra}

    def work(session: object) -> str:
        incident = service.declare(session, config=harness.config,  # type: ignore[arg-type]
                                   now=harness.clock.now(), **fields)  # type: ignore[arg-type]
        return incident.key

    return runner(harness)(work)


def test_declare_pages_the_services_on_call_through_its_policy(harness: Harness) -> None:
    key = _declare(harness)
    assert key == "INC-1"
    assert [(user, step) for _, user, step in harness.paged()] == [("alice", 1)]
    harness.advance(5)
    # Unanswered, the page escalates like any alert: bob is the policy's second step.
    assert [user for _, user, _ in harness.paged()] == ["alice", "bob"]
    with harness.runtime.sessions() as session:
        incident = service.get(session, key)
        entries = service.timeline(session, incident)
        assert incident.commander == "bob"  # the declarer, with no commander_schedule
        assert service.roles_of(session, incident) == {"Commander": "bob"}
        links = service.alerts_of(session, incident)
        assert [link.reason for link in links] == ["page"]
        audit = session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_id == key)).all()
    assert [e.kind for e in entries] == ["declared", "role", "paged"]
    # What was started, not who was reached: someone without a usable contact is skipped.
    assert entries[2].text == (f"paging through escalation policy critical "
                               f"(alert #{links[0].alert_id}): on call for service payment")
    assert all(e.actor == "bob" and e.occurred_at == harness.clock.now() - timedelta(minutes=5)
               for e in entries)
    assert audit == ["incident.declare"]


def test_declare_writes_the_channel_work_in_order(harness: Harness) -> None:
    _declare(harness)
    found = tasks(harness)
    assert [kind for kind, _ in found[:3]] == ["create_channel", "set_topic", "invite"]
    assert found[0][1] == {"name": "inc-2026-0001", "private": False}
    assert found[2][1] == {"users": ["bob", "alice"]}
    reminder = tasks(harness, "remind_update")
    assert reminder == [("remind_update", {
        "user": "bob", "text": "INC-1: no update posted for a while; post one with "
                               "/incident update ..."})]
    # Stakeholders of the payment service are told, never paged.
    told = tasks(harness, "post_channel")
    assert [payload["channel"] for _, payload in told] == ["CSTATUS", "USAM"]
    assert "sam" not in [user for _, user, _ in harness.paged()]


def test_sev1_pages_its_notify_list_too(harness: Harness) -> None:
    _declare(harness, severity="SEV1")
    assert sorted(user for _, user, _ in harness.paged()) == ["alice", "vp"]
    assert "CEXEC" in [payload["channel"] for _, payload in tasks(harness, "post_channel")]


def test_the_commander_schedule_names_the_commander(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    config = INCIDENT_CONFIG + "  commander_schedule: commanders\n"
    with start(tmp_path, db_url, clock, config) as harness:
        key = _declare(harness)
        with harness.runtime.sessions() as session:
            assert service.get(session, key).commander == "carol"
        # An explicit commander wins over the schedule.
        key = _declare(harness, commander="Alice")
        with harness.runtime.sessions() as session:
            assert service.get(session, key).commander == "alice"


def test_bad_declarations_name_the_field(harness: Harness) -> None:
    with pytest.raises(InvalidInput) as caught:
        _declare(harness, title=" ", severity="SEV9", services=("payments",))
    paths = [problem.path for problem in caught.value.fields]
    assert paths == ["title", "severity", "services[0]"]
    assert "use one of SEV1, SEV2, SEV3, SEV4" in caught.value.fields[1].message
    with pytest.raises(InvalidInput, match="no user is named 'zed'"):
        _declare(harness, commander="zed")
    with harness.runtime.sessions() as session:
        assert service.listing(session, admin=True) == []


def test_a_title_is_folded_to_one_line(harness: Harness) -> None:
    key = _declare(harness, title="  Payments down\r\n\nreally\tdown \x1b[31mnow\u2028 ")
    with pytest.raises(InvalidInput) as caught:
        _declare(harness, title="\n\t\x07\n")
    with harness.runtime.sessions() as session:
        incident = service.get(session, key)
        entries = service.timeline(session, incident)
    assert incident.title == "Payments down really down [31mnow"
    assert entries[0].text == "declared SEV2: Payments down really down [31mnow"
    assert [p.path for p in caught.value.fields] == ["title"]


def test_a_service_without_policy_is_said_not_paged(harness: Harness) -> None:
    key = _declare(harness, services=("search",))
    assert harness.paged() == []
    with harness.runtime.sessions() as session:
        entries = service.timeline(session, key)
    assert entries[-1].text == "service search has no escalation policy; nobody paged"


def test_ids_are_sequential_and_never_reused(harness: Harness) -> None:
    assert [_declare(harness) for _ in range(2)] == ["INC-1", "INC-2"]
    with harness.runtime.sessions() as session, session.begin():
        session.execute(delete(Incident).where(Incident.id == 2))
    assert _declare(harness) == "INC-3"
    with harness.runtime.sessions() as session, pytest.raises(NotFound):
        service.get(session, "INC-2")


def test_declare_from_an_alert_links_it_and_starts_at_its_trigger(harness: Harness) -> None:
    alert_id = harness.fire("checkout-5xx", title="Checkout 5xx above 2%")
    assert alert_id is not None
    harness.advance(3)
    key = runner(harness)(lambda session: service.declare_from_alert(
        session, config=harness.config, alert_id=alert_id, severity="SEV2", actor="alice",
        surface="api", now=harness.clock.now()).key)
    # The alert already pages the payment policy: declaring does not page alice again.
    assert [user for _, user, _ in harness.paged()] == ["alice"]
    with harness.runtime.sessions() as session:
        incident = service.get(session, key)
        assert incident.title == "Checkout 5xx above 2%"
        assert incident.services == ["payment"]
        assert incident.impact_start == harness.clock.now() - timedelta(minutes=3)
        assert [(a.alert_id, a.reason) for a in service.alerts_of(session, incident)] == [
            (alert_id, "linked")]



def _from_alert(harness: Harness, alert_id: int, actor: str = "alice") -> str:
    return runner(harness)(lambda session: service.declare_from_alert(
        session, config=harness.config, alert_id=alert_id, severity="SEV2", actor=actor,
        surface="api", now=harness.clock.now()).key)


def test_impact_starts_when_the_source_says_the_alert_started(harness: Harness) -> None:
    # Alertmanager's startsAt, 20 minutes before Tocsin received the alert.
    began = harness.clock.now() - timedelta(minutes=20)
    alert_id = harness.fire("checkout-5xx", instance=began.isoformat(), instance_time=began)
    assert alert_id is not None
    harness.advance(3)
    key = _from_alert(harness, alert_id)
    with harness.runtime.sessions() as session:
        assert service.get(session, key).impact_start == began


def test_an_insane_source_start_falls_back_to_when_the_alert_came(harness: Harness) -> None:
    received = harness.clock.now()
    ids = [harness.fire(name, instance=name, instance_time=when) for name, when in (
        ("epoch", datetime(1970, 1, 1, tzinfo=UTC)),
        ("future", received + timedelta(days=2)))]
    harness.advance(3)
    for alert_id in ids:
        assert alert_id is not None
        key = _from_alert(harness, alert_id)
        with harness.runtime.sessions() as session:
            assert service.get(session, key).impact_start == received


def test_an_alert_is_in_one_incident_only(harness: Harness) -> None:
    alert_id = harness.fire("checkout-5xx", title="Checkout 5xx above 2%")
    assert alert_id is not None
    first = _from_alert(harness, alert_id)
    with pytest.raises(Conflict, match=f"alert {alert_id} is already in incident {first}"):
        _from_alert(harness, alert_id, actor="bob")
    other = _declare(harness, services=())
    with pytest.raises(Conflict, match=f"already in incident {first}"):
        runner(harness)(lambda session: service.link_alert(
            session, config=harness.config, key=other, alert_id=alert_id, actor="bob",
            surface="api", now=harness.clock.now()))
    # Linking it again to its own incident changes nothing and is no error.
    runner(harness)(lambda session: service.link_alert(
        session, config=harness.config, key=first, alert_id=alert_id, actor="bob",
        surface="api", now=harness.clock.now()))
    with harness.runtime.sessions() as session:
        assert len(service.listing(session, admin=True)) == 2
        assert [a.alert_id for a in service.alerts_of(session, service.get(session, other))
                ] == []


ROUTED = INCIDENT_CONFIG.replace(
    "routes:\n  - {notify: critical}\n",
    "routes:\n  - {match: {severity: critical}, notify: critical, declare_incident: sev2,\n"
    "     group_by: [cluster]}\n  - {notify: critical}\n")


def test_a_route_with_declare_incident_declares_once_per_group(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    with start(tmp_path, db_url, clock, ROUTED) as harness:
        first = harness.fire("db-down", title="DB down", severity="critical",
                             service="payment", labels={"cluster": "eu-1"})
        second = harness.fire("db-slow", title="DB slow", severity="critical",
                              service="payment", labels={"cluster": "eu-1"})
        other = harness.fire("disk", title="Disk 80%", severity="warning", service="payment")
        with harness.runtime.sessions() as session:
            found = service.listing(session, admin=True)
            assert [(i.key, i.title, i.severity, i.declared_by) for i in found] == [
                ("INC-1", "DB down", "SEV2", "tocsin")]
            # The route is no person: nobody is commander until someone is assigned.
            assert found[0].commander is None
            assert service.roles_of(session, found[0]) == {}
            assert any(e.text.startswith("no commander: assign one")
                       for e in service.timeline(session, found[0]))
            linked = [a.alert_id for a in service.alerts_of(session, found[0])]
        assert linked == [first, second]
        assert other not in linked
        # The group's lead pages once and the disk alert once; declaring adds no page.
        assert sorted(page.alert_id for page in harness.channels["webhook"].sent) == [
            first, other]


def test_an_alert_acknowledged_at_once_still_gets_its_incident_a_resolved_one_not(
    tmp_path: Path, db_url: str, clock: FakeClock,
) -> None:
    with start(tmp_path, db_url, clock, ROUTED) as harness:
        found = next(i for i in harness.config.integrations if i.name == "prom")
        ids = []
        with transaction(harness.runtime.sessions) as session:
            for key in ("acked", "resolved"):
                ids.append(alerts.ingest(session, config=harness.config, integration=found,
                                         incoming=IncomingEvent(action="trigger", dedup_key=key,
                                                                title=key, severity="critical",
                                                                labels={"cluster": key}),
                                         now=clock.now()).alert_id)
        with transaction(harness.runtime.sessions) as session:
            alerts.acknowledge(session, config=harness.config, alert_id=ids[0], actor="bob",
                               surface="api", now=clock.now())
            alerts.resolve(session, config=harness.config, alert_id=ids[1], actor="bob",
                           surface="api", now=clock.now())
        harness.runtime.engine.run_due()
        with harness.runtime.sessions() as session:
            assert [i.title for i in service.listing(session, admin=True)] == ["acked"]
